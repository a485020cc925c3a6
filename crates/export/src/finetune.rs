//! Fine-tuning JSONL in the OpenAI chat format.

use std::io::Write;

use chat_model::{ConversationDetail, Message, MessageId, MessageStatus, RatingValue, Role};
use serde::Serialize;

use crate::markdown::active_path;

#[derive(Serialize)]
struct Line<'a> {
    messages: Vec<ChatMessage<'a>>,
}

#[derive(Serialize)]
struct ChatMessage<'a> {
    role: &'static str,
    content: &'a str,
}

/// The training example of one message: the visible user, assistant and system messages from
/// the root down to and including it, when it is an up-rated, complete, visible assistant
/// message with a user message before it; `None` otherwise. Tool messages are left out (the
/// chat format needs tool-call ids the exports do not all have).
fn example<'a>(messages: &'a [Message], rated: &'a Message) -> Option<Vec<ChatMessage<'a>>> {
    let up = rated
        .rating
        .as_ref()
        .is_some_and(|r| r.value == RatingValue::Up);
    if !up
        || rated.role != Role::Assistant
        || rated.hidden
        || rated.status != MessageStatus::Complete
    {
        return None;
    }
    let path: Vec<ChatMessage<'_>> = active_path(messages, Some(&rated.id))
        .into_iter()
        .filter(|m| !m.hidden && !m.content.trim().is_empty())
        .filter_map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
                Role::System => "system",
                Role::Tool => return None,
            };
            Some(ChatMessage {
                role,
                content: &m.content,
            })
        })
        .collect();
    path.iter().any(|m| m.role == "user").then_some(path)
}

/// Whether the fine-tuning export includes message `id` of the conversation
/// (`detail.messages` holding the whole tree): see [`write_conversation`].
pub fn includes(detail: &ConversationDetail, id: &MessageId) -> bool {
    detail
        .messages
        .iter()
        .find(|m| &m.id == id)
        .is_some_and(|m| example(&detail.messages, m).is_some())
}

/// Writes one JSONL line per up-rated, complete assistant message of the conversation: the
/// visible user, assistant and system messages from the root down to and including it. Tool
/// messages are left out (the chat format needs tool-call ids the exports do not all have).
/// `detail.messages` must hold the whole tree. Returns how many lines were written.
pub fn write_conversation(
    out: &mut impl Write,
    detail: &ConversationDetail,
) -> crate::error::Result<u64> {
    let mut lines = 0;
    for rated in &detail.messages {
        let Some(messages) = example(&detail.messages, rated) else {
            continue;
        };
        serde_json::to_writer(&mut *out, &Line { messages })?;
        out.write_all(b"\n")?;
        lines += 1;
    }
    Ok(lines)
}
