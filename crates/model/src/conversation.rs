use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::values::timestamp;
use crate::{
    ConversationId, FolderPath, MessageId, ModelError, Part, Role, Source, Tag, Timestamp,
};

/// Where a forked conversation came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkOrigin {
    /// The conversation that was forked.
    pub conversation_id: ConversationId,
    /// The message the fork was taken at (the last message copied).
    pub message_id: MessageId,
}

/// A conversation's metadata, without its messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Our id.
    pub id: ConversationId,
    /// Where it came from.
    pub source: Source,
    /// The provider's own conversation id, for imported conversations.
    pub source_id: Option<String>,
    /// The title shown in lists.
    pub title: String,
    /// The folder it is filed in.
    pub folder: FolderPath,
    /// When it was created (the provider's time for imports).
    #[serde(with = "timestamp::rfc3339")]
    pub created_at: Timestamp,
    /// When it last changed.
    #[serde(with = "timestamp::rfc3339")]
    pub updated_at: Timestamp,
    /// When it was archived; `None` when it is not archived.
    #[serde(with = "timestamp::rfc3339::option", default)]
    pub archived_at: Option<Timestamp>,
    /// A short summary, when one was generated or imported.
    pub summary: Option<String>,
    /// The leaf of the active branch.
    pub current_message_id: Option<MessageId>,
    /// Set when this conversation was forked from another.
    pub forked_from: Option<ForkOrigin>,
    /// Its tags, sorted.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// How many messages it holds (all branches, hidden included).
    #[serde(default)]
    pub message_count: u64,
}

impl Conversation {
    /// Whether it is archived.
    pub fn is_archived(&self) -> bool {
        self.archived_at.is_some()
    }
}

/// Whether a message is whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// The message is whole.
    #[default]
    Complete,
    /// A reply cut short (cancelled, disconnected, or the model failed mid-stream).
    Interrupted,
}

impl MessageStatus {
    /// The name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Complete => "complete",
            MessageStatus::Interrupted => "interrupted",
        }
    }
}

/// One message of one role (a "turn").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Our id.
    pub id: MessageId,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// The message it answers or follows; `None` for a root.
    pub parent_id: Option<MessageId>,
    /// Who wrote it.
    pub role: Role,
    /// The visible text, Markdown.
    pub content: String,
    /// Structured parts beyond the visible text.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// The model that wrote it, when known.
    pub model: Option<String>,
    /// When it was written, when known.
    #[serde(with = "timestamp::rfc3339::option", default)]
    pub created_at: Option<Timestamp>,
    /// Not part of the visible transcript by default (system prompts, tool calls, reasoning).
    #[serde(default)]
    pub hidden: bool,
    /// The provider's own message id, for imported messages.
    pub source_id: Option<String>,
    /// Whole or cut short.
    #[serde(default)]
    pub status: MessageStatus,
    /// The rating the user gave it, if any.
    #[serde(default)]
    pub rating: Option<Rating>,
}

impl Message {
    /// Whether this message is a note (it carries a [`Part::note`] marker).
    pub fn is_note(&self) -> bool {
        self.parts.iter().any(Part::is_note)
    }
}

/// Thumbs up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingValue {
    /// A good answer (+1).
    Up,
    /// A bad answer (-1).
    Down,
}

impl RatingValue {
    /// +1 or -1, as stored.
    pub fn as_i64(self) -> i64 {
        match self {
            RatingValue::Up => 1,
            RatingValue::Down => -1,
        }
    }

    /// From the stored +1 / -1.
    pub fn from_i64(v: i64) -> Result<Self, ModelError> {
        match v {
            1 => Ok(RatingValue::Up),
            -1 => Ok(RatingValue::Down),
            other => Err(ModelError::UnknownRating(other.to_string())),
        }
    }

    /// `up` or `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            RatingValue::Up => "up",
            RatingValue::Down => "down",
        }
    }
}

impl FromStr for RatingValue {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "up" | "+1" | "1" => Ok(RatingValue::Up),
            "down" | "-1" => Ok(RatingValue::Down),
            other => Err(ModelError::UnknownRating(other.to_owned())),
        }
    }
}

impl fmt::Display for RatingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's rating of a message. One per message; a new one replaces the old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// Up or down.
    pub value: RatingValue,
    /// Why, in the user's words.
    pub reason: Option<String>,
    /// When it was given.
    #[serde(with = "timestamp::rfc3339")]
    pub created_at: Timestamp,
}

/// A conversation with messages: the active branch or the whole tree, depending on the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationDetail {
    /// The conversation.
    #[serde(flatten)]
    pub conversation: Conversation,
    /// Its messages, parents before children.
    pub messages: Vec<Message>,
}
