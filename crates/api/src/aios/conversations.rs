//! `/api/conversations/*`: the conversation list and one conversation as the AI OS frontend
//! shows them (turns of the active branch), the changes it makes, summaries and exports.

use actix_web::{web, HttpResponse};
use chat_export::aios::{self as shape, name_of, source_name};
use chat_model::ConversationId;
use chat_store::{ArchivedFilter, ListQuery};
use serde::Deserialize;
use serde_json::json;

use super::wire::{ConversationSummary, ConversationView, Rename, SummaryPromptBody, WEIGHT};
use crate::conversations::service::{Branches, ConversationChange};
use crate::error::ApiError;
use crate::export::attachment;
use crate::export::stream::body_stream;
use crate::extract::JsonBody;
use crate::params;
use crate::state::ApiState;

type State = web::Data<ApiState>;

/// Largest list.
const MAX_LIST: u32 = 1000;
/// The list's size when none is asked (the original's default).
const DEFAULT_LIST: u32 = 500;

/// `?limit=&archived=&search=` of the list.
#[derive(Debug, Deserialize)]
pub(crate) struct ListParams {
    limit: Option<u32>,
    /// `false` (default), `true` or `all`.
    archived: Option<String>,
    /// Full-text search (our search: every word, any order, diacritics ignored).
    search: Option<String>,
}

/// Conversations, newest first (or, with `search`, best match first).
pub(crate) async fn list(
    state: State,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let limit = match params::limit(q.limit, MAX_LIST)? {
        0 => DEFAULT_LIST,
        n => n,
    };
    let archived = params::archived(q.archived.as_deref())?;
    let rows = match params::given_str(q.search.as_deref()) {
        Some(text) => {
            state
                .aios()
                .search(text.to_owned(), archived, limit as usize)
                .await?
        }
        None => state.aios().list(archived, limit).await?,
    };
    let out: Vec<ConversationSummary> = rows
        .into_iter()
        .map(|(c, outline)| ConversationSummary::new(c, outline))
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// `?limit=&offset=` of one conversation's turns.
#[derive(Debug, Deserialize)]
pub(crate) struct DetailParams {
    limit: Option<usize>,
    offset: Option<usize>,
}

/// One conversation: its active branch as turns (`limit` of them from `offset`, default all).
pub(crate) async fn get(
    state: State,
    id: web::Path<String>,
    q: web::Query<DetailParams>,
) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    let branch = Branches {
        all: false,
        hidden: false,
    };
    let detail = state.conversations().detail(id, branch).await?;
    let c = detail.conversation;
    let turns = shape::turns(&detail.messages, Some(c.created_at));
    let total_turns = turns.len();
    let turns = turns
        .into_iter()
        .skip(q.offset.unwrap_or(0))
        .take(q.limit.unwrap_or(usize::MAX))
        .collect();
    Ok(HttpResponse::Ok().json(ConversationView {
        name: name_of(&c).to_owned(),
        session_id: c.id.into_string(),
        started: c.created_at,
        turns,
        total_turns,
        state_snapshot: None,
        weight: WEIGHT,
        summary: c.summary,
        source: source_name(c.source),
    }))
}

/// A new, empty native conversation (not made the current session).
pub(crate) async fn create(state: State) -> Result<HttpResponse, ApiError> {
    let c = state.conversations().create(Default::default()).await?;
    Ok(HttpResponse::Ok().json(json!({"session_id": c.id.as_str()})))
}

/// Applies one change to a conversation.
async fn change(
    state: &State,
    id: String,
    change: ConversationChange,
) -> Result<chat_model::Conversation, ApiError> {
    state
        .conversations()
        .change(ConversationId::from_string(id), change)
        .await
}

/// Renames a conversation (a later import keeps the new name).
pub(crate) async fn rename(
    state: State,
    id: web::Path<String>,
    body: JsonBody<Rename>,
) -> Result<HttpResponse, ApiError> {
    let name = params::title(&body.0.name)?;
    if name.is_empty() {
        return Err(ApiError::invalid("the name is empty"));
    }
    let c = ConversationChange {
        title: Some(name),
        ..ConversationChange::default()
    };
    let c = change(&state, id.into_inner(), c).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "name": c.title})))
}

