//! The seam between export files and the import pipeline.
//!
//! A provider crate implements [`Parser`]: it is handed one [`Input`] (a byte stream plus the
//! name it came under, a path or an archive entry) and pushes what it reads into a [`Sink`], one
//! item at a time: [`ParsedConversation`]s, [`ItemError`]s for items it could not read (with the
//! item's raw bytes, so the pipeline can keep them for a retry), and [`Skipped`] notes for entries
//! that are not conversations. The push model (atuin's `Loader`, ripgrep's `Sink`) keeps memory
//! bounded by the largest single conversation, lets the consumer stop early, and keeps parsers
//! ignorant of the database.
//!
//! [`Parser::detect`] judges a [`Probe`] (the first bytes and the name) by structure and returns
//! a [`Confidence`]: ChatGPT, Claude and Takeout all ship files called `conversations.json` or
//! `MyActivity.json`, so a name alone is never enough.
//!
//! The shared helpers live here too: [`json::ArrayStream`] walks a top-level JSON array element
//! by element in bounded memory, repairing lone UTF-16 surrogate escapes and reporting a
//! truncated file with the byte offset of the cut; [`json::Element::parse`] gives JSON-path-aware
//! errors; [`time`] parses the timestamp shapes exports use; [`stable_id`] hashes stable content
//! into an id where a provider has none.

mod error;
pub mod json;
mod probe;
mod sink;
pub mod time;

/// Fixture mutations for property tests (feature `testing`).
#[cfg(feature = "testing")]
pub mod testing;

pub use chat_model::{Attachment, ParsedConversation, ParsedMessage, Source};
pub use error::{ItemError, ItemRef, Location, ParseError, Result};
pub use probe::{Confidence, Probe, PROBE_LEN};
pub use sink::{CollectSink, Flow, Sink, Skipped};

use std::io::BufRead;

/// One input handed to a parser: a byte stream and the name it came under.
pub struct Input<'a> {
    /// A path, or `archive.zip!entry/name.json` for archive entries. Used in messages.
    pub name: &'a str,
    /// The bytes.
    pub reader: &'a mut dyn BufRead,
    /// The size in bytes, when known (for progress).
    pub size: Option<u64>,
}

impl std::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A provider's parser.
///
/// Contract: `parse` pushes every conversation it can read into the sink, in file order, and an
/// [`ItemError`] for each item it cannot; it stops as soon as the sink returns [`Flow::Stop`]. It
/// returns `Err` only for what ends the whole input (not this format, unreadable bytes, a
/// truncated file), after pushing everything complete before that point. It never panics.
pub trait Parser: Send + Sync {
    /// The source its conversations carry.
    fn source(&self) -> Source;

    /// A short name for messages, e.g. "ChatGPT export".
    fn name(&self) -> &'static str;

    /// How likely it is that this parser reads the input, judged by its structure.
    fn detect(&self, probe: &Probe<'_>) -> Confidence;

    /// Reads the input and pushes what it finds into the sink.
    fn parse(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<()>;

    /// Names under which this provider's exports hold the bytes a part refers to, for the
    /// import to look up among the files of the same export (zip entries, files of the
    /// folder). `reference` is the part's pointer or file id, `name` an attachment's file
    /// name. Each key matches a file whose name is the key, whose name without extension is
    /// the key, or (ChatGPT's older layout) whose `file-<id>`/`file_<id>` prefix is the key.
    ///
    /// Empty (the default) when the provider's exports hold no bytes, as Claude's do not: such
    /// parts stay references and are not counted missing.
    fn media_keys(&self, reference: Option<&str>, name: Option<&str>) -> Vec<String> {
        let _ = (reference, name);
        Vec::new()
    }
}

/// An id from stable content, for providers that have none: 32 hex characters of xxh3-128 over
/// the pieces, each length-prefixed so `["ab", "c"]` and `["a", "bc"]` differ.
pub fn stable_id(pieces: &[&str]) -> String {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for piece in pieces {
        hasher.update(&(piece.len() as u64).to_le_bytes());
        hasher.update(piece.as_bytes());
    }
    format!("{:032x}", hasher.digest128())
}

/// Whether a JSON value holds a non-blank string anywhere (walked without recursion). Parsers
/// use it to decide whether leftover provider fields carry text worth keeping raw.
pub fn has_text(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if !s.trim().is_empty() => return true,
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    false
}

/// Removes a string field and returns it; a field of another type is left in place (so whoever
/// keeps the object's leftovers keeps it too), and `null` is removed as absent.
pub fn take_str(map: &mut serde_json::Map<String, serde_json::Value>, key: &str) -> Option<String> {
    use serde_json::Value;
    match map.remove(key) {
        Some(Value::String(s)) => Some(s),
        Some(Value::Null) | None => None,
        Some(other) => {
            map.insert(key.to_owned(), other);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_found_at_any_depth() {
        assert!(has_text(&serde_json::json!({"a": [1, {"b": " x "}]})));
        assert!(!has_text(
            &serde_json::json!({"a": [1, {"b": "  "}], "c": null, "d": false})
        ));
    }

    #[test]
    fn stable_ids_depend_on_content_and_boundaries() {
        assert_eq!(stable_id(&["a", "b"]), stable_id(&["a", "b"]));
        assert_ne!(stable_id(&["ab", "c"]), stable_id(&["a", "bc"]));
        assert_eq!(stable_id(&["x"]).len(), 32);
    }
}
