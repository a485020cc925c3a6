//! Copilot event logs: VS Code Copilot Chat transcripts
//! (`GitHub.copilot-chat/transcripts/<sessionId>.jsonl`, extension 0.42 and later) and the
//! Copilot CLI's session logs (`session-state/<id>/events.jsonl`, older `session-state/<id>.jsonl`),
//! which share one envelope: one JSON object per line, `{type, data, id, timestamp, parentId}`
//! (the CLI adds `ephemeral` and `agentId`).
//!
//! A log is one conversation. Lines are read in order (see [`events`] for what each event type
//! becomes): user and assistant messages are visible; reasoning is a [`Part::Reasoning`] of the
//! answer it led to; every tool execution (`tool.execution_start` and `_complete`) is a hidden
//! tool message holding the call's arguments and its result (or error); image and file
//! attachments keep their references and, when the log carries them
//! (`session.binary_asset`), their bytes; events this parser does not model are kept raw on
//! the message they follow. A line that cannot be read is an [`ItemError`] naming the line,
//! and reading goes on; a log without any readable event is an error for the whole input.
//!
//! The conversation's id is `transcript:<sessionId>` (the session id from `session.start`, else
//! the file's name): VS Code may also keep the same chat in `chatSessions/` under the plain
//! session id, and the two files must not merge into one tree. Its title is the last
//! `session.title_changed`, else derived from the first user message (or, for agent runs with
//! no user turn, from the first answer). Its [`ParsedConversation::subfolder`] is the folder
//! the session worked in, from `context.cwd` (or `gitRoot`), else the common folder of the
//! paths in tool arguments; the importer prefers the workspace's `workspace.json` when there is
//! one.
//!
//! [`Part::Reasoning`]: chat_model::Part::Reasoning
//! [`ParsedConversation::subfolder`]: chat_model::ParsedConversation::subfolder

mod events;
mod folder;
mod parts;

use chat_model::{derive_title, ParsedConversation, Role, Source};
use chat_parse::{stable_id, ItemError, ItemRef, ParseError, Result, Sink, Skipped};
use serde_json::{Map, Value};

use crate::log::read_entry;
use events::Builder;

/// The prefix of a transcript conversation's id.
pub const TRANSCRIPT_ID_PREFIX: &str = "transcript:";

/// Whether `bytes` (an input's first bytes, from its first `{`) start like an event log: the
/// first line is an object with a dotted `type` and a `data` object. When the first line does
/// not fit in `bytes`, its opening `{"type":"<a.b>"` decides.
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    let end = memchr::memchr(b'\n', bytes);
    let line = &bytes[..end.unwrap_or(bytes.len())];
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(first)) => {
            first
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(is_event_type)
                && first.get("data").is_some_and(Value::is_object)
        }
        Ok(_) => false,
        // A first line longer than the probe: look at how it starts.
        Err(_) if end.is_none() => {
            let compact: Vec<u8> = line
                .iter()
                .take(256)
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            compact
                .strip_prefix(b"{\"type\":\"")
                .and_then(|rest| rest.split(|&b| b == b'"').next())
                .and_then(|t| std::str::from_utf8(t).ok())
                .is_some_and(is_event_type)
        }
        Err(_) => false,
    }
}

/// `session.start`, `user.message`, `tool.execution_complete`, ...: lower-case words joined by
/// dots, at least one dot.
fn is_event_type(t: &str) -> bool {
    t.contains('.')
        && !t.starts_with('.')
        && !t.ends_with('.')
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_' || b.is_ascii_digit())
}

