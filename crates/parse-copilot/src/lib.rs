//! Parser for VS Code GitHub Copilot Chat sessions, behind the `chat-parse` [`Parser`] trait.
//!
//! VS Code keeps a chat in four shapes, each one conversation per file, all read by
//! [`CopilotParser`] and told apart by structure, never by file name:
//!
//! 1. **"Chat: Export Chat..." files**: an object with a `requests` array and a
//!    `responderUsername` string (VS Code's own `isExportableSessionData` test). They carry no
//!    session id, so the conversation id is [`stable_id`] over the first request's id, text and
//!    timestamp: re-exporting the same chat (even after it grew) gives the same id, and an
//!    export of a chat still in progress dedupes with its later, complete export.
//! 2. **Persisted sessions** `chatSessions/<sessionId>.json`, versions 1 to 3 (VS Code up to
//!    1.108): the export fields plus `sessionId`, `creationDate` (ms), `version`, and the title
//!    in `customTitle` (v3) or `computedTitle` (v2). Version 1 may store `message` as a bare
//!    string. The conversation id is `sessionId`.
//! 3. **Mutation logs** `chatSessions/<sessionId>.jsonl` (VS Code 1.109 and later): one JSON
//!    entry per line, replayed in order into the session state (kind 0 initial state, which
//!    resets the state when it reappears after compaction; 1 set; 2 push with optional
//!    truncate; 3 delete; see the private `log` module), after which the state is read like
//!    shape 2. A log is recognised by its first line, an object `{"kind":0,"v":...}`. A line
//!    that cannot be read or applied becomes an [`ItemError`] naming the line number and byte
//!    offset, and replay goes on with the next line; a partial last line (a log cut off while
//!    VS Code was appending) is reported the same way after every complete line was replayed.
//!    An empty log is [`ParseError::Empty`]; a log without a readable initial entry is an error
//!    for the whole input.
//! 4. **Event logs** `GitHub.copilot-chat/transcripts/<sessionId>.jsonl` (Copilot Chat 0.42 and
//!    later; the default storage of agent sessions from 0.51) and the Copilot CLI's
//!    `session-state/<id>/events.jsonl`: one `{type, data, id, timestamp, parentId}` event per
//!    line. A log is recognised by its first line (a dotted `type` and a `data` object); see
//!    the private `transcript` module for what each event becomes. Tool executions are hidden
//!    tool messages with their arguments and results; the conversation id is
//!    `transcript:<sessionId>` ([`TRANSCRIPT_ID_PREFIX`]), so it never merges with a
//!    `chatSessions` file of the same session.
//!
//! When one session exists both as `.json` and `.jsonl` (VS Code migrates lazily and leaves the
//! old file), **the `.jsonl` wins**: it is the newer state. Which files to read is the import
//! pipeline's decision, across files; it groups them with [`session_id_from_name`]. Both files
//! give the same [`ParsedConversation::source_id`] (the `sessionId`), so importing both, in
//! either order, still ends in one conversation.
//!
//! ## Mapping
//!
//! Each request is a user message (`message.text`, or the bare string) whose parts are its
//! `variableData.variables` as [`Part::Attachment`]s (files and images also become conversation
//! [`Attachment`]s). When it has a response (or failed with `result.errorDetails`), an
//! assistant message follows, child of the user message, whose content is the concatenation of
//! the un-kinded markdown fragments and `markdownContent` parts; a new paragraph starts where
//! text resumes after a tool call or reasoning, so runs do not glue together. `thinking`
//! becomes [`Part::Reasoning`]; `toolInvocationSerialized` a [`Part::ToolCall`] plus a
//! [`Part::ToolResult`] when `resultDetails` was recorded; a `prepareToolInvocation` becomes a
//! ToolCall only when no serialized invocation of that tool follows (else it would count the
//! call twice); `inlineReference`, `codeCitation`, `contentReferences` and `codeCitations`
//! become [`Part::Citation`]s (an inline reference also appears in the text as `` `name` ``, as
//! in VS Code's rendering); every other kind (`textEditGroup`, `codeblockUri`, `progressTask`,
//! unknown future kinds) is kept as [`Part::Raw`] with kind `copilot.<kind>`. The request's
//! fields that are not modelled (`result`, `agent`, `vote`, `followups`, `variableData`, ...)
//! are kept as one `copilot.request` raw part, the session's top-level fields in
//! [`ParsedConversation::extra`]: nothing the file holds is lost.
//!
//! Requests form a chain: each user message's parent is the previous request's last message,
//! and the active leaf is the last message. A request without a response (still in progress,
//! or cancelled before any answer) keeps its user message only. An answer is `interrupted`
//! when `isCanceled` is set, `modelState.value` is anything but complete (VS Code persists
//! pending and needs-input as cancelled; 2 is cancelled, 3 failed), `result.errorDetails` is
//! present (also kept as a `copilot.errorDetails` raw part), or, without a model state, the
//! request has no `result` yet (it was still streaming). Requests flagged `isHidden` (old) or
//! `shouldBeRemovedOnSend` (undone, without a partial undo stop) are `hidden`.
//!
//! Ids: message ids are `requestId` / `responseId`; where missing, [`stable_id`] over the
//! parent id, the text and the timestamp (never a position). Model: `modelId`, else the model
//! named in `result.details` (`"Gemini 2.5 Pro • 1x"`), else the agent id. Times: `timestamp`
//! (ms) for the user message; for the answer `modelState.completedAt`, else the timestamp plus
//! `result.timings.totalElapsed`. Title: `customTitle`, else `computedTitle`, else
//! [`derive_title`](chat_model::derive_title) from the first user message.
//!
//! A chat with zero requests (VS Code writes one as soon as the panel opens) has nothing to
//! import: it is reported through [`Sink::skipped`] with the reason, not as a conversation.
//!
//! ## Robustness
//!
//! A session is one conversation, so the whole input is read into memory (bounded by the
//! largest conversation, as for every parser). Single-object files are cut out and parsed with
//! [`chat_parse::json::ArrayStream`] and [`Element::parse`](chat_parse::json::Element::parse):
//! a byte-order mark is skipped, lone UTF-16 surrogate escapes become U+FFFD, a truncated file
//! is [`ParseError::Truncated`] with the byte offset, and invalid UTF-8 or nesting beyond
//! serde_json's limit is an [`ItemError`] (the file's bytes kept for a retry). Log lines go
//! through the same helpers one by one. The conversion walks values iteratively over known
//! shapes only, and replay limits path length, so no input can panic or overflow the stack.
//!
//! [`stable_id`]: chat_parse::stable_id
//! [`ParsedConversation::source_id`]: chat_model::ParsedConversation::source_id
//! [`ParsedConversation::extra`]: chat_model::ParsedConversation::extra
//! [`Part::Attachment`]: chat_model::Part::Attachment
//! [`Part::Reasoning`]: chat_model::Part::Reasoning
//! [`Part::ToolCall`]: chat_model::Part::ToolCall
//! [`Part::ToolResult`]: chat_model::Part::ToolResult
//! [`Part::Citation`]: chat_model::Part::Citation
//! [`Part::Raw`]: chat_model::Part::Raw
//! [`Attachment`]: chat_model::Attachment

