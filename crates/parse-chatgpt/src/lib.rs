//! Parser for ChatGPT data exports (`conversations.json` and the 2026 shards
//! `conversations-NNN.json`), behind the [`chat_parse::Parser`] trait.
//!
//! # Design
//!
//! * **Streaming.** [`chat_parse::json::ArrayStream`] cuts the top-level array (or the array under
//!   `{"conversations": [...]}`, or a single conversation object) into one element at a time, so
//!   memory is bounded by the largest conversation, not the file (real exports reach 3.5 GB).
//!   Each element becomes one [`ParsedConversation`], one [`chat_parse::ItemError`] or one
//!   [`Skipped`] note
//!   (project and folder rows have no `mapping`); the rest of the file always goes on.
//! * **Typed and lenient.** Elements are deserialised straight into typed structs (module `raw`)
//!   whose scalar fields accept any JSON type and keep only what they expect. Only the open-ended
//!   parts stay [`serde_json::Value`]: message content (new `content_type`s appear all the time
//!   and are kept raw as `Part::Raw { kind: "chatgpt.<type>" }`) and the conversation's unmodelled
//!   fields (kept in `extra`). This is both faster than a `Value` tree and more forgiving: a
//!   number where a title was expected costs the title, not the conversation. Errors are still
//!   precise: when the fast path fails, the element is re-read through
//!   [`chat_parse::json::Element::parse`], which repairs lone surrogates and, failing that,
//!   names the JSON path and byte offset.
//! * **Every branch.** All nodes of the mapping become messages, parents before children;
//!   children are rebuilt from `parent` links (2026 exports omit `children` entries), nodes
//!   without a message (the empty root) pass their children to the nearest kept ancestor. Walks
//!   are iterative and cycles are broken deterministically (module `tree`): 100,000 nodes or a
//!   corrupt loop are just inputs. The active leaf is `current_node` (or its nearest kept
//!   ancestor); when that is missing or dangling, the leaf with the latest `create_time`.
//! * **Hidden, not dropped.** System prompts, memory/custom-instruction context, tool calls and
//!   results, reasoning, browsing displays and quotes are kept with `hidden = true` and their
//!   structure in parts (module `convert`), so a transcript view shows what ChatGPT showed while
//!   nothing is lost. An assistant node with no text and no parts (the placeholder written
//!   before a tool call) is hidden too. A content type whose text sits in `parts` rather than in
//!   its own field (`code`, `execution_output`, `system_error`, `tether_quote`,
//!   `tether_browsing_display`, `user_editable_context`) keeps it, and whatever a known content
//!   type carries beyond the fields read from it is kept raw when it holds text.
//! * **Citations.** `【11†source】` markers and private-use `cite` tokens are turned into Markdown
//!   links from the message metadata, or removed (module `cite`); they never reach visible text.
//!
//! Message-level operational metadata (request ids, search result dumps, status, weights) is
//! not kept: only what carries meaning (model, finish reason, hidden flags, attachments,
//! citations) is read from it.

mod cite;
mod convert;
mod raw;
mod tree;

use std::collections::HashMap;

use chat_model::{derive_title, timestamp, Attachment, ParsedConversation, Source};
use chat_parse::json::{ArrayStream, Element};
use chat_parse::{
    stable_id, Confidence, Flow, Input, ItemRef, Parser, Probe, Result, Sink, Skipped,
};
use serde_json::Value;

use crate::tree::TreeNode;

/// The key under which some tools wrap the conversation array.
const WRAPPER_KEYS: &[&str] = &["conversations"];

/// Reads ChatGPT exports. See the crate docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChatGptParser;

impl Parser for ChatGptParser {
    fn source(&self) -> Source {
        Source::Chatgpt
    }

    fn name(&self) -> &'static str {
        "ChatGPT export"
    }

    fn detect(&self, probe: &Probe<'_>) -> Confidence {
        detect(probe)
    }

    fn parse(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<()> {
        let mut stream =
            ArrayStream::new(&mut *input.reader, input.name).with_wrapper_keys(WRAPPER_KEYS);
        loop {
            let flow = match stream.next_element()? {
                None => return Ok(()),
                Some(el) => read_element(&el, sink),
            };
            sink.progress(stream.bytes_read());
            if flow == Flow::Stop {
                return Ok(());
            }
        }
    }
}

