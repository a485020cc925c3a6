//! Inputs and outputs of the repository functions that are not domain types.

use chat_model::{
    Conversation, ConversationId, FolderPath, ForkOrigin, Message, MessageId, MessageStatus, Part,
    Rating, Role, Source, Tag, Timestamp,
};

use crate::error::{Error, Result};

/// A conversation to create with [`crate::Repo::create_conversation`].
#[derive(Debug, Clone)]
pub struct NewConversation {
    /// The title; `None` gives an empty title (the API may derive one later).
    pub title: Option<String>,
    /// The folder; `None` is the source's default folder.
    pub folder: Option<FolderPath>,
    /// Tags to attach.
    pub tags: Vec<Tag>,
    /// Where it comes from; native by default.
    pub source: Source,
}

impl Default for NewConversation {
    fn default() -> Self {
        NewConversation {
            title: None,
            folder: None,
            tags: Vec::new(),
            source: Source::Native,
        }
    }
}

/// A message to append with [`crate::Repo::add_message`].
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Who wrote it.
    pub role: Role,
    /// Visible Markdown text.
    pub content: String,
    /// The message it follows; `None` is the conversation's current leaf.
    pub parent_id: Option<MessageId>,
    /// Structured parts.
    pub parts: Vec<Part>,
    /// The model that wrote it.
    pub model: Option<String>,
    /// Not part of the visible transcript.
    pub hidden: bool,
    /// Whole or cut short (a streamed reply starts interrupted and is finished with
    /// [`crate::Repo::update_message_content`]).
    pub status: MessageStatus,
    /// When it was written; `None` is now.
    pub created_at: Option<Timestamp>,
}

impl NewMessage {
    /// A complete, visible message of `role` with `content`, following the current leaf.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        NewMessage {
            role,
            content: content.into(),
            parent_id: None,
            parts: Vec::new(),
            model: None,
            hidden: false,
            status: MessageStatus::Complete,
            created_at: None,
        }
    }
}

/// A conversation's full state for [`crate::Repo::save_conversation_state`]: what a client
/// sends to replace a conversation (the API's `PUT /conversations/{id}`). Absent fields keep
/// their stored values or take defaults.
///
/// The messages must list parents before children, each with this conversation's id and an id
/// that appears once (an empty id gets a new one); a rating keeps its time. `current_message_id`,
/// when given, must be one of them.
#[derive(Debug, Clone)]
pub struct ConversationState {
    /// The conversation (created when no conversation has this id).
    pub id: ConversationId,
    /// The title.
    pub title: String,
    /// The source; default: the stored one, else native.
    pub source: Option<Source>,
    /// The provider's id.
    pub source_id: Option<String>,
    /// The folder; default: the stored one, else the source's default folder.
    pub folder: Option<FolderPath>,
    /// Creation time; default: the stored one, else now.
    pub created_at: Option<Timestamp>,
    /// Last change; default now.
    pub updated_at: Option<Timestamp>,
    /// Archived or not (ignored when `archived_at` is given); default: as stored.
    pub archived: Option<bool>,
    /// When it was archived.
    pub archived_at: Option<Timestamp>,
    /// The summary.
    pub summary: Option<String>,
    /// The tags, replacing the stored ones.
    pub tags: Vec<Tag>,
    /// The leaf of the active branch; default: the last message.
    pub current_message_id: Option<MessageId>,
    /// Fork origin.
    pub forked_from: Option<ForkOrigin>,
    /// Every message to keep, parents before children.
    pub messages: Vec<Message>,
}

/// What [`crate::Repo::save_conversation_state`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedConversation {
    /// The conversation as saved.
    pub conversation: Conversation,
    /// Whether it was new.
    pub created: bool,
}

/// What [`crate::Repo::stats`] counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryStats {
    /// All conversations.
    pub conversations: u64,
    /// All messages.
    pub messages: u64,
    /// Per month and source, oldest month first.
    pub months: Vec<MonthStats>,
}

