//! `/api/import/*`: what the AI OS import dialog does, over our import jobs: upload a file
//! (streamed to disk under the usual upload limit), see what it holds (a dry run), commit it
//! (an import job like any other, whose report is the answer).

use actix_multipart::Multipart;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{web, HttpRequest, HttpResponse};
use chat_export::aios::source_name;
use chat_model::Source;
use chat_store::WriteStatus;

use super::wire::{Preview, PreviewConversation, Uploaded};
use crate::error::ApiError;
use crate::imports::routes::{read_form, FormFields};
use crate::imports::upload::too_large;
use crate::state::ApiState;

type State = web::Data<ApiState>;

/// Conversations listed by a preview.
const PREVIEW_CONVERSATIONS: usize = 50;
/// Largest form (or JSON body) of `parse` and `commit`.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The source a `platform` names: the AI OS frontend's names and ours; empty, `auto`, `aios`
/// and `native` mean "detect it" (our own exports are recognised by their content).
fn platform(value: Option<&str>) -> Result<Option<Source>, ApiError> {
    let Some(name) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let source = match name.to_ascii_lowercase().as_str() {
        "auto" | "aios" | "native" => return Ok(None),
        "chatgpt" | "openai" => Source::Chatgpt,
        "claude" | "anthropic" => Source::Claude,
        "gemini" | "google" | "bard" | "takeout" | "aistudio" => Source::Gemini,
        "copilot" | "vscode" | "github-copilot" => Source::Copilot,
        _ => {
            return Err(ApiError::invalid(format!(
                "unknown platform {name:?}; expected chatgpt, claude, gemini, copilot or auto"
            )))
        }
    };
    Ok(Some(source))
}

/// `organize_by_project`: true unless `false`, `0`, `no` or `off`.
fn flag(value: Option<&str>) -> Result<bool, ApiError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "true" | "1" | "yes" | "on") => Ok(true),
        Some("false" | "0" | "no" | "off") => Ok(false),
        Some(other) => Err(ApiError::invalid(format!(
            "organize_by_project must be true or false, not {other:?}"
        ))),
    }
}

/// Receives an export (multipart: `file`, optional `platform`; or the raw file) and keeps it
/// for `parse` and `commit`: `{upload_id}`.
pub(crate) async fn upload(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let jobs = state.imports();
    jobs.accepting()?;
    let max = jobs.max_upload();
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    let content_type = content_type(&req);
    let mut upload = jobs.new_upload().await?;
    let source = if content_type.starts_with("multipart/form-data") {
        let form = Multipart::new(req.headers(), payload.into_inner());
        let fields = read_form(form, Some(&mut upload)).await?;
        platform(fields.get("platform").map(String::as_str))?
    } else {
        upload
            .add_body(None, &content_type, payload.into_inner())
            .await?;
        None
    };
    let staged = jobs.stage(upload, source)?;
    tracing::info!(upload = %staged.id, bytes = staged.size, "AI OS import upload staged");
    Ok(HttpResponse::Ok().json(Uploaded {
        upload_id: staged.id,
        files: staged.files,
        size: staged.size,
    }))
}

fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The fields of `parse` and `commit`: from the query string, then a multipart form, a URL-encoded
/// form or a JSON object (later ones win).
async fn fields(req: &HttpRequest, payload: web::Payload) -> Result<FormFields, ApiError> {
    let mut fields: FormFields = web::Query::<FormFields>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let content_type = content_type(req);
    if content_type.starts_with("multipart/form-data") {
        let form = Multipart::new(req.headers(), payload.into_inner());
        fields.extend(read_form(form, None).await?);
        return Ok(fields);
    }
    let body = payload
        .to_bytes_limited(MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            ApiError::PayloadTooLarge(format!("the form is larger than {MAX_FORM_BYTES} bytes"))
        })?
        .map_err(|e| {
            ApiError::bad_request("invalid_body", format!("could not read the body: {e}"))
        })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(fields);
    }
    if content_type.starts_with("application/json") {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body)
            .map_err(|e| {
                ApiError::bad_request("invalid_json", format!("invalid JSON body: {e}"))
            })?;
        for (name, value) in object {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => continue,
                other => other.to_string(),
            };
            fields.insert(name, text);
        }
    } else {
        // A URL-encoded form reads like a query string.
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::bad_request("invalid_body", "the form is not UTF-8 text"))?;
        let form = web::Query::<FormFields>::from_query(text).map_err(|e| {
            ApiError::bad_request("invalid_body", format!("the form cannot be read: {e}"))
        })?;
        fields.extend(form.into_inner());
    }
    Ok(fields)
}

/// The staged upload a form names.
fn upload_id(fields: &FormFields) -> Result<&str, ApiError> {
    fields
        .get("upload_id")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::invalid("upload_id is required (the id /api/import/upload returned)")
        })
}

/// What committing an upload would do (a dry run: nothing is written): the platform, how many
/// conversations it holds and the first of them. 404 for an unknown or expired upload, 400
/// with the importer's explanation for a file that is not an export.
pub(crate) async fn parse(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let fields = fields(&req, payload).await?;
    let id = upload_id(&fields)?;
    let source = platform(fields.get("platform").map(String::as_str))?;
    let outcome = state
        .imports()
        .preview(id, source, PREVIEW_CONVERSATIONS)
        .await?;
    let report = outcome.report;
    let mut platforms: Vec<&'static str> = report
        .inputs
        .iter()
        .filter_map(|i| i.source.map(source_name))
        .collect();
    platforms.dedup();
    let conversations = outcome
        .first
        .into_iter()
        .map(|f| PreviewConversation {
            id: f.id,
            title: f.title,
            message_count: f.messages,
            created_at: f.created_at,
            status: match f.status {
                WriteStatus::Inserted => "new",
                WriteStatus::Updated => "updated",
                WriteStatus::Unchanged => "unchanged",
            },
        })
        .collect();
    Ok(HttpResponse::Ok().json(Preview {
        platform: platforms.join(","),
        total_conversations: report.totals.ok(),
        conversations,
        new_conversations: report.totals.imported,
        failed: report.totals.failed,
        report: serde_json::to_value(&report).map_err(ApiError::internal)?,
    }))
}

/// Imports an upload as an import job (its progress goes out as `import.progress` events) and
/// answers with the job once it ends: status, outcome and report. 404 for an unknown or
/// expired upload, 400 with the importer's explanation when nothing could be imported.
pub(crate) async fn commit(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let fields = fields(&req, payload).await?;
    let id = upload_id(&fields)?;
    let source = platform(fields.get("platform").map(String::as_str))?;
    let subfolders = flag(fields.get("organize_by_project").map(String::as_str))?;
    let job = state.imports().commit(id, source, subfolders).await?;
    if job.outcome.as_deref() == Some("nothing") {
        let why = job
            .report
            .as_ref()
            .and_then(|r| serde_json::from_value::<chat_import::ImportReport>(r.clone()).ok())
            .and_then(|r| crate::imports::dialog::explanation(&r))
            .unwrap_or_else(|| "nothing in the upload could be imported".to_owned());
        return Err(ApiError::bad_request(
            "not_an_export",
            format!("{why} (import {})", job.id),
        ));
    }
    Ok(HttpResponse::Ok().json(job))
}
