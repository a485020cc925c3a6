//! Unknown content shapes put into an input's messages, for the property half of the test:
//! a future export adds a field, a block, a part, a content type or an event that no parser
//! knows, holding text. Wherever it lands, that text must be stored.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::extract::Format;

/// One injection: where (picked by `seed`), what shape, and the key, type name and text.
#[derive(Debug, Clone)]
pub struct Injection {
    pub seed: usize,
    pub shape: u8,
    pub key: String,
    pub kind: String,
    pub text: String,
}

/// Keys and type names no format uses, and a few words of prose (with a rare word so it is
/// not found by chance).
pub fn injection() -> impl Strategy<Value = Injection> {
    (
        any::<usize>(),
        0u8..4,
        "[a-z]{3,8}",
        "[a-z]{3,8}",
        prop::collection::vec("[a-zA-Z\u{e9}\u{4e2d}]{2,9}", 2..5),
        any::<u32>(),
    )
        .prop_map(|(seed, shape, key, kind, words, tag)| Injection {
            seed,
            shape,
            key: format!("x_{key}"),
            kind: format!("future_{kind}"),
            text: format!("{} qz{tag:x}", words.join(" ")),
        })
}

/// The objects of `value` for which `pick` says yes, as JSON pointers.
fn pointers(value: &Value, pick: &dyn Fn(&str, &Value) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), value)];
    while let Some((at, v)) = stack.pop() {
        if pick(&at, v) {
            out.push(at.clone());
        }
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let k = k.replace('~', "~0").replace('/', "~1");
                    stack.push((format!("{at}/{k}"), child));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    stack.push((format!("{at}/{i}"), child));
                }
            }
            _ => {}
        }
    }
    out.sort();
    out
}

fn ends_with_segment(at: &str, segment: &str) -> bool {
    at.rsplit('/').next() == Some(segment)
}

/// The parent of the element at `at` is an array under `key`.
fn in_array_under(at: &str, key: &str) -> bool {
    let mut segments = at.rsplit('/');
    let index = segments.next().unwrap_or("");
    index.parse::<usize>().is_ok() && segments.next() == Some(key)
}

/// Applies `inj` to `root` (a parsed input of `format`); `None` when the input has no place
/// for it.
pub fn apply(format: Format, root: &mut Value, inj: &Injection) -> Option<()> {
    let text = Value::String(inj.text.clone());
    let unknown = |type_key: &str| json!({type_key: inj.kind, inj.key.clone(): inj.text});
    let targets: Vec<String> = match format {
        // Message content objects, and the parts arrays inside them.
        Format::ChatGpt => pointers(root, &|at, v| {
            ends_with_segment(at, "content") && at.contains("/message") && v.is_object()
        }),
        // Content blocks, and the content arrays themselves.
        Format::Claude => pointers(root, &|at, v| {
            (in_array_under(at, "content") && v.is_object() && at.contains("chat_messages"))
                || (ends_with_segment(at, "content")
                    && v.is_array()
                    && at.contains("chat_messages"))
        }),
        Format::Copilot => pointers(root, &|at, v| {
            (in_array_under(at, "response") && v.is_object())
                || (ends_with_segment(at, "response") && v.is_array())
        }),
        Format::AiStudio => pointers(root, &|at, v| {
            (in_array_under(at, "chunks") || in_array_under(at, "parts")) && v.is_object()
        }),
        Format::Takeout => pointers(root, &|at, v| {
            at.matches('/').count() == 1
                && v.get("title")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.starts_with("Prompted") || t.starts_with("送信"))
        }),
        Format::Transcript | Format::CopilotLog => Vec::new(),
    };
    if targets.is_empty() {
        return None;
    }
    let at = &targets[inj.seed % targets.len()];
    let target = root.pointer_mut(at)?;
    match (format, target) {
        (Format::ChatGpt, Value::Object(content)) => match inj.shape {
            // A field a newer export adds beside the known ones.
            0 => {
                content.insert(inj.key.clone(), text);
            }
            // A content type nobody knows.
            1 => *content = as_map(unknown("content_type")),
            // A part object of an unknown type.
            2 => match content.get_mut("parts") {
                Some(Value::Array(parts)) => parts.push(unknown("content_type")),
                _ => {
                    content.insert(inj.key.clone(), text);
                }
            },
            // Text in `parts` of a content type that normally has a text field.
            _ => {
                let kinds = ["code", "execution_output", "tether_quote", "system_error"];
                *content = as_map(json!({
                    "content_type": kinds[inj.seed % kinds.len()],
                    "parts": [inj.text],
                }));
            }
        },
        (Format::Claude | Format::Copilot, Value::Array(items)) => {
            let type_key = if format == Format::Claude {
                "type"
            } else {
                "kind"
            };
            items.push(unknown(type_key));
        }
        (_, Value::Object(obj)) => {
            obj.insert(inj.key.clone(), text);
        }
        _ => return None,
    }
    Some(())
}

/// Adds an unknown field to the data of one message event of a Copilot event log, or an
/// unknown event after the first message.
pub fn apply_to_log(bytes: &[u8], inj: &Injection) -> Option<Vec<u8>> {
    let mut lines: Vec<Value> = bytes
        .split(|&b| b == b'\n')
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect();
    let messages: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            let t = e.get("type").and_then(Value::as_str).unwrap_or("");
            t.starts_with("user.") || t.starts_with("assistant.message") || t.starts_with("tool.")
        })
        .map(|(i, _)| i)
        .collect();
    let i = *messages.get(inj.seed % messages.len().max(1))?;
    if inj.shape.is_multiple_of(2) {
        let data = lines[i].get_mut("data")?.as_object_mut()?;
        data.insert(inj.key.clone(), Value::String(inj.text.clone()));
    } else {
        let event = json!({
            "type": format!("session.{}", inj.kind),
            "data": {inj.key.clone(): inj.text},
            "id": format!("injected-{}", inj.seed),
            "timestamp": null,
            "parentId": null,
        });
        lines.insert(i + 1, event);
    }
    let mut out = Vec::new();
    for line in lines {
        out.extend(serde_json::to_vec(&line).ok()?);
        out.push(b'\n');
    }
    Some(out)
}

fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
