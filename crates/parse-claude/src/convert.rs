//! From one conversation's JSON object to a [`ParsedConversation`].

use std::collections::HashSet;

use chat_model::{derive_title, Attachment, ParsedConversation, ParsedMessage, Part, Role, Source};
use chat_parse::{stable_id, time};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::blocks::read_blocks;
use crate::tree::{self, ParentLink};

/// A conversation as exported. Fields not named here are collected into `extra`.
#[derive(Debug, Deserialize)]
struct RawConversation {
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    created_at: Option<Value>,
    #[serde(default)]
    updated_at: Option<Value>,
    #[serde(default)]
    chat_messages: Option<Vec<RawMessage>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// A message as exported. Blocks, attachments and files stay JSON values: they are read
/// leniently, and whatever does not fit is kept raw.
#[derive(Debug, Deserialize)]
struct RawMessage {
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    sender: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    content: Option<Vec<Value>>,
    #[serde(default)]
    created_at: Option<Value>,
    #[serde(default)]
    updated_at: Option<Value>,
    #[serde(default)]
    parent_message_uuid: Option<String>,
    #[serde(default)]
    attachments: Option<Vec<Value>>,
    #[serde(default)]
    files: Option<Vec<Value>>,
    /// Reported in 2026 exports, shape unconfirmed: read like `files`.
    #[serde(default)]
    files_v2: Option<Vec<Value>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// Why a conversation could not be read.
#[derive(Debug)]
pub(crate) struct Failure {
    /// What is wrong.
    pub(crate) message: String,
    /// Where, as a JSON path inside the conversation.
    pub(crate) json_path: String,
}

/// A non-empty string field of an object.
pub(crate) fn str_field(object: &Map<String, Value>, key: &str) -> Option<String> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// "an array", "a string", ... for messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The `uuid` and `name` of an item that could not be read, when a lenient second reading
/// (invalid UTF-8 replaced, lone surrogates repaired, other fields ignored) finds them.
pub(crate) fn lenient_head(bytes: &[u8]) -> (Option<String>, Option<String>) {
    #[derive(Deserialize)]
    struct Head {
        #[serde(default)]
        uuid: Option<Value>,
        #[serde(default)]
        name: Option<Value>,
    }
    let text = String::from_utf8_lossy(bytes);
    let repaired = chat_parse::json::repair_lone_surrogates(text.as_bytes());
    let Ok(head) = serde_json::from_slice::<Head>(&repaired) else {
        return (None, None);
    };
    let string = |v: Option<Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    (string(head.uuid), string(head.name))
}

/// Reads one conversation object (one that has `chat_messages`).
pub(crate) fn conversation(object: Map<String, Value>) -> Result<ParsedConversation, Failure> {
    let raw: RawConversation =
        serde_path_to_error::deserialize(Value::Object(object)).map_err(|e| {
            let path = e.path().to_string();
            let json_path = if path == "." || path.is_empty() {
                "$".to_owned()
            } else if path.starts_with('[') {
                format!("${path}")
            } else {
                format!("$.{path}")
            };
            Failure {
                message: e.into_inner().to_string(),
                json_path,
            }
        })?;
    Ok(build(raw))
}

fn build(raw: RawConversation) -> ParsedConversation {
    let mut extra = raw.extra;
    let raw_messages = raw.chat_messages.unwrap_or_default();
    let source_id = match raw.uuid.filter(|u| !u.is_empty()) {
        Some(uuid) => uuid,
        None => conversation_stable_id(raw.created_at.as_ref(), raw_messages.first()),
    };

    // Parent links and uuids as exported, before the messages are consumed.
    let uuids: Vec<Option<String>> = raw_messages
        .iter()
        .map(|m| m.uuid.clone().filter(|u| !u.is_empty()))
        .collect();
    let links: Vec<ParentLink> = raw_messages
        .iter()
        .map(|m| match &m.parent_message_uuid {
            Some(p) => ParentLink::Declared(p.clone()),
            None => ParentLink::Absent,
        })
        .collect();
    let uuid_refs: Vec<Option<&str>> = uuids.iter().map(Option::as_deref).collect();
    let parent = tree::parents(&uuid_refs, &links);

    let mut used_ids: HashSet<String> = HashSet::with_capacity(raw_messages.len());
    let mut attachments = Vec::new();
    let mut messages: Vec<ParsedMessage> = Vec::with_capacity(raw_messages.len());
    for (raw_message, uuid) in raw_messages.into_iter().zip(uuids) {
        messages.push(message(
            raw_message,
            uuid,
            &source_id,
            &mut used_ids,
            &mut attachments,
        ));
    }

    let title = match raw.name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => derive_title(messages.iter().map(|m| (&m.role, m.content.as_str()))),
    };
    let active_leaf = messages.last().map(|m| m.source_id.clone());
    let created_at = timestamp(raw.created_at, "created_at", &mut extra)
        .or_else(|| messages.iter().filter_map(|m| m.created_at).min());
    let updated_at = timestamp(raw.updated_at, "updated_at", &mut extra)
        .or_else(|| messages.iter().filter_map(|m| m.created_at).max());

