//! Exports: `GET /export` (every conversation, streamed) and
//! `GET /conversations/{id}/export` (one conversation as a download). Both go through
//! `chat_export::Format`; the bulk export streams from `stream.rs`. With `with_media=true`
//! either one is a zip holding the bytes of the media too (`chat_export::bundle`), streamed
//! the same way.

pub(crate) mod stream;

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpResponse};
use chat_export::{Format, UnknownFormat};
use chat_model::ConversationId;
use chat_store::{ArchivedFilter, ListQuery};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::conversations::service::Branches;
use crate::error::{ApiError, ErrorBody};
use crate::params;
use crate::state::ApiState;

type State = web::Data<ApiState>;

/// An attachment named `name`.
pub(crate) fn attachment(name: String) -> ContentDisposition {
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(name)],
    }
}

/// What to export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `json` (default): a JSON array of lossless documents; `finetune`: JSONL of up-rated
    /// answers.
    format: Option<String>,
    /// `all` (default), `false` or `true`.
    archived: Option<String>,
    /// Only this source.
    source: Option<String>,
    /// `true`: one zip holding `conversations.json` (format `json`) or one Markdown file per
    /// conversation (format `md`), and the bytes of every media item they refer to under
    /// `media/<hash>.<ext>`. The JSON zip imports back identical, media included.
    with_media: Option<String>,
}

/// Everything, streamed: a JSON array of lossless conversation documents, or fine-tuning
/// JSONL. Never built in memory. Conversations changed while the download runs may appear in
/// their older or newer state.
#[utoipa::path(get, path = "/api/v1/export", tag = "export", params(ExportParams),
    responses((status = 200, description = "A streamed attachment", content_type = "application/json"),
        (status = 400, body = ErrorBody)))]
pub async fn export_all(
    state: State,
    q: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let name = params::given_str(q.format.as_deref()).unwrap_or("json");
    let with_media = params::flag("with_media", q.with_media.as_deref())?;
    let format = match (name.parse::<Format>(), with_media) {
        (Ok(f @ (Format::Json | Format::Finetune)), false) => f,
        // Markdown is one file per conversation: only in a zip.
        (Ok(f @ (Format::Json | Format::Markdown)), true) => f,
        (Ok(Format::Finetune), true) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "with_media needs format json or md: fine-tuning lines carry no media",
            ))
        }
        (Ok(Format::Markdown) | Err(_), _) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!(
                    "format must be json or finetune (or md with with_media=true), not {name:?}"
                ),
            ))
        }
    };
    let archived = match params::given_str(q.archived.as_deref()) {
        None => ArchivedFilter::All,
        v => params::archived(v)?,
    };
    let query = ListQuery {
        source: params::source(q.source.as_deref())?,
        archived,
        ..ListQuery::default()
    };
    let store = state.db().store().clone();
    let date = chat_model::timestamp::now().date();
    if with_media {
        let name = format!("ai-os-chat-export-{date}.zip");
        let body = stream::zip_stream(store, format, move |s| {
            Box::new(s.conversation_details(query))
        });
        return Ok(zip_response(name, body));
    }
    let body = stream::export_stream(store, format, query);
    let name = format!("ai-os-chat-export-{date}.{}", format.extension());
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(attachment(name))
        .streaming(body))
}

/// A zip download.
fn zip_response(
    name: String,
    body: impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(attachment(name))
        .streaming(body)
}

/// The format of a single-conversation export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportOneParams {
    /// `md` (default), `json` (lossless, re-importable) or `finetune` (JSONL).
    format: Option<String>,
    /// `true` (with `md` or `json`): a zip holding the file and the bytes of its media under
    /// `media/<hash>.<ext>`, linked from the Markdown.
    with_media: Option<String>,
}

/// Downloads one conversation as Markdown, lossless JSON or fine-tuning JSONL.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/export", tag = "export",
    params(("id" = String, Path, description = "Conversation id"), ExportOneParams),
    responses((status = 200, description = "The file, as an attachment", content_type = "text/markdown"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_one(
    state: State,
    id: web::Path<String>,
    q: web::Query<ExportOneParams>,
) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    let format: Format = params::given_str(q.format.as_deref())
        .unwrap_or("md")
        .parse()
        .map_err(|UnknownFormat(other)| {
            ApiError::bad_request(
                "invalid_query",
                format!("format must be md, json or finetune, not {other:?}"),
            )
        })?;
    let whole = Branches {
        all: true,
        hidden: true,
    };
    let with_media = params::flag("with_media", q.with_media.as_deref())?;
    if with_media && format == Format::Finetune {
        return Err(ApiError::bad_request(
            "invalid_query",
            "with_media needs format json or md: fine-tuning lines carry no media",
        ));
    }
    let detail = state.conversations().detail(id, whole).await?;
    if with_media {
        let name = chat_export::file_name(
            &detail.conversation.title,
            detail.conversation.id.as_str(),
            "zip",
        );
        let body = stream::zip_stream(state.db().store().clone(), format, move |_| {
            Box::new(std::iter::once(Ok(detail)))
        });
        return Ok(zip_response(name, body));
    }
    let name = format.file_name(&detail.conversation);
    let body = web::block(move || {
        let mut out = Vec::new();
        format.render(&mut out, &detail).map(|_| out)
    })
    .await?
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(attachment(name))
        .body(body))
}
