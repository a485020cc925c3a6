//! One mapping node's message to a [`ParsedMessage`]: role, visible text, parts, hidden flag.

use chat_model::{Attachment, ParsedMessage, Part, Role};
use chat_parse::has_text;
use serde_json::{Map, Value};

use crate::cite;
use crate::raw::{Message, Metadata};

/// Content types that are never part of the visible transcript.
const HIDDEN_CONTENT: &[&str] = &[
    "user_editable_context",
    "model_editable_context",
    "thoughts",
    "reasoning_recap",
    "tether_browsing_display",
    "tether_quote",
    "sonic_webpage",
    "execution_output",
    "system_error",
];

/// A message and the attachments it names.
#[derive(Debug)]
pub(crate) struct Converted {
    pub message: ParsedMessage,
    pub attachments: Vec<Attachment>,
}

fn role_of(role: Option<&str>) -> Role {
    match role {
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("system") => Role::System,
        // "tool", legacy "function", and anything unknown: tool-side traffic.
        _ => Role::Tool,
    }
}

fn str_field<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v str> {
    obj.get(key).and_then(Value::as_str)
}

fn take_string(obj: &mut Map<String, Value>, key: &str) -> Option<String> {
    match obj.remove(key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn push_text(out: &mut String, s: &str) {
    if s.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(s);
}

/// Converts the message of node `key` whose parent is `parent`.
pub(crate) fn message(key: &str, parent: Option<String>, msg: Message) -> Converted {
    let author = msg.author.0.unwrap_or_default();
    let role_name = author.role.0;
    let role = role_of(role_name.as_deref());
    let author_name = author.name.0;
    let meta: Metadata = msg.metadata.0.unwrap_or_default();
    let recipient = msg.recipient.0;
    let tool_call = role == Role::Assistant && recipient.as_deref().is_some_and(|r| r != "all");

    let mut obj = content_object(msg.content);
    let content_type = match obj.get("content_type") {
        Some(Value::String(s)) => s.clone(),
        _ if obj.contains_key("parts") => "text".to_owned(),
        _ => String::new(),
    };
    let mut body = Body {
        tool_call,
        author_name,
        ..Body::default()
    };
    body.read(&content_type, &mut obj);
    // What a known content type carries beyond what was read from it, when it holds text
    // (`parts` beside `text`, a quote's `domain`, fields a newer export adds).
    obj.remove("content_type");
    if obj.values().any(has_text) {
        body.parts.push(Part::Raw {
            kind: format!("chatgpt.{content_type}"),
            value: Value::Object(obj),
        });
    }
    let Body {
        mut content,
        mut parts,
        ..
    } = body;

    if cite::has_markers(&content) {
        content = cite::resolve(
            &content,
            &meta.citations.0,
            &meta.content_references.0,
            &mut parts,
        );
    }

    if tool_call {
        let name = recipient.clone().unwrap_or_default();
        let input = serde_json::from_str::<Value>(&content)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
            .unwrap_or_else(|| Value::String(content.clone()));
        parts.insert(
            0,
            Part::ToolCall {
                name,
                id: None,
                input,
            },
        );
    }

    let attachments = attachments(key, &meta, &mut parts);

    // An assistant node with no text and no parts at all is the placeholder ChatGPT writes
    // before a tool call: hidden, so a transcript shows no empty bubble.
    let placeholder = role == Role::Assistant && content.trim().is_empty() && parts.is_empty();
    let hidden = (role == Role::System && meta.is_user_system_message.0 != Some(true))
        || meta.is_visually_hidden_from_conversation.0 == Some(true)
        || role == Role::Tool
        || tool_call
        || placeholder
        || HIDDEN_CONTENT.contains(&content_type.as_str());

    let interrupted = meta
        .finish_details
        .0
        .is_some_and(|f| f.kind.0.as_deref() == Some("interrupted"));

    Converted {
        message: ParsedMessage {
            source_id: key.to_owned(),
            parent,
            role,
            content,
            parts,
            model: meta.model_slug.0.filter(|m| !m.is_empty()),
            created_at: msg.create_time.0,
            hidden,
            interrupted,
        },
        attachments,
    }
}

/// A message's `content` as an object: a bare string becomes a text part, anything else that is
/// not an object is kept under `value` with the type `invalid`.
fn content_object(content: Value) -> Map<String, Value> {
    match content {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        Value::String(s) => {
            let mut m = Map::new();
            m.insert("content_type".into(), Value::String("text".into()));
            m.insert("parts".into(), Value::Array(vec![Value::String(s)]));
            m
        }
        other => {
            let mut m = Map::new();
            m.insert("content_type".into(), Value::String("invalid".into()));
            m.insert("value".into(), other);
            m
        }
    }
}

/// The visible text and parts read from one message's content.
#[derive(Debug, Default)]
struct Body {
    content: String,
    parts: Vec<Part>,
    /// The message is a call to a tool: its code is the call's input, not a code block.
    tool_call: bool,
    /// The author's name (a tool's), for tool results.
    author_name: Option<String>,
}

impl Body {
    /// Reads what `content_type` carries out of `obj`; what it does not read stays in `obj`.
    fn read(&mut self, content_type: &str, obj: &mut Map<String, Value>) {
        match content_type {
            "text" | "multimodal_text" => {
                if let Some(Value::Array(items)) = obj.remove("parts") {
                    for item in items {
                        match item {
                            Value::String(s) => push_text(&mut self.content, &s),
                            Value::Object(p) => object_part(p, &mut self.content, &mut self.parts),
                            Value::Null => {}
                            other => self.parts.push(Part::Raw {
                                kind: "chatgpt.part".into(),
                                value: other,
                            }),
                        }
                    }
                }
            }
            "code" => self.code(obj),
            "execution_output" | "system_error" => {
                let text = text_or_parts(obj, "text");
                self.tool_result(text, content_type == "system_error");
            }
            "tether_browsing_display" => {
                let mut text = String::new();
                push_text(&mut text, &take_string(obj, "result").unwrap_or_default());
                push_text(&mut text, &take_string(obj, "summary").unwrap_or_default());
                if text.is_empty() {
                    text = text_or_parts(obj, "text");
                }
                self.tool_result(text, false);
            }
            "tether_quote" | "sonic_webpage" => {
                let title = take_string(obj, "title");
                let url = take_string(obj, "url");
                if title.is_some() || url.is_some() {
                    self.parts.push(Part::Citation { title, url });
                }
                let text = text_or_parts(obj, "text");
                self.tool_result(text, false);
            }
            "thoughts" => {
                let mut text = String::new();
                if let Some(Value::Array(thoughts)) = obj.remove("thoughts") {
                    for t in thoughts {
                        thought(t, &mut text, &mut self.parts);
                    }
                }
                take_string_parts(obj, &mut text);
                self.parts.push(Part::Reasoning { text });
            }
            "reasoning_recap" => {
                let mut text = take_string(obj, "content").unwrap_or_default();
                take_string_parts(obj, &mut text);
                self.parts.push(Part::Reasoning { text });
            }
            "user_editable_context" => {
                for key in ["user_profile", "user_instructions"] {
                    push_text(
                        &mut self.content,
                        &take_string(obj, key).unwrap_or_default(),
                    );
                }
                take_string_parts(obj, &mut self.content);
            }
            _ => self.unknown(content_type, obj),
        }
    }

    /// A code cell: a fenced block, or a tool call's input as it is.
    fn code(&mut self, obj: &mut Map<String, Value>) {
        let text = text_or_parts(obj, "text");
        let language = take_string(obj, "language").filter(|l| !l.is_empty() && l != "unknown");
        if self.tool_call {
            self.content = text;
            return;
        }
        let fence = if text.contains("```") { "````" } else { "```" };
        self.content = format!(
            "{fence}{}\n{}\n{fence}",
            language.as_deref().unwrap_or(""),
            text.trim_end_matches('\n')
        );
        self.parts.push(Part::Code { language, text });
    }

    fn tool_result(&mut self, text: String, is_error: bool) {
        self.parts.push(Part::ToolResult {
            name: self.author_name.clone(),
            call_id: None,
            text,
            is_error,
        });
    }

    /// `model_editable_context` and any type this parser does not know: readable text where
    /// there is some, the content itself kept raw (and taken out of `obj`).
    fn unknown(&mut self, content_type: &str, obj: &mut Map<String, Value>) {
        if let Some(text) = str_field(obj, "model_set_context") {
            push_text(&mut self.content, text);
        }
        string_parts(obj, &mut self.content);
        if self.content.is_empty() {
            push_text(&mut self.content, str_field(obj, "text").unwrap_or(""));
        }
        let kind = if content_type.is_empty() {
            "chatgpt.unknown".to_owned()
        } else {
            format!("chatgpt.{content_type}")
        };
        let obj = std::mem::take(obj);
        if !obj.is_empty() {
            self.parts.push(Part::Raw {
                kind,
                value: Value::Object(obj),
            });
        }
    }
}

/// The files `metadata.attachments` names, as parts of the message and as attachments of the
/// conversation.
fn attachments(key: &str, meta: &Metadata, parts: &mut Vec<Part>) -> Vec<Attachment> {
    let mut attachments = Vec::new();
    for a in &meta.attachments.0 {
        let Some(a) = a.as_object() else { continue };
        let name = str_field(a, "name")
            .or_else(|| str_field(a, "file_name"))
            .or_else(|| str_field(a, "id"))
            .unwrap_or("attachment")
            .to_owned();
        let size = a.get("size").and_then(Value::as_u64);
        let mime_type = str_field(a, "mime_type")
            .or_else(|| str_field(a, "mimeType"))
            .map(str::to_owned);
        parts.push(Part::Attachment {
            name: name.clone(),
            size,
            mime_type: mime_type.clone(),
            extracted_text: None,
        });
        attachments.push(Attachment {
            message_source_id: Some(key.to_owned()),
            name,
            size,
            mime_type,
            data: None,
        });
    }
    attachments
}

/// Appends the string elements of `obj.parts`.
fn string_parts(obj: &Map<String, Value>, out: &mut String) {
    if let Some(Value::Array(items)) = obj.get("parts") {
        for s in items.iter().filter_map(Value::as_str) {
            push_text(out, s);
        }
    }
}

/// Appends the string elements of `obj.parts` and removes them; elements of other types stay
/// in `obj.parts` (and so are kept raw).
fn take_string_parts(obj: &mut Map<String, Value>, out: &mut String) {
    let Some(Value::Array(items)) = obj.remove("parts") else {
        return;
    };
    let mut rest = Vec::new();
    for item in items {
        match item {
            Value::String(s) => push_text(out, &s),
            Value::Null => {}
            other => rest.push(other),
        }
    }
    if !rest.is_empty() {
        obj.insert("parts".to_owned(), Value::Array(rest));
    }
}

/// The string field `key`, or, when it is missing or empty, the string elements of `parts`
/// (some exports put a code cell's or a tool output's text there). Both are removed.
fn text_or_parts(obj: &mut Map<String, Value>, key: &str) -> String {
    let mut text = take_string(obj, key).unwrap_or_default();
    if text.is_empty() {
        take_string_parts(obj, &mut text);
    }
    text
}

/// One entry of a `thoughts` message: its summary (bold) and content, or its chunks when the
/// content is missing; anything else it holds is kept raw.
fn thought(t: Value, text: &mut String, parts: &mut Vec<Part>) {
    let Value::Object(mut t) = t else {
        if let Value::String(s) = &t {
            push_text(text, s);
        } else if has_text(&t) {
            parts.push(Part::Raw {
                kind: "chatgpt.thought".into(),
                value: t,
            });
        }
        return;
    };
    if let Some(summary) = take_string(&mut t, "summary").filter(|s| !s.is_empty()) {
        push_text(text, &format!("**{summary}**"));
    }
    let body = take_string(&mut t, "content").unwrap_or_default();
    if body.is_empty() {
        if let Some(Value::Array(chunks)) = t.remove("chunks") {
            push_text(
                text,
                &chunks.iter().filter_map(Value::as_str).collect::<String>(),
            );
        }
    } else {
        push_text(text, &body);
        // The chunks are the content as it streamed: kept only when they say something else.
        if let Some(Value::Array(chunks)) = t.get("chunks") {
            let joined: String = chunks.iter().filter_map(Value::as_str).collect();
            if joined.is_empty() || body.contains(joined.trim()) {
                t.remove("chunks");
            }
        }
    }
    if t.values().any(has_text) {
        parts.push(Part::Raw {
            kind: "chatgpt.thought".into(),
            value: Value::Object(t),
        });
    }
}

/// An object inside `parts`: images, audio, and anything else kept raw.
fn object_part(mut p: Map<String, Value>, content: &mut String, parts: &mut Vec<Part>) {
    let kind = str_field(&p, "content_type").unwrap_or("").to_owned();
    match kind.as_str() {
        "image_asset_pointer" => {
            parts.push(Part::Image {
                reference: take_string(&mut p, "asset_pointer"),
                mime_type: None,
                width: p.get("width").and_then(Value::as_u64),
                height: p.get("height").and_then(Value::as_u64),
                data: None,
            });
            // Generated images carry their prompt and seed here: keep them.
            if p.get("metadata")
                .is_some_and(|m| m.as_object().is_some_and(|m| !m.is_empty()))
            {
                parts.push(Part::Raw {
                    kind: "chatgpt.image_asset_pointer".to_owned(),
                    value: Value::Object(p),
                });
            }
        }
        "audio_transcription" => {
            let text = take_string(&mut p, "text");
            if let Some(t) = &text {
                push_text(content, t);
            }
            parts.push(Part::Audio {
                reference: None,
                transcript: text,
            });
        }
        "audio_asset_pointer" => parts.push(Part::Audio {
            reference: take_string(&mut p, "asset_pointer"),
            transcript: None,
        }),
        _ => {
            if let Some(text) = str_field(&p, "text") {
                push_text(content, text);
            }
            parts.push(Part::Raw {
                kind: if kind.is_empty() {
                    "chatgpt.part".to_owned()
                } else {
                    format!("chatgpt.{kind}")
                },
                value: Value::Object(p),
            });
        }
    }
}
