//! Wire shapes: what the API sends and accepts. Domain types are converted at the edge so the
//! JSON stays stable when the model grows, and so every shape has an OpenAPI schema.

use chat_model::timestamp::rfc3339;
use chat_model::{
    Conversation, ConversationDetail, ConversationId, FolderPath, ForkOrigin, Message, MessageId,
    MessageStatus, Part, Rating, RatingValue, Role, Source, Timestamp,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// Where a forked conversation came from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ForkOriginView {
    /// The conversation that was forked.
    pub conversation_id: String,
    /// The message the fork was taken at.
    pub message_id: String,
}

impl From<ForkOrigin> for ForkOriginView {
    fn from(f: ForkOrigin) -> Self {
        ForkOriginView {
            conversation_id: f.conversation_id.into_string(),
            message_id: f.message_id.into_string(),
        }
    }
}

/// A conversation without its messages.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    /// Opaque id.
    pub id: String,
    /// Title shown in lists.
    pub title: String,
    /// `native`, `chatgpt`, `claude`, `gemini` or `copilot`.
    #[schema(value_type = String, example = "chatgpt")]
    pub source: Source,
    /// The provider's own id, for imported conversations.
    pub source_id: Option<String>,
    /// Folder path, e.g. `imported/chatgpt`; empty for the root.
    pub folder: String,
    /// RFC 3339, UTC.
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// RFC 3339, UTC.
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Whether it is archived.
    pub archived: bool,
    /// When it was archived.
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub archived_at: Option<Timestamp>,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// A short summary.
    pub summary: Option<String>,
    /// Messages in all branches, hidden included.
    pub message_count: u64,
    /// Set when this conversation is a fork.
    pub forked_from: Option<ForkOriginView>,
    /// The leaf of the active branch.
    pub current_message_id: Option<String>,
}

impl From<Conversation> for ConversationView {
    fn from(c: Conversation) -> Self {
        ConversationView {
            archived: c.archived_at.is_some(),
            id: c.id.into_string(),
            title: c.title,
            source: c.source,
            source_id: c.source_id,
            folder: c.folder.into(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            archived_at: c.archived_at,
            tags: c.tags.into_iter().map(String::from).collect(),
            summary: c.summary,
            message_count: c.message_count,
            forked_from: c.forked_from.map(ForkOriginView::from),
            current_message_id: c.current_message_id.map(|m| m.into_string()),
        }
    }
}

/// A rating of a message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingView {
    /// `up` or `down`.
    #[schema(value_type = String, example = "up")]
    pub value: RatingValue,
    /// Why, in the user's words.
    pub reason: Option<String>,
    /// When it was given.
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Rating> for RatingView {
    fn from(r: Rating) -> Self {
        RatingView {
            value: r.value,
            reason: r.reason,
            created_at: r.created_at,
        }
    }
}

/// One message ("turn").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    /// Opaque id.
    pub id: String,
    /// The conversation it belongs to.
    pub conversation_id: String,
    /// The message it follows; null for a root.
    pub parent_id: Option<String>,
    /// `user`, `assistant`, `system` or `tool`.
    #[schema(value_type = String, example = "user")]
    pub role: Role,
    /// Visible text, Markdown.
    pub content: String,
    /// Structured parts (code, images, tool calls, reasoning, ...), each with a `type`.
    #[schema(value_type = Vec<Object>)]
    pub parts: Vec<Part>,
    /// The model that wrote it.
    pub model: Option<String>,
    /// RFC 3339, UTC, when known.
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<Timestamp>,
    /// Hidden from the visible transcript (system prompts, tool output, reasoning).
    pub hidden: bool,
    /// The user's rating, or null.
    pub rating: Option<RatingView>,
    /// `complete`, or `interrupted` for a reply cut short.
    #[schema(value_type = String, example = "complete")]
    pub status: MessageStatus,
    /// The images, voice clips and files it carries (from its parts), with the URL of their
    /// bytes, or `missing` when the export did not hold them.
    pub attachments: Vec<AttachmentView>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        MessageView {
            id: m.id.into_string(),
            conversation_id: m.conversation_id.into_string(),
            parent_id: m.parent_id.map(|p| p.into_string()),
            role: m.role,
            content: m.content,
            model: m.model,
            created_at: m.created_at,
            hidden: m.hidden,
            rating: m.rating.map(RatingView::from),
            status: m.status,
            attachments: m
                .parts
                .iter()
                .filter_map(AttachmentView::from_part)
                .collect(),
            parts: m.parts,
        }
    }
}

