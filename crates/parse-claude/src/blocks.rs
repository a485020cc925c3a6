//! A message's `content[]` blocks to visible text and parts.
//!
//! Each known block type gives its modelled parts; whatever else a known block carries that
//! holds text (a tool call's `message`, a thinking block's summaries next to its prose, a tool
//! result's titled sources) is kept beside them as a `claude.<type>` [`Part::Raw`], and an
//! unknown block is kept whole the same way, so no text of a block is ever dropped.

use std::collections::VecDeque;

use chat_model::Part;
use chat_parse::has_text;
use serde_json::{Map, Value};

/// Block fields that are machinery (timing, rendering flags, opaque signatures), not content:
/// they are not kept beside a known block's parts.
const MACHINERY: &[&str] = &[
    "type",
    "start_timestamp",
    "stop_timestamp",
    "flags",
    "signature",
];

/// Reads `content[]` into parts; returns the visible text (text and voice-note blocks joined by
/// blank lines), or `None` when no block was of a type this parser reads (including no blocks
/// at all).
pub(crate) fn read_blocks(blocks: Vec<Value>, parts: &mut Vec<Part>) -> Option<String> {
    let mut texts: Vec<String> = Vec::new();
    // What known blocks carry beyond their parts, appended after every block's parts.
    let mut rests: Vec<Part> = Vec::new();
    let mut understood = false;
    // Ids of tool calls not yet answered, oldest first, for results without `tool_use_id`.
    let mut pending_calls: VecDeque<String> = VecDeque::new();
    for block in blocks {
        let Value::Object(mut block) = block else {
            parts.push(Part::Raw {
                kind: "claude.unknown".to_owned(),
                value: block,
            });
            continue;
        };
        let kind = match block.get("type") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            _ => "unknown".to_owned(),
        };
        let consumed: Option<&[&str]> = match kind.as_str() {
            "text" => text_block(&block, &mut texts, parts, &mut rests),
            "thinking" => thinking_block(&block, parts),
            "tool_use" => tool_use_block(&mut block, &mut pending_calls, parts),
            "tool_result" => tool_result_block(&block, &mut pending_calls, parts),
            "voice_note" => voice_note_block(&block, &mut texts, parts),
            _ => None,
        };
        understood |= consumed.is_some();
        match consumed {
            Some(consumed) => keep_rest(&kind, block, consumed, &mut rests),
            None => parts.push(Part::Raw {
                kind: format!("claude.{kind}"),
                value: Value::Object(block),
            }),
        }
    }
    parts.append(&mut rests);
    understood.then(|| texts.join("\n\n"))
}

/// Keeps what a known block carries beyond `consumed` and [`MACHINERY`] as a raw part (in
/// `rests`), when any of it is text.
fn keep_rest(kind: &str, mut block: Map<String, Value>, consumed: &[&str], rests: &mut Vec<Part>) {
    block.retain(|k, _| !consumed.contains(&k.as_str()) && !MACHINERY.contains(&k.as_str()));
    if block.values().any(has_text) {
        rests.push(Part::Raw {
            kind: format!("claude.{kind}"),
            value: Value::Object(block),
        });
    }
}

fn opt_str(block: &Map<String, Value>, key: &str) -> Result<Option<String>, ()> {
    match block.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(()),
    }
}

/// A text block: its text (when not empty) and its citations. `None` when its fields have
/// unexpected types, so it is kept raw instead.
fn text_block(
    block: &Map<String, Value>,
    texts: &mut Vec<String>,
    parts: &mut Vec<Part>,
    rests: &mut Vec<Part>,
) -> Option<&'static [&'static str]> {
    let text = opt_str(block, "text").ok()?;
    let citations = match block.get("citations") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => return None,
    };
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        texts.push(text);
    }
    for citation in citations {
        match citation_part(&citation) {
            Some(part) => {
                // A site name, a quoted source: text beyond the title is kept with it.
                let more = says_more_than(&citation, &part);
                parts.push(part);
                if more {
                    rests.push(Part::Raw {
                        kind: "claude.citation".to_owned(),
                        value: citation,
                    });
                }
            }
            None => parts.push(Part::Raw {
                kind: "claude.citation".to_owned(),
                value: citation,
            }),
        }
    }
    Some(&["text", "citations"])
}

/// A citation's title and URL, in either the older (`details.url`) or the newer (`title`,
/// `url`, `metadata.site_name`) shape. `None` when it has neither.
fn citation_part(citation: &Value) -> Option<Part> {
    fn s(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).filter(|s| !s.is_empty())
    }
    let title = s(citation.get("title"))
        .or_else(|| s(citation.pointer("/details/title")))
        .or_else(|| s(citation.pointer("/metadata/site_name")))
        .map(str::to_owned);
    let url = s(citation.get("url"))
        .or_else(|| s(citation.pointer("/details/url")))
        .map(str::to_owned);
    if title.is_none() && url.is_none() {
        return None;
    }
    Some(Part::Citation { title, url })
}

/// Whether a citation holds prose (a string with a space) other than the title its part keeps.
fn says_more_than(citation: &Value, part: &Part) -> bool {
    let Part::Citation { title, .. } = part else {
        return false;
    };
    let mut stack = vec![citation];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if s.trim().contains(' ') && Some(s) != title.as_ref() => return true,
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    false
}

/// The summaries of a thinking block, joined by blank lines.
fn summaries(block: &Map<String, Value>) -> String {
    block
        .get("summaries")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("summary").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n\n")
        })
        .unwrap_or_default()
}

