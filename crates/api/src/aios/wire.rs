//! The AI OS frontend's JSON shapes (those of the original chat module), and the conversions
//! from our domain types. Times are RFC 3339 in UTC; ids are ours.

use chat_export::aios::{name_of, source_name, Turn};
use chat_model::timestamp::rfc3339;
use chat_model::{Conversation, Message, Role, Timestamp};
use serde::{Deserialize, Serialize};

/// The `weight` the original kept per conversation (it grew each time one was opened). We
/// have no such measure; every conversation reports the same value.
pub(crate) const WEIGHT: f64 = 0.5;

/// A message of `/api/chat/history` and `POST /api/chat/message`.
#[derive(Debug, Serialize)]
pub(crate) struct ChatMessageView {
    pub(crate) id: String,
    /// `user` or `assistant`.
    pub(crate) role: &'static str,
    pub(crate) content: String,
    #[serde(with = "rfc3339::option")]
    pub(crate) timestamp: Option<Timestamp>,
}

impl ChatMessageView {
    /// A user or assistant message (`None` for other roles); `fallback` is the time of a
    /// message that has none.
    pub(crate) fn of(m: Message, fallback: Timestamp) -> Option<Self> {
        let role = match m.role {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::System | Role::Tool => return None,
        };
        Some(ChatMessageView {
            id: m.id.into_string(),
            role,
            content: m.content,
            timestamp: Some(m.created_at.unwrap_or(fallback)),
        })
    }
}

/// `POST /api/chat/message`.
#[derive(Debug, Deserialize)]
pub(crate) struct SendMessage {
    pub(crate) content: String,
    /// The conversation to continue (default: the current session).
    pub(crate) session_id: Option<String>,
    /// The model to ask (default: the configured one).
    pub(crate) model_id: Option<String>,
    /// Accepted for compatibility; the server's configured model server answers.
    #[allow(dead_code)]
    pub(crate) provider: Option<String>,
    /// Accepted for compatibility; the server's configured model server answers.
    #[allow(dead_code)]
    pub(crate) endpoint: Option<String>,
}

/// The answer to `POST /api/chat/message`.
#[derive(Debug, Serialize)]
pub(crate) struct SentMessage {
    pub(crate) message: ChatMessageView,
    pub(crate) agent_status: &'static str,
    pub(crate) session_id: String,
}

/// `GET /api/chat/agent-status`.
#[derive(Debug, Serialize)]
pub(crate) struct AgentStatus {
    /// `ready`, `thinking` (a reply is being written in the current session) or `offline`
    /// (no model is configured: the built-in offline assistant answers).
    pub(crate) status: &'static str,
    /// The model that answers.
    pub(crate) name: String,
    /// The current session's last activity.
    #[serde(with = "rfc3339::option")]
    pub(crate) last_interaction: Option<Timestamp>,
}

/// A session id and `"ok"` (`start-session`, `set-session`).
#[derive(Debug, Serialize)]
pub(crate) struct SessionStatus {
    pub(crate) session_id: String,
    pub(crate) status: &'static str,
}

/// A row of `GET /api/conversations`.
#[derive(Debug, Serialize)]
pub(crate) struct ConversationSummary {
    pub(crate) session_id: String,
    pub(crate) name: String,
    #[serde(with = "rfc3339")]
    pub(crate) started: Timestamp,
    pub(crate) turn_count: u64,
    /// When the active branch's last message was written.
    #[serde(with = "rfc3339::option")]
    pub(crate) last_message: Option<Timestamp>,
    /// The start of the first user message.
    pub(crate) preview: Option<String>,
    pub(crate) archived: bool,
    pub(crate) weight: f64,
    /// `aios` for ours, else the provider's name.
    pub(crate) source: &'static str,
    pub(crate) summary: Option<String>,
}

impl ConversationSummary {
    pub(crate) fn new(c: Conversation, outline: chat_store::BranchOutline) -> Self {
        ConversationSummary {
            session_id: c.id.as_str().to_owned(),
            name: name_of(&c).to_owned(),
            started: c.created_at,
            turn_count: chat_export::aios::count_turns(outline.roles),
            last_message: outline.last_at.or(Some(c.updated_at)),
            preview: outline.first_user,
            archived: c.archived_at.is_some(),
            weight: WEIGHT,
            source: source_name(c.source),
            summary: c.summary,
        }
    }
}

