//! What text each input message holds, read from the input by the test itself (not by the
//! parsers), per format.
//!
//! "Text" is every string of a message's content that is prose: a string under a key that
//! carries text (`text`, `content`, `parts`, `value`, `transcript`, `summary`, ...) or any
//! other string of two words or more, except under keys that name structure (`type`, ids,
//! URLs, paths, times, MIME types, base64 `data`). ChatGPT citation markers (`【…】` and the
//! private-use `cite` tokens) are cut out first: they are rewritten into links on purpose.
//! Google Takeout answers are HTML: each text node counts. A string holding JSON (tool
//! arguments) is stored parsed, so each string inside it counts instead.

use serde_json::{Map, Value};

/// The formats the test reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    ChatGpt,
    Claude,
    Takeout,
    AiStudio,
    Copilot,
    Transcript,
    /// A VS Code mutation log: its text is only known after a replay (the parser's own
    /// tests cover the replay), so it is not checked here.
    CopilotLog,
}

/// The texts of one input message, and where it is (for messages).
#[derive(Debug, Clone)]
pub struct Group {
    pub at: String,
    pub texts: Vec<String>,
}

/// Keys whose strings are text whatever their length.
const TEXT_KEYS: &[&str] = &[
    "text",
    "content",
    "parts",
    "value",
    "transcript",
    "thinking",
    "summary",
    "summaries",
    "result",
    "output",
    "code",
    "prompt",
    "extracted_content",
    "user_profile",
    "user_instructions",
    "model_set_context",
    "snippet",
    "description",
    "prompt_template",
    "summaryContent",
    "reasoningText",
    "transformedContent",
    "detailedContent",
    "message",
];

/// Keys whose strings are structure, never text.
const STRUCTURE_KEYS: &[&str] = &[
    "type",
    "content_type",
    "kind",
    "id",
    "uuid",
    "signature",
    "mimeType",
    "mime_type",
    "url",
    "uri",
    "href",
    "path",
    "fsPath",
    "external",
    "scheme",
    "authority",
    "asset_pointer",
    "language",
    "role",
    "sender",
    "data",
    "format",
    "direction",
    "status",
    "model",
    "$mid",
    "encryptedContent",
    "reasoningOpaque",
];

fn structural(key: &str) -> bool {
    STRUCTURE_KEYS.contains(&key)
        || key.ends_with("_id")
        || key.ends_with("Id")
        || key.ends_with("_at")
        || key.ends_with("Time")
        || key.ends_with("timestamp")
        || key.ends_with("Timestamp")
}