/// Structure-based detection: a `mapping` key together with the conversation keys that come
/// with it, or the node shape inside it. Claude exports (`chat_messages`) and Takeout files
/// (`header`/`products`) never have a `mapping`.
fn detect(probe: &Probe<'_>) -> Confidence {
    if !matches!(probe.first_byte(), Some(b'[' | b'{')) || probe.looks_like_html() {
        return Confidence::NONE;
    }
    if probe.has_key("chat_messages") && !probe.has_key("mapping") {
        return Confidence::NONE;
    }
    let mapping = probe.has_key("mapping");
    let conversation_keys = probe.has_key("current_node")
        || probe.has_key("conversation_id")
        || (probe.has_key("create_time") && probe.has_key("title"));
    let node_shape = probe.has_key("author") && probe.has_key("content_type");
    if mapping && (conversation_keys || node_shape) {
        Confidence::HIGH
    } else if mapping || (probe.has_key("current_node") && probe.has_key("conversation_id")) {
        Confidence::MEDIUM
    } else if node_shape && probe.has_key("parent") {
        Confidence::LOW
    } else {
        Confidence::NONE
    }
}

/// Reads one element and pushes what it is into the sink.
fn read_element(el: &Element<'_>, sink: &mut dyn Sink) -> Flow {
    let raw = match el.parse::<raw::Conversation>() {
        Ok(c) => c,
        Err(mut err) => {
            fill_item_ref(el, &mut err.item);
            return sink.item_error(err);
        }
    };
    match conversation(raw) {
        Ok(c) => sink.conversation(c),
        Err(reason) => sink.skipped(Skipped {
            item: reason.item(el.index),
            reason: reason.reason,
        }),
    }
}

/// Fills the id and title of a failed item from a lenient reading of its bytes, when possible
/// (everything but those keys is skipped, so even a too deeply nested item gives its name).
fn fill_item_ref(el: &Element<'_>, item: &mut ItemRef) {
    #[derive(serde::Deserialize)]
    struct Names {
        #[serde(default)]
        id: raw::LStr,
        #[serde(default)]
        conversation_id: raw::LStr,
        #[serde(default)]
        title: raw::LStr,
    }
    if el.oversize {
        return;
    }
    let text = String::from_utf8_lossy(el.bytes);
    let repaired = chat_parse::json::repair_lone_surrogates(text.as_bytes());
    let mut de = serde_json::Deserializer::from_slice(&repaired);
    if let Ok(names) = serde::Deserialize::deserialize(&mut de) {
        let Names {
            id,
            conversation_id,
            title,
        } = names;
        let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
        item.id = non_empty(id.0).or(non_empty(conversation_id.0));
        item.title = non_empty(title.0);
    }
}

/// Why an element was passed over.
#[derive(Debug)]
struct NotAConversation {
    id: Option<String>,
    title: Option<String>,
    reason: String,
}

impl NotAConversation {
    fn item(&self, index: u64) -> ItemRef {
        ItemRef {
            index: Some(index),
            id: self.id.clone(),
            title: self.title.clone(),
        }
    }
}

/// The mapping's tree (parents before children, cycles broken) and the active leaf: the node
/// `current_node` names (or its nearest kept ancestor), else the latest leaf.
fn walk(
    mapping: &[(String, raw::Node)],
    current_node: Option<&str>,
) -> (tree::Tree, Option<usize>) {
    // Duplicate keys: the last one wins, as in any JSON object.
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(mapping.len());
    for (i, (key, _)) in mapping.iter().enumerate() {
        index.insert(key.as_str(), i);
    }
    let mut nodes: Vec<TreeNode<'_>> = mapping
        .iter()
        .enumerate()
        .map(|(i, (key, node))| {
            let alive = index.get(key.as_str()) == Some(&i);
            let message = node.message.0.as_ref();
            TreeNode {
                key: key.as_str(),
                parent: if alive {
                    node.parent.0.as_deref().and_then(|p| index.get(p).copied())
                } else {
                    None
                },
                time: message
                    .and_then(|m| m.create_time.0)
                    .map(timestamp::to_millis),
                kept: alive && message.is_some(),
            }
        })
        .collect();
    tree::break_cycles(&mut nodes);
    let tree = tree::build(&nodes);
    let current = current_node
        .and_then(|c| index.get(c))
        .and_then(|&i| tree.nearest_kept[i]);
    let leaf = current.or_else(|| tree.latest_leaf(&nodes));
    (tree, leaf)
}

