//! Requests, messages and stream events.

use chat_model::{Message, Role};
use serde::{Deserialize, Serialize};

/// One message of the context sent to a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who wrote it.
    pub role: Role,
    /// The text, passed through byte for byte.
    pub content: String,
}

impl ChatMessage {
    /// A message with the given role and text.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }
}

impl From<&Message> for ChatMessage {
    fn from(message: &Message) -> Self {
        Self::new(message.role, message.content.clone())
    }
}

/// What to ask the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model to use; `None` means the provider's [default](crate::ChatProvider::default_model).
    #[serde(default)]
    pub model: Option<String>,
    /// The context, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Sampling temperature; not sent when `None` (the server's default applies).
    #[serde(default)]
    pub temperature: Option<f32>,
    /// A cap on the reply's length in tokens; not sent when `None`.
    #[serde(default)]
    pub max_tokens: Option<u32>,
}

impl ChatRequest {
    /// A request for the given context with every option left to the server.
    pub fn new(messages: Vec<ChatMessage>) -> Self {
        Self {
            messages,
            ..Self::default()
        }
    }
}

/// Token counts for one reply, when the server reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the context.
    pub prompt_tokens: u64,
    /// Tokens in the reply.
    pub completion_tokens: u64,
    /// Their sum, as the server reported it.
    pub total_tokens: u64,
}

/// One item of a streamed reply.
///
/// A successful stream is zero or more [`ChatEvent::Delta`]s (and perhaps
/// [`ChatEvent::Reasoning`]s) followed by exactly one [`ChatEvent::Done`]; after `Done` the
/// stream ends. A failed stream ends with one `Err` instead of `Done`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChatEvent {
    /// The next piece of the visible reply. Concatenating every delta gives the reply exactly.
    Delta(String),
    /// The next piece of the model's separate reasoning (`reasoning_content`), which is not
    /// part of the reply. Providers that have none never send it.
    Reasoning(String),
    /// The reply is complete.
    Done {
        /// The model that answered, as the server named it.
        model: String,
        /// Token counts, when the server sent them.
        usage: Option<Usage>,
        /// Why the model stopped (`stop`, `length`, ...), when the server said.
        finish_reason: Option<String>,
    },
}