/// One month of one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthStats {
    /// `YYYY-MM` (UTC); empty for rows without a time.
    pub month: String,
    /// The source.
    pub source: Source,
    /// Conversations created that month.
    pub conversations: u64,
    /// Messages written that month.
    pub messages: u64,
}

/// Which conversations a list or search covers with respect to archiving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArchivedFilter {
    /// Only conversations that are not archived (the default list).
    #[default]
    No,
    /// Only archived conversations.
    Yes,
    /// Both.
    All,
}

impl ArchivedFilter {
    pub(crate) fn sql(self, column: &str) -> String {
        match self {
            ArchivedFilter::No => format!("{column} IS NULL"),
            ArchivedFilter::Yes => format!("{column} IS NOT NULL"),
            ArchivedFilter::All => "1".to_owned(),
        }
    }
}

/// A position in a conversation list: the `(updated_at, id)` of the last item of a page.
///
/// Opaque to clients: it travels as the string from [`Cursor::encode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub(crate) updated_at: i64,
    pub(crate) id: String,
}

impl Cursor {
    /// The cursor as a URL-safe string.
    pub fn encode(&self) -> String {
        let mut out = format!("{}.", self.updated_at);
        for b in self.id.bytes() {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// Reads a cursor made by [`Cursor::encode`]; anything else is [`Error::InvalidInput`].
    pub fn decode(s: &str) -> Result<Cursor> {
        let bad = || Error::InvalidInput(format!("not a list cursor: {s:?}"));
        let (millis, hex) = s.split_once('.').ok_or_else(bad)?;
        let updated_at: i64 = millis.parse().map_err(|_| bad())?;
        if hex.len() % 2 != 0 || hex.is_empty() {
            return Err(bad());
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(bad)?;
        let id = String::from_utf8(bytes).map_err(|_| bad())?;
        Ok(Cursor { updated_at, id })
    }
}

/// Filters and paging for [`crate::Repo::list_conversations`].
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Only this source.
    pub source: Option<Source>,
    /// Only this folder or folders below it.
    pub folder: Option<FolderPath>,
    /// Only conversations with this tag.
    pub tag: Option<Tag>,
    /// Archived, not archived, or both.
    pub archived: ArchivedFilter,
    /// Only conversations updated at or after this time.
    pub updated_after: Option<Timestamp>,
    /// Only conversations updated before this time.
    pub updated_before: Option<Timestamp>,
    /// Page size (1 to 1000; 0 means 50).
    pub limit: u32,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            source: None,
            folder: None,
            tag: None,
            archived: ArchivedFilter::No,
            updated_after: None,
            updated_before: None,
            limit: 50,
            cursor: None,
        }
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<Cursor>,
}

/// A folder with its conversation counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderInfo {
    /// The folder.
    pub path: FolderPath,
    /// The source when every conversation in it has the same one; `None` when mixed.
    pub source: Option<Source>,
    /// Conversations that are not archived.
    pub count: u64,
    /// Conversations that are archived.
    pub archived_count: u64,
}

/// How many messages are rated up and down ([`crate::Repo::rating_counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RatingCounts {
    /// Messages rated up.
    pub up: u64,
    /// Messages rated down.
    pub down: u64,
}

/// A conversation's active branch in brief, for lists ([`crate::Repo::branch_outline`]): what
/// a list row shows without reading every message's text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BranchOutline {
    /// The role of each visible message of the branch, root first.
    pub roles: Vec<Role>,
    /// The start of the branch's first visible user message.
    pub first_user: Option<String>,
    /// The time of the branch's last message that has one.
    pub last_at: Option<Timestamp>,
}

/// A rated message with its conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct RatedMessage {
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// The message (its `rating` is set).
    pub message: Message,
    /// The rating.
    pub rating: Rating,
}

