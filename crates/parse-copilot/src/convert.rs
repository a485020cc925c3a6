//! One chat session's JSON state (an export, a persisted session, or a replayed log) turned
//! into a [`ParsedConversation`].
//!
//! Works on a `serde_json::Value` rather than typed structs: the format has changed shape often
//! (bare-string messages, renamed titles, dozens of response part kinds) and a value walk lets
//! every unexpected shape degrade to a [`Part::Raw`] instead of failing the conversation.

use std::collections::HashSet;

use chat_model::{
    derive_title, timestamp, Attachment, ParsedConversation, ParsedMessage, Part, Role, Source,
    Timestamp,
};
use chat_parse::{stable_id, time, ItemError, ItemRef, Location};
use serde_json::{Map, Value};

/// What a session turned into.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A conversation with at least one message.
    Conversation(Box<ParsedConversation>),
    /// A session with nothing to import (no readable requests).
    Empty {
        /// Which session.
        item: ItemRef,
        /// Why it was passed over.
        reason: String,
    },
}

/// Whether a top-level object is chat data this crate reads: it has a `requests` array.
pub(crate) fn is_chat_data(root: &Map<String, Value>) -> bool {
    root.get("requests").is_some_and(Value::is_array)
}

/// Request fields that are modelled (and so removed before the rest is kept raw).
const MODELLED_REQUEST_KEYS: [&str; 6] = [
    "requestId",
    "responseId",
    "message",
    "response",
    "timestamp",
    "modelId",
];

