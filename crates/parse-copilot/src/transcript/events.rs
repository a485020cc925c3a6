//! What each event of a Copilot event log becomes.
//!
//! | event | becomes |
//! |---|---|
//! | `session.start`, `session.resume` | the session id, start time, model and working folder; the rest in `extra` |
//! | `session.title_changed` | the title |
//! | `user.message` | a user message (`content`, else `transformedContent`); hidden when `source` says the system, a sub-agent or autopilot wrote it; `attachments` become parts |
//! | `assistant.message` | an assistant message (chunks with the same `messageId` are joined); `reasoningText` a reasoning part, `toolRequests` tool-call parts; hidden when it has no text (only tool requests) or belongs to a sub-agent |
//! | `assistant.reasoning` | a reasoning part of the next answer |
//! | `tool.execution_start` / `_complete` | one hidden tool message: the call (name, arguments) and its result text, error, images |
//! | `session.binary_asset` | the bytes of the image or file attachment with that `assetId` |
//! | `session.compaction_complete` | a hidden system message holding the summary |
//! | `session.shutdown` | `extra.shutdown` |
//! | anything else (`assistant.turn_*`, `assistant.usage`, `subagent.*`, future types) | a `copilot.<type>` raw part on the message before it (in `extra.events` before the first message) |
//!
//! `encryptedContent` and `reasoningOpaque` are opaque to anyone but the model provider and
//! are not kept.

use std::collections::{HashMap, HashSet};

use chat_model::{Attachment, ParsedMessage, Part, Role, Timestamp};
use chat_parse::{has_text, stable_id, take_str, time};
use serde_json::{Map, Value};

use super::folder::{last_segment, Paths};
use super::parts::{attachment, join_assets, push_paragraph, tool_output, Asset};

/// Fields of `assistant.message` that are opaque blobs, not kept.
const OPAQUE: &[&str] = &["encryptedContent", "reasoningOpaque"];

/// The conversation assembled from a log.
#[derive(Debug, Default)]
pub(crate) struct Built {
    pub messages: Vec<ParsedMessage>,
    pub attachments: Vec<Attachment>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub model: Option<String>,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub workspace: Option<String>,
    pub extra: Map<String, Value>,
}

/// Reads events one by one (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Builder {
    out: Built,
    session_id: Option<String>,
    first_event_id: String,
    used: HashSet<String>,
    /// Assistant messages by `messageId`, for chunks.
    answers: HashMap<String, usize>,
    /// Tool messages by `toolCallId`.
    tools: HashMap<String, usize>,
    /// Tool requests by `toolCallId`: name and arguments, for an execution logged without a
    /// start.
    requests: HashMap<String, (String, Value)>,
    /// Reasoning waiting for the answer it leads to.
    reasoning: Vec<String>,
    assets: HashMap<String, Asset>,
    /// The folder the session worked in (`context.cwd`).
    cwd: Option<String>,
    /// Absolute paths found in tool arguments, for the working folder when there is no cwd.
    paths: Paths,
}

impl Builder {
    /// The session id read so far.
    pub(crate) fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The id of the first event (for an id when nothing else names the session).
    pub(crate) fn first_event_id(&self) -> &str {
        &self.first_event_id
    }

