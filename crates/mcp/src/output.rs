//! What the tools answer: plain JSON shapes with schemas (each tool lists its output schema),
//! separate from the domain types so the wire stays stable when the model grows.

use chat_model::{timestamp, Conversation};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

use crate::render::MediaItem;

/// A count: a plain non-negative integer (schemars would say `"format": "uint64"`, which JSON
/// Schema validators in MCP clients do not know and warn about).
pub(crate) fn count_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "integer", "minimum": 0 })
}

/// A conversation in a list or a search hit.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConversationSummary {
    /// Its id, for get_conversation, tag_conversation and add_note.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Where it comes from: chatgpt, claude, gemini, copilot or native.
    pub source: String,
    /// The folder it is filed in ("" is the top folder).
    pub folder: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// When it was created (RFC 3339, UTC).
    pub created: String,
    /// When it last changed (RFC 3339, UTC).
    pub updated: String,
    /// Messages in it, every branch and hidden ones included.
    #[schemars(schema_with = "count_schema")]
    pub message_count: u64,
    /// Whether it is archived.
    pub archived: bool,
    /// Its resource URI (Markdown).
    pub uri: String,
}

/// A conversation's resource URI.
pub(crate) fn conversation_uri(id: &str) -> String {
    format!("chat://conversations/{id}")
}

impl From<&Conversation> for ConversationSummary {
    fn from(c: &Conversation) -> Self {
        ConversationSummary {
            id: c.id.as_str().to_owned(),
            title: c.title.clone(),
            source: c.source.as_str().to_owned(),
            folder: c.folder.as_str().to_owned(),
            tags: c.tags.iter().map(|t| t.as_str().to_owned()).collect(),
            created: timestamp::to_rfc3339(c.created_at),
            updated: timestamp::to_rfc3339(c.updated_at),
            message_count: c.message_count,
            archived: c.is_archived(),
            uri: conversation_uri(c.id.as_str()),
        }
    }
}

/// One search hit.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Hit {
    /// The conversation.
    pub conversation_id: String,
    /// Its title.
    pub title: String,
    /// Its source.
    pub source: String,
    /// Its folder.
    pub folder: String,
    /// When the matching message was written, or the conversation last changed for a title
    /// hit (RFC 3339, UTC).
    pub date: String,
    /// The matching message, for get_message_context; absent when the title matched.
    pub message_id: Option<String>,
    /// The matching message's role.
    pub role: Option<String>,
    /// Plain text around the match (no markup; "…" where text was left out).
    pub snippet: String,
}

/// The answer of search_conversations.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SearchResult {
    /// Hits, best first.
    pub hits: Vec<Hit>,
    /// Pass it back as cursor (with the same arguments) for the next hits; absent when there
    /// are no more (or the search is 200 hits deep: refine the query instead).
    pub next_cursor: Option<String>,
}

/// The answer of list_conversations.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ListResult {
    /// Conversations, most recently updated first.
    pub conversations: Vec<ConversationSummary>,
    /// Pass it back as cursor (with the same arguments) for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A folder with its counts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FolderEntry {
    /// The folder ("" is the top folder).
    pub path: String,
    /// The source of the conversations counted here (a folder holding several sources has
    /// one entry per source).
    pub source: String,
    /// Conversations that are not archived.
    #[schemars(schema_with = "count_schema")]
    pub count: u64,
    /// Archived conversations.
    #[schemars(schema_with = "count_schema")]
    pub archived_count: u64,
}

/// The answer of list_folders.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FoldersResult {
    /// Folders by path, then source.
    pub folders: Vec<FolderEntry>,
    /// Pass it back as cursor for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A tag with its count.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TagEntry {
    /// The tag.
    pub tag: String,
    /// Conversations carrying it.
    #[schemars(schema_with = "count_schema")]
    pub count: u64,
}

/// The answer of list_tags.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TagsResult {
    /// Tags by name.
    pub tags: Vec<TagEntry>,
    /// Pass it back as cursor for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// The answer of tag_conversation and save_conversation.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConversationResult {
    /// The conversation as it now is.
    pub conversation: ConversationSummary,
}

/// The answer of add_note.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NoteResult {
    /// The conversation as it now is.
    pub conversation: ConversationSummary,
    /// The note's message id.
    pub message_id: String,
}

/// The structured part of get_conversation's answer (the page itself is the first text
/// block).
#[derive(Debug, Clone, Serialize)]
pub struct PageInfo {
    /// The conversation.
    pub conversation: ConversationSummary,
    /// `markdown` or `json`.
    pub format: String,
    /// `active` or `all`.
    pub branch: String,
    /// Position of the page's first message in the selection (1-based).
    pub messages_from: usize,
    /// Position of its last message (a message continued on the next page counts).
    pub messages_to: usize,
    /// Messages in the selection.
    pub messages_total: usize,
    /// Pass it back as cursor (with the same id) for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// Attachments, pictures and recordings of the page's messages.
    pub media: Vec<MediaItem>,
}

/// The structured part of get_message_context's answer.
#[derive(Debug, Clone, Serialize)]
pub struct ContextInfo {
    /// The conversation.
    pub conversation: ConversationSummary,
    /// The message asked about.
    pub message_id: String,
    /// The ids of the messages shown, in order.
    pub message_ids: Vec<String>,
    /// Messages before the first shown on this branch (read them with get_conversation).
    pub earlier: usize,
    /// Messages after the last shown.
    pub later: usize,
    /// Attachments, pictures and recordings of the messages shown.
    pub media: Vec<MediaItem>,
}

/// Turns the store's HTML snippet (escaped text, matches in `<mark>`) into plain text.
pub(crate) fn plain_snippet(html: &str) -> String {
    // The store escapes every `<` of the text, so the only tags are its marks.
    html.replace("<mark>", "")
        .replace("</mark>", "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::plain_snippet;

    #[test]
    fn snippets_lose_marks_and_escapes_but_keep_the_text() {
        assert_eq!(
            plain_snippet("a &lt;b&gt; &amp;amp; <mark>x</mark> &quot;y&#39;"),
            "a <b> &amp; x \"y'"
        );
    }
}