/// Converts one session. Requests that cannot be read become item errors in `errors`; the rest
/// of the session still imports.
pub(crate) fn convert(mut root: Map<String, Value>, errors: &mut Vec<ItemError>) -> Outcome {
    let requests = match root.remove("requests") {
        Some(Value::Array(requests)) => requests,
        _ => Vec::new(),
    };
    let provider_title = ["customTitle", "computedTitle"]
        .iter()
        .filter_map(|k| root.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .find(|t| !t.is_empty())
        .map(str::to_owned);
    let source_id = conversation_source_id(&root, &requests);
    let item = ItemRef {
        index: None,
        id: Some(source_id.clone()),
        title: provider_title.clone(),
    };

    let mut messages: Vec<ParsedMessage> = Vec::new();
    let mut attachments: Vec<Attachment> = Vec::new();
    let mut used_ids: HashSet<String> = HashSet::new();
    let mut last_id: Option<String> = None;
    let request_count = requests.len();
    for (index, request) in requests.into_iter().enumerate() {
        let Value::Object(request) = request else {
            errors.push(ItemError {
                item: ItemRef {
                    index: Some(index as u64),
                    ..item.clone()
                },
                message: format!("request #{index} is not a JSON object; it was left out"),
                location: Location {
                    byte_offset: None,
                    json_path: Some(format!("$.requests[{index}]")),
                },
                hint: "the rest of the chat was imported; the file may come from a newer VS Code \
                       version"
                    .to_owned(),
                raw: serde_json::to_vec(&request).ok(),
            });
            continue;
        };
        let converted = convert_request(request, last_id.as_deref(), &mut used_ids);
        attachments.extend(converted.attachments);
        for message in converted.messages {
            last_id = Some(message.source_id.clone());
            messages.push(message);
        }
    }

    if messages.is_empty() {
        let reason = if request_count == 0 {
            "the chat has no requests (an empty or pending chat), so there is nothing to import"
        } else {
            "none of the chat's requests could be read, so there is nothing to import"
        };
        return Outcome::Empty {
            item,
            reason: reason.to_owned(),
        };
    }

    let title = provider_title
        .unwrap_or_else(|| derive_title(messages.iter().map(|m| (&m.role, m.content.as_str()))));
    let created_at = root
        .get("creationDate")
        .and_then(time::from_value)
        .or_else(|| messages.iter().find_map(|m| m.created_at));
    let updated_at = root
        .get("lastMessageDate")
        .and_then(time::from_value)
        .or_else(|| messages.iter().filter_map(|m| m.created_at).max());
    let model = messages
        .iter()
        .rev()
        .filter(|m| m.role == Role::Assistant)
        .find_map(|m| m.model.clone())
        .or_else(|| {
            root.get("inputState")
                .and_then(|s| s.get("selectedModel"))
                .and_then(|m| m.get("identifier"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });

    Outcome::Conversation(Box::new(ParsedConversation {
        source: Source::Copilot,
        source_id,
        title,
        created_at,
        updated_at,
        active_leaf: last_id,
        messages,
        attachments,
        archived: false,
        model,
        summary: None,
        extra: Value::Object(root),
        subfolder: None,
    }))
}

/// `sessionId` when present; otherwise (export files) a hash of the first request's id and
/// text, which an export of the same chat always repeats.
fn conversation_source_id(root: &Map<String, Value>, requests: &[Value]) -> String {
    if let Some(id) = root
        .get("sessionId")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
    {
        return id.to_owned();
    }
    let first = requests.iter().find_map(Value::as_object);
    let request_id = first
        .and_then(|r| r.get("requestId"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let text = first
        .map(|r| message_text(r.get("message")))
        .unwrap_or_default();
    let when = first
        .and_then(|r| r.get("timestamp"))
        .map(Value::to_string)
        .unwrap_or_default();
    stable_id(&["copilot-export", request_id, &text, &when])
}

/// The user's text: `message.text`, a bare-string `message` (old format), or the joined text of
/// `message.parts`.
fn message_text(message: Option<&Value>) -> String {
    match message {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(m)) => match m.get("text").and_then(Value::as_str) {
            Some(t) => t.to_owned(),
            None => m
                .get("parts")
                .and_then(Value::as_array)
                .map(|parts| {
                    parts
                        .iter()
                        .filter_map(|p| p.get("text").and_then(Value::as_str))
                        .collect::<String>()
                })
                .unwrap_or_default(),
        },
        _ => String::new(),
    }
}

struct ConvertedRequest {
    messages: Vec<ParsedMessage>,
    attachments: Vec<Attachment>,
}

/// An id unique within the conversation: the provider's when it is free, else a hash of it and
/// the parent (duplicated request ids are real after copy-paste edits of session files).
fn unique_id(preferred: String, parent: Option<&str>, used: &mut HashSet<String>) -> String {
    let mut id = preferred;
    let mut round = 0u32;
    while used.contains(&id) {
        round += 1;
        id = stable_id(&[&id, parent.unwrap_or(""), &round.to_string()]);
    }
    used.insert(id.clone());
    id
}

fn str_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The user message's parts and files: attached variables, and the structured message parts
/// when they say more than the text (agents, slash commands, variable references).
fn user_parts(request: &Map<String, Value>, user_id: &str) -> (Vec<Part>, Vec<Attachment>) {
    let message = request.get("message");
    let mut user_parts = Vec::new();
    let mut attachments = Vec::new();
    if let Some(vars) = request
        .get("variableData")
        .and_then(|v| v.get("variables"))
        .and_then(Value::as_array)
    {
        for var in vars {
            let Some(name) = var
                .get("name")
                .and_then(Value::as_str)
                .or_else(|| var.get("id").and_then(Value::as_str))
            else {
                continue;
            };
            let kind = var.get("kind").and_then(Value::as_str).map(str::to_owned);
            let is_file = var.get("isFile").and_then(Value::as_bool) == Some(true)
                || matches!(kind.as_deref(), Some("file" | "image"));
            user_parts.push(Part::Attachment {
                name: name.to_owned(),
                size: None,
                mime_type: kind.clone(),
                extracted_text: None,
            });
            if is_file {
                attachments.push(Attachment {
                    message_source_id: Some(user_id.to_owned()),
                    name: name.to_owned(),
                    size: None,
                    mime_type: var
                        .get("mimeType")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    data: None,
                });
            }
        }
    }
    // Fields of the message object besides its text and parts, when they hold text.
    if let Some(Value::Object(m)) = message {
        let rest: Map<String, Value> = m
            .iter()
            .filter(|(k, v)| !matches!(k.as_str(), "text" | "parts") && chat_parse::has_text(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !rest.is_empty() {
            user_parts.push(Part::Raw {
                kind: "copilot.message".to_owned(),
                value: Value::Object(rest),
            });
        }
    }
    if let Some(parts) = message
        .and_then(|m| m.get("parts"))
        .and_then(Value::as_array)
    {
        if parts
            .iter()
            .any(|p| p.get("kind").and_then(Value::as_str) != Some("text"))
        {
            user_parts.push(Part::Raw {
                kind: "copilot.messageParts".to_owned(),
                value: Value::Array(parts.clone()),
            });
        }
    }

    (user_parts, attachments)
}

/// The model that answered: `modelId`, else the first item of `result.details`, else the agent.
fn request_model(request: &Map<String, Value>) -> Option<String> {
    str_field(request, "modelId")
        .map(str::to_owned)
        .or_else(|| {
            request
                .get("result")
                .and_then(|r| r.get("details"))
                .and_then(Value::as_str)
                .and_then(|d| d.split(" • ").next())
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
        })
        .or_else(|| {
            request
                .get("agent")
                .and_then(|a| a.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
}

/// How the answer ended: its error details, whether it was cut short, and when it completed.
fn outcome(
    request: &Map<String, Value>,
    created_at: Option<Timestamp>,
) -> (Option<Value>, bool, Option<Timestamp>) {
    let result = request.get("result").filter(|r| !r.is_null());
    let error_details = result
        .and_then(|r| r.get("errorDetails"))
        .filter(|e| !e.is_null())
        .cloned();
    let model_state = request
        .get("modelState")
        .and_then(|s| s.get("value"))
        .and_then(Value::as_u64);
    let canceled = request.get("isCanceled").and_then(Value::as_bool) == Some(true);
    // Pending (0) and needs-input (4) are persisted as cancelled by VS Code; a response without
    // a `result` and without a model state was still streaming when the file was written.
    let unfinished = match model_state {
        Some(1) => false,
        Some(_) => true,
        None => result.is_none(),
    };
    let interrupted = canceled || unfinished || error_details.is_some();
    let completed_at = request
        .get("modelState")
        .and_then(|s| s.get("completedAt"))
        .and_then(time::from_value)
        .or_else(|| {
            let start = created_at?;
            let elapsed = result
                .and_then(|r| r.get("timings"))
                .and_then(|t| t.get("totalElapsed"))
                .and_then(Value::as_i64)?;
            timestamp::from_millis(timestamp::to_millis(start).checked_add(elapsed)?).ok()
        })
        .or(created_at);
    (error_details, interrupted, completed_at)
}

fn convert_request(
    mut request: Map<String, Value>,
    parent: Option<&str>,
    used: &mut HashSet<String>,
) -> ConvertedRequest {
    let message = request.get("message");
    let text = message_text(message);
    let created_at = request.get("timestamp").and_then(time::from_value);
    let when = request
        .get("timestamp")
        .map(Value::to_string)
        .unwrap_or_default();
    let user_id = unique_id(
        str_field(&request, "requestId").map_or_else(
            || stable_id(&["copilot-request", parent.unwrap_or(""), &text, &when]),
            str::to_owned,
        ),
        parent,
        used,
    );
    let hidden = request.get("isHidden").and_then(Value::as_bool) == Some(true)
        || match request.get("shouldBeRemovedOnSend") {
            Some(Value::Bool(b)) => *b,
            Some(Value::Object(m)) => m.get("afterUndoStop").is_none_or(Value::is_null),
            _ => false,
        };

    let (user_parts, attachments) = user_parts(&request, &user_id);
    let model = request_model(&request);
    let (error_details, interrupted, completed_at) = outcome(&request, created_at);

    let response = match request.remove("response") {
        Some(Value::Array(parts)) => parts,
        _ => Vec::new(),
    };
    let has_answer = !response.is_empty() || error_details.is_some();

    let mut references = Vec::new();
    for key in ["contentReferences", "codeCitations"] {
        if let Some(list) = request.get(key).and_then(Value::as_array) {
            references.extend(list.iter().filter_map(reference_citation));
        }
    }

    let response_id = str_field(&request, "responseId").map(str::to_owned);
    for key in MODELLED_REQUEST_KEYS {
        request.remove(key);
    }
    let rest = Part::Raw {
        kind: "copilot.request".to_owned(),
        value: Value::Object(request),
    };

    let user = ParsedMessage {
        source_id: user_id.clone(),
        parent: parent.map(str::to_owned),
        role: Role::User,
        content: text,
        parts: user_parts,
        model: None,
        created_at,
        hidden,
        interrupted: false,
    };
    if !has_answer {
        let mut user = user;
        user.parts.extend(references);
        user.parts.push(rest);
        return ConvertedRequest {
            messages: vec![user],
            attachments,
        };
    }

    let assistant_id = unique_id(
        response_id.unwrap_or_else(|| stable_id(&["copilot-response", &user_id])),
        Some(&user_id),
        used,
    );
    let mut content = String::new();
    let mut parts = Vec::new();
    crate::response::convert_response(response, &mut content, &mut parts);
    parts.extend(references);
    if let Some(details) = error_details {
        parts.push(Part::Raw {
            kind: "copilot.errorDetails".to_owned(),
            value: details,
        });
    }
    parts.push(rest);
    let assistant = ParsedMessage {
        source_id: assistant_id,
        parent: Some(user_id),
        role: Role::Assistant,
        content,
        parts,
        model,
        created_at: completed_at,
        hidden,
        interrupted,
    };
    ConvertedRequest {
        messages: vec![user, assistant],
        attachments,
    }
}

/// A citation from a request's `contentReferences` / `codeCitations` entry.
fn reference_citation(entry: &Value) -> Option<Part> {
    let reference = entry.get("reference").or_else(|| entry.get("value"))?;
    let variable = reference.get("variableName").and_then(Value::as_str);
    let url = match reference.get("value") {
        Some(v) if variable.is_some() => uri_string(v),
        _ => uri_string(reference),
    };
    let title = variable
        .map(str::to_owned)
        .or_else(|| url.as_deref().map(|u| basename(u).to_owned()));
    if title.is_none() && url.is_none() {
        return None;
    }
    Some(Part::Citation { title, url })
}

/// A readable URI from VS Code's `UriComponents`, a `Location` (`{uri, range}`) or a string.
pub(crate) fn uri_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => {
            if let Some(ext) = m.get("external").and_then(Value::as_str) {
                return Some(ext.to_owned());
            }
            if let Some(uri) = m.get("uri") {
                return uri_string(uri);
            }
            let path = m.get("path").and_then(Value::as_str)?;
            let scheme = m.get("scheme").and_then(Value::as_str).unwrap_or("file");
            let authority = m.get("authority").and_then(Value::as_str).unwrap_or("");
            Some(format!("{scheme}://{authority}{path}"))
        }
        _ => None,
    }
}

pub(crate) fn basename(uri: &str) -> &str {
    let trimmed = uri.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}