    /// Reads one event.
    pub(crate) fn event(&mut self, mut event: Map<String, Value>) {
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        let id = take_str(&mut event, "id");
        if self.first_event_id.is_empty() {
            self.first_event_id = id.clone().unwrap_or_default();
        }
        let when = event.get("timestamp").and_then(time::from_value);
        if let Some(t) = when {
            self.out.created_at = Some(self.out.created_at.map_or(t, |c| c.min(t)));
            self.out.updated_at = Some(self.out.updated_at.map_or(t, |u| u.max(t)));
        }
        let sub_agent = event.get("agentId").is_some_and(has_text);
        let data = match event.remove("data") {
            Some(Value::Object(data)) => data,
            Some(other) => {
                let mut m = Map::new();
                m.insert("data".to_owned(), other);
                m
            }
            None => Map::new(),
        };
        let context = Context {
            id,
            when,
            sub_agent,
        };
        match kind.as_str() {
            "session.start" | "session.resume" => self.session(&kind, data),
            "session.title_changed" => match data.get("title").and_then(Value::as_str) {
                Some(title) if !title.trim().is_empty() => self.out.title = Some(title.to_owned()),
                _ => self.keep(&kind, data),
            },
            "session.model_change" => {
                if let Some(model) = data.get("newModel").and_then(Value::as_str) {
                    self.out.model = Some(model.to_owned());
                }
                self.keep(&kind, data);
            }
            "assistant.turn_start" | "assistant.turn_end" => {
                if let Some(model) = data.get("model").and_then(Value::as_str) {
                    self.out.model = Some(model.to_owned());
                }
            }
            "user.message" => self.user(data, &context),
            "assistant.message" => self.assistant(data, &context),
            "assistant.reasoning" => match data.get("content").and_then(Value::as_str) {
                Some(text) if !text.trim().is_empty() => self.reasoning.push(text.to_owned()),
                _ => self.keep(&kind, data),
            },
            "tool.execution_start" => self.tool_start(data, &context),
            "tool.execution_complete" => self.tool_complete(data, &context),
            "session.binary_asset" => self.asset(data),
            "session.compaction_complete" => self.compaction(data, &context),
            "session.shutdown" => {
                self.out
                    .extra
                    .insert("shutdown".to_owned(), Value::Object(data));
            }
            _ => self.keep(&kind, data),
        }
    }

    fn session(&mut self, kind: &str, mut data: Map<String, Value>) {
        if let Some(id) = data.get("sessionId").and_then(Value::as_str) {
            if !id.trim().is_empty() {
                self.session_id = Some(id.to_owned());
            }
        }
        if let Some(start) = data.get("startTime").and_then(time::from_value) {
            self.out.created_at = Some(self.out.created_at.map_or(start, |c| c.min(start)));
        }
        if let Some(model) = data.get("selectedModel").and_then(Value::as_str) {
            self.out.model = Some(model.to_owned());
        }
        let cwd = data
            .get("context")
            .and_then(|c| c.get("cwd").or_else(|| c.get("gitRoot")))
            .and_then(Value::as_str)
            .filter(|c| !c.trim().is_empty());
        if let Some(cwd) = cwd {
            self.cwd = Some(cwd.to_owned());
        }
        data.remove("sessionId");
        let key = if kind == "session.start" {
            "session"
        } else {
            "resumes"
        };
        match self.out.extra.get_mut(key) {
            Some(Value::Array(list)) => list.push(Value::Object(data)),
            _ if key == "resumes" => {
                self.out
                    .extra
                    .insert(key.to_owned(), Value::Array(vec![Value::Object(data)]));
            }
            _ => {
                self.out.extra.insert(key.to_owned(), Value::Object(data));
            }
        }
    }

    /// Keeps an event this parser does not model on the last message (or in `extra.events`).
    fn keep(&mut self, kind: &str, data: Map<String, Value>) {
        let value = Value::Object(data);
        match self.out.messages.last_mut() {
            Some(m) => m.parts.push(Part::Raw {
                kind: format!("copilot.{kind}"),
                value,
            }),
            None => {
                let mut event = Map::new();
                event.insert("type".to_owned(), Value::from(kind));
                event.insert("data".to_owned(), value);
                match self.out.extra.get_mut("events") {
                    Some(Value::Array(list)) => list.push(Value::Object(event)),
                    _ => {
                        self.out.extra.insert(
                            "events".to_owned(),
                            Value::Array(vec![Value::Object(event)]),
                        );
                    }
                }
            }
        }
    }