mod convert;
mod log;
mod response;
mod transcript;

pub use transcript::TRANSCRIPT_ID_PREFIX;

use chat_model::Source;
use chat_parse::json::ArrayStream;
use chat_parse::{Confidence, Input, ItemError, ParseError, Parser, Probe, Result, Sink, Skipped};
use serde_json::Value;

use convert::Outcome;

/// The VS Code Copilot Chat parser: export files, persisted `chatSessions/*.json` and
/// `chatSessions/*.jsonl` mutation logs. See the crate documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct CopilotParser;

const NAME: &str = "VS Code Copilot Chat";

impl Parser for CopilotParser {
    fn source(&self) -> Source {
        Source::Copilot
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn detect(&self, probe: &Probe<'_>) -> Confidence {
        let head = probe.trimmed();
        if head.first() != Some(&b'{') {
            return Confidence::NONE;
        }
        if starts_like_log(head) || transcript::looks_like(head) {
            return Confidence::HIGH;
        }
        let requests = probe.has_key("requests");
        let session_key = ["sessionId", "creationDate", "customTitle", "computedTitle"]
            .iter()
            .any(|k| probe.has_key(k));
        if requests && (probe.has_key("responderUsername") || session_key) {
            Confidence::HIGH
        } else if requests && (probe.has_key("requestId") || probe.has_key("initialLocation")) {
            Confidence::MEDIUM
        } else if probe.has_key("responderUsername") && probe.has_key("requesterUsername") {
            // A big first request can push `requests` out of the probe; the usernames lead.
            Confidence::MEDIUM
        } else {
            Confidence::NONE
        }
    }

    fn parse(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<()> {
        let mut bytes = Vec::new();
        if let Some(size) = input.size {
            bytes.reserve(usize::try_from(size.min(1 << 26)).unwrap_or(0));
        }
        if let Err(source) = input.reader.read_to_end(&mut bytes) {
            return Err(ParseError::Io {
                input: input.name.to_owned(),
                offset: bytes.len() as u64,
                source,
            });
        }
        sink.progress(bytes.len() as u64);
        let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let body = &bytes[bom..];
        let Some(start) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
            return Err(ParseError::Empty {
                input: input.name.to_owned(),
            });
        };
        if body.get(start) != Some(&b'{') {
            return Err(not_chat(
                input.name,
                "the file does not hold a JSON object (a chat session is one object)",
            ));
        }
        if starts_like_log(&body[start..]) || first_line_is_initial(body) {
            parse_log(body, bom as u64, input.name, sink)
        } else if transcript::looks_like(&body[start..]) {
            transcript::parse(body, bom as u64, input.name, sink)
        } else {
            parse_document(&bytes, input.name, sink)
        }
    }
}

/// The session id a persisted chat file is named after: `<dir>/chatSessions/<id>.json` or
/// `.jsonl` (also `emptyWindowChatSessions/`), or any `<id>.json` / `<id>.jsonl` whose stem is
/// a UUID (sessions copied out of VS Code's storage). `None` for other names, e.g. an export
/// saved as `chat.json`.
///
/// The rule it serves: when one session id names both a `.json` and a `.jsonl` file, the
/// import pipeline reads only the `.jsonl` (the log VS Code 1.109+ writes; the `.json` is the
/// stale copy left from before the migration). Both parse to the same
/// [`ParsedConversation::source_id`] (the `sessionId`), so even importing both dedupes.
///
/// [`ParsedConversation::source_id`]: chat_model::ParsedConversation::source_id
pub fn session_id_from_name(name: &str) -> Option<&str> {
    let mut segments = name.rsplit(['/', '\\', '!']);
    let file = segments.next()?;
    let parent = segments.next().unwrap_or("");
    let stem = file
        .strip_suffix(".jsonl")
        .or_else(|| file.strip_suffix(".json"))?;
    if stem.is_empty() {
        return None;
    }
    let in_session_dir = matches!(parent, "chatSessions" | "emptyWindowChatSessions");
    (in_session_dir || looks_like_uuid(stem)).then_some(stem)
}

fn looks_like_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Whether bytes start like a mutation log entry `{"kind":0,"v":` (VS Code writes that key
/// order). Works on a probe's head, whatever the length of the first line.
fn starts_like_log(bytes: &[u8]) -> bool {
    fn eat<'a>(s: &'a [u8], token: &[u8]) -> Option<&'a [u8]> {
        let start = s.iter().position(|b| !b.is_ascii_whitespace())?;
        s[start..].strip_prefix(token)
    }
    (|| {
        let s = eat(bytes, b"{")?;
        let s = eat(s, b"\"kind\"")?;
        let s = eat(s, b":")?;
        let s = eat(s, b"0")?;
        let s = eat(s, b",")?;
        let s = eat(s, b"\"v\"")?;
        eat(s, b":")
    })()
    .is_some()
}