/// A file, image or voice clip a message carries, as the UI shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentView {
    /// `image`, `audio` or `file`.
    #[schema(example = "image")]
    pub kind: &'static str,
    /// The original file name, when known.
    pub name: Option<String>,
    /// The type: sniffed from the stored bytes, else what the export claimed.
    pub mime_type: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// An image's width in pixels.
    pub width: Option<u64>,
    /// An image's height in pixels.
    pub height: Option<u64>,
    /// The media id (BLAKE3 hex) of the stored bytes; null when missing.
    pub media_id: Option<String>,
    /// Where to get the bytes (`GET /api/v1/media/{id}`); null when missing.
    pub url: Option<String>,
    /// True when the export did not hold the bytes: only the reference is kept.
    pub missing: bool,
    /// How the export referred to the bytes (a pointer, a file id), when it did.
    pub reference: Option<String>,
}

impl AttachmentView {
    /// The attachment a part is, if it is one: images and audio with a reference or bytes,
    /// and every attached file.
    pub fn from_part(part: &Part) -> Option<Self> {
        let (kind, name, mime_type, size, width, height, reference, media) = match part {
            Part::Image {
                reference,
                mime_type,
                width,
                height,
                data,
                media,
            } if reference.is_some() || media.is_some() || data.is_some() => (
                "image",
                None,
                mime_type.clone(),
                None,
                *width,
                *height,
                reference.clone(),
                media.clone(),
            ),
            Part::Audio {
                reference, media, ..
            } if reference.is_some() || media.is_some() => (
                "audio",
                None,
                None,
                None,
                None,
                None,
                reference.clone(),
                media.clone(),
            ),
            Part::Attachment {
                name,
                size,
                mime_type,
                reference,
                media,
                ..
            } => (
                "file",
                Some(name.clone()),
                mime_type.clone(),
                *size,
                None,
                None,
                reference.clone(),
                media.clone(),
            ),
            _ => return None,
        };
        Some(AttachmentView {
            kind,
            name,
            mime_type,
            size,
            width,
            height,
            url: None,
            missing: media.is_none(),
            media_id: media,
            reference,
        })
    }
}

/// A conversation with messages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConversationDetailView {
    /// The conversation.
    #[serde(flatten)]
    pub conversation: ConversationView,
    /// Parents before children: the active branch or the whole tree.
    pub messages: Vec<MessageView>,
}

impl From<ConversationDetail> for ConversationDetailView {
    fn from(d: ConversationDetail) -> Self {
        ConversationDetailView {
            conversation: d.conversation.into(),
            messages: d.messages.into_iter().map(MessageView::from).collect(),
        }
    }
}

/// A page of conversations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationPage {
    /// Newest first.
    pub items: Vec<ConversationView>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// `POST /conversations`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    /// The title (default empty).
    pub title: Option<String>,
    /// The folder (default: the root).
    pub folder: Option<String>,
    /// Tags to attach.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Deserialises a present field (even `null`) as `Some`, so "absent" and "null" differ.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /conversations/{id}`: every field optional; only the given ones change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchConversation {
    /// A new title.
    pub title: Option<String>,
    /// A new folder (empty string: the root).
    pub folder: Option<String>,
    /// Archive (`true`) or restore (`false`).
    pub archived: Option<bool>,
    /// A new summary; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
    /// Switch the active branch to the one ending at this message.
    pub current_message_id: Option<String>,
}

