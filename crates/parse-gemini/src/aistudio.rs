//! Google AI Studio prompt files. See the crate docs for the design.

use chat_model::{
    derive_title, Attachment, ParsedConversation, ParsedMessage, Part, Role, Source, Timestamp,
};
use chat_parse::json::ArrayStream;
use chat_parse::{stable_id, Confidence, Flow, Input, ParseError, Parser, Probe, Result, Sink};
use serde_json::{Map, Value};

use crate::file_stem;

/// Reads Google AI Studio prompt files (JSON with `runSettings` and `chunkedPrompt`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AiStudioParser;

const NAME: &str = "Google AI Studio prompt";

/// Chunk fields this parser models; everything else is kept in a [`Part::Raw`].
const CHUNK_FIELDS: &[&str] = &[
    "role",
    "text",
    "parts",
    "isThought",
    "createTime",
    "executableCode",
    "codeExecutionResult",
    "inlineImage",
    "inlineFile",
    "inlineData",
    "driveDocument",
    "driveImage",
    "driveVideo",
    "driveAudio",
    "youtubeVideo",
];

/// Part fields this parser models.
const PART_FIELDS: &[&str] = &[
    "text",
    "thought",
    "inlineData",
    "executableCode",
    "codeExecutionResult",
];

impl Parser for AiStudioParser {
    fn source(&self) -> Source {
        Source::Gemini
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn detect(&self, probe: &Probe<'_>) -> Confidence {
        if probe.first_byte() != Some(b'{') {
            return Confidence::NONE;
        }
        match (probe.has_key("chunkedPrompt"), probe.has_key("runSettings")) {
            (true, _) => Confidence::HIGH,
            // A huge system instruction can push `chunkedPrompt` past the probe.
            (false, true) => Confidence::MEDIUM,
            _ => Confidence::NONE,
        }
    }

    fn parse(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<()> {
        let name = input.name;
        let stem = file_stem(name).to_owned();
        // A top-level object is the whole prompt (the usual case); a top-level array is read as
        // a list of prompts, each its own item.
        let single = match input.reader.fill_buf() {
            Ok(head) => Probe::new(name, head).first_byte() == Some(b'{'),
            Err(_) => false,
        };
        let mut stream = ArrayStream::new(input.reader, name);
        loop {
            let element = match stream.next_element() {
                Ok(Some(el)) => el,
                Ok(None) => return Ok(()),
                Err(e) => return Err(e),
            };
            let value: Value = match element.parse() {
                Ok(v) => v,
                Err(err) => {
                    if sink.item_error(err) == Flow::Stop {
                        return Ok(());
                    }
                    continue;
                }
            };
            let flow = match prompt_to_conversation(value, &stem) {
                Some(conversation) => sink.conversation(conversation),
                None if single => {
                    return Err(ParseError::NotThisFormat {
                        input: name.to_owned(),
                        expected: NAME,
                        reason: "the JSON object has no \"chunkedPrompt\" with chunks".to_owned(),
                    })
                }
                None => sink.item_error(element.error(
                    "this item is not an AI Studio prompt (no \"chunkedPrompt\" with chunks)",
                    "it was kept for inspection; the rest of the file was read",
                    Some("$.chunkedPrompt".to_owned()),
                    None,
                )),
            };
            sink.progress(element.offset + element.bytes.len() as u64);
            if flow == Flow::Stop {
                return Ok(());
            }
        }
    }
}

/// One message being assembled from consecutive chunks of one role.
#[derive(Debug)]
struct Turn {
    role: Role,
    id: String,
    texts: Vec<String>,
    parts: Vec<Part>,
    attachments: Vec<Attachment>,
    created_at: Option<Timestamp>,
    interrupted: bool,
}

/// The chunks grouped into turns: consecutive chunks of one role are one message.
fn group_turns(chunks: Vec<Value>) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for (index, chunk) in chunks.into_iter().enumerate() {
        let chunk = match chunk {
            Value::Object(chunk) => chunk,
            // A bare string where a chunk was expected: the user's text, not dropped.
            Value::String(text) => {
                let mut m = Map::new();
                m.insert("text".to_owned(), Value::String(text));
                m
            }
            _ => continue,
        };
        let role = match chunk.get("role").and_then(Value::as_str) {
            Some("model" | "assistant") => Role::Assistant,
            Some("system") => Role::System,
            _ => Role::User,
        };
        let created_at = chunk
            .get("createTime")
            .and_then(chat_parse::time::from_value);
        let start_new = turns.last().is_none_or(|t| t.role != role);
        if start_new {
            let id = match chunk.get("id").and_then(Value::as_str) {
                Some(id) if !id.is_empty() => id.to_owned(),
                _ => format!("c{index}"),
            };
            turns.push(Turn {
                role,
                id,
                texts: Vec::new(),
                parts: Vec::new(),
                attachments: Vec::new(),
                created_at,
                interrupted: false,
            });
        }
        if let Some(turn) = turns.last_mut() {
            add_chunk(turn, chunk);
        }
    }
    turns
}

fn prompt_to_conversation(value: Value, stem: &str) -> Option<ParsedConversation> {
    let Value::Object(mut top) = value else {
        return None;
    };
    let Some(Value::Object(mut chunked)) = top.remove("chunkedPrompt") else {
        return None;
    };
    let Some(Value::Array(chunks)) = chunked.remove("chunks") else {
        return None;
    };
    if !chunked.is_empty() {
        top.insert("chunkedPrompt".to_owned(), Value::Object(chunked));
    }
    let model = top
        .get("runSettings")
        .and_then(|r| r.get("model"))
        .and_then(Value::as_str)
        .map(|m| m.strip_prefix("models/").unwrap_or(m).to_owned())
        .filter(|m| !m.is_empty());
    let first_text = chunks
        .first()
        .map(|c| chunk_text(c).unwrap_or_default())
        .unwrap_or_default();
    let source_id = match top.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => stable_id(&["aistudio", stem, &first_text]),
    };

