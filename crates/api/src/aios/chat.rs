//! `/api/chat/*`: the current session's history, a whole reply over HTTP, the agent's status,
//! and which conversation is the current session.

use actix_web::{web, HttpResponse};
use chat_model::{ConversationId, MessageId};
use serde::Deserialize;

use super::reply::{self, error_of};
use super::wire::{AgentStatus, ChatMessageView, SendMessage, SentMessage, SessionStatus};
use crate::chat::generate::ReplyEvent;
use crate::conversations::service::Branches;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::params;
use crate::state::ApiState;

type State = web::Data<ApiState>;

/// Most messages `/api/chat/history` returns.
const MAX_HISTORY: u32 = 10_000;

/// `?limit=` of `/api/chat/history`.
#[derive(Debug, Deserialize)]
pub(crate) struct HistoryParams {
    limit: Option<u32>,
}

/// The last `limit` (default 50) user and assistant messages of the current session's active
/// branch, oldest first; `[]` without a current session.
pub(crate) async fn history(
    state: State,
    q: web::Query<HistoryParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = match params::limit(q.limit, MAX_HISTORY)? {
        0 => 50,
        n => n as usize,
    };
    let Some(current) = state.aios().current().await? else {
        return Ok(HttpResponse::Ok().json(Vec::<ChatMessageView>::new()));
    };
    let started = current.created_at;
    let branch = Branches {
        all: false,
        hidden: false,
    };
    let detail = state.conversations().detail(current.id, branch).await?;
    let messages: Vec<ChatMessageView> = detail
        .messages
        .into_iter()
        .filter_map(|m| ChatMessageView::of(m, started))
        .collect();
    let skip = messages.len().saturating_sub(limit);
    Ok(HttpResponse::Ok().json(&messages[skip..]))
}

/// The agent's status word: `thinking` while a reply is written in the current session,
/// `offline` when no model is configured, else `ready`.
fn status_word(state: &ApiState, current: Option<&ConversationId>) -> &'static str {
    if current.is_some_and(|c| state.is_generating(c.as_str())) {
        "thinking"
    } else if state.provider().is_offline() {
        "offline"
    } else {
        "ready"
    }
}

/// A user message and the whole reply, not streamed: in `session_id` (which becomes the
/// current session), else in the current session (started when there is none).
pub(crate) async fn message(
    state: State,
    body: JsonBody<SendMessage>,
) -> Result<HttpResponse, ApiError> {
    let SendMessage {
        content,
        session_id,
        model_id,
        ..
    } = body.0;
    if content.trim().is_empty() {
        return Err(ApiError::invalid("the message is empty"));
    }
    let conversation = match params::given_str(session_id.as_deref()) {
        Some(id) => {
            state
                .aios()
                .set(ConversationId::from_string(id.to_owned()))
                .await?
        }
        None => state.aios().current_or_start().await?,
    };
    let conn = state.chat().next_id();
    let mut events = reply::start(&state, conn, &conversation.id, content, model_id)?;
    let mut answer = None;
    while let Some(event) = events.recv().await {
        match event {
            ReplyEvent::Accepted {
                assistant_message_id,
                ..
            } => answer = Some(MessageId::from_string(assistant_message_id)),
            ReplyEvent::Delta(_) => {}
            ReplyEvent::Done { .. } => break,
            ReplyEvent::Error { code, message, .. } => return Err(error_of(code, message)),
        }
    }
    let Some(answer) = answer else {
        return Err(ApiError::internal("a reply ended without being stored"));
    };
    let stored = state.read(move |repo| repo.get_message(&answer)).await?;
    let message = ChatMessageView::of(stored, conversation.created_at)
        .ok_or_else(|| ApiError::internal("a reply was stored with another role"))?;
    Ok(HttpResponse::Ok().json(SentMessage {
        message,
        agent_status: status_word(&state, Some(&conversation.id)),
        session_id: conversation.id.into_string(),
    }))
}

/// Whether the agent is ready, thinking or offline, its name (the model), and the current
/// session's last activity.
pub(crate) async fn agent_status(state: State) -> Result<HttpResponse, ApiError> {
    let current = state.aios().current().await?;
    let provider = state.provider();
    let name = match provider.default_model() {
        "" => provider.name(),
        model => model,
    };
    Ok(HttpResponse::Ok().json(AgentStatus {
        status: status_word(&state, current.as_ref().map(|c| &c.id)),
        name: name.to_owned(),
        last_interaction: current.map(|c| c.updated_at),
    }))
}

/// A new, empty native conversation, now the current session.
pub(crate) async fn start_session(state: State) -> Result<HttpResponse, ApiError> {
    let c = state.aios().start().await?;
    Ok(HttpResponse::Ok().json(SessionStatus {
        session_id: c.id.into_string(),
        status: "ok",
    }))
}

/// Makes a conversation the current session; 404 when it does not exist.
pub(crate) async fn set_session(
    state: State,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let c = state
        .aios()
        .set(ConversationId::from_string(id.into_inner()))
        .await?;
    Ok(HttpResponse::Ok().json(SessionStatus {
        session_id: c.id.into_string(),
        status: "ok",
    }))
}

/// No current session any more: the next message starts a new one. Nothing is deleted.
pub(crate) async fn clear(state: State) -> Result<HttpResponse, ApiError> {
    state.aios().clear().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"message": "Chat history cleared"})))
}
