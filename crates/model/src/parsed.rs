use serde::{Deserialize, Serialize};

use crate::values::timestamp;
use crate::{Part, Role, Source, Timestamp};

/// Longest title, in characters, derived from a first user message.
pub const TITLE_MAX_CHARS: usize = 80;

/// One conversation as a provider parser read it, before it meets the store.
///
/// Ids here are the provider's own. The store maps `(source, source_id)` to our conversation id
/// and `(conversation, message source_id)` to our message ids, which is what makes re-imports
/// idempotent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedConversation {
    /// Which provider it came from.
    pub source: Source,
    /// The provider's conversation id; where the provider has none, a hash of stable content
    /// (never an array position).
    pub source_id: String,
    /// The title: the provider's, else derived from the first user message (see [`derive_title`]).
    pub title: String,
    /// When it was created, when known.
    #[serde(with = "timestamp::rfc3339::option", default)]
    pub created_at: Option<Timestamp>,
    /// When it last changed, when known.
    #[serde(with = "timestamp::rfc3339::option", default)]
    pub updated_at: Option<Timestamp>,
    /// Every message of every branch, parents before children.
    pub messages: Vec<ParsedMessage>,
    /// The provider id of the active branch's leaf, when known. Otherwise the last message.
    pub active_leaf: Option<String>,
    /// Files attached to the conversation or its messages.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Whether the provider marked it archived.
    #[serde(default)]
    pub archived: bool,
    /// The conversation's default model, when the provider names one.
    #[serde(default)]
    pub model: Option<String>,
    /// A summary the provider generated, when there is one.
    #[serde(default)]
    pub summary: Option<String>,
    /// Provider fields that are not modelled, kept raw so nothing is lost (a JSON object).
    #[serde(default)]
    pub extra: serde_json::Value,
    /// A folder below the import's folder that this conversation belongs in, as the provider
    /// names it: a Claude project's name, a VS Code workspace's folder name. One segment, not
    /// yet a valid folder name ([`crate::FolderPath::child`] makes it one). Used only when the
    /// conversation is first imported (where the user filed it later wins), so it is not part
    /// of the content hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subfolder: Option<String>,
}

/// One message as a provider parser read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedMessage {
    /// The provider's message id (unique within the conversation).
    pub source_id: String,
    /// The provider id of its parent; `None` for a root.
    pub parent: Option<String>,
    /// Who wrote it.
    pub role: Role,
    /// Visible Markdown text.
    pub content: String,
    /// Structured parts and raw provider fields.
    #[serde(default)]
    pub parts: Vec<Part>,
    /// The model that wrote it, when known.
    #[serde(default)]
    pub model: Option<String>,
    /// When it was written, when known.
    #[serde(with = "timestamp::rfc3339::option", default)]
    pub created_at: Option<Timestamp>,
    /// Not part of the visible transcript by default.
    #[serde(default)]
    pub hidden: bool,
    /// Set when the provider says the reply was cut short.
    #[serde(default)]
    pub interrupted: bool,
}

/// A file that came with a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The provider id of the message it belongs to, when known.
    pub message_source_id: Option<String>,
    /// The file name.
    pub name: String,
    /// Size in bytes, when known.
    pub size: Option<u64>,
    /// The MIME type, when known.
    pub mime_type: Option<String>,
    /// The bytes, base64-encoded, when the export holds them.
    pub data: Option<String>,
}

/// A title from the first user message with text: whitespace folded, at most
/// [`TITLE_MAX_CHARS`] characters (cut at a word boundary when one is near, with an ellipsis).
/// Returns `"Untitled conversation"` when there is no such message.
pub fn derive_title<'a>(messages: impl IntoIterator<Item = (&'a Role, &'a str)>) -> String {
    let first = messages
        .into_iter()
        .find(|(role, text)| **role == Role::User && !text.trim().is_empty())
        .map(|(_, text)| text);
    let Some(text) = first else {
        return "Untitled conversation".to_owned();
    };
    let folded: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= TITLE_MAX_CHARS {
        return folded;
    }
    let limit = TITLE_MAX_CHARS - 1; // room for the ellipsis
    let cut: String = folded.chars().take(limit).collect();
    let cut = match cut.rfind(' ') {
        Some(pos) if pos >= limit / 2 => &cut[..pos],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_the_first_user_message_with_text() {
        let msgs = [
            (Role::System, "You are helpful"),
            (Role::User, "   "),
            (Role::User, "How do I\n  read a file in Rust?"),
        ];
        let title = derive_title(msgs.iter().map(|(r, t)| (r, *t)));
        assert_eq!(title, "How do I read a file in Rust?");
    }

    #[test]
    fn long_titles_are_cut_to_80_chars_at_a_word() {
        let long = "word ".repeat(40);
        let msgs = [(Role::User, long.as_str())];
        let title = derive_title(msgs.iter().map(|(r, t)| (r, *t)));
        assert!(title.chars().count() <= TITLE_MAX_CHARS, "{title}");
        assert!(title.ends_with("word…"));
        let cjk = "漢".repeat(200);
        let msgs = [(Role::User, cjk.as_str())];
        let title = derive_title(msgs.iter().map(|(r, t)| (r, *t)));
        assert_eq!(title.chars().count(), TITLE_MAX_CHARS);
    }

    #[test]
    fn no_user_text_gives_untitled() {
        let msgs = [(Role::Assistant, "hi")];
        assert_eq!(
            derive_title(msgs.iter().map(|(r, t)| (r, *t))),
            "Untitled conversation"
        );
    }
}
