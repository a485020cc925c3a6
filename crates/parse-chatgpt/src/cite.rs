//! Citation markers in answer text.
//!
//! ChatGPT writes two kinds of markers into the text itself:
//!
//! * `【11†source】` (U+3010, U+2020, U+3011), from the browsing tools of 2023–2024, resolved
//!   through `metadata.citations[]` (`start_ix`/`end_ix` in characters, `metadata.title/url`);
//! * private-use tokens such as `\u{E200}cite\u{E202}turn0search0\u{E201}` (U+E200 opens, U+E202
//!   separates, U+E201 closes), from the 2025 search tools, resolved through
//!   `metadata.content_references[]` (`matched_text`, `items[].title/url`, `alt`).
//!
//! A marker the metadata explains becomes a Markdown link, ` ([title](url))`, and a
//! [`Part::Citation`]; an entity token keeps its display name; anything else is removed. Raw
//! markers never reach the visible text.

use std::collections::HashMap;

use chat_model::Part;
use serde_json::Value;

const OPEN: char = '\u{3010}';
const CLOSE: char = '\u{3011}';
const DAGGER: char = '\u{2020}';
const PUA_START: char = '\u{E200}';
const PUA_END: char = '\u{E201}';
const PUA_SEP: char = '\u{E202}';
/// How far a marker may reach before we give up on finding its closing character, in bytes.
const MAX_MARKER: usize = 4096;

fn is_pua(c: char) -> bool {
    ('\u{E200}'..='\u{E2FF}').contains(&c)
}

/// Whether `text` may hold a marker (cheap byte test: U+3010 starts with 0xE3 0x80 0x90,
/// U+E200..U+E2FF with 0xEE 0x88..0x8B).
pub(crate) fn has_markers(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr2_iter(0xE3, 0xEE, b).any(|i| {
        matches!(
            (b[i], b.get(i + 1), b.get(i + 2)),
            (0xE3, Some(0x80), Some(0x90)) | (0xEE, Some(0x88..=0x8B), _)
        )
    })
}

/// One resolved source.
#[derive(Debug, Clone, PartialEq)]
struct Source {
    title: String,
    url: String,
}

fn source_from(v: &Value) -> Option<Source> {
    let url = v.get("url").and_then(Value::as_str)?.trim();
    if url.is_empty() {
        return None;
    }
    let title = v
        .get("title")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .or_else(|| v.get("attribution").and_then(Value::as_str))
        .unwrap_or(url);
    Some(Source {
        title: title.replace(['[', ']'], ""),
        url: url.replace(' ', "%20").replace(')', "%29"),
    })
}

fn render(sources: &[Source]) -> String {
    let links: Vec<String> = sources
        .iter()
        .map(|s| format!("[{}]({})", s.title, s.url))
        .collect();
    format!("({})", links.join(", "))
}