/// Archives (`true`) or restores a conversation.
async fn set_archived(state: State, id: String, archived: bool) -> Result<HttpResponse, ApiError> {
    let c = ConversationChange {
        archived: Some(archived),
        ..ConversationChange::default()
    };
    change(&state, id, c).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "archived": archived})))
}

/// Archives a conversation: out of the default list, nothing deleted.
pub(crate) async fn archive(state: State, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    set_archived(state, id.into_inner(), true).await
}

/// Returns an archived conversation to the list.
pub(crate) async fn unarchive(
    state: State,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_archived(state, id.into_inner(), false).await
}

/// Deletes a conversation with its messages and ratings.
pub(crate) async fn delete(state: State, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    state.conversations().delete(id.clone()).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "deleted": id.as_str()})))
}

/// Deletes every conversation of a source (`aios` for ours, `chatgpt`, `claude`, `gemini`,
/// `copilot`); 400 for another name.
pub(crate) async fn delete_source(
    state: State,
    source: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let given = source.into_inner();
    let Some(source) = shape::parse_source(given.trim()) else {
        return Err(ApiError::invalid(format!(
            "unknown source {given:?}; expected aios, chatgpt, claude, gemini or copilot"
        )));
    };
    let deleted = state.conversations().delete_source(source).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "source": source_name(source),
        "deleted_count": deleted,
    })))
}

/// Writes a summary with the model (following the stored prompt) and stores it.
pub(crate) async fn summarize(
    state: State,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let c = state
        .conversations()
        .summarize(ConversationId::from_string(id.into_inner()))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "session_id": c.id.as_str(),
        "summary": c.summary,
    })))
}

/// The summariser's prompt: the stored one, else the default.
pub(crate) async fn summary_prompt(state: State) -> Result<HttpResponse, ApiError> {
    let p = state.conversations().summary_prompt().await?;
    Ok(HttpResponse::Ok().json(json!({"prompt": p.prompt, "is_default": p.is_default})))
}

/// Stores the summariser's prompt; a blank one is refused.
pub(crate) async fn set_summary_prompt(
    state: State,
    body: JsonBody<SummaryPromptBody>,
) -> Result<HttpResponse, ApiError> {
    let Some(prompt) = body.0.prompt else {
        return Err(ApiError::invalid("prompt is required"));
    };
    state
        .conversations()
        .set_summary_prompt(Some(prompt))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

/// One conversation as an AI OS export, downloaded as `conversation_<id>.json`.
pub(crate) async fn export_one(
    state: State,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = ConversationId::from_string(id.into_inner());
    let whole = Branches {
        all: true,
        hidden: true,
    };
    let detail = state.conversations().detail(id, whole).await?;
    let name = format!(
        "conversation_{}.json",
        file_safe(detail.conversation.id.as_str())
    );
    let at = chat_model::timestamp::now();
    let body = web::block(move || {
        let mut out = Vec::new();
        shape::write_conversation(&mut out, &detail, at).map(|()| out)
    })
    .await?
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(attachment(name))
        .body(body))
}

/// `?archived=` of the full export: `false` (default), `true` or `all`.
#[derive(Debug, Deserialize)]
pub(crate) struct ExportAllParams {
    archived: Option<String>,
}

/// Every conversation (not archived by default) as one AI OS export, streamed page by page.
pub(crate) async fn export_all(
    state: State,
    q: web::Query<ExportAllParams>,
) -> Result<HttpResponse, ApiError> {
    let archived = params::archived(q.archived.as_deref())?;
    let which = match archived {
        ArchivedFilter::No => "active",
        ArchivedFilter::Yes => "archived",
        ArchivedFilter::All => "all",
    };
    let at = chat_model::timestamp::now();
    let stamp = format!(
        "{:04}{:02}{:02}_{:02}{:02}{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    let name = format!("ai_os_conversations_{which}_{stamp}.json");
    let store = state.store().clone();
    let query = ListQuery {
        archived,
        ..ListQuery::default()
    };
    let body = body_stream(move |out| {
        let mut writer = shape::AllWriter::new(out, at)?;
        for detail in store.conversation_details(query) {
            writer.push(&detail?)?;
        }
        writer.finish()?;
        Ok(())
    });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(attachment(name))
        .streaming(body))
}

/// An id as it may stand in a file name.
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
