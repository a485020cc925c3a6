//! Replay of VS Code's `ObjectMutationLog` (`chatSessions/<id>.jsonl`) into the session state.
//!
//! One JSON entry per line: `{kind:0, v}` sets the whole state (first line; it reappears when
//! VS Code compacts the log, and then resets the state), `{kind:1, k, v}` sets the value at
//! path `k`, `{kind:2, k, v?, i?}` truncates the array at `k` to `i` when `i` is given and then
//! appends the items `v`, `{kind:3, k}` deletes the property at `k`. This follows VS Code's own
//! `ObjectMutationLog.read` (`objectMutationLog.ts`), with three differences made for import:
//! a line that cannot be read or applied is reported and skipped instead of failing the file;
//! a push whose `i` lies beyond the array's end does not pad it with holes; and a set at an
//! array index one past the end appends.
//!
//! Paths are at most [`MAX_PATH_LEN`] long. Each entry's JSON is parsed with serde_json's
//! nesting limit, so together this bounds the depth of the replayed state: no log can build a
//! value deep enough to overflow the stack when it is later walked, serialised or dropped.

use chat_parse::json::ArrayStream;
use chat_parse::{ItemError, ItemRef, Location, ParseError};
use serde_json::{Map, Value};

/// The longest path an entry may name (VS Code's session schema is a few levels deep).
pub(crate) const MAX_PATH_LEN: usize = 64;

/// The result of replaying a log.
#[derive(Debug, Default)]
pub(crate) struct Replayed {
    /// The state after the last readable entry, when there was an initial entry.
    pub state: Option<Value>,
    /// One error per line that could not be read or applied.
    pub errors: Vec<ItemError>,
    /// How many non-blank lines there were.
    pub lines: u64,
}

/// Replays the log in `bytes` (without a byte-order mark; `base` is the offset of `bytes[0]` in
/// the input). Only an input without any readable initial entry is an error.
pub(crate) fn replay(bytes: &[u8], base: u64, input: &str) -> Result<Replayed, ParseError> {
    let mut out = Replayed::default();
    let mut first_truncated: Option<u64> = None;
    let mut before_initial: Vec<u64> = Vec::new();
    let mut pos = 0usize;
    let mut line_no = 0u64;
    while pos < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |p| pos + p);
        let line = &bytes[pos..end];
        let start = base + pos as u64;
        let last = end == bytes.len();
        pos = end + 1;
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.lines += 1;
        let entry = match read_entry(line, start, line_no, last, input) {
            Ok(entry) => entry,
            Err((error, truncated)) => {
                if truncated && out.lines == 1 {
                    first_truncated = Some(start);
                }
                out.errors.push(error);
                continue;
            }
        };
        if let Err((message, path)) = apply(&mut out.state, entry) {
            if message == NO_STATE {
                before_initial.push(line_no);
                continue;
            }
            out.errors.push(line_error(
                line_no,
                start,
                message,
                path,
                "the entry was skipped and the rest of the log replayed; the chat may miss this \
                 change",
                line,
            ));
        }
    }
    if out.lines == 0 {
        return Err(ParseError::Empty {
            input: input.to_owned(),
        });
    }
    if out.state.is_none() {
        if let Some(offset) = first_truncated {
            return Err(ParseError::Truncated {
                input: input.to_owned(),
                offset,
                items_complete: 0,
            });
        }
        return Err(ParseError::Syntax {
            input: input.to_owned(),
            offset: base,
            message: "the chat session log has no readable initial state (a line with kind 0)"
                .to_owned(),
        });
    }
    if let Some(&first) = before_initial.first() {
        out.errors.push(ItemError {
            item: ItemRef {
                index: Some(first - 1),
                ..ItemRef::default()
            },
            message: format!(
                "{} log entries (from line {first}) came before any initial state and were \
                 ignored",
                before_initial.len()
            ),
            location: Location::default(),
            hint: "the start of the log is damaged; the chat was rebuilt from what followed"
                .to_owned(),
            raw: None,
        });
    }
    Ok(out)
}

