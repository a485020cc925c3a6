//! `/conversations`: list, create, read, save, patch, delete, bulk archive, messages, forks,
//! tags and per-conversation export.

use std::collections::HashSet;

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpResponse};
use chat_export::{Format, UnknownFormat};
use chat_model::timestamp::now;
use chat_model::{
    Conversation, ConversationDetail, ConversationId, ForkOrigin, Message, MessageId, Rating, Tag,
};
use chat_store::{Cursor, ListQuery, NewConversation, NewMessage};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dto::{
    AddMessage, BulkArchive, BulkResult, ConversationDetailView, ConversationPage,
    ConversationView, CreateConversation, ForkRequest, MessageView, PatchConversation,
    SaveConversation,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::hub::Event;
use crate::params;
use crate::state::ApiState;

type State = web::Data<ApiState>;

/// Largest list page.
const MAX_PAGE: u32 = 1000;

fn publish(state: &ApiState, c: &Conversation) {
    if state.hub().subscribers() > 0 {
        state.hub().publish(Event::ConversationUpdated {
            conversation: c.clone().into(),
        });
    }
}

/// Filters and paging of the conversation list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this source.
    source: Option<String>,
    /// Only this folder and the folders below it.
    folder: Option<String>,
    /// Only conversations with this tag.
    tag: Option<String>,
    /// `false` (default), `true` or `all`.
    archived: Option<String>,
    /// Only conversations updated at or after this time (RFC 3339).
    updated_after: Option<String>,
    /// Only conversations updated before this time (RFC 3339).
    updated_before: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Lists conversations, newest first, with keyset paging.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", params(ListParams),
    responses((status = 200, body = ConversationPage), (status = 400, body = ErrorBody)))]
pub async fn list(state: State, q: web::Query<ListParams>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let cursor = params::given_str(q.cursor.as_deref())
        .map(|c| {
            Cursor::decode(c).map_err(|_| {
                ApiError::bad_request("invalid_cursor", "the cursor is not one this server made")
            })
        })
        .transpose()?;
    let query = ListQuery {
        source: params::source(q.source.as_deref())?,
        folder: params::folder(q.folder.as_deref())?,
        tag: params::tag(q.tag.as_deref())?,
        archived: params::archived(q.archived.as_deref())?,
        updated_after: params::time("updated_after", q.updated_after.as_deref())?,
        updated_before: params::time("updated_before", q.updated_before.as_deref())?,
        limit: match params::limit(q.limit, MAX_PAGE)? {
            0 => 50,
            n => n,
        },
        cursor,
    };
    let page = state
        .read(move |repo| repo.list_conversations(&query))
        .await?;
    Ok(HttpResponse::Ok().json(ConversationPage {
        items: page.items.into_iter().map(ConversationView::from).collect(),
        next_cursor: page.next_cursor.map(|c| c.encode()),
    }))
}

/// Creates an empty native conversation.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "conversations",
    request_body = CreateConversation,
    responses((status = 201, body = ConversationView), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn create(
    state: State,
    body: JsonBody<CreateConversation>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let new = NewConversation {
        title: body.title.as_deref().map(params::title).transpose()?,
        folder: params::folder(body.folder.as_deref())?,
        tags: body
            .tags
            .iter()
            .map(|t| Tag::new(t))
            .collect::<Result<Vec<_>, _>>()?,
        ..NewConversation::default()
    };
    let c = state
        .write(move |repo| repo.create_conversation(new))
        .await?;
    publish(&state, &c);
    Ok(HttpResponse::Created().json(ConversationView::from(c)))
}

/// Which messages `GET /conversations/{id}` returns.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DetailParams {
    /// `active` (default): root to the current leaf; `all`: every branch.
    branch: Option<String>,
    /// Include hidden messages (system prompts, tool output, reasoning). Default false.
    hidden: Option<bool>,
}

