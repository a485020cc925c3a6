//! Markdown with YAML front matter: the active branch, one heading per message.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use chat_model::{timestamp, ConversationDetail, Message, MessageId, MessageStatus, Role};

/// Writes the conversation's active branch (visible messages) as Markdown.
///
/// `detail.messages` may be the active branch or the whole tree: the branch is walked from the
/// conversation's current leaf (or the last message) up to the root.
pub fn write_conversation(
    out: &mut impl Write,
    detail: &ConversationDetail,
) -> crate::error::Result<()> {
    let c = &detail.conversation;
    let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned());
    writeln!(out, "---")?;
    writeln!(out, "title: {}", q(&c.title))?;
    writeln!(out, "source: {}", q(c.source.as_str()))?;
    writeln!(out, "id: {}", q(c.id.as_str()))?;
    if let Some(sid) = &c.source_id {
        writeln!(out, "source_id: {}", q(sid))?;
    }
    writeln!(out, "created: {}", q(&timestamp::to_rfc3339(c.created_at)))?;
    writeln!(out, "updated: {}", q(&timestamp::to_rfc3339(c.updated_at)))?;
    writeln!(out, "folder: {}", q(c.folder.as_str()))?;
    let tags: Vec<&str> = c.tags.iter().map(|t| t.as_str()).collect();
    writeln!(
        out,
        "tags: {}",
        serde_json::to_string(&tags).unwrap_or_else(|_| "[]".to_owned())
    )?;
    if let Some(f) = &c.forked_from {
        writeln!(out, "forked_from: {}", q(f.conversation_id.as_str()))?;
    }
    writeln!(out, "---")?;
    writeln!(out)?;
    writeln!(out, "# {}", single_line(&c.title))?;
    if let Some(summary) = c.summary.as_deref().filter(|s| !s.trim().is_empty()) {
        writeln!(out)?;
        writeln!(out, "> {}", single_line(summary))?;
    }
    let leaf = c
        .current_message_id
        .as_ref()
        .or_else(|| detail.messages.last().map(|m| &m.id));
    for m in active_path(&detail.messages, leaf) {
        if m.hidden {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "## {}", heading(m))?;
        writeln!(out)?;
        let body = m.content.trim_end();
        if body.is_empty() {
            writeln!(out, "_(no text)_")?;
        } else {
            writeln!(out, "{body}")?;
        }
        if m.status == MessageStatus::Interrupted {
            writeln!(out)?;
            writeln!(out, "_(reply interrupted)_")?;
        }
    }
    Ok(())
}

/// Renders a whole conversation to a Markdown string.
pub fn to_string(detail: &ConversationDetail) -> crate::error::Result<String> {
    let mut buf = Vec::new();
    write_conversation(&mut buf, detail)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn heading(m: &Message) -> String {
    let role = match m.role {
        Role::User => "User",
        Role::Assistant => "Assistant",
        Role::System => "System",
        Role::Tool => "Tool",
    };
    let mut parts = vec![role.to_owned()];
    if let Some(model) = m.model.as_deref().filter(|s| !s.is_empty()) {
        parts.push(single_line(model));
    }
    if let Some(ts) = m.created_at {
        parts.push(human_time(ts));
    }
    parts.join(" · ")
}

fn human_time(ts: chat_model::Timestamp) -> String {
    let utc = ts.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute()
    )
}

fn single_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The path from the root to `leaf` (inclusive), parents first. Cycle-safe; a missing leaf
/// gives an empty path.
pub(crate) fn active_path<'a>(
    messages: &'a [Message],
    leaf: Option<&MessageId>,
) -> Vec<&'a Message> {
    let by_id: HashMap<&MessageId, &Message> = messages.iter().map(|m| (&m.id, m)).collect();
    let mut path = Vec::new();
    let mut seen = HashSet::new();
    let mut cursor = leaf.and_then(|id| by_id.get(id).copied());
    while let Some(m) = cursor {
        if !seen.insert(&m.id) {
            break;
        }
        path.push(m);
        cursor = m.parent_id.as_ref().and_then(|p| by_id.get(p).copied());
    }
    path.reverse();
    path
}