/// A thinking block: its prose, or its summaries when the prose is missing (summaries next to
/// prose are kept raw).
fn thinking_block(
    block: &Map<String, Value>,
    parts: &mut Vec<Part>,
) -> Option<&'static [&'static str]> {
    let thinking = opt_str(block, "thinking").ok()?;
    match thinking.filter(|t| !t.is_empty()) {
        Some(text) => {
            parts.push(Part::Reasoning { text });
            Some(&["thinking"])
        }
        None => {
            parts.push(Part::Reasoning {
                text: summaries(block),
            });
            Some(&["thinking", "summaries"])
        }
    }
}

fn tool_use_block(
    block: &mut Map<String, Value>,
    pending_calls: &mut VecDeque<String>,
    parts: &mut Vec<Part>,
) -> Option<&'static [&'static str]> {
    let (Ok(Some(name)), Ok(id)) = (opt_str(block, "name"), opt_str(block, "id")) else {
        return None;
    };
    let input = block.remove("input").unwrap_or(Value::Null);
    if let Some(id) = &id {
        pending_calls.push_back(id.clone());
    }
    parts.push(Part::ToolCall { name, id, input });
    Some(&["name", "id"])
}

/// Whether a tool result's `content` item says no more than its text.
fn plain_item(item: &Value) -> bool {
    match item {
        Value::String(_) => true,
        Value::Object(map) => map
            .iter()
            .all(|(k, v)| matches!(k.as_str(), "type" | "text" | "uuid") || !has_text(v)),
        _ => false,
    }
}

fn tool_result_block(
    block: &Map<String, Value>,
    pending_calls: &mut VecDeque<String>,
    parts: &mut Vec<Part>,
) -> Option<&'static [&'static str]> {
    let (Ok(name), Ok(call_id)) = (opt_str(block, "name"), opt_str(block, "tool_use_id")) else {
        return None;
    };
    let (text, plain) = match block.get("content") {
        None | Some(Value::Null) => (String::new(), true),
        Some(Value::String(s)) => (s.clone(), true),
        Some(Value::Array(items)) => (
            items
                .iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s.as_str()),
                    other => other.get("text").and_then(Value::as_str),
                })
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n"),
            items.iter().all(plain_item),
        ),
        Some(_) => return None,
    };
    let is_error = match block.get("is_error") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return None,
    };
    let call_id = match call_id {
        Some(id) => {
            if let Some(pos) = pending_calls.iter().position(|p| *p == id) {
                pending_calls.remove(pos);
            }
            Some(id)
        }
        None => pending_calls.pop_front(),
    };
    parts.push(Part::ToolResult {
        name,
        call_id,
        text,
        is_error,
    });
    // Sources with titles and links (`knowledge` items) are kept whole beside the text.
    Some(if plain {
        &["name", "tool_use_id", "content", "is_error"]
    } else {
        &["name", "tool_use_id", "is_error"]
    })
}

/// A voice note: its transcript is what the person said, so it is visible text (and an audio
/// part carrying the transcript).
fn voice_note_block(
    block: &Map<String, Value>,
    texts: &mut Vec<String>,
    parts: &mut Vec<Part>,
) -> Option<&'static [&'static str]> {
    let transcript = opt_str(block, "transcript").ok()?;
    if let Some(text) = transcript.as_ref().filter(|t| !t.trim().is_empty()) {
        texts.push(text.clone());
    }
    parts.push(Part::Audio {
        reference: None,
        transcript,
        media: None,
    });
    Some(&["transcript"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(blocks: Value) -> (Option<String>, Vec<Part>) {
        let Value::Array(blocks) = blocks else {
            unreachable!()
        };
        let mut parts = Vec::new();
        (read_blocks(blocks, &mut parts), parts)
    }

    #[test]
    fn a_voice_note_transcript_is_the_visible_text() {
        let (text, parts) = read(json!([
            {"type": "voice_note", "transcript": "Can you help me with my Python code?",
             "start_timestamp": "2026-01-01T00:00:00Z", "stop_timestamp": null}
        ]));
        assert_eq!(
            text.as_deref(),
            Some("Can you help me with my Python code?")
        );
        assert_eq!(
            parts,
            [Part::Audio {
                reference: None,
                transcript: Some("Can you help me with my Python code?".into()),
                media: None,
            }]
        );
    }

    #[test]
    fn text_a_known_block_carries_beyond_its_parts_is_kept_raw() {
        let (_, parts) = read(json!([
            {"type": "tool_use", "id": "t1", "name": "web_search", "input": {"q": "x"},
             "message": "Searching the web", "integration_name": null},
            {"type": "thinking", "thinking": "prose", "summaries": [{"summary": "a summary"}],
             "signature": "c2lnbmF0dXJl", "cut_off": false},
            {"type": "tool_result", "tool_use_id": "t1", "name": "web_search",
             "content": [{"type": "knowledge", "title": "A page", "url": "https://x", "text": "body"}]},
            {"type": "text", "text": "plain", "citations": [], "start_timestamp": "2026"}
        ]));
        let raws: Vec<(&str, &Value)> = parts
            .iter()
            .filter_map(|p| match p {
                Part::Raw { kind, value } => Some((kind.as_str(), value)),
                _ => None,
            })
            .collect();
        assert_eq!(raws.len(), 3, "{parts:#?}");
        assert_eq!(raws[0].0, "claude.tool_use");
        assert_eq!(raws[0].1["message"], "Searching the web");
        assert_eq!(raws[1].0, "claude.thinking");
        assert_eq!(raws[1].1["summaries"][0]["summary"], "a summary");
        assert!(raws[1].1.get("signature").is_none());
        assert_eq!(raws[2].0, "claude.tool_result");
        assert_eq!(raws[2].1["content"][0]["title"], "A page");
    }
}