/// Builds the conversation from its raw form.
fn conversation(
    raw: raw::Conversation,
) -> std::result::Result<ParsedConversation, NotAConversation> {
    let raw::Conversation {
        id,
        conversation_id,
        title,
        create_time,
        update_time,
        mapping,
        current_node,
        default_model_slug,
        is_archived,
        mut extra,
    } = raw;
    let non_empty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    let (id, conversation_id) = (non_empty(id), non_empty(conversation_id));
    let title = non_empty(title);
    let Some(mut mapping) = mapping else {
        let what = match extra.get("type").or_else(|| extra.get("kind")) {
            Some(Value::String(kind)) => format!("a {kind} entry"),
            _ => "an entry".to_owned(),
        };
        return Err(NotAConversation {
            id: id.or(conversation_id),
            title,
            reason: format!(
                "{what} without a `mapping` (a project or folder row, not a conversation)"
            ),
        });
    };

    let (tree, leaf) = walk(&mapping, current_node.as_deref());

    let keys: Vec<String> = mapping.iter().map(|(k, _)| k.clone()).collect();
    let mut messages = Vec::with_capacity(tree.order.len());
    let mut attachments: Vec<Attachment> = Vec::new();
    for &i in &tree.order {
        let Some(msg) = mapping[i].1.message.0.take() else {
            continue;
        };
        let parent = tree.parent[i].map(|p| keys[p].clone());
        let converted = convert::message(&keys[i], parent, msg);
        attachments.extend(converted.attachments);
        messages.push(converted.message);
    }
    drop(mapping);

    let title = title.unwrap_or_else(|| {
        derive_title(
            messages
                .iter()
                .filter(|m| !m.hidden)
                .map(|m| (&m.role, m.content.as_str())),
        )
    });
    let created_at = create_time.or_else(|| messages.iter().filter_map(|m| m.created_at).min());
    let updated_at = update_time.or_else(|| messages.iter().filter_map(|m| m.created_at).max());
    let source_id = match (&id, &conversation_id) {
        (Some(id), _) | (None, Some(id)) => id.clone(),
        (None, None) => {
            let created = created_at.map(timestamp::to_rfc3339).unwrap_or_default();
            let mut pieces = vec!["chatgpt", created.as_str(), title.as_str()];
            pieces.extend(messages.iter().take(3).map(|m| m.source_id.as_str()));
            stable_id(&pieces)
        }
    };
    if let (Some(a), Some(b)) = (&id, &conversation_id) {
        if a != b {
            extra.insert("conversation_id".to_owned(), Value::String(b.clone()));
        }
    }
    let active_leaf = leaf
        .map(|i| keys[i].clone())
        .or_else(|| messages.last().map(|m| m.source_id.clone()));

    Ok(ParsedConversation {
        source: Source::Chatgpt,
        source_id,
        title,
        created_at,
        updated_at,
        messages,
        active_leaf,
        attachments,
        archived: is_archived,
        model: non_empty(default_model_slug),
        summary: None,
        extra: Value::Object(extra),
        subfolder: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(head: &str) -> Confidence {
        detect(&Probe::new("conversations.json", head.as_bytes()))
    }

    #[test]
    fn detection_is_by_structure() {
        assert_eq!(
            probe(r#"[{"title": "x", "create_time": 1.0, "mapping": {"a": {}}}]"#),
            Confidence::HIGH
        );
        assert_eq!(
            probe(
                r#"{"mapping": {"a": {"message": {"author": {}, "content": {"content_type": "text"}}}}"#
            ),
            Confidence::HIGH
        );
        assert_eq!(
            probe(r#"[{"uuid": "x", "chat_messages": []}]"#),
            Confidence::NONE
        );
        assert_eq!(
            probe(r#"[{"header": "Gemini Apps", "products": ["Gemini Apps"]}]"#),
            Confidence::NONE
        );
        assert_eq!(probe("<!DOCTYPE html><html>"), Confidence::NONE);
        assert_eq!(probe(r#"[{"mapping": 1}]"#), Confidence::MEDIUM);
    }
}