    // Parents first; ids resolved from indices before reordering.
    let parent_ids: Vec<Option<String>> = parent
        .iter()
        .map(|p| p.and_then(|i| messages.get(i)).map(|m| m.source_id.clone()))
        .collect();
    let order = tree::parents_first(&parent);
    let mut slots: Vec<Option<ParsedMessage>> = messages.into_iter().map(Some).collect();
    let mut ordered = Vec::with_capacity(slots.len());
    for i in order {
        if let Some(mut m) = slots.get_mut(i).and_then(Option::take) {
            m.parent = parent_ids.get(i).cloned().flatten();
            ordered.push(m);
        }
    }

    ParsedConversation {
        source: Source::Claude,
        source_id,
        title,
        created_at,
        updated_at,
        messages: ordered,
        active_leaf,
        attachments,
        archived: false,
        model: None,
        summary: raw.summary.filter(|s| !s.trim().is_empty()),
        subfolder: crate::project::named_project(&extra),
        extra: Value::Object(extra),
    }
}

/// A timestamp field: parsed, or kept raw in `extra` under `key` when it does not parse.
pub(crate) fn timestamp(
    value: Option<Value>,
    key: &str,
    extra: &mut Map<String, Value>,
) -> Option<chat_model::Timestamp> {
    let value = value?;
    let parsed = parse_time(&value);
    if parsed.is_none() {
        extra.insert(key.to_owned(), value);
    }
    parsed
}

/// A timestamp in any shape [`time::from_value`] reads; also an ISO time whose offset was cut
/// to a bare sign (`2023-10-07T07:03:01.693863+`, seen in schema-generated samples), as UTC.
pub(crate) fn parse_time(value: &Value) -> Option<chat_model::Timestamp> {
    time::from_value(value).or_else(|| {
        let s = value.as_str()?.trim_end();
        let cut = s.strip_suffix(['+', '-'])?;
        cut.contains('T').then(|| time::from_str(cut)).flatten()
    })
}

/// The text of a JSON value for hashing: strings as they are, anything else as JSON.
fn hash_text(value: Option<&Value>) -> String {
    match value {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// An id for a conversation without `uuid`: its creation time and its first message, which
/// do not change when the conversation grows or is renamed.
fn conversation_stable_id(created_at: Option<&Value>, first: Option<&RawMessage>) -> String {
    let created = hash_text(created_at);
    let (uuid, sent, text, content) = match first {
        Some(m) => (
            m.uuid.clone().unwrap_or_default(),
            hash_text(m.created_at.as_ref()),
            m.text.clone().unwrap_or_default(),
            m.content
                .as_ref()
                .map(|c| Value::Array(c.clone()).to_string())
                .unwrap_or_default(),
        ),
        None => Default::default(),
    };
    stable_id(&["claude", &created, &uuid, &sent, &text, &content])
}

/// Reads one message. `uuid` is the message's non-empty uuid, taken out beforehand.
fn message(
    raw: RawMessage,
    uuid: Option<String>,
    conversation_id: &str,
    used_ids: &mut HashSet<String>,
    attachments: &mut Vec<Attachment>,
) -> ParsedMessage {
    let mut parts = Vec::new();
    let blocks = raw.content.unwrap_or_default();
    let content = match read_blocks(blocks, &mut parts) {
        Some(text) => text,
        // No `content`, an empty one, or only blocks of types this parser does not know (a
        // renamed text block in some future export): the flattened render is all there is.
        None => raw.text.unwrap_or_default(),
    };

    let mut leftovers = raw.extra;
    let created_at = raw.created_at.as_ref().and_then(parse_time);
    let id = unique_id(
        uuid.unwrap_or_else(|| {
            stable_id(&[
                conversation_id,
                &hash_text(raw.created_at.as_ref()),
                &content,
            ])
        }),
        used_ids,
    );

    let role = match raw.sender.as_deref() {
        Some("human" | "user") => Role::User,
        Some("assistant") => Role::Assistant,
        other => {
            leftovers.insert(
                "sender".to_owned(),
                other.map_or(Value::Null, |s| Value::String(s.to_owned())),
            );
            Role::System
        }
    };
    if let (Some(value), None) = (&raw.created_at, created_at) {
        leftovers.insert("created_at".to_owned(), value.clone());
    }
    if let Some(updated) = raw.updated_at {
        if raw.created_at.as_ref() != Some(&updated) && !updated.is_null() {
            leftovers.insert("updated_at".to_owned(), updated);
        }
    }

    for entry in raw.attachments.unwrap_or_default() {
        read_file_entry(entry, FileKind::Attachment, &id, &mut parts, attachments);
    }
    for entry in raw
        .files
        .unwrap_or_default()
        .into_iter()
        .chain(raw.files_v2.unwrap_or_default())
    {
        read_file_entry(entry, FileKind::File, &id, &mut parts, attachments);
    }
    if !leftovers.is_empty() {
        parts.push(Part::Raw {
            kind: "claude.message".to_owned(),
            value: Value::Object(leftovers),
        });
    }

    ParsedMessage {
        source_id: id,
        parent: None,
        role,
        content,
        parts,
        model: None,
        created_at,
        hidden: false,
        interrupted: false,
    }
}

/// `id`, or `id#2`, `id#3`, ... when it is taken; records it as taken.
pub(crate) fn unique_id(id: String, used: &mut HashSet<String>) -> String {
    let mut candidate = id.clone();
    let mut n = 2u64;
    while used.contains(&candidate) {
        candidate = format!("{id}#{n}");
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

/// A MIME type from Claude's `file_type`, which is either one already (`text/markdown`) or a
/// bare extension (`txt`). Unknown extensions are kept as given.
pub(crate) fn mime_type(file_type: String) -> String {
    let known = match file_type.to_ascii_lowercase().as_str() {
        "txt" | "text" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "csv" => "text/csv",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "pdf" => "application/pdf",
        "py" => "text/x-python",
        _ => return file_type,
    };
    known.to_owned()
}

#[derive(Clone, Copy)]
enum FileKind {
    /// `attachments[]`: text files with `extracted_content`.
    Attachment,
    /// `files[]`: images and binaries, name only.
    File,
}

/// One `attachments[]` or `files[]` entry: a [`Part::Attachment`], a conversation
/// [`Attachment`], and a raw part for fields that are not modelled.
fn read_file_entry(
    entry: Value,
    kind: FileKind,
    message_id: &str,
    parts: &mut Vec<Part>,
    attachments: &mut Vec<Attachment>,
) {
    let raw_kind = match kind {
        FileKind::Attachment => "claude.attachment",
        FileKind::File => "claude.file",
    };
    let Value::Object(mut entry) = entry else {
        parts.push(Part::Raw {
            kind: raw_kind.to_owned(),
            value: entry,
        });
        return;
    };
    let take_str = |entry: &mut Map<String, Value>, key: &str| match entry.remove(key) {
        Some(Value::String(s)) => Some(s),
        Some(Value::Null) | None => None,
        Some(other) => {
            // Not a string: put it back so it is kept raw.
            entry.insert(key.to_owned(), other);
            None
        }
    };
    let name = take_str(&mut entry, "file_name").unwrap_or_default();
    let (size, mime_type, extracted_text) = match kind {
        FileKind::Attachment => {
            let size = match entry.remove("file_size") {
                Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64(),
                Some(Value::Null) | None => None,
                Some(other) => {
                    entry.insert("file_size".to_owned(), other);
                    None
                }
            };
            let mime = take_str(&mut entry, "file_type")
                .filter(|m| !m.is_empty())
                .map(mime_type);
            let extracted = take_str(&mut entry, "extracted_content");
            (size, mime, extracted)
        }
        FileKind::File => (None, None, None),
    };
    let name = if name.is_empty() {
        "(unnamed file)".to_owned()
    } else {
        name
    };
    parts.push(Part::Attachment {
        name: name.clone(),
        size,
        mime_type: mime_type.clone(),
        extracted_text,
        media: None,
        reference: None,
    });
    attachments.push(Attachment {
        message_source_id: Some(message_id.to_owned()),
        name,
        size,
        mime_type,
        data: None,
    });
    if !entry.is_empty() {
        parts.push(Part::Raw {
            kind: raw_kind.to_owned(),
            value: Value::Object(entry),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_types_name_their_json_path() {
        let obj = json!({"uuid": "c", "chat_messages": [{"uuid": "m", "content": "oops"}]});
        let Value::Object(obj) = obj else {
            unreachable!()
        };
        let err = conversation(obj).err();
        let err = err.map(|e| e.json_path);
        assert_eq!(err.as_deref(), Some("$.chat_messages[0].content"));
    }

    #[test]
    fn duplicate_ids_are_made_unique() {
        let mut used = HashSet::new();
        assert_eq!(unique_id("a".into(), &mut used), "a");
        assert_eq!(unique_id("a".into(), &mut used), "a#2");
        assert_eq!(unique_id("a".into(), &mut used), "a#3");
        assert_eq!(unique_id("a#2".into(), &mut used), "a#2#2");
    }

    #[test]
    fn lenient_head_reads_ids_past_invalid_utf8() {
        let bytes =
            b"{\"uuid\": \"u1\", \"name\": \"N\", \"chat_messages\": [{\"text\": \"\xff\"}]}";
        assert_eq!(
            lenient_head(bytes),
            (Some("u1".to_owned()), Some("N".to_owned()))
        );
    }
}