    let turns = group_turns(chunks);

    let mut messages: Vec<ParsedMessage> = Vec::with_capacity(turns.len() + 1);
    let mut attachments = Vec::new();
    let mut parent: Option<String> = None;
    if let Some(instruction) = system_instruction(&mut top) {
        messages.push(ParsedMessage {
            source_id: "system".to_owned(),
            parent: None,
            role: Role::System,
            content: instruction,
            parts: Vec::new(),
            model: None,
            created_at: None,
            hidden: true,
            interrupted: false,
        });
        parent = Some("system".to_owned());
    }
    for turn in turns {
        let id = if messages.iter().any(|m| m.source_id == turn.id) {
            format!("{}~{}", turn.id, messages.len())
        } else {
            turn.id
        };
        for mut a in turn.attachments {
            a.message_source_id = Some(id.clone());
            attachments.push(a);
        }
        messages.push(ParsedMessage {
            source_id: id.clone(),
            parent: parent.take(),
            role: turn.role,
            content: turn.texts.join("\n\n"),
            parts: turn.parts,
            model: (turn.role == Role::Assistant)
                .then(|| model.clone())
                .flatten(),
            created_at: turn.created_at,
            hidden: turn.role == Role::System,
            interrupted: turn.interrupted,
        });
        parent = Some(id);
    }