    /// Appends a message after the last one; returns its index.
    fn push(&mut self, preferred: Option<String>, mut message: ParsedMessage) -> usize {
        let base = preferred.filter(|p| !p.is_empty()).unwrap_or_else(|| {
            stable_id(&[
                "copilot-transcript",
                &self.out.messages.len().to_string(),
                &message.content,
            ])
        });
        let mut id = base.clone();
        let mut n = 2u32;
        while !self.used.insert(id.clone()) {
            id = format!("{base}#{n}");
            n += 1;
        }
        message.source_id = id;
        message.parent = self.out.messages.last().map(|m| m.source_id.clone());
        self.out.messages.push(message);
        self.out.messages.len() - 1
    }

    fn user(&mut self, mut data: Map<String, Value>, cx: &Context) {
        let mut content = take_str(&mut data, "content").unwrap_or_default();
        if let Some(transformed) = take_str(&mut data, "transformedContent") {
            if content.trim().is_empty() {
                content = transformed;
            } else if transformed != content {
                // The prompt as sent to the model (instructions, file contents added).
                data.insert("transformedContent".to_owned(), Value::from(transformed));
            }
        }
        let mut parts = Vec::new();
        let mut attachments = Vec::new();
        if let Some(Value::Array(list)) = data.remove("attachments") {
            for a in list {
                if let Some(path) = attachment(a, &mut parts, &mut attachments) {
                    self.paths.note(&path);
                }
            }
        }
        let hidden = data.get("source").is_some_and(has_text) || cx.sub_agent;
        if data.values().any(has_text) {
            parts.push(Part::Raw {
                kind: "copilot.user.message".to_owned(),
                value: Value::Object(data),
            });
        }
        let index = self.push(
            cx.id.clone(),
            message(Role::User, content, parts, cx.when, hidden),
        );
        let id = self.out.messages[index].source_id.clone();
        for mut a in attachments {
            a.message_source_id = Some(id.clone());
            self.out.attachments.push(a);
        }
    }

    fn assistant(&mut self, mut data: Map<String, Value>, cx: &Context) {
        for key in OPAQUE {
            data.remove(*key);
        }
        let content = take_str(&mut data, "content").unwrap_or_default();
        let message_id = take_str(&mut data, "messageId");
        let mut parts: Vec<Part> = self
            .reasoning
            .drain(..)
            .map(|text| Part::Reasoning { text })
            .collect();
        if let Some(text) = take_str(&mut data, "reasoningText").filter(|t| !t.trim().is_empty()) {
            parts.push(Part::Reasoning { text });
        }
        if let Some(Value::Array(requests)) = data.remove("toolRequests") {
            for request in requests {
                self.tool_request(request, &mut parts);
            }
        }
        let model = take_str(&mut data, "model").or_else(|| self.out.model.clone());
        let hidden_by_agent = data.get("parentToolCallId").is_some_and(has_text) || cx.sub_agent;
        data.remove("chunkIndex");
        data.remove("chunkCount");
        if data.values().any(has_text) {
            parts.push(Part::Raw {
                kind: "copilot.assistant.message".to_owned(),
                value: Value::Object(data),
            });
        }
        // A later chunk of a message already read: joined to it.
        if let Some(&index) = message_id.as_ref().and_then(|id| self.answers.get(id)) {
            let m = &mut self.out.messages[index];
            m.content.push_str(&content);
            m.parts.extend(parts);
            m.hidden = hidden_by_agent || (m.content.trim().is_empty() && !has_reasoning(&m.parts));
            return;
        }
        let hidden = hidden_by_agent || (content.trim().is_empty() && !has_reasoning(&parts));
        let mut m = message(Role::Assistant, content, parts, cx.when, hidden);
        m.model = model;
        let index = self.push(message_id.clone().or_else(|| cx.id.clone()), m);
        if let Some(id) = message_id {
            self.answers.insert(id, index);
        }
    }

