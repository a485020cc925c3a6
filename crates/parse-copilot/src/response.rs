//! A request's `response` parts to the answer's Markdown and parts.
//!
//! Un-kinded fragments and `markdownContent` are the text; `thinking` is reasoning;
//! `toolInvocationSerialized` a tool call and its result; references and code citations are
//! citations; every other kind is kept raw. What a known kind carries beyond the fields read
//! from it (a field a newer VS Code adds, a thinking block's generated title) is kept raw
//! beside it when it holds text, so nothing is dropped.

use std::collections::HashSet;

use chat_model::Part;
use chat_parse::has_text;
use serde_json::{Map, Value};

use crate::convert::{basename, uri_string};

/// Appends markdown to the content. A new run of text after a non-text part (a tool call,
/// thinking) starts a new paragraph so the runs do not run into each other.
fn push_text(content: &mut String, text: &str, new_run: &mut bool) {
    if *new_run && !content.is_empty() && !content.ends_with('\n') && !text.starts_with('\n') {
        content.push_str("\n\n");
    }
    *new_run = false;
    content.push_str(text);
}

/// A raw part `copilot.<kind>`; the part's own `kind` field, now in the name, is dropped.
fn raw(kind: &str, mut value: Value) -> Part {
    if let Value::Object(map) = &mut value {
        if map.get("kind").and_then(Value::as_str) == Some(kind) {
            map.remove("kind");
        }
    }
    Part::Raw {
        kind: format!("copilot.{kind}"),
        value,
    }
}

/// Fields of VS Code's `IMarkdownString` that are rendering flags and links, not text.
const MARKDOWN_FIELDS: &[&str] = &[
    "value",
    "isTrusted",
    "supportThemeIcons",
    "supportHtml",
    "supportAlertSyntax",
    "baseUri",
    "uris",
];

/// Keeps what a known part carries beyond `consumed` (and its `kind`) as a raw part, when any
/// of it is text.
fn keep_rest(kind: &str, mut obj: Map<String, Value>, consumed: &[&str], parts: &mut Vec<Part>) {
    obj.retain(|k, _| k != "kind" && !consumed.contains(&k.as_str()));
    if obj.values().any(has_text) {
        parts.push(raw(kind, Value::Object(obj)));
    }
}

/// The text of a markdown part's `content`, and whether the content says nothing more.
fn markdown_content(content: Option<&Value>) -> Option<(&str, bool)> {
    match content? {
        Value::String(s) => Some((s, true)),
        Value::Object(m) => {
            let text = m.get("value").and_then(Value::as_str)?;
            let plain = m
                .iter()
                .all(|(k, v)| MARKDOWN_FIELDS.contains(&k.as_str()) || !has_text(v));
            Some((text, plain))
        }
        _ => None,
    }
}