/// `GET /api/conversations/{id}`.
#[derive(Debug, Serialize)]
pub(crate) struct ConversationView {
    pub(crate) session_id: String,
    pub(crate) name: String,
    #[serde(with = "rfc3339")]
    pub(crate) started: Timestamp,
    /// The page of turns asked for (`limit`, `offset`), oldest first.
    pub(crate) turns: Vec<Turn>,
    /// Turns in the whole active branch.
    pub(crate) total_turns: usize,
    /// The original kept the agent's state here; we have none.
    pub(crate) state_snapshot: Option<()>,
    pub(crate) weight: f64,
    pub(crate) summary: Option<String>,
    pub(crate) source: &'static str,
}

/// `POST /api/conversations/{id}/rename`.
#[derive(Debug, Deserialize)]
pub(crate) struct Rename {
    pub(crate) name: String,
}

/// `PUT /api/conversations/summary/prompt`.
#[derive(Debug, Deserialize)]
pub(crate) struct SummaryPromptBody {
    pub(crate) prompt: Option<String>,
}

/// `POST /api/ratings/rate`.
#[derive(Debug, Deserialize)]
pub(crate) struct Rate {
    pub(crate) message_id: String,
    #[serde(default)]
    pub(crate) conversation_id: Option<String>,
    pub(crate) rating: String,
    /// Accepted for compatibility; the stored messages are what the rating is about.
    #[allow(dead_code)]
    #[serde(default)]
    pub(crate) user_message: Option<String>,
    /// Accepted for compatibility; the stored messages are what the rating is about.
    #[allow(dead_code)]
    #[serde(default)]
    pub(crate) assistant_message: Option<String>,
    /// Accepted for compatibility; the fine-tuning export uses the conversation's own.
    #[allow(dead_code)]
    #[serde(default)]
    pub(crate) system_prompt: Option<String>,
    #[serde(default)]
    pub(crate) reason: Option<String>,
}

/// The answer to `POST /api/ratings/rate`.
#[derive(Debug, Serialize)]
pub(crate) struct Rated {
    pub(crate) success: bool,
    pub(crate) message: &'static str,
    /// Whether the fine-tuning export now includes this answer.
    pub(crate) finetune_saved: bool,
}

/// `GET /api/ratings/stats`.
#[derive(Debug, Serialize)]
pub(crate) struct RatingStats {
    /// Messages rated up.
    pub(crate) total_approved: u64,
    /// Messages rated down.
    pub(crate) total_negative: u64,
    /// Both.
    pub(crate) total_rated: u64,
    /// Where the approved answers go: `GET /api/v1/export?format=finetune`.
    pub(crate) finetune_export: &'static str,
}

/// The answer to `POST /api/import/upload`.
#[derive(Debug, Serialize)]
pub(crate) struct Uploaded {
    pub(crate) upload_id: String,
    /// The files received, as named in the upload.
    pub(crate) files: Vec<String>,
    /// Bytes received.
    pub(crate) size: u64,
}

/// A conversation of an import preview.
#[derive(Debug, Serialize)]
pub(crate) struct PreviewConversation {
    /// The provider's id.
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) message_count: usize,
    #[serde(with = "rfc3339::option")]
    pub(crate) created_at: Option<Timestamp>,
    /// `new`, `updated` or `unchanged`: what committing would do with it.
    pub(crate) status: &'static str,
}

/// The answer to `POST /api/import/parse`.
#[derive(Debug, Serialize)]
pub(crate) struct Preview {
    /// The source detected (or forced), the AI OS way (`chatgpt`, `claude`, ...); several
    /// joined with `,` when the upload mixes them.
    pub(crate) platform: String,
    /// Conversations that would be imported, updated or found unchanged.
    pub(crate) total_conversations: u64,
    /// The first ones, in the export's order.
    pub(crate) conversations: Vec<PreviewConversation>,
    /// Of the total: new ones.
    pub(crate) new_conversations: u64,
    /// Items that could not be read (the report says why).
    pub(crate) failed: u64,
    /// The dry run's report (the `chat-import --json` shape).
    pub(crate) report: serde_json::Value,
}

/// `GET /api/models`.
#[derive(Debug, Serialize)]
pub(crate) struct Models {
    pub(crate) models: Vec<ModelView>,
    pub(crate) current: String,
    pub(crate) provider: String,
    /// Why the model server's list could not be read (the list then holds the configured
    /// model only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// A model of `GET /api/models`.
#[derive(Debug, Serialize)]
pub(crate) struct ModelView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) provider: String,
}

/// `GET /api/models/current`.
#[derive(Debug, Serialize)]
pub(crate) struct CurrentModel {
    pub(crate) current: String,
    pub(crate) provider: String,
}