/// Fallback for other key orders: the first line is a complete object with `kind` 0 and `v`.
fn first_line_is_initial(body: &[u8]) -> bool {
    let end = memchr::memchr(b'\n', body).unwrap_or(body.len());
    let line = &body[..end];
    if memchr::memmem::find(line, b"\"kind\"").is_none() {
        return false;
    }
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(map)) => {
            map.get("kind").and_then(Value::as_u64) == Some(0) && map.contains_key("v")
        }
        _ => false,
    }
}

fn not_chat(input: &str, reason: &str) -> ParseError {
    ParseError::NotThisFormat {
        input: input.to_owned(),
        expected: NAME,
        reason: reason.to_owned(),
    }
}

/// Shapes 1 and 2: one JSON object.
fn parse_document(bytes: &[u8], name: &str, sink: &mut dyn Sink) -> Result<()> {
    let mut stream = ArrayStream::new(bytes, name);
    let element = match stream.next_element()? {
        Some(element) => element,
        None => {
            return Err(ParseError::Empty {
                input: name.to_owned(),
            })
        }
    };
    let value = match element.parse::<Value>() {
        Ok(value) => value,
        Err(error) => {
            sink.item_error(error);
            return Ok(());
        }
    };
    match value {
        Value::Object(root) if convert::is_chat_data(&root) => {
            emit(root, Vec::new(), sink);
            Ok(())
        }
        _ => Err(not_chat(name, "the object has no `requests` array")),
    }
}