    let title = ["displayName", "title"]
        .iter()
        .find_map(|k| top.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .or_else(|| (!stem.trim().is_empty()).then(|| stem.trim().to_owned()))
        .unwrap_or_else(|| derive_title(messages.iter().map(|m| (&m.role, m.content.as_str()))));
    let created_at = top
        .get("createTime")
        .and_then(chat_parse::time::from_value)
        .or_else(|| messages.iter().find_map(|m| m.created_at));
    let updated_at = top
        .get("updateTime")
        .and_then(chat_parse::time::from_value)
        .or_else(|| messages.iter().rev().find_map(|m| m.created_at));
    for key in ["displayName", "title", "id", "createTime", "updateTime"] {
        top.remove(key);
    }
    top.insert("format".to_owned(), Value::from("aistudio"));
    Some(ParsedConversation {
        source: Source::Gemini,
        source_id,
        title,
        created_at,
        updated_at,
        messages,
        active_leaf: parent,
        attachments,
        archived: false,
        model,
        summary: None,
        extra: Value::Object(top),
        subfolder: None,
    })
}

/// The system instruction's text (`text`, or its `parts[].text`), removed from `top` when
/// nothing else is in it.
fn system_instruction(top: &mut Map<String, Value>) -> Option<String> {
    let si = top.get("systemInstruction")?;
    let mut text = si
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if text.trim().is_empty() {
        text = si
            .get("parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n");
    }
    let only_text = si
        .as_object()
        .is_some_and(|o| o.keys().all(|k| k == "text" || k == "parts"));
    if only_text {
        top.remove("systemInstruction");
    }
    (!text.trim().is_empty()).then_some(text)
}

/// The visible text of a chunk: its `text`, else its non-thought parts' text.
fn chunk_text(chunk: &Value) -> Option<String> {
    if let Some(t) = chunk.get("text").and_then(Value::as_str) {
        if !t.is_empty() {
            return Some(t.to_owned());
        }
    }
    let parts: Vec<&str> = chunk
        .get("parts")?
        .as_array()?
        .iter()
        .filter(|p| p.get("thought").and_then(Value::as_bool) != Some(true))
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect();
    Some(parts.concat())
}

fn add_chunk(turn: &mut Turn, mut chunk: Map<String, Value>) {
    let is_thought = chunk.get("isThought").and_then(Value::as_bool) == Some(true);
    let chunk_text = chunk
        .get("text")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    // The chunk's `text` duplicates its parts' text; it wins when present (the parts of a
    // thought chunk are sometimes a shorter summary).
    if let Some(text) = &chunk_text {
        push_text(turn, text.clone(), is_thought);
    }
    if let Some(Value::Array(parts)) = chunk.remove("parts") {
        for part in parts {
            let mut part = match part {
                Value::Object(part) => part,
                Value::String(text) => {
                    let mut m = Map::new();
                    m.insert("text".to_owned(), Value::String(text));
                    m
                }
                _ => continue,
            };
            let part_text = part.get("text").and_then(Value::as_str).unwrap_or("");
            // A part whose text the chunk's `text` does not already hold (a thought chunk's
            // parts are sometimes a different summary) keeps its text too.
            let duplicate = chunk_text.as_deref().is_some_and(|t| t.contains(part_text));
            if !duplicate && !part_text.is_empty() {
                let thought =
                    is_thought || part.get("thought").and_then(Value::as_bool) == Some(true);
                push_text(turn, part_text.to_owned(), thought);
            }
            structured(turn, &part);
            part.retain(|k, _| !PART_FIELDS.contains(&k.as_str()));
            if !part.is_empty() {
                turn.parts.push(Part::Raw {
                    kind: "aistudio.part".to_owned(),
                    value: Value::Object(part),
                });
            }
        }
    }
    structured(turn, &chunk);
    for (kind, reference) in [
        ("driveDocument", None),
        ("driveVideo", None),
        ("driveAudio", None),
        ("driveImage", Some(())),
        ("youtubeVideo", None),
    ] {
        let Some(obj) = chunk.get(kind) else { continue };
        let id = obj.get("id").and_then(Value::as_str).unwrap_or("");
        let mime = obj
            .get("mimeType")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if reference.is_some() {
            turn.parts.push(Part::Image {
                reference: Some(format!("drive:{id}")),
                mime_type: mime,
                width: None,
                height: None,
                data: None,
            });
            continue;
        }
        let name = if kind == "youtubeVideo" {
            format!("https://www.youtube.com/watch?v={id}")
        } else {
            obj.get("name")
                .or_else(|| obj.get("title"))
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .map_or_else(|| format!("drive:{id}"), str::to_owned)
        };
        let size = obj.get("sizeBytes").and_then(|s| match s {
            Value::String(s) => s.parse().ok(),
            other => other.as_u64(),
        });
        attach(turn, name, size, mime, None);
    }
    if let Some(grounding) = chunk.get_mut("grounding").and_then(Value::as_object_mut) {
        for key in ["groundingSources", "groundingChunks"] {
            let Some(Value::Array(sources)) = grounding.remove(key) else {
                continue;
            };
            for source in sources {
                let web = source.get("web").unwrap_or(&source);
                let url = web.get("uri").and_then(Value::as_str).map(str::to_owned);
                let title = web.get("title").and_then(Value::as_str).map(str::to_owned);
                if url.is_some() || title.is_some() {
                    turn.parts.push(Part::Citation { title, url });
                }
            }
        }
        if grounding.is_empty() {
            chunk.remove("grounding");
        }
    }
    let finish = chunk.get("finishReason").and_then(Value::as_str);
    if chunk.contains_key("errorMessage") || finish.is_some_and(|f| f != "STOP" && !f.is_empty()) {
        turn.interrupted = true;
    }
    if turn.created_at.is_none() {
        turn.created_at = chunk
            .get("createTime")
            .and_then(chat_parse::time::from_value);
    }
    chunk.retain(|k, _| !CHUNK_FIELDS.contains(&k.as_str()));
    if !chunk.is_empty() {
        turn.parts.push(Part::Raw {
            kind: "aistudio.chunk".to_owned(),
            value: Value::Object(chunk),
        });
    }
}

fn push_text(turn: &mut Turn, text: String, thought: bool) {
    if thought {
        turn.parts.push(Part::Reasoning { text });
    } else {
        turn.texts.push(text);
    }
}

/// Code, code results and inline data found on a chunk or a part.
fn structured(turn: &mut Turn, obj: &Map<String, Value>) {
    if let Some(code) = obj.get("executableCode") {
        turn.parts.push(Part::Code {
            language: code
                .get("language")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase),
            text: code
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        });
    }
    if let Some(result) = obj.get("codeExecutionResult") {
        let outcome = result.get("outcome").and_then(Value::as_str).unwrap_or("");
        turn.parts.push(Part::ToolResult {
            name: Some("code_execution".to_owned()),
            call_id: None,
            text: result
                .get("output")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            is_error: !outcome.is_empty() && outcome != "OUTCOME_OK",
        });
    }
    for key in ["inlineImage", "inlineFile", "inlineData"] {
        let Some(inline) = obj.get(key) else { continue };
        let mime = inline
            .get("mimeType")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let data = inline
            .get("data")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let name = inline
            .get("name")
            .or_else(|| inline.get("fileName"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let is_image = mime.as_deref().is_some_and(|m| m.starts_with("image/"));
        if is_image && name.is_none() {
            turn.parts.push(Part::Image {
                reference: None,
                mime_type: mime,
                width: None,
                height: None,
                data,
            });
        } else {
            let size = data.as_deref().map(base64_len);
            let name = name.unwrap_or_else(|| {
                format!(
                    "inline file {} ({})",
                    turn.attachments.len() + 1,
                    mime.as_deref().unwrap_or("unknown type")
                )
            });
            attach(turn, name, size, mime, data);
        }
    }
}

fn attach(
    turn: &mut Turn,
    name: String,
    size: Option<u64>,
    mime: Option<String>,
    data: Option<String>,
) {
    turn.parts.push(Part::Attachment {
        name: name.clone(),
        size,
        mime_type: mime.clone(),
        extracted_text: None,
    });
    turn.attachments.push(Attachment {
        message_source_id: None,
        name,
        size,
        mime_type: mime,
        data,
    });
}

/// Decoded length of base64 text.
fn base64_len(data: &str) -> u64 {
    let n = data.trim_end().trim_end_matches('=').len() as u64;
    n * 3 / 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_lengths() {
        assert_eq!(base64_len("iVBORw0KGgo="), 8);
        assert_eq!(base64_len("YQ=="), 1);
        assert_eq!(base64_len(""), 0);
    }
}