/// Reads a whole event log (`body` without a byte-order mark, which started at `base`).
pub(crate) fn parse(body: &[u8], base: u64, name: &str, sink: &mut dyn Sink) -> Result<()> {
    let mut builder = Builder::default();
    let mut errors: Vec<ItemError> = Vec::new();
    let mut read = 0u64;
    let mut first_truncated = None;
    let mut pos = 0usize;
    let mut line_no = 0u64;
    while pos < body.len() {
        let end = memchr::memchr(b'\n', &body[pos..]).map_or(body.len(), |p| pos + p);
        let line = &body[pos..end];
        let start = base + pos as u64;
        let last = end == body.len();
        pos = end + 1;
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match read_entry(line, start, line_no, last, name) {
            Ok(event) => {
                read += 1;
                builder.event(event);
            }
            Err((error, truncated)) => {
                if truncated && read == 0 && first_truncated.is_none() {
                    first_truncated = Some(start);
                }
                errors.push(error);
            }
        }
    }
    if line_no == 0 || (read == 0 && errors.is_empty()) {
        return Err(ParseError::Empty {
            input: name.to_owned(),
        });
    }
    if read == 0 {
        if let Some(offset) = first_truncated {
            return Err(ParseError::Truncated {
                input: name.to_owned(),
                offset,
                items_complete: 0,
            });
        }
        for error in errors {
            if sink.item_error(error) == chat_parse::Flow::Stop {
                return Ok(());
            }
        }
        return Err(ParseError::NotThisFormat {
            input: name.to_owned(),
            expected: crate::NAME,
            reason: "no line of the event log could be read".to_owned(),
        });
    }
    let session = builder.session_id().map(str::to_owned);
    for mut error in errors {
        if error.item.id.is_none() {
            error.item.id.clone_from(&session);
        }
        if sink.item_error(error) == chat_parse::Flow::Stop {
            return Ok(());
        }
    }
    match finish(builder, name) {
        Ok(conversation) => {
            sink.conversation(conversation);
        }
        Err(skipped) => {
            sink.skipped(skipped);
        }
    }
    Ok(())
}

/// The session id from the file's path: `<id>.jsonl`, or the folder of `events.jsonl`.
fn id_from_name(name: &str) -> Option<String> {
    let mut segments = name.rsplit(['/', '\\', '!']);
    let file = segments.next()?;
    let stem = file.strip_suffix(".jsonl").unwrap_or(file);
    let id = if stem == "events" {
        segments.next()?
    } else {
        stem
    };
    (!id.trim().is_empty()).then(|| id.to_owned())
}

/// The conversation, or why there is none (a log without a single message).
fn finish(builder: Builder, name: &str) -> std::result::Result<ParsedConversation, Skipped> {
    let session = builder
        .session_id()
        .map(str::to_owned)
        .or_else(|| id_from_name(name))
        .unwrap_or_else(|| stable_id(&["copilot-transcript", builder.first_event_id()]));
    let source_id = format!("{TRANSCRIPT_ID_PREFIX}{session}");
    let built = builder.build();
    if built.messages.is_empty() {
        return Err(Skipped {
            item: ItemRef {
                index: None,
                id: Some(source_id),
                title: built.title,
            },
            reason: "the event log holds no message (a session that was opened and left), so \
                     there is nothing to import"
                .to_owned(),
        });
    }
    let title = built.title.clone().unwrap_or_else(|| {
        let from_user = derive_title(
            built
                .messages
                .iter()
                .filter(|m| !m.hidden)
                .map(|m| (&m.role, m.content.as_str())),
        );
        let has_user_text = built
            .messages
            .iter()
            .any(|m| m.role == Role::User && !m.hidden && !m.content.trim().is_empty());
        if has_user_text {
            return from_user;
        }
        // An agent or sub-agent run without a user turn: its first answer.
        derive_title(
            built
                .messages
                .iter()
                .filter(|m| m.role == Role::Assistant)
                .map(|m| (&Role::User, m.content.as_str())),
        )
    });
    let mut extra: Map<String, Value> = built.extra;
    extra.insert("format".to_owned(), Value::from("copilot.transcript"));
    Ok(ParsedConversation {
        source: Source::Copilot,
        source_id,
        title,
        created_at: built.created_at,
        updated_at: built.updated_at,
        active_leaf: built.messages.last().map(|m| m.source_id.clone()),
        messages: built.messages,
        attachments: built.attachments,
        archived: false,
        model: built.model,
        summary: built.summary,
        extra: Value::Object(extra),
        subfolder: built.workspace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_logs_are_recognised_by_their_first_line() {
        assert!(looks_like(
            br#"{"type":"session.start","data":{"sessionId":"s"},"id":"e1","timestamp":"t","parentId":null}
{"type":"user.message"#
        ));
        assert!(looks_like(
            br#"{ "type" : "user.message", "data": {"content": "x""#
        ));
        assert!(!looks_like(br#"{"type":"message","data":{}}"#));
        assert!(!looks_like(br#"{"kind":0,"v":{"requests":[]}}"#));
        assert!(!looks_like(br#"{"type":"session.start","data":"x"}"#));
        assert!(!looks_like(b"{\"requests\": []}\n"));
    }

    #[test]
    fn session_ids_fall_back_to_the_file_name() {
        assert_eq!(
            id_from_name("ws/h/GitHub.copilot-chat/transcripts/6f1c.jsonl").as_deref(),
            Some("6f1c")
        );
        assert_eq!(
            id_from_name("a.zip!session-state/abc/events.jsonl").as_deref(),
            Some("abc")
        );
    }
}