fn words(s: &str) -> usize {
    s.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// The prose strings of a value, walked without recursion.
pub fn texts(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack: Vec<(&str, &Value)> = vec![("", value)];
    while let Some((key, v)) = stack.pop() {
        match v {
            Value::String(s) => {
                if structural(key) || !(TEXT_KEYS.contains(&key) || words(s) >= 2) {
                    continue;
                }
                // JSON in a string (tool arguments) is stored parsed: each of its strings counts.
                match serde_json::from_str::<Value>(s) {
                    Ok(parsed @ (Value::Object(_) | Value::Array(_))) => {
                        let mut leaves = vec![&parsed];
                        while let Some(l) = leaves.pop() {
                            match l {
                                Value::String(s) => out.push(s.clone()),
                                Value::Array(items) => leaves.extend(items),
                                Value::Object(map) => leaves.extend(map.values()),
                                _ => {}
                            }
                        }
                    }
                    _ => out.push(s.clone()),
                }
            }
            // Array elements count under the array's key (`parts: ["..."]`).
            Value::Array(items) => stack.extend(items.iter().map(|i| (key, i))),
            Value::Object(map) => stack.extend(map.iter().map(|(k, v)| (k.as_str(), v))),
            _ => {}
        }
    }
    out
}

/// Cuts ChatGPT citation markers out of a text, leaving the pieces around them.
fn without_markers(s: &str) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut depth_bracket = false;
    let mut depth_pua = false;
    for c in s.chars() {
        match c {
            '\u{3010}' => depth_bracket = true,
            '\u{3011}' if depth_bracket => {
                depth_bracket = false;
                pieces.push(String::new());
            }
            '\u{E200}' => depth_pua = true,
            '\u{E201}' if depth_pua => {
                depth_pua = false;
                pieces.push(String::new());
            }
            c if depth_bracket || depth_pua || ('\u{E000}'..='\u{F8FF}').contains(&c) => {}
            c => {
                if let Some(last) = pieces.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    pieces
}

/// The elements of a top-level JSON value: an array's items, `{"conversations": [...]}`'s,
/// or the value itself.
fn elements(root: &Value) -> Vec<&Value> {
    match root {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => match map.get("conversations") {
            Some(Value::Array(items)) => items.iter().collect(),
            _ => vec![root],
        },
        _ => Vec::new(),
    }
}

fn group(at: String, texts: Vec<String>) -> Option<Group> {
    let texts: Vec<String> = texts.into_iter().filter(|t| words(t) > 0).collect();
    (!texts.is_empty()).then_some(Group { at, texts })
}

/// The text groups of a ChatGPT export: one per mapping node's message content.
fn chatgpt(root: &Value) -> Vec<Group> {
    let mut out = Vec::new();
    for (i, c) in elements(root).into_iter().enumerate() {
        let Some(Value::Object(mapping)) = c.get("mapping") else {
            continue;
        };
        for (key, node) in mapping {
            let Some(content) = node.get("message").and_then(|m| m.get("content")) else {
                continue;
            };
            let pieces = texts(content)
                .iter()
                .flat_map(|t| without_markers(t))
                .collect();
            out.extend(group(format!("[{i}].mapping.{key}"), pieces));
        }
    }
    out
}

/// The text groups of a Claude export: one per message (its blocks, or its flattened `text`
/// when it has none, plus its attachments and file names), and for a project one per
/// description, instructions and document.
fn claude(root: &Value) -> Vec<Group> {
    let mut out = Vec::new();
    for (i, c) in elements(root).into_iter().enumerate() {
        if let Some(Value::Array(messages)) = c.get("chat_messages") {
            for (j, m) in messages.iter().enumerate() {
                let mut t = match m.get("content") {
                    Some(Value::Array(blocks)) if !blocks.is_empty() => {
                        texts(&Value::Array(blocks.clone()))
                    }
                    _ => m.get("text").map(texts).unwrap_or_default(),
                };
                for key in ["attachments", "files", "files_v2"] {
                    if let Some(v) = m.get(key) {
                        t.extend(texts(v));
                        for entry in v.as_array().into_iter().flatten() {
                            if let Some(name) = entry.get("file_name").and_then(Value::as_str) {
                                t.push(name.to_owned());
                            }
                        }
                    }
                }
                out.extend(group(format!("[{i}].chat_messages[{j}]"), t));
            }
            continue;
        }
        if !is_claude_project(c) {
            continue;
        }
        for key in ["description", "prompt_template"] {
            if let Some(Value::String(s)) = c.get(key) {
                out.extend(group(format!("[{i}].{key}"), vec![s.clone()]));
            }
        }
        for (j, doc) in c
            .get("docs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let mut t = texts(doc);
            if let Some(name) = doc.get("filename").and_then(Value::as_str) {
                t.push(name.to_owned());
            }
            out.extend(group(format!("[{i}].docs[{j}]"), t));
        }
    }
    out
}

fn is_claude_project(c: &Value) -> bool {
    c.get("prompt_template").is_some()
        || c.get("is_starter_project").is_some()
        || (c.get("docs").is_some_and(Value::is_array) && c.get("description").is_some())
}

/// The text nodes of an HTML fragment, entities blanked.
fn html_text(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_tag = false;
    let mut in_entity = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(std::mem::take(&mut current));
            }
            '>' if in_tag => in_tag = false,
            '&' if !in_tag => {
                in_entity = true;
                current.push(' ');
            }
            ';' if in_entity => in_entity = false,
            c if in_entity && (c.is_ascii_alphanumeric() || c == '#') => {}
            c if !in_tag => {
                in_entity = false;
                current.push(c);
            }
            _ => {}
        }
    }
    out.push(current);
    out
}

/// The text groups of a Takeout activity file: each Gemini prompt (its title without the verb,
/// and its attached files) and each answer (the text of its HTML).
fn takeout(root: &Value) -> Vec<Group> {
    let mut out = Vec::new();
    for (i, r) in elements(root).into_iter().enumerate() {
        let gemini = |v: Option<&Value>| v.is_some_and(|v| v.to_string().contains("Gemini"));
        if !(gemini(r.get("header")) || gemini(r.get("products"))) {
            continue;
        }
        let Some(title) = r.get("title").and_then(Value::as_str) else {
            continue;
        };
        let Some(prompt) = chat_parse_gemini::PROMPT_PREFIXES
            .iter()
            .find_map(|p| title.strip_prefix(p))
        else {
            continue;
        };
        let mut t = vec![prompt.to_owned()];
        if let Some(files) = r.get("attachedFiles") {
            t.extend(
                files
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str().map(str::to_owned)),
            );
        }
        out.extend(group(format!("[{i}].title"), t));
        for (j, item) in r
            .get("safeHtmlItem")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let t = match item.get("html").and_then(Value::as_str) {
                Some(html) => html_text(html),
                None => texts(item),
            };
            out.extend(group(format!("[{i}].safeHtmlItem[{j}]"), t));
        }
    }
    out
}