const NO_STATE: &str = "no initial state";

fn line_error(
    line_no: u64,
    offset: u64,
    message: impl std::fmt::Display,
    json_path: Option<String>,
    hint: &str,
    raw: &[u8],
) -> ItemError {
    ItemError {
        item: ItemRef {
            index: Some(line_no - 1),
            ..ItemRef::default()
        },
        message: format!("line {line_no}: {message}"),
        location: Location {
            byte_offset: Some(offset),
            json_path,
        },
        hint: hint.to_owned(),
        raw: Some(raw.to_vec()),
    }
}

/// One line as a JSON object. The error says whether the line was cut off.
// The error is the cold path (one per bad line) and goes by value into the error list.
#[allow(clippy::result_large_err)]
pub(crate) fn read_entry(
    line: &[u8],
    start: u64,
    line_no: u64,
    last: bool,
    input: &str,
) -> Result<Map<String, Value>, (ItemError, bool)> {
    let first = line.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first != Some(b'{') {
        return Err((
            line_error(
                line_no,
                start,
                "the line is not a JSON object, so it is not a log entry",
                None,
                "the line was skipped and the rest of the log replayed",
                line,
            ),
            false,
        ));
    }
    let mut stream = ArrayStream::new(line, input);
    match stream.next_element() {
        Ok(Some(element)) => match element.parse::<Value>() {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err((
                line_error(
                    line_no,
                    start,
                    "the line is not a JSON object",
                    None,
                    "the line was skipped and the rest of the log replayed",
                    line,
                ),
                false,
            )),
            Err(mut error) => {
                error.item.index = Some(line_no - 1);
                error.message = format!("line {line_no}: {}", error.message);
                error.location.byte_offset = Some(start + error.location.byte_offset.unwrap_or(0));
                Err((error, false))
            }
        },
        Ok(None) => Err((
            line_error(
                line_no,
                start,
                "the line holds no JSON",
                None,
                "the line was skipped",
                line,
            ),
            false,
        )),
        Err(ParseError::Truncated { .. }) => {
            let (message, hint) = if last {
                (
                    "the last line ends before its JSON entry does, so the file was probably cut \
                     off while VS Code was writing it",
                    "every complete line before it was replayed; the last change to the chat is \
                     missing",
                )
            } else {
                (
                    "the line ends before its JSON entry does",
                    "the line was skipped and the rest of the log replayed",
                )
            };
            Err((line_error(line_no, start, message, None, hint, line), true))
        }
        Err(other) => Err((
            line_error(
                line_no,
                start,
                other,
                None,
                "the line was skipped and the rest of the log replayed",
                line,
            ),
            false,
        )),
    }
}

type ApplyError = (String, Option<String>);

/// Applies one entry. Errors carry a message and the JSON path concerned.
fn apply(state: &mut Option<Value>, mut entry: Map<String, Value>) -> Result<(), ApplyError> {
    let kind = entry.get("kind").and_then(Value::as_u64);
    if kind == Some(0) {
        let v = entry.remove("v").ok_or_else(|| {
            (
                "an initial entry (kind 0) without a value `v`".to_owned(),
                None,
            )
        })?;
        *state = Some(v);
        return Ok(());
    }
    if !matches!(kind, Some(1..=3)) {
        return Err((
            format!(
                "unknown log entry kind {}",
                entry
                    .get("kind")
                    .map_or("(missing)".to_owned(), Value::to_string)
            ),
            None,
        ));
    }
    let Some(root) = state.as_mut() else {
        return Err((NO_STATE.to_owned(), None));
    };
    let path = match entry.get("k") {
        Some(Value::Array(path)) => path.clone(),
        _ => return Err(("the entry has no path `k`".to_owned(), None)),
    };
    if path.len() > MAX_PATH_LEN {
        return Err((
            format!(
                "the path is {} levels deep, more than a chat session has",
                path.len()
            ),
            None,
        ));
    }
    if let Some(bad) = path.iter().find(|k| !(k.is_string() || k.is_u64())) {
        return Err((format!("the path holds {bad}, not a key or an index"), None));
    }
    let shown = render_path(&path);
    let fail = |message: String| (message, Some(shown.clone()));
    match kind {
        Some(1) => {
            let value = entry.remove("v").unwrap_or(Value::Null);
            set(root, &path, value).map_err(fail)
        }
        Some(2) => {
            let items = match entry.remove("v") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items,
                Some(_) => return Err(fail("a push whose items `v` are not an array".to_owned())),
            };
            let truncate = match entry.get("i") {
                None | Some(Value::Null) => None,
                Some(i) => match i.as_u64() {
                    Some(i) => Some(usize::try_from(i).unwrap_or(usize::MAX)),
                    None => return Err(fail(format!("a push with an invalid index {i}"))),
                },
            };
            push(root, &path, items, truncate).map_err(fail)
        }
        _ => delete(root, &path).map_err(fail),
    }
}

