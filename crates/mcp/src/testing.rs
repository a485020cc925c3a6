//! Helpers for this crate's unit tests.

use chat_model::{ConversationId, Message, MessageId, MessageStatus, Role};

/// A visible, complete message of conversation `c`.
pub(crate) fn message(id: &str, parent: Option<&str>, role: Role, content: String) -> Message {
    Message {
        id: MessageId::from(id),
        conversation_id: ConversationId::from("c"),
        parent_id: parent.map(MessageId::from),
        role,
        content,
        parts: Vec::new(),
        model: None,
        created_at: None,
        hidden: false,
        source_id: None,
        status: MessageStatus::Complete,
        rating: None,
    }
}