/// The text groups of an AI Studio prompt: one per chunk, and the system instruction.
fn aistudio(root: &Value) -> Vec<Group> {
    let mut out = Vec::new();
    for (i, p) in elements(root).into_iter().enumerate() {
        if let Some(si) = p.get("systemInstruction") {
            out.extend(group(format!("[{i}].systemInstruction"), texts(si)));
        }
        let chunks = p.pointer("/chunkedPrompt/chunks").and_then(Value::as_array);
        for (j, chunk) in chunks.into_iter().flatten().enumerate() {
            let mut chunk = chunk.clone();
            // Grounding and safety metadata are not message text.
            if let Value::Object(map) = &mut chunk {
                for key in ["grounding", "safetyRatings", "runSettings"] {
                    map.remove(key);
                }
            }
            out.extend(group(format!("[{i}].chunks[{j}]"), texts(&chunk)));
        }
    }
    out
}

/// The text groups of a VS Code chat (export or persisted session): per request, the user's
/// message and the response.
fn copilot(root: &Value) -> Vec<Group> {
    let mut out = Vec::new();
    let requests = root.get("requests").and_then(Value::as_array);
    for (i, r) in requests.into_iter().flatten().enumerate() {
        if let Some(m) = r.get("message") {
            out.extend(group(format!("requests[{i}].message"), texts(m)));
        }
        for (j, part) in r
            .get("response")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            out.extend(group(format!("requests[{i}].response[{j}]"), texts(part)));
        }
    }
    out
}

/// The text groups of a Copilot event log: the `data` of every message, tool and summary
/// event.
fn transcript(bytes: &[u8]) -> Vec<Group> {
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let Ok(Value::Object(event)) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        let counted = matches!(
            kind,
            "user.message"
                | "assistant.message"
                | "assistant.reasoning"
                | "tool.execution_start"
                | "tool.execution_complete"
                | "session.compaction_complete"
        );
        if counted {
            if let Some(data) = event.get("data") {
                out.extend(group(format!("line {}: {kind}", i + 1), texts(data)));
            }
        }
    }
    out
}

/// The bytes without a byte-order mark, lone UTF-16 surrogate escapes repaired (as the parsers
/// do).
fn repaired(bytes: &[u8]) -> Vec<u8> {
    chat_parse::json::repair_lone_surrogates(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
}

/// The format of an input, by its shape.
pub fn classify(bytes: &[u8]) -> Option<Format> {
    let repaired = repaired(bytes);
    let text = std::str::from_utf8(&repaired).ok()?;
    let first_line = text.trim_start().lines().next().unwrap_or("");
    if let Ok(Value::Object(first)) = serde_json::from_str::<Value>(first_line) {
        if first.get("kind").and_then(Value::as_u64) == Some(0) && first.contains_key("v") {
            return Some(Format::CopilotLog);
        }
        let dotted = first
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.contains('.'));
        if dotted && first.get("data").is_some_and(Value::is_object) {
            return Some(Format::Transcript);
        }
    }
    let root: Value = serde_json::from_str(text).ok()?;
    let items = elements(&root);
    let any = |f: &dyn Fn(&Map<String, Value>) -> bool| {
        items.iter().any(|v| v.as_object().is_some_and(f))
    };
    if any(&|o| o.contains_key("mapping")) {
        Some(Format::ChatGpt)
    } else if any(&|o| o.contains_key("chat_messages"))
        || items.iter().any(|v| is_claude_project(v))
    {
        Some(Format::Claude)
    } else if any(&|o| o.contains_key("chunkedPrompt")) {
        Some(Format::AiStudio)
    } else if any(&|o| {
        o.contains_key("header") && o.contains_key("title") && o.contains_key("time")
    }) {
        let gemini = root.to_string().contains("Gemini");
        gemini.then_some(Format::Takeout)
    } else if root.get("requests").is_some_and(Value::is_array) {
        Some(Format::Copilot)
    } else {
        None
    }
}

/// The text groups of an input of `format`.
pub fn expected(format: Format, bytes: &[u8]) -> Vec<Group> {
    if format == Format::Transcript {
        return transcript(bytes);
    }
    let repaired = repaired(bytes);
    let text = String::from_utf8_lossy(&repaired);
    let Ok(root) = serde_json::from_str::<Value>(&text) else {
        return Vec::new();
    };
    match format {
        Format::ChatGpt => chatgpt(&root),
        Format::Claude => claude(&root),
        Format::Takeout => takeout(&root),
        Format::AiStudio => aistudio(&root),
        Format::Copilot => copilot(&root),
        Format::Transcript | Format::CopilotLog => Vec::new(),
    }
}

/// Text reduced to its words (runs of letters and digits) joined by single spaces, so Markdown
/// escapes, whitespace and punctuation changes do not matter.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut word = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if !word && !out.is_empty() {
                out.push(' ');
            }
            out.push(c);
            word = true;
        } else {
            word = false;
        }
    }
    out
}
