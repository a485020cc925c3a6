//! Renderers from the domain model to files people keep: Markdown, lossless JSON, and
//! fine-tuning JSONL.
//!
//! Every renderer writes to an `io::Write` one conversation at a time, so a bulk export of a
//! whole database streams: the caller walks the store page by page and never holds more than one
//! conversation in memory.
//!
//! * [`markdown`]: YAML front matter (title, source, id, created, updated, tags, folder), then
//!   the active branch with a heading per message (role, model, timestamp). Front-matter values
//!   are written as JSON strings, which YAML reads as double-quoted scalars, so an imported title
//!   can never break out of the front matter. Message text is written verbatim: it is Markdown.
//!   Pictures, recordings and files attached to a message are listed under it ([`markdown::media`]).
//!   The header and each message's section are public ([`markdown::write_header`],
//!   [`markdown::write_message`]) so a reader taking a conversation in pages (the MCP server)
//!   renders each page with this code rather than a second renderer.
//! * [`json`]: a lossless [`ExportDocument`] (the whole message tree, parts, hidden messages,
//!   tags, ratings, fork origin, source ids). It is also an import format: the importer detects
//!   [`FORMAT_NAME`] and restores the conversation with its ids, so export then import
//!   round-trips to an identical conversation.
//! * [`finetune`]: one line per up-rated assistant message in the OpenAI chat fine-tuning
//!   format, holding the visible messages from the root to that message.

pub mod finetune;
pub mod json;
pub mod markdown;

pub use json::{ExportDocument, FORMAT_NAME, FORMAT_VERSION};

/// What can go wrong while exporting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Writing the output failed.
    #[error("could not write the export: {0}")]
    Io(#[from] std::io::Error),
    /// Serialising JSON failed.
    #[error("could not serialise the export: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A file name for a conversation: its title reduced to `[A-Za-z0-9-_]` words (at most 60
/// characters), then the first 8 characters of its id, then the extension. Safe on every
/// file system and in a `Content-Disposition` header.
pub fn file_name(title: &str, id: &str, extension: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 60 {
            break;
        }
    }
    let slug = slug.trim_matches('-');
    let short_id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    match (slug.is_empty(), short_id.is_empty()) {
        (true, true) => format!("conversation.{extension}"),
        (true, false) => format!("conversation-{short_id}.{extension}"),
        (false, true) => format!("{slug}.{extension}"),
        (false, false) => format!("{slug}-{short_id}.{extension}"),
    }
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_name("How do I: read ../../etc/passwd?", "0192-abcd-ef", "md"),
            "how-do-i-read-etc-passwd-0192abcd.md"
        );
        assert_eq!(file_name("日本語", "", "json"), "conversation.json");
        assert_eq!(file_name("", "abc", "md"), "conversation-abc.md");
    }
}