    /// A `toolRequests[]` entry as a tool-call part (arguments parsed when they are a JSON
    /// string, as VS Code writes them; the CLI writes an object), and what else it says (a
    /// title, an intention summary, the MCP server) raw.
    fn tool_request(&mut self, request: Value, parts: &mut Vec<Part>) {
        let Value::Object(mut r) = request else {
            parts.push(Part::Raw {
                kind: "copilot.toolRequest".to_owned(),
                value: request,
            });
            return;
        };
        let name = take_str(&mut r, "name").unwrap_or_else(|| "unknown tool".to_owned());
        let id = take_str(&mut r, "toolCallId");
        let input = arguments(r.remove("arguments"));
        self.paths.note_in(&input);
        if let Some(id) = &id {
            self.requests
                .insert(id.clone(), (name.clone(), input.clone()));
        }
        parts.push(Part::ToolCall { name, id, input });
        if r.iter().any(|(k, v)| k != "type" && has_text(v)) {
            parts.push(Part::Raw {
                kind: "copilot.toolRequest".to_owned(),
                value: Value::Object(r),
            });
        }
    }

    fn tool_start(&mut self, mut data: Map<String, Value>, cx: &Context) {
        let call_id = take_str(&mut data, "toolCallId");
        let name = take_str(&mut data, "toolName")
            .or_else(|| take_str(&mut data, "name"))
            .unwrap_or_else(|| "unknown tool".to_owned());
        let input = arguments(data.remove("arguments"));
        self.paths.note_in(&input);
        let mut parts = vec![Part::ToolCall {
            name,
            id: call_id.clone(),
            input,
        }];
        if data.values().any(has_text) {
            parts.push(Part::Raw {
                kind: "copilot.tool.execution_start".to_owned(),
                value: Value::Object(data),
            });
        }
        let preferred = call_id
            .as_ref()
            .map(|c| format!("tool:{c}"))
            .or_else(|| cx.id.clone());
        let index = self.push(
            preferred,
            message(Role::Tool, String::new(), parts, cx.when, true),
        );
        if let Some(call_id) = call_id {
            self.tools.insert(call_id, index);
        }
    }

    fn tool_complete(&mut self, mut data: Map<String, Value>, cx: &Context) {
        let call_id = take_str(&mut data, "toolCallId");
        let index = match call_id.as_ref().and_then(|c| self.tools.get(c)).copied() {
            Some(index) => index,
            None => {
                // Logged without a start: the call comes from the assistant's request.
                let (name, input) = call_id
                    .as_ref()
                    .and_then(|c| self.requests.get(c).cloned())
                    .unwrap_or_else(|| ("unknown tool".to_owned(), Value::Null));
                let part = Part::ToolCall {
                    name,
                    id: call_id.clone(),
                    input,
                };
                let preferred = call_id
                    .as_ref()
                    .map(|c| format!("tool:{c}"))
                    .or_else(|| cx.id.clone());
                self.push(
                    preferred,
                    message(Role::Tool, String::new(), vec![part], cx.when, true),
                )
            }
        };
        let name = self.out.messages[index].parts.iter().find_map(|p| match p {
            Part::ToolCall { name, .. } => Some(name.clone()),
            _ => None,
        });
        let failed = data.get("success").and_then(Value::as_bool) == Some(false);
        let mut parts = Vec::new();
        let mut text = String::new();
        if let Some(Value::Object(mut result)) = data.remove("result") {
            tool_output(&mut result, &mut text, &mut parts);
            if result.values().any(has_text) {
                parts.push(Part::Raw {
                    kind: "copilot.tool.result".to_owned(),
                    value: Value::Object(result),
                });
            }
        }
        let error = data.remove("error");
        if let Some(message) = error
            .as_ref()
            .and_then(|e| e.get("message").or(Some(e)))
            .and_then(Value::as_str)
        {
            push_paragraph(&mut text, message);
        }
        let is_error = failed || error.is_some();
        parts.insert(
            0,
            Part::ToolResult {
                name,
                call_id,
                text,
                is_error,
            },
        );
        if let Some(error) = error.filter(|e| e.is_object()) {
            parts.push(Part::Raw {
                kind: "copilot.tool.error".to_owned(),
                value: error,
            });
        }
        data.remove("success");
        if data.values().any(has_text) {
            parts.push(Part::Raw {
                kind: "copilot.tool.execution_complete".to_owned(),
                value: Value::Object(data),
            });
        }
        self.out.messages[index].parts.extend(parts);
    }