fn key_string(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn key_index(key: &Value) -> Option<usize> {
    match key {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn child_mut<'v>(value: &'v mut Value, key: &Value) -> Option<&'v mut Value> {
    match value {
        Value::Object(map) => map.get_mut(&key_string(key)?),
        Value::Array(items) => items.get_mut(key_index(key)?),
        _ => None,
    }
}

fn navigate<'v>(root: &'v mut Value, path: &[Value]) -> Result<&'v mut Value, String> {
    let mut current = root;
    for (depth, key) in path.iter().enumerate() {
        current = match child_mut(current, key) {
            Some(child) => child,
            None => {
                return Err(format!(
                    "{} does not exist in the replayed state",
                    render_path(&path[..=depth])
                ))
            }
        };
    }
    Ok(current)
}

fn split_last(path: &[Value]) -> Result<(&[Value], &Value), String> {
    match path.split_last() {
        Some((last, parent)) => Ok((parent, last)),
        None => Err("the entry's path is empty".to_owned()),
    }
}

fn set(root: &mut Value, path: &[Value], value: Value) -> Result<(), String> {
    if path.is_empty() {
        *root = value;
        return Ok(());
    }
    let (parent_path, last) = split_last(path)?;
    let parent = navigate(root, parent_path)?;
    match parent {
        Value::Object(map) => {
            let key = key_string(last).ok_or("the last key is not a string")?;
            map.insert(key, value);
            Ok(())
        }
        Value::Array(items) => {
            let index = key_index(last).ok_or("the last key is not an array index")?;
            match index.cmp(&items.len()) {
                std::cmp::Ordering::Less => {
                    items[index] = value;
                    Ok(())
                }
                std::cmp::Ordering::Equal => {
                    items.push(value);
                    Ok(())
                }
                std::cmp::Ordering::Greater => Err(format!(
                    "index {index} is past the end of an array of {}",
                    items.len()
                )),
            }
        }
        _ => Err(format!(
            "{} is not an object or an array",
            render_path(parent_path)
        )),
    }
}

fn delete(root: &mut Value, path: &[Value]) -> Result<(), String> {
    let (parent_path, last) = split_last(path)?;
    match navigate(root, parent_path)? {
        Value::Object(map) => {
            if let Some(key) = key_string(last) {
                map.remove(&key);
            }
            Ok(())
        }
        Value::Array(items) => {
            // JavaScript leaves a hole, which JSON writes as null.
            if let Some(slot) = key_index(last).and_then(|i| items.get_mut(i)) {
                *slot = Value::Null;
            }
            Ok(())
        }
        _ => Err(format!(
            "{} is not an object or an array",
            render_path(parent_path)
        )),
    }
}

