//! Starting a reply for the AI OS routes, through the chat runtime: the same generation task as
//! `/api/v1/ws` (the user's message stored first, the reply streamed from the model, stored
//! whole or, cut short, as far as it got), with its progress as [`ReplyEvent`]s for the route
//! to word in the AI OS protocol.

use chat_model::ConversationId;
use tokio::sync::mpsc;

use crate::chat::generate::{self, Job, Outlet, ReplyEvent, Request};
use crate::error::ApiError;
use crate::state::ApiState;

/// Events waiting for their consumer; the generation waits (back-pressure) beyond.
const EVENTS_CAPACITY: usize = 256;

/// Starts a reply to `content`, a new user message after the conversation's current leaf, for
/// connection `conn` (its `conversation.updated` events are not echoed to it). The events
/// arrive on the returned channel, ending with `Done` or `Error`. 409 when a reply is already
/// being written in that conversation.
pub(crate) fn start(
    state: &ApiState,
    conn: u64,
    conversation: &ConversationId,
    content: String,
    model: Option<String>,
) -> Result<mpsc::Receiver<ReplyEvent>, ApiError> {
    let chat = state.chat().clone();
    let claim = chat.claim(conversation.as_str(), conn).ok_or_else(|| {
        ApiError::Conflict(
            "a reply is already being written in this conversation; wait for it to finish"
                .to_owned(),
        )
    })?;
    let (tx, rx) = mpsc::channel(EVENTS_CAPACITY);
    let job = Job {
        chat,
        conn,
        outbound: Outlet::Events(tx),
        request_id: None,
        model: model.filter(|m| !m.trim().is_empty()),
        request: Request::Send {
            conversation_id: Some(conversation.as_str().to_owned()),
            content,
            parent_id: None,
        },
        claim: Some(claim),
    };
    actix_web::rt::spawn(generate::run(job));
    Ok(rx)
}

/// The API error for a reply's [`ReplyEvent::Error`]: a model failure is 502 with the
/// model's words, a missing conversation 404, a busy database 503.
pub(crate) fn error_of(code: &'static str, message: String) -> ApiError {
    match code {
        "conversation_busy" => ApiError::Conflict(message),
        "conversation_not_found" | "message_not_found" => ApiError::not_found(code, message),
        "invalid_input" => ApiError::invalid(message),
        "unavailable" => ApiError::Unavailable(message),
        "internal_error" => ApiError::Internal,
        model => ApiError::Upstream {
            code: model,
            message,
        },
    }
}