pub(crate) fn convert_response(response: Vec<Value>, content: &mut String, parts: &mut Vec<Part>) {
    // prepareToolInvocation announces a call that a later toolInvocationSerialized records in
    // full: only an announcement without a record becomes a ToolCall of its own.
    let recorded_tools: HashSet<String> = response
        .iter()
        .filter(|p| p.get("kind").and_then(Value::as_str) == Some("toolInvocationSerialized"))
        .filter_map(|p| p.get("toolId").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    let mut new_run = false;
    for part in response {
        let Value::Object(obj) = part else {
            parts.push(raw("unknown", part));
            continue;
        };
        let kind = match obj.get("kind") {
            None | Some(Value::Null) => None,
            Some(Value::String(k)) => Some(k.clone()),
            Some(_) => Some("unknown".to_owned()),
        };
        match kind.as_deref() {
            None => match obj.get("value").and_then(Value::as_str) {
                Some(text) => {
                    push_text(content, text, &mut new_run);
                    keep_rest("markdown", obj, MARKDOWN_FIELDS, parts);
                }
                None => parts.push(raw("unknown", Value::Object(obj))),
            },
            Some("markdownContent") => match markdown_content(obj.get("content")) {
                Some((text, true)) => {
                    push_text(content, text, &mut new_run);
                    keep_rest("markdownContent", obj, &["content"], parts);
                }
                Some((text, false)) => {
                    push_text(content, text, &mut new_run);
                    parts.push(raw("markdownContent", Value::Object(obj)));
                }
                None => parts.push(raw("markdownContent", Value::Object(obj))),
            },
            Some("markdownVuln") => {
                if let Some((text, _)) = markdown_content(obj.get("content")) {
                    push_text(content, text, &mut new_run);
                }
                parts.push(raw("markdownVuln", Value::Object(obj)));
            }
            Some("inlineReference") => {
                let url = obj.get("inlineReference").and_then(uri_string);
                let name = obj
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .or_else(|| url.as_deref().map(|u| basename(u).to_owned()));
                if let Some(name) = &name {
                    push_text(content, &format!("`{name}`"), &mut new_run);
                }
                parts.push(Part::Citation { title: name, url });
                keep_rest(
                    "inlineReference",
                    obj,
                    &["inlineReference", "name", "resolveId"],
                    parts,
                );
            }
            Some("thinking") => {
                let text = match obj.get("value") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Array(items)) => {
                        items.iter().filter_map(Value::as_str).collect::<String>()
                    }
                    _ => String::new(),
                };
                if text.trim().is_empty() {
                    parts.push(raw("thinking", Value::Object(obj)));
                } else {
                    parts.push(Part::Reasoning { text });
                    new_run = true;
                    keep_rest("thinking", obj, &["value", "id"], parts);
                }
            }
            Some("toolInvocationSerialized") => {
                tool_invocation(obj, parts);
                new_run = true;
            }
            Some("prepareToolInvocation") => {
                let name = obj
                    .get("toolName")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                match name {
                    Some(name) if !recorded_tools.contains(&name) => {
                        parts.push(Part::ToolCall {
                            name,
                            id: None,
                            input: Value::Null,
                        });
                        new_run = true;
                        keep_rest("prepareToolInvocation", obj, &["toolName"], parts);
                    }
                    _ => parts.push(raw("prepareToolInvocation", Value::Object(obj))),
                }
            }
            Some("codeCitation") => {
                let url = obj.get("value").and_then(uri_string);
                let title = obj
                    .get("license")
                    .and_then(Value::as_str)
                    .map(|l| format!("code citation ({l})"));
                parts.push(Part::Citation { title, url });
                // The cited snippet (and anything newer) is kept beside the citation.
                keep_rest("codeCitation", obj, &["value", "license"], parts);
            }
            Some(other) => parts.push(raw(other, Value::Object(obj))),
        }
    }
}

/// A `toolInvocationSerialized` part: a [`Part::ToolCall`], a [`Part::ToolResult`] when the
/// result was recorded, and the remaining fields (messages shown, confirmation, source) raw.
fn tool_invocation(mut obj: Map<String, Value>, parts: &mut Vec<Part>) {
    let name = obj
        .remove("toolId")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown tool".to_owned());
    let id = obj
        .remove("toolCallId")
        .and_then(|v| v.as_str().map(str::to_owned));
    let details = obj.remove("resultDetails");
    let input = details
        .as_ref()
        .and_then(|d| d.get("input"))
        .map(|i| match i {
            Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| i.clone()),
            other => other.clone(),
        })
        .or_else(|| {
            let data = obj.get("toolSpecificData")?;
            data.get("rawInput")
                .cloned()
                .or_else(|| data.get("commandLine").cloned())
        })
        .unwrap_or(Value::Null);
    parts.push(Part::ToolCall {
        name: name.clone(),
        id: id.clone(),
        input,
    });
    if let Some(details) = details {
        let (text, is_error) = match &details {
            Value::Array(uris) => (
                uris.iter()
                    .filter_map(uri_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
                false,
            ),
            Value::Object(d) => {
                let text = d
                    .get("output")
                    .and_then(Value::as_array)
                    .map(|out| {
                        out.iter()
                            .filter_map(|o| match o.get("value") {
                                Some(Value::String(s))
                                    if o.get("isText").and_then(Value::as_bool) != Some(false) =>
                                {
                                    Some(s.clone())
                                }
                                Some(_) => Some(format!(
                                    "[binary output{}]",
                                    o.get("mimeType")
                                        .and_then(Value::as_str)
                                        .map(|m| format!(": {m}"))
                                        .unwrap_or_default()
                                )),
                                None => None,
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    })
                    .unwrap_or_default();
                (
                    text,
                    d.get("isError").and_then(Value::as_bool) == Some(true),
                )
            }
            Value::String(s) => (s.clone(), false),
            _ => (String::new(), false),
        };
        parts.push(Part::ToolResult {
            name: Some(name),
            call_id: id,
            text,
            is_error,
        });
        // Binary outputs (an image a tool returned) are only named in the result's text: the
        // details are kept whole so their bytes are not lost.
        let binary = details
            .get("output")
            .and_then(Value::as_array)
            .is_some_and(|out| {
                out.iter().any(|o| {
                    o.get("isText").and_then(Value::as_bool) == Some(false)
                        || o.get("value").is_some_and(|v| !v.is_string())
                })
            });
        if binary {
            obj.insert("resultDetails".to_owned(), details);
        }
    }
    parts.push(raw("toolInvocationSerialized", Value::Object(obj)));
}
