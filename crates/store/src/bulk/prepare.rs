//! Everything the writer derives from a parsed conversation before writing it, computed
//! ahead (on an importer's parse thread) or by the writer itself.

use chat_model::{ParsedConversation, Source};

use super::hash::{content_hash, derive_message_id};
use crate::columns::parts_json;
use crate::error::{Error, Result};
use crate::repo::search::cjk_runs;

/// What the bulk writer derives from a parsed conversation before writing it: its content
/// hash, message ids, parts as JSON, the CJK runs of its messages, its extra fields as JSON.
/// Pure computation, so an importer can run it on another thread than the writer's.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Which conversation this was made from (see [`Prepared::fits`]).
    source: Source,
    source_id: String,
    pub(crate) hash: [u8; 16],
    /// [`derive_message_id`] of each message, in order.
    pub(crate) message_ids: Vec<String>,
    /// [`parts_json`] of each message.
    pub(crate) parts: Vec<Option<String>>,
    /// The CJK runs of each visible message holding CJK text (see `rows::MessageRow::insert`).
    pub(crate) cjk: Vec<Option<String>>,
    pub(crate) extra: Option<String>,
}

impl Prepared {
    /// Derives everything the writer needs from `c`.
    pub fn new(c: &ParsedConversation) -> Result<Prepared> {
        let source = c.source.as_str();
        let mut parts = Vec::with_capacity(c.messages.len());
        for m in &c.messages {
            parts.push(parts_json(&m.parts)?);
        }
        Ok(Prepared {
            source: c.source,
            source_id: c.source_id.clone(),
            hash: content_hash(c)?,
            message_ids: c
                .messages
                .iter()
                .map(|m| derive_message_id(source, &c.source_id, &m.source_id))
                .collect(),
            parts,
            cjk: c
                .messages
                .iter()
                .map(|m| {
                    (!m.hidden && !m.content.is_ascii())
                        .then(|| cjk_runs(&m.content))
                        .filter(|r| !r.is_empty())
                })
                .collect(),
            extra: extra_json(c)?,
        })
    }

    /// Whether this was made from `c`, as far as a cheap check tells (same conversation, same
    /// number of messages: `new` makes every per-message list that long); a mismatch makes
    /// the writer derive everything itself.
    pub(crate) fn fits(&self, c: &ParsedConversation) -> bool {
        self.source == c.source
            && self.source_id == c.source_id
            && self.message_ids.len() == c.messages.len()
    }
}

/// Raw attachments and unmodelled provider fields, kept as JSON on the conversation row.
fn extra_json(c: &ParsedConversation) -> Result<Option<String>> {
    let empty_extra = c.extra.is_null() || c.extra.as_object().is_some_and(|o| o.is_empty());
    if c.attachments.is_empty() && empty_extra {
        return Ok(None);
    }
    serde_json::to_string(&serde_json::json!({
        "attachments": c.attachments,
        "extra": c.extra,
    }))
    .map(Some)
    .map_err(|e| Error::InvalidInput(format!("conversation extras cannot be serialised: {e}")))
}