/// Shape 3: a mutation log.
fn parse_log(body: &[u8], base: u64, name: &str, sink: &mut dyn Sink) -> Result<()> {
    let replayed = log::replay(body, base, name)?;
    match replayed.state {
        Some(Value::Object(root)) if convert::is_chat_data(&root) => {
            let mut errors = replayed.errors;
            if let Some(id) = root.get("sessionId").and_then(Value::as_str) {
                for error in errors.iter_mut().filter(|e| e.item.id.is_none()) {
                    error.item.id = Some(id.to_owned());
                }
            }
            emit(root, errors, sink);
            Ok(())
        }
        _ => {
            for error in replayed.errors {
                if sink.item_error(error) == chat_parse::Flow::Stop {
                    return Ok(());
                }
            }
            Err(not_chat(
                name,
                "the replayed log is not a chat session (no `requests` array)",
            ))
        }
    }
}

/// Converts a session and pushes its item errors, then the conversation or the skip note.
fn emit(root: serde_json::Map<String, Value>, mut errors: Vec<ItemError>, sink: &mut dyn Sink) {
    let outcome = convert::convert(root, &mut errors);
    for error in errors {
        if sink.item_error(error) == chat_parse::Flow::Stop {
            return;
        }
    }
    match outcome {
        Outcome::Conversation(conversation) => {
            sink.conversation(*conversation);
        }
        Outcome::Empty { item, reason } => {
            sink.skipped(Skipped { item, reason });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_come_from_session_file_names() {
        assert_eq!(
            session_id_from_name("ws/abc/chatSessions/1234.jsonl"),
            Some("1234")
        );
        assert_eq!(
            session_id_from_name("a.zip!globalStorage/emptyWindowChatSessions/x.json"),
            Some("x")
        );
        assert_eq!(
            session_id_from_name("Downloads/0f8fad5b-d9cb-469f-a165-70867728950e.json"),
            Some("0f8fad5b-d9cb-469f-a165-70867728950e")
        );
        assert_eq!(session_id_from_name("Downloads/chat.json"), None);
        assert_eq!(session_id_from_name("chatSessions/x.txt"), None);
        assert_eq!(session_id_from_name("chatSessions/.json"), None);
    }

    #[test]
    fn log_heads_are_recognised_by_structure() {
        assert!(starts_like_log(b"{\"kind\":0,\"v\":{\"requests\""));
        assert!(starts_like_log(b" { \"kind\" : 0 , \"v\" : "));
        assert!(!starts_like_log(b"{\"kind\":1,\"v\":{}}"));
        assert!(!starts_like_log(b"{\n  \"requesterUsername\": \"x\""));
        assert!(first_line_is_initial(b"{\"v\":{},\"kind\":0}\n"));
        assert!(!first_line_is_initial(b"{\n\"kind\": 0}"));
    }
}