/// A conversation with its messages.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id"), DetailParams),
    responses((status = 200, body = ConversationDetailView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get(
    state: State,
    id: web::Path<String>,
    q: web::Query<DetailParams>,
) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    let all = match params::given_str(q.branch.as_deref()) {
        None | Some("active") => false,
        Some("all") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("branch must be active or all, not {other:?}"),
            ))
        }
    };
    let hidden = q.hidden.unwrap_or(false);
    let detail = state
        .read(move |repo| {
            let conversation = repo.get_conversation(&id)?;
            let messages = if all {
                repo.message_tree(&id, hidden)?
            } else {
                repo.active_branch(&id, hidden)?
            };
            Ok(ConversationDetail {
                conversation,
                messages,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(ConversationDetailView::from(detail)))
}

/// Saves the full state of a conversation (created if the id is new): exactly the messages
/// given (others are deleted), their ratings, and the tags.
#[utoipa::path(put, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = SaveConversation,
    responses((status = 200, description = "Saved", body = ConversationView),
        (status = 201, description = "Created", body = ConversationView),
        (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn put(
    state: State,
    id: web::Path<String>,
    body: JsonBody<SaveConversation>,
) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    let body = body.0;
    if body.id.as_deref().is_some_and(|b| b != id.as_str()) {
        return Err(ApiError::invalid(
            "the body's id differs from the path's id",
        ));
    }
    let title = params::title(&body.title)?;
    let folder = params::folder(body.folder.as_deref())?;
    let tags = body
        .tags
        .iter()
        .map(|t| Tag::new(t))
        .collect::<Result<Vec<_>, _>>()?;
    let at = now();
    let mut messages = Vec::with_capacity(body.messages.len());
    let mut seen: HashSet<String> = HashSet::new();
    for m in body.messages {
        if m.conversation_id
            .as_deref()
            .is_some_and(|c| c != id.as_str())
        {
            return Err(ApiError::invalid(format!(
                "message {:?} names another conversation",
                m.id.as_deref().unwrap_or("")
            )));
        }
        let mid =
            m.id.filter(|s| !s.is_empty())
                .map_or_else(MessageId::generate, MessageId::from_string);
        if let Some(p) = &m.parent_id {
            if !seen.contains(p) {
                return Err(ApiError::invalid(format!(
                    "message {mid}: parent {p:?} is not an earlier message of the body \
                     (list parents before children)"
                )));
            }
        }
        if !seen.insert(mid.as_str().to_owned()) {
            return Err(ApiError::invalid(format!("message id {mid} appears twice")));
        }
        messages.push(Message {
            id: mid,
            conversation_id: id.clone(),
            parent_id: m.parent_id.map(MessageId::from_string),
            role: m.role,
            content: m.content,
            parts: m.parts,
            model: m.model,
            created_at: m.created_at,
            hidden: m.hidden,
            source_id: m.source_id,
            status: m.status,
            rating: m.rating.map(|r| Rating {
                value: r.value,
                reason: r.reason,
                created_at: r.created_at.unwrap_or(at),
            }),
        });
    }
    if let Some(leaf) = &body.current_message_id {
        if !seen.contains(leaf) {
            return Err(ApiError::invalid(
                "current_message_id is not one of the saved messages",
            ));
        }
    }
    let archived = body.archived;
    let archived_at = body.archived_at;
    let (saved, created) = state
        .write(move |repo| {
            let existing = match repo.get_conversation(&id) {
                Ok(c) => Some(c),
                Err(chat_store::Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            let source = body
                .source
                .or(existing.as_ref().map(|c| c.source))
                .unwrap_or(chat_model::Source::Native);
            let conversation = Conversation {
                id: id.clone(),
                source,
                source_id: body.source_id,
                title,
                folder: folder
                    .or_else(|| existing.as_ref().map(|c| c.folder.clone()))
                    .unwrap_or_else(|| source.default_folder()),
                created_at: body
                    .created_at
                    .or(existing.as_ref().map(|c| c.created_at))
                    .unwrap_or(at),
                updated_at: body.updated_at.unwrap_or(at),
                archived_at: match (archived_at, archived) {
                    (Some(t), _) => Some(t),
                    (None, Some(false)) => None,
                    (None, Some(true)) => {
                        Some(existing.as_ref().and_then(|c| c.archived_at).unwrap_or(at))
                    }
                    (None, None) => existing.as_ref().and_then(|c| c.archived_at),
                },
                summary: body.summary,
                current_message_id: body.current_message_id.map(MessageId::from_string),
                forked_from: body.forked_from.map(|f| ForkOrigin {
                    conversation_id: ConversationId::from_string(f.conversation_id),
                    message_id: MessageId::from_string(f.message_id),
                }),
                tags,
                message_count: 0,
            };
            let saved = repo.save_conversation(&ConversationDetail {
                conversation,
                messages,
            })?;
            Ok((saved, existing.is_none()))
        })
        .await?;
    publish(&state, &saved);
    let mut res = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(res.json(ConversationView::from(saved)))
}

/// Changes some fields: title, folder, archived, summary, active branch.
#[utoipa::path(patch, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = PatchConversation,
    responses((status = 200, body = ConversationView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn patch(
    state: State,
    id: web::Path<String>,
    body: JsonBody<PatchConversation>,
) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    let body = body.0;
    let title = body.title.as_deref().map(params::title).transpose()?;
    let folder = body.folder.as_deref().map(crate::dto::folder).transpose()?;
    let leaf = body.current_message_id.map(MessageId::from_string);
    let c = state
        .write(move |repo| {
            let mut c = repo.get_conversation(&id)?;
            if let Some(title) = &title {
                c = repo.rename(&id, title)?;
            }
            if let Some(folder) = &folder {
                c = repo.move_to_folder(&id, folder)?;
            }
            match body.archived {
                Some(true) => c = repo.archive(&id)?,
                Some(false) => c = repo.restore(&id)?,
                None => {}
            }
            if let Some(summary) = &body.summary {
                let summary = summary.as_deref().map(str::trim).filter(|s| !s.is_empty());
                c = repo.set_summary(&id, summary)?;
            }
            if let Some(leaf) = &leaf {
                repo.set_current_leaf(&id, leaf)?;
                c = repo.get_conversation(&id)?;
            }
            Ok(c)
        })
        .await?;
    publish(&state, &c);
    Ok(HttpResponse::Ok().json(ConversationView::from(c)))
}

/// Deletes a conversation with its messages, ratings and tag links.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(state: State, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    let deleted = id.clone();
    state
        .write(move |repo| repo.delete_conversation(&deleted))
        .await?;
    state.hub().publish(Event::ConversationDeleted {
        id: id.into_string(),
    });
    Ok(HttpResponse::NoContent().finish())
}

/// Archives every conversation (optionally of one source) not updated since `before`.
#[utoipa::path(post, path = "/api/v1/conversations/archive", tag = "conversations",
    request_body = BulkArchive,
    responses((status = 200, body = BulkResult), (status = 400, body = ErrorBody),
        (status = 415, body = ErrorBody)))]
pub async fn bulk_archive(
    state: State,
    body: JsonBody<BulkArchive>,
) -> Result<HttpResponse, ApiError> {
    let BulkArchive { before, source } = body.0;
    let archived = state
        .write(move |repo| repo.archive_older_than(before, source))
        .await?;
    Ok(HttpResponse::Ok().json(BulkResult { archived }))
}

/// Adds a message (a turn). It follows `parent_id`, or the current leaf, and becomes the new
/// leaf.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messages",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = AddMessage,
    responses((status = 201, body = MessageView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn add_message(
    state: State,
    id: web::Path<String>,
    body: JsonBody<AddMessage>,
) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    let body = body.0;
    if body.content.trim().is_empty() && body.parts.is_empty() {
        return Err(ApiError::invalid("a message needs content or parts"));
    }
    let turn = NewMessage {
        parent_id: body.parent_id.map(MessageId::from_string),
        parts: body.parts,
        model: body.model,
        hidden: body.hidden,
        ..NewMessage::new(body.role, body.content)
    };
    let has_parent = turn.parent_id.is_some();
    let (message, c) = state
        .write(move |repo| {
            repo.get_conversation(&id)?;
            let m = repo.add_message(&id, turn)?;
            Ok((m, repo.get_conversation(&id)?))
        })
        .await
        .map_err(|e| match e {
            // The conversation exists (checked first), so a missing message is the parent.
            ApiError::NotFound {
                code: "message_not_found",
                message,
            } if has_parent => {
                ApiError::bad_request("invalid_parent", format!("parent_id: {message}"))
            }
            e => e,
        })?;
    publish(&state, &c);
    Ok(HttpResponse::Created().json(MessageView::from(message)))
}

/// Forks the conversation at a message into a new native conversation.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/fork", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = ForkRequest,
    responses((status = 201, body = ConversationView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn fork(
    state: State,
    id: web::Path<String>,
    body: JsonBody<ForkRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    let at = MessageId::from_string(body.0.message_id);
    let c = state.write(move |repo| repo.fork(&id, &at)).await?;
    publish(&state, &c);
    Ok(HttpResponse::Created().json(ConversationView::from(c)))
}

/// The body of both tag handlers: apply `change` to the conversation's tags, answer with the
/// conversation, and tell the other clients.
async fn change_tag(
    state: State,
    path: (String, String),
    change: fn(&chat_store::Repo<'_>, &ConversationId, &Tag) -> chat_store::Result<()>,
) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(path.0);
    let tag = Tag::new(&path.1)?;
    let c = state
        .write(move |repo| {
            change(repo, &id, &tag)?;
            repo.get_conversation(&id)
        })
        .await?;
    publish(&state, &c);
    Ok(HttpResponse::Ok().json(ConversationView::from(c)))
}

/// Tags a conversation.
#[utoipa::path(put, path = "/api/v1/conversations/{id}/tags/{tag}", tag = "tags",
    params(("id" = String, Path, description = "Conversation id"),
        ("tag" = String, Path, description = "The tag (1 to 64 characters)")),
    responses((status = 200, body = ConversationView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn put_tag(
    state: State,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    change_tag(state, path.into_inner(), |repo, id, tag| {
        repo.add_tag(id, tag)
    })
    .await
}

/// Removes a tag from a conversation.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/tags/{tag}", tag = "tags",
    params(("id" = String, Path, description = "Conversation id"),
        ("tag" = String, Path, description = "The tag")),
    responses((status = 200, body = ConversationView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_tag(
    state: State,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    change_tag(state, path.into_inner(), |repo, id, tag| {
        repo.remove_tag(id, tag)
    })
    .await
}

/// The format of a single-conversation export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportOneParams {
    /// `md` (default), `json` (lossless, re-importable) or `finetune` (JSONL).
    format: Option<String>,
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
    let detail = state
        .read(move |repo| {
            Ok(ConversationDetail {
                conversation: repo.get_conversation(&id)?,
                messages: repo.message_tree(&id, true)?,
            })
        })
        .await?;
    let name = format.file_name(&detail.conversation);
    let body = web::block(move || {
        let mut out = Vec::new();
        format.render(&mut out, &detail).map(|_| out)
    })
    .await?
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name)],
        })
        .body(body))
}

/// Longest wait for a model-written summary.
const SUMMARY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Writes a summary of the conversation's active branch with the configured model (without
/// one, an extractive summary of the conversation itself), stores it and returns the
/// conversation.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/summary", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = ConversationView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn summarize(state: State, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    let read_id = id.clone();
    let messages: Vec<chat_llm::ChatMessage> = state
        .read(move |repo| {
            Ok(repo
                .active_branch(&read_id, false)?
                .iter()
                .filter(|m| !m.content.trim().is_empty())
                .map(chat_llm::ChatMessage::from)
                .collect())
        })
        .await?;
    if messages.is_empty() {
        return Err(ApiError::bad_request(
            "empty_conversation",
            "the conversation has no messages to summarize",
        ));
    }
    let cancel = tokio_util::sync::CancellationToken::new();
    let summary = tokio::time::timeout(
        SUMMARY_TIMEOUT,
        state.provider().summarize(&messages, cancel.clone()),
    )
    .await
    .map_err(|_| {
        cancel.cancel();
        ApiError::Upstream {
            code: "model_timeout",
            message: format!(
                "the model did not write a summary within {}s",
                SUMMARY_TIMEOUT.as_secs()
            ),
        }
    })??;
    let c = state
        .write(move |repo| repo.set_summary(&id, Some(summary.trim())))
        .await?;
    publish(&state, &c);
    Ok(HttpResponse::Ok().json(ConversationView::from(c)))
}