/// A rating inside a full-state save.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RatingInput {
    /// `up` or `down`.
    #[schema(value_type = String)]
    pub value: RatingValue,
    /// Why.
    pub reason: Option<String>,
    /// When (default now).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<Timestamp>,
}

/// A message inside a full-state save. The shape of [`MessageView`], with most fields optional.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MessageInput {
    /// Its id; a new one is made when absent.
    pub id: Option<String>,
    /// Must be the conversation's id when given.
    pub conversation_id: Option<String>,
    /// The message it follows; must be one of the saved messages.
    pub parent_id: Option<String>,
    /// Who wrote it.
    #[schema(value_type = String)]
    pub role: Role,
    /// Visible text.
    #[serde(default)]
    pub content: String,
    /// Structured parts.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub parts: Vec<Part>,
    /// The model that wrote it.
    pub model: Option<String>,
    /// When it was written.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<Timestamp>,
    /// Hidden from the visible transcript.
    #[serde(default)]
    pub hidden: bool,
    /// The rating.
    pub rating: Option<RatingInput>,
    /// `complete` (default) or `interrupted`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub status: MessageStatus,
    /// The provider's message id.
    pub source_id: Option<String>,
}

impl MessageInput {
    /// The message of `conversation` this input describes. A missing id is left empty (the
    /// store gives it a new one), a missing conversation id is `conversation`'s, and a rating
    /// without a time was given `at`.
    pub(crate) fn into_message(self, conversation: &ConversationId, at: Timestamp) -> Message {
        let m = self;
        Message {
            id: MessageId::from_string(m.id.unwrap_or_default()),
            conversation_id: m
                .conversation_id
                .map_or_else(|| conversation.clone(), ConversationId::from_string),
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
        }
    }
}

/// `PUT /conversations/{id}`: the conversation's full state. The shape `GET
/// /conversations/{id}?branch=all&hidden=true` returns is accepted as is. Messages not listed
/// are deleted; tags are replaced.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SaveConversation {
    /// Must equal the path's id when given.
    pub id: Option<String>,
    /// The title.
    #[serde(default)]
    pub title: String,
    /// The source (default: the stored one, else `native`).
    #[schema(value_type = Option<String>)]
    pub source: Option<Source>,
    /// The provider's id.
    pub source_id: Option<String>,
    /// The folder (default: the stored one, else the source's default).
    pub folder: Option<String>,
    /// Creation time (default: the stored one, else now).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<Timestamp>,
    /// Last change (default now).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<Timestamp>,
    /// Archived or not (ignored when `archived_at` is given).
    pub archived: Option<bool>,
    /// When it was archived.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub archived_at: Option<Timestamp>,
    /// The summary.
    pub summary: Option<String>,
    /// The tags (replacing the stored ones).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The leaf of the active branch (default: the last message).
    pub current_message_id: Option<String>,
    /// Fork origin.
    pub forked_from: Option<ForkOriginView>,
    /// Every message to keep, parents before children.
    #[serde(default)]
    pub messages: Vec<MessageInput>,
}

/// `POST /conversations/archive`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkArchive {
    /// Archive conversations not updated since this time (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub before: Timestamp,
    /// Only this source.
    #[schema(value_type = Option<String>)]
    pub source: Option<Source>,
}

/// How many conversations a bulk operation touched.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    /// Conversations archived.
    pub archived: u64,
}

/// `POST /conversations/{id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMessage {
    /// Who wrote it.
    #[schema(value_type = String, example = "user")]
    pub role: Role,
    /// Visible text, Markdown.
    pub content: String,
    /// The message it follows (default: the current leaf). A parent that already has children
    /// makes a new branch.
    pub parent_id: Option<String>,
    /// The model that wrote it.
    pub model: Option<String>,
    /// Hidden from the visible transcript.
    #[serde(default)]
    pub hidden: bool,
    /// Structured parts.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub parts: Vec<Part>,
}