fn push(
    root: &mut Value,
    path: &[Value],
    items: Vec<Value>,
    truncate: Option<usize>,
) -> Result<(), String> {
    let (parent_path, last) = split_last(path)?;
    let parent = navigate(root, parent_path)?;
    let target = match parent {
        Value::Object(map) => {
            let key = key_string(last).ok_or("the last key is not a string")?;
            map.entry(key).or_insert(Value::Null)
        }
        Value::Array(slots) => {
            let index = key_index(last).ok_or("the last key is not an array index")?;
            if index == slots.len() {
                slots.push(Value::Null);
            }
            slots
                .get_mut(index)
                .ok_or_else(|| format!("index {index} is past the end of the array"))?
        }
        _ => {
            return Err(format!(
                "{} is not an object or an array",
                render_path(parent_path)
            ))
        }
    };
    if target.is_null() {
        *target = Value::Array(Vec::new());
    }
    let Value::Array(array) = target else {
        return Err(format!("{} is not an array", render_path(path)));
    };
    if let Some(len) = truncate {
        array.truncate(len);
    }
    array.extend(items);
    Ok(())
}

/// A path as `$.requests[3].response`.
pub(crate) fn render_path(path: &[Value]) -> String {
    let mut out = String::from("$");
    for key in path {
        match key {
            Value::Number(n) => out.push_str(&format!("[{n}]")),
            Value::String(s)
                if !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_') =>
            {
                out.push('.');
                out.push_str(s);
            }
            other => out.push_str(&format!("[{other}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use serde_json::json;

    fn run(log: &str) -> Replayed {
        replay(log.as_bytes(), 0, "t.jsonl").unwrap()
    }

    #[test]
    fn all_four_kinds_replay_in_order() {
        let log = concat!(
            r#"{"kind":0,"v":{"a":{"b":1},"list":[1,2,3],"gone":true}}"#,
            "\n",
            r#"{"kind":1,"k":["a","b"],"v":2}"#,
            "\n",
            r#"{"kind":2,"k":["list"],"v":[9],"i":1}"#,
            "\n",
            r#"{"kind":2,"k":["fresh"],"v":[1]}"#,
            "\n",
            r#"{"kind":3,"k":["gone"]}"#,
            "\n"
        );
        let r = run(log);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(
            r.state.unwrap(),
            json!({"a": {"b": 2}, "list": [1, 9], "fresh": [1]})
        );
    }

    #[test]
    fn bad_lines_are_reported_and_skipped() {
        let log = "{\"kind\":0,\"v\":{\"x\":[]}}\n{oops\n{\"kind\":1,\"k\":[\"y\",\"z\"],\"v\":1}\n{\"kind\":7}\n{\"kind\":2,\"k\":[\"x\"],\"v\":[1]}\n{\"kind\":1,\"k\":[\"x\",0],\"v\":";
        let r = run(log);
        assert_eq!(r.state.unwrap(), json!({"x": [1]}));
        let messages: Vec<_> = r.errors.iter().map(|e| e.message.clone()).collect();
        assert_eq!(r.errors.len(), 4, "{messages:?}");
        assert!(messages[0].starts_with("line 2:"), "{messages:?}");
        assert_eq!(r.errors[0].location.byte_offset, Some(24));
        assert!(messages[1].contains("$.y does not exist"), "{messages:?}");
        assert!(messages[2].contains("unknown log entry kind 7"));
        assert!(messages[3].contains("cut off"), "{messages:?}");
    }

    #[test]
    fn deep_paths_are_refused() {
        let path: Vec<Value> = (0..100).map(|_| json!("a")).collect();
        let entry = json!({"kind": 1, "k": path, "v": 1});
        let log = format!("{{\"kind\":0,\"v\":{{}}}}\n{entry}\n");
        let r = run(&log);
        assert_eq!(r.errors.len(), 1);
    }

    #[test]
    fn logs_without_an_initial_state_are_errors() {
        assert!(matches!(
            replay(b"  \n\n", 0, "e"),
            Err(ParseError::Empty { .. })
        ));
        assert!(matches!(
            replay(b"{\"kind\":0,\"v\":{\"requ", 0, "e"),
            Err(ParseError::Truncated { offset: 0, .. })
        ));
        assert!(matches!(
            replay(b"{\"kind\":1,\"k\":[],\"v\":1}\n", 0, "e"),
            Err(ParseError::Syntax { .. })
        ));
    }
}