    fn asset(&mut self, mut data: Map<String, Value>) {
        let (Some(id), Some(bytes)) = (take_str(&mut data, "assetId"), take_str(&mut data, "data"))
        else {
            self.keep("session.binary_asset", data);
            return;
        };
        let mime = take_str(&mut data, "mimeType");
        self.assets.insert(id, Asset { mime, data: bytes });
    }

    fn compaction(&mut self, mut data: Map<String, Value>, cx: &Context) {
        match take_str(&mut data, "summaryContent").filter(|s| !s.trim().is_empty()) {
            Some(summary) => {
                let mut parts = Vec::new();
                if data.values().any(has_text) {
                    parts.push(Part::Raw {
                        kind: "copilot.session.compaction_complete".to_owned(),
                        value: Value::Object(data),
                    });
                }
                self.out.summary = Some(summary.clone());
                self.push(
                    cx.id.clone(),
                    message(Role::System, summary, parts, cx.when, true),
                );
            }
            None => self.keep("session.compaction_complete", data),
        }
    }

    /// Everything read, assembled: pending reasoning kept, asset bytes joined to the parts
    /// that name them, the working folder chosen.
    pub(crate) fn build(mut self) -> Built {
        if !self.reasoning.is_empty() {
            let parts = self
                .reasoning
                .drain(..)
                .map(|text| Part::Reasoning { text })
                .collect();
            self.push(
                None,
                message(Role::Assistant, String::new(), parts, None, true),
            );
        }
        join_assets(&mut self.out, &self.assets);
        self.out.workspace = self
            .cwd
            .as_deref()
            .and_then(last_segment)
            .or_else(|| self.paths.folder());
        if let Some(cwd) = self.cwd {
            self.out.extra.insert("cwd".to_owned(), Value::from(cwd));
        }
        self.out
    }
}

/// The event's id, time and whether a sub-agent wrote it.
#[derive(Debug)]
struct Context {
    id: Option<String>,
    when: Option<Timestamp>,
    sub_agent: bool,
}

fn message(
    role: Role,
    content: String,
    parts: Vec<Part>,
    created_at: Option<Timestamp>,
    hidden: bool,
) -> ParsedMessage {
    ParsedMessage {
        source_id: String::new(),
        parent: None,
        role,
        content,
        parts,
        model: None,
        created_at,
        hidden,
        interrupted: false,
    }
}

fn has_reasoning(parts: &[Part]) -> bool {
    parts.iter().any(|p| matches!(p, Part::Reasoning { .. }))
}

/// Tool arguments: a JSON string parsed when it holds an object or array, else as given.
fn arguments(value: Option<Value>) -> Value {
    match value {
        Some(Value::String(s)) => serde_json::from_str::<Value>(&s)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
            .unwrap_or(Value::String(s)),
        Some(other) => other,
        None => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_given_as_a_json_string_are_parsed() {
        assert_eq!(
            arguments(Some(Value::from("{\"filePath\":\"/w/t.py\"}"))),
            serde_json::json!({"filePath": "/w/t.py"})
        );
        assert_eq!(
            arguments(Some(Value::from("ls -la"))),
            Value::from("ls -la")
        );
        assert_eq!(arguments(None), Value::Null);
    }
}
