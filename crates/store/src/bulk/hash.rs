//! What identifies an imported conversation and its messages: the content hash that tells an
//! unchanged conversation apart, and the derived message ids that make a re-import find the
//! rows it wrote before.

use std::io;

use chat_model::{ConversationId, ParsedConversation, ParsedMessage};
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use crate::error::{Error, Result};

/// Bumped when the canonical serialisation hashed by [`content_hash`] changes, so stored
/// hashes stop matching and the next import re-checks every conversation once.
const HASH_FORMAT: u8 = 2;

/// Feeds serde's output straight into the hasher, without building the JSON in memory.
struct HashWriter<'a>(&'a mut Xxh3);

impl io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A length-prefixed, tagged encoding of the fields that make up a conversation, so that
/// distinct values never encode to the same byte stream.
struct Canonical(Xxh3);

impl Canonical {
    fn tag(&mut self, t: u8) {
        self.0.update(&[t]);
    }
    fn str(&mut self, s: &str) {
        self.0.update(&(s.len() as u64).to_le_bytes());
        self.0.update(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.tag(0),
            Some(s) => {
                self.tag(1);
                self.str(s);
            }
        }
    }
    fn opt_time(&mut self, t: Option<chat_model::Timestamp>) {
        match t {
            None => self.tag(0),
            Some(t) => {
                self.tag(1);
                self.0.update(&t.unix_timestamp_nanos().to_le_bytes());
                self.0.update(&t.offset().whole_seconds().to_le_bytes());
            }
        }
    }
    /// Rarely non-empty values (parts, attachments, raw provider fields) go through serde's
    /// JSON, framed by a start tag and an end tag that JSON text cannot contain.
    fn json<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.tag(2);
        serde_json::to_writer(HashWriter(&mut self.0), v)
            .map_err(|e| Error::InvalidInput(format!("conversation cannot be serialised: {e}")))?;
        self.tag(0xff);
        Ok(())
    }
}

/// xxh3-128 of a canonical encoding of everything the parser produced (every field of the
/// conversation and of each message; the exhaustive destructuring below makes a new field a
/// compile error here until it is hashed). Equal values hash equally.
pub fn content_hash(c: &ParsedConversation) -> Result<[u8; 16]> {
    let ParsedConversation {
        source,
        source_id,
        title,
        created_at,
        updated_at,
        messages,
        active_leaf,
        attachments,
        archived,
        model,
        summary,
        extra,
        // Only used when a conversation is first filed, never compared.
        subfolder: _,
    } = c;
    let mut h = Canonical(Xxh3::new());
    h.tag(HASH_FORMAT);
    h.str(source.as_str());
    h.str(source_id);
    h.str(title);
    h.opt_time(*created_at);
    h.opt_time(*updated_at);
    h.opt_str(active_leaf.as_deref());
    h.tag(u8::from(*archived));
    h.opt_str(model.as_deref());
    h.opt_str(summary.as_deref());
    if !attachments.is_empty() {
        h.json(attachments)?;
    }
    if !extra.is_null() {
        h.json(extra)?;
    }
    h.0.update(&(messages.len() as u64).to_le_bytes());
    for m in messages {
        let ParsedMessage {
            source_id,
            parent,
            role,
            content,
            parts,
            model,
            created_at,
            hidden,
            interrupted,
        } = m;
        h.str(source_id);
        h.opt_str(parent.as_deref());
        h.str(role.as_str());
        h.str(content);
        if !parts.is_empty() {
            h.json(parts)?;
        }
        h.opt_str(model.as_deref());
        h.opt_time(*created_at);
        h.tag(u8::from(*hidden) | (u8::from(*interrupted) << 1) | 0x10);
    }
    Ok(h.0.digest128().to_be_bytes())
}

/// A hash of source, conversation and message provider ids (32 hex digits): the part of an
/// imported message's id that identifies the message; see [`imported_message_id`] for the whole id.
pub fn derive_message_id(
    source: &str,
    conversation_source_id: &str,
    message_source_id: &str,
) -> String {
    let mut buf = Vec::with_capacity(
        source.len() + conversation_source_id.len() + message_source_id.len() + 2,
    );
    buf.extend_from_slice(source.as_bytes());
    buf.push(0);
    buf.extend_from_slice(conversation_source_id.as_bytes());
    buf.push(0);
    buf.extend_from_slice(message_source_id.as_bytes());
    format!("{:032x}", xxh3_128(&buf))
}

/// Our id for an imported message of the conversation `conversation_id`: the first 12 hex
/// digits of the conversation id followed by [`derive_message_id`]. Deterministic, so writing
/// the same message again finds the same row instead of duplicating it; and because our
/// conversation ids are UUIDv7 (their first 12 hex digits are the creation time in ms), the
/// messages of an import get ids in ascending order and the `id` index grows at its end
/// instead of taking random inserts all over a large B-tree.
pub fn imported_message_id(
    conversation_id: &ConversationId,
    source: &str,
    conversation_source_id: &str,
    message_source_id: &str,
) -> String {
    join_message_id(
        &message_id_prefix(conversation_id),
        &derive_message_id(source, conversation_source_id, message_source_id),
    )
}

/// The first 12 hex digits of a conversation id, lowercased: how its messages' ids start.
pub(crate) fn message_id_prefix(conversation_id: &ConversationId) -> String {
    conversation_id
        .as_str()
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(12)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A message id from its conversation's prefix and its [`derive_message_id`].
pub(crate) fn join_message_id(prefix: &str, message_id: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + message_id.len());
    id.push_str(prefix);
    id.push_str(message_id);
    id
}
