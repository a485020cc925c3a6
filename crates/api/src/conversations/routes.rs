//! The `/conversations` handlers: list, create, read, save, patch, delete, bulk archive,
//! messages, forks, tags and summaries. Each parses its input, calls the conversations
//! service ([`super::service::Conversations`]) and maps the result.

use actix_web::{web, HttpRequest, HttpResponse};
use chat_model::{ConversationId, ForkOrigin, MessageId, Tag};
use chat_store::{ConversationState, Cursor, ListQuery, NewConversation, NewMessage};
use serde::Deserialize;
use utoipa::IntoParams;

use super::service::{Branches, ConversationChange};
use crate::dto::{
    AddMessage, BulkArchive, BulkResult, ConversationDetailView, ConversationPage,
    ConversationView, CreateConversation, ForkRequest, MessageView, PatchConversation,
    SaveConversation,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::media;
use crate::params;
use crate::state::ApiState;

type State = web::Data<ApiState>;

/// Largest list page.
const MAX_PAGE: u32 = 1000;

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
    let body = state
        .conversations()
        .list(query, |page| {
            serde_json::to_vec(&ConversationPage {
                items: page.items.into_iter().map(ConversationView::from).collect(),
                next_cursor: page.next_cursor.map(|c| c.encode()),
            })
        })
        .await?
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
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
    let c = state.conversations().create(new).await?;
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
    req: HttpRequest,
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
    let branches = Branches {
        all,
        hidden: q.hidden.unwrap_or(false),
    };
    let detail = state.conversations().detail(id, branches).await?;
    let mut view = ConversationDetailView::from(detail);
    media::enrich(&state, &media::api_prefix(&req), &mut view.messages).await?;
    Ok(HttpResponse::Ok().json(view))
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
    let at = chat_model::timestamp::now();
    let messages = body
        .messages
        .into_iter()
        .map(|m| m.into_message(&id, at))
        .collect();
    let conversation = ConversationState {
        id,
        title: params::title(&body.title)?,
        folder: params::folder(body.folder.as_deref())?,
        tags: body
            .tags
            .iter()
            .map(|t| Tag::new(t))
            .collect::<Result<Vec<_>, _>>()?,
        source: body.source,
        source_id: body.source_id,
        created_at: body.created_at,
        updated_at: body.updated_at,
        archived: body.archived,
        archived_at: body.archived_at,
        summary: body.summary,
        current_message_id: body.current_message_id.map(MessageId::from_string),
        forked_from: body.forked_from.map(|f| ForkOrigin {
            conversation_id: ConversationId::from_string(f.conversation_id),
            message_id: MessageId::from_string(f.message_id),
        }),
        messages,
    };
    let saved = state.conversations().save(conversation).await?;
    let mut res = if saved.created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(res.json(ConversationView::from(saved.conversation)))
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
    let change = ConversationChange {
        title,
        folder,
        archived: body.archived,
        summary: body.summary,
        current_message_id: body.current_message_id.map(MessageId::from_string),
    };
    let c = state.conversations().change(id, change).await?;
    Ok(HttpResponse::Ok().json(ConversationView::from(c)))
}

/// Deletes a conversation with its messages, ratings and tag links.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(state: State, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    state.conversations().delete(id).await?;
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
        .conversations()
        .archive_older_than(before, source)
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
    let new = NewMessage {
        parent_id: body.parent_id.map(MessageId::from_string),
        parts: body.parts,
        model: body.model,
        hidden: body.hidden,
        ..NewMessage::new(body.role, body.content)
    };
    let message = state.conversations().add_message(id, new).await?;
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
    let c = state.conversations().fork(id, at).await?;
    Ok(HttpResponse::Created().json(ConversationView::from(c)))
}

/// The body of both tag handlers: tag (`add`) or untag, answer with the conversation.
async fn change_tag(
    state: State,
    path: (String, String),
    add: bool,
) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(path.0);
    let tag = Tag::new(&path.1)?;
    let c = state.conversations().tag(id, tag, add).await?;
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
    change_tag(state, path.into_inner(), true).await
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
    change_tag(state, path.into_inner(), false).await
}

/// Writes a summary of the conversation's active branch with the configured model (without
/// one, an extractive summary of the conversation itself), stores it and returns the
/// conversation.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/summary", tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    responses((status = 200, body = ConversationView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn summarize(state: State, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    let c = state.conversations().summarize(id).await?;
    Ok(HttpResponse::Ok().json(ConversationView::from(c)))
}