/// `POST /conversations/{id}/fork`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForkRequest {
    /// The message to fork at (the last one copied).
    pub message_id: String,
}

/// A tag with its use count.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagView {
    /// The tag.
    pub name: String,
    /// Conversations carrying it.
    pub count: u64,
}

/// A folder with counts, per source.
#[derive(Debug, Serialize, ToSchema)]
pub struct FolderView {
    /// The path; empty for the root.
    pub path: String,
    /// The source of the conversations counted.
    #[schema(value_type = Option<String>)]
    pub source: Option<Source>,
    /// Conversations not archived.
    pub count: u64,
    /// Conversations archived.
    pub archived_count: u64,
}

/// `PUT /messages/{id}/rating`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    /// `up` or `down`.
    #[schema(value_type = String, example = "up")]
    pub rating: RatingValue,
    /// Why.
    pub reason: Option<String>,
}

/// A rated message.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatedMessageView {
    /// Its conversation.
    pub conversation_id: String,
    /// The message (with its rating).
    pub message: MessageView,
}

/// One search hit.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitView {
    /// The conversation.
    pub conversation_id: String,
    /// Its title.
    pub title: String,
    /// The matching message; null when the title matched.
    pub message_id: Option<String>,
    /// The matching message's role.
    #[schema(value_type = Option<String>)]
    pub role: Option<Role>,
    /// The matching message's time.
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<Timestamp>,
    /// HTML-escaped excerpt with matches in `<mark>`.
    pub snippet: String,
    /// Relevance, higher is better (comparable within one search).
    pub score: f64,
}

impl From<chat_store::SearchHit> for SearchHitView {
    fn from(h: chat_store::SearchHit) -> Self {
        SearchHitView {
            conversation_id: h.conversation_id.into_string(),
            title: h.title,
            message_id: h.message_id.map(|m| m.into_string()),
            role: h.role,
            created_at: h.created_at,
            snippet: h.snippet,
            score: h.score,
        }
    }
}

/// Search results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    /// Best first.
    pub hits: Vec<SearchHitView>,
}

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
}

/// One month of activity for one source.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthStat {
    /// `YYYY-MM` (UTC).
    pub month: String,
    /// The source.
    #[schema(value_type = String)]
    pub source: Source,
    /// Conversations created that month.
    pub conversations: u64,
    /// Messages written that month.
    pub messages: u64,
}

/// `GET /stats`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    /// All conversations.
    pub conversations: u64,
    /// All messages.
    pub messages: u64,
    /// Per month and source, oldest first.
    pub months: Vec<MonthStat>,
}

impl From<chat_store::LibraryStats> for Stats {
    fn from(s: chat_store::LibraryStats) -> Self {
        Stats {
            conversations: s.conversations,
            messages: s.messages,
            months: s
                .months
                .into_iter()
                .map(|m| MonthStat {
                    month: m.month,
                    source: m.source,
                    conversations: m.conversations,
                    messages: m.messages,
                })
                .collect(),
        }
    }
}

/// An id handed back for an accepted job.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// The job's id.
    pub id: String,
    /// Its status (`queued`).
    pub status: String,
}

/// A snapshot of a job's progress.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ProgressView {
    /// Bytes read from the inputs so far.
    pub bytes_read: u64,
    /// Total bytes of the inputs, when known.
    pub bytes_total: u64,
    /// Conversations read so far.
    pub conversations: u64,
    /// Messages newly written so far.
    pub messages: u64,
    /// The input being read.
    pub current: String,
}

/// Parses an optional folder path; the empty string is the root.
pub(crate) fn folder(s: &str) -> Result<FolderPath, crate::error::ApiError> {
    FolderPath::new(s).map_err(crate::error::ApiError::from)
}