/// Rewrites the markers of `text`, pushing a [`Part::Citation`] per distinct source into
/// `parts`. `citations` and `references` are the message's `metadata.citations` and
/// `metadata.content_references`.
pub(crate) fn resolve(
    text: &str,
    citations: &[Value],
    references: &[Value],
    parts: &mut Vec<Part>,
) -> String {
    if !has_markers(text) {
        return text.to_owned();
    }
    let mut known: HashMap<String, Vec<Source>> = HashMap::new();
    let mut literal: HashMap<String, String> = HashMap::new();
    for r in references {
        let Some(matched) = r.get("matched_text").and_then(Value::as_str) else {
            continue;
        };
        if !matched.chars().any(|c| c == OPEN || is_pua(c)) {
            continue;
        }
        let mut sources: Vec<Source> = r
            .get("items")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(source_from).collect())
            .unwrap_or_default();
        if sources.is_empty() {
            sources.extend(source_from(r));
        }
        if sources.is_empty() {
            // No link to make: an `alt` text (a readable rendering), if any, or nothing.
            let alt = r.get("alt").and_then(Value::as_str).unwrap_or("");
            if !alt.chars().any(|c| c == OPEN || is_pua(c)) {
                literal.insert(matched.to_owned(), alt.trim().to_owned());
            }
            continue;
        }
        known.insert(matched.to_owned(), sources);
    }
    if !citations.is_empty() {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        for c in citations {
            let start = c.get("start_ix").and_then(Value::as_u64);
            let end = c.get("end_ix").and_then(Value::as_u64);
            let (Some(start), Some(end)) = (start, end) else {
                continue;
            };
            let (start, end) = (start as usize, end as usize);
            if start >= end || end > chars.len() {
                continue;
            }
            let from = chars[start].0;
            let to = chars.get(end).map_or(text.len(), |(i, _)| *i);
            let marker = &text[from..to];
            if !marker.starts_with(OPEN) {
                continue;
            }
            if let Some(source) = c.get("metadata").and_then(source_from) {
                known.entry(marker.to_owned()).or_default().push(source);
            }
        }
    }

    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let marker_end = if c == OPEN {
            find_close(rest, CLOSE).filter(|&e| rest[..e].contains(DAGGER))
        } else if c == PUA_START {
            find_close(rest, PUA_END)
        } else {
            None
        };
        if let Some(end) = marker_end {
            let marker = &rest[..end];
            if let Some(sources) = known.get(marker) {
                push_spaced(&mut out, &render(sources));
                for s in sources {
                    let part = Part::Citation {
                        title: Some(s.title.clone()),
                        url: Some(s.url.clone()),
                    };
                    if !parts.contains(&part) {
                        parts.push(part);
                    }
                }
            } else if let Some(alt) = literal.get(marker) {
                push_spaced(&mut out, alt);
            } else if c == PUA_START {
                push_spaced(&mut out, &token_text(marker));
            }
            rest = &rest[end..];
            tidy_after_removal(&mut out, rest);
            continue;
        }
        if !is_pua(c) {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The byte index just past the first `close` in `s` (within [`MAX_MARKER`] bytes).
fn find_close(s: &str, close: char) -> Option<usize> {
    let mut n = MAX_MARKER.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    s[..n].find(close).map(|i| i + close.len_utf8())
}

/// What an unresolved private-use token reads as: the display name of an `entity` token
/// (`entity["city","Paris","capital of France"]`), nothing for the others.
fn token_text(marker: &str) -> String {
    let inner = marker
        .trim_start_matches(PUA_START)
        .trim_end_matches(PUA_END);
    let mut fields = inner.split(PUA_SEP);
    let kind = fields.next().unwrap_or("");
    if kind != "entity" {
        return String::new();
    }
    let payload = fields.next().unwrap_or("");
    match serde_json::from_str::<Value>(payload) {
        Ok(Value::Array(items)) => items
            .get(1)
            .and_then(Value::as_str)
            .map(|s| s.chars().filter(|c| !is_pua(*c)).collect())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Appends `s`, with a space before it when the text so far does not end in white space.
fn push_spaced(out: &mut String, s: &str) {
    if s.is_empty() {
        return;
    }
    if out.chars().next_back().is_some_and(|c| !c.is_whitespace()) && !s.starts_with(' ') {
        out.push(' ');
    }
    out.push_str(s);
}

/// After a marker, drop a space left dangling before punctuation (`word 【1†x】.` → `word.`).
fn tidy_after_removal(out: &mut String, rest: &str) {
    if out.ends_with(' ') && rest.starts_with(['.', ',', ';', ':', '!', '?']) {
        out.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_text_is_untouched() {
        let mut parts = Vec::new();
        assert_eq!(
            resolve("hello 【 world", &[], &[], &mut parts),
            "hello 【 world"
        );
        assert!(parts.is_empty());
    }

    #[test]
    fn unknown_markers_are_removed() {
        let mut parts = Vec::new();
        let text = "Paris 【11†source】. Also \u{E200}cite\u{E202}turn0search0\u{E201}! \u{E203}x";
        assert_eq!(resolve(text, &[], &[], &mut parts), "Paris. Also! x");
    }

    #[test]
    fn entity_tokens_keep_their_name() {
        let mut parts = Vec::new();
        let text = "Visit \u{E200}entity\u{E202}[\"city\",\"Paris\",\"capital\"]\u{E201} now";
        assert_eq!(resolve(text, &[], &[], &mut parts), "Visit Paris now");
    }

    #[test]
    fn references_become_links() {
        let mut parts = Vec::new();
        let refs = [
            json!({"matched_text": "\u{E200}cite\u{E202}turn0search0\u{E201}",
            "items": [{"title": "Wiki [x]", "url": "https://w.example/a b"}]}),
        ];
        let out = resolve(
            "Fact\u{E200}cite\u{E202}turn0search0\u{E201}.",
            &[],
            &refs,
            &mut parts,
        );
        assert_eq!(out, "Fact ([Wiki x](https://w.example/a%20b)).");
        assert_eq!(parts.len(), 1);
    }

    #[test]
    fn char_indexed_citations_become_links() {
        let mut parts = Vec::new();
        let text = "Été 【4†source】";
        let cites = [json!({"start_ix": 4, "end_ix": 14,
            "metadata": {"title": "T", "url": "https://t.example"}})];
        assert_eq!(
            resolve(text, &cites, &[], &mut parts),
            "Été ([T](https://t.example))"
        );
    }
}