/// A full-text query for [`crate::Repo::search`].
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// What the user typed. Words are matched (all of them, any order, diacritics ignored);
    /// `"a phrase"` and a trailing `*` for a prefix are understood; other syntax is ignored.
    pub text: String,
    /// Only this source.
    pub source: Option<Source>,
    /// Only conversations with this tag.
    pub tag: Option<Tag>,
    /// Only conversations in this folder or folders below it.
    pub folder: Option<FolderPath>,
    /// Only messages written at or after this time (a message without a time counts as written
    /// when its conversation was last updated); title hits: conversations updated since then.
    pub since: Option<Timestamp>,
    /// Only messages written before this time (same rule); title hits: conversations created
    /// before then.
    pub until: Option<Timestamp>,
    /// Archived, not archived (default), or both.
    pub archived: ArchivedFilter,
    /// Only messages of this role (no title hits then).
    pub role: Option<Role>,
    /// Also search hidden messages (system prompts, tool output, reasoning).
    pub include_hidden: bool,
    /// How many hits (1 to 500; 0 means 20).
    pub limit: u32,
}

impl SearchQuery {
    /// A query for `text` with default filters and 20 hits.
    pub fn new(text: impl Into<String>) -> Self {
        SearchQuery {
            text: text.into(),
            source: None,
            tag: None,
            folder: None,
            since: None,
            until: None,
            archived: ArchivedFilter::No,
            role: None,
            include_hidden: false,
            limit: 20,
        }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// Its title.
    pub title: String,
    /// The matching message; `None` when the title matched.
    pub message_id: Option<MessageId>,
    /// The matching message's role.
    pub role: Option<Role>,
    /// The matching message's time.
    pub created_at: Option<Timestamp>,
    /// An excerpt, HTML-escaped, with matches wrapped in `<mark>` and `</mark>`.
    pub snippet: String,
    /// Relevance, higher is better (negated bm25; comparable within one search only).
    pub score: f64,
}

/// Status of an import run.
pub type ImportRunStatus = String;

/// A row of `import_runs`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRunRecord {
    /// The run's id.
    pub id: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished; `None` while running.
    pub finished_at: Option<Timestamp>,
    /// e.g. `running`, `succeeded`, `failed`, `cancelled` (free text for the pipeline).
    pub status: ImportRunStatus,
    /// The inputs (JSON).
    pub inputs: serde_json::Value,
    /// The sources detected (JSON).
    pub sources: serde_json::Value,
    /// The final report (JSON).
    pub report: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A row of `import_quarantine`: an item an import could not read, kept for a later retry.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineItem {
    /// Row id; ignored by [`crate::Repo::quarantine_item`], which assigns one.
    pub id: i64,
    /// The import run.
    pub run_id: String,
    /// The input (file or archive) it came from.
    pub input: String,
    /// Which item of the input (e.g. a conversation id or index).
    pub item: String,
    /// What went wrong.
    pub error: String,
    /// What the user can do about it.
    pub hint: Option<String>,
    /// The source, when detected.
    pub source: Option<Source>,
    /// Where in the input (e.g. a JSON path or byte offset).
    pub location: Option<String>,
    /// The raw bytes of the item, when small enough to keep.
    pub raw: Option<Vec<u8>>,
    /// When it was quarantined.
    pub created_at: Timestamp,
}

/// The saved state of one of the API's import jobs (a row of `import_jobs`), so that every
/// server instance on the database can answer for a job another one runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportJobRecord {
    /// The job's id (also its import run's id).
    pub id: String,
    /// When the job was accepted.
    pub created_at: Timestamp,
    /// When this state was saved.
    pub updated_at: Timestamp,
    /// The job as the API shows it (JSON).
    pub state: serde_json::Value,
}

/// What a conversation row holds beyond [`chat_model::Conversation`]: read from one store and
/// written to another by a copy, so that the copy behaves as the original (a later import
/// skips unchanged conversations and keeps a renamed title).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConversationExtras {
    /// Whether the user renamed it (an import then keeps the title).
    pub title_edited: bool,
    /// The conversation's model, as the provider named it.
    pub model: Option<String>,
    /// The content hash of the parsed import it came from.
    pub content_hash: Option<Vec<u8>>,
    /// Import attachments and raw fields (JSON).
    pub extra: Option<String>,
}
