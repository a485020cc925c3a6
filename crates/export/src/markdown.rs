//! Markdown with YAML front matter: the active branch, one heading per message.
//!
//! A whole conversation is [`write_conversation`]. Its two pieces are public for readers that
//! take a conversation in pages (the MCP server): [`write_header`] (front matter, title,
//! summary) and [`write_message`] (one message's section), so a page is rendered by the same
//! code as a file.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use chat_model::{
    timestamp, Conversation, ConversationDetail, Message, MessageId, MessageStatus, Part, Role,
};

/// How [`write_message`] writes a section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SectionOptions {
    /// Adds an HTML comment under the heading with the message's id and its parent's, for
    /// readers (agents) that refer to messages or follow branches. Invisible when rendered.
    pub ids: bool,
}

/// Writes the conversation's active branch (visible messages) as Markdown.
///
/// `detail.messages` may be the active branch or the whole tree: the branch is walked from the
/// conversation's current leaf (or the last message) up to the root.
pub fn write_conversation(
    out: &mut impl Write,
    detail: &ConversationDetail,
) -> crate::error::Result<()> {
    let c = &detail.conversation;
    write_header(out, c)?;
    let leaf = c
        .current_message_id
        .as_ref()
        .or_else(|| detail.messages.last().map(|m| &m.id));
    for m in active_path(&detail.messages, leaf) {
        if !m.hidden {
            write_message(out, m, SectionOptions::default())?;
        }
    }
    Ok(())
}

/// Writes the front matter (title, source, id, created, updated, folder, tags), the title as
/// a heading and the summary.
pub fn write_header(out: &mut impl Write, c: &Conversation) -> crate::error::Result<()> {
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
    Ok(())
}

/// Writes one message's section: a heading (role, model, time; "Note" and "hidden" when they
/// apply), its text, the media and files attached to it, and a mark when the reply was
/// interrupted. The text is written verbatim: it is Markdown.
pub fn write_message(
    out: &mut impl Write,
    m: &Message,
    opts: SectionOptions,
) -> crate::error::Result<()> {
    writeln!(out)?;
    writeln!(out, "## {}", heading(m))?;
    if opts.ids {
        match &m.parent_id {
            Some(p) => writeln!(out, "<!-- message {} (reply to {p}) -->", m.id)?,
            None => writeln!(out, "<!-- message {} -->", m.id)?,
        }
    }
    writeln!(out)?;
    let body = m.content.trim_end();
    if body.is_empty() {
        writeln!(out, "_(no text)_")?;
    } else {
        writeln!(out, "{body}")?;
    }
    let media = media(m);
    if !media.is_empty() {
        writeln!(out)?;
        for item in &media {
            writeln!(out, "- {}", item.describe())?;
        }
    }
    if m.status == MessageStatus::Interrupted {
        writeln!(out)?;
        writeln!(out, "_(reply interrupted)_")?;
    }
    Ok(())
}

/// Renders a whole conversation to a Markdown string.
pub fn to_string(detail: &ConversationDetail) -> crate::error::Result<String> {
    let mut buf = Vec::new();
    write_conversation(&mut buf, detail)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// What kind of medium a [`Media`] item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// A picture.
    Image,
    /// A recording.
    Audio,
    /// Any other attached file.
    File,
}

impl MediaKind {
    /// `image`, `audio` or `file`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::File => "file",
        }
    }
}

/// A picture, recording or file attached to a message, as the export lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Image, audio or file.
    pub kind: MediaKind,
    /// The file name, or the provider's reference when there is no name (e.g.
    /// `file-service://file-abc`); `None` for bytes held inline without either.
    pub name: Option<String>,
    /// The MIME type (or the provider's file type), when known.
    pub mime_type: Option<String>,
    /// Size in bytes, when known.
    pub size: Option<u64>,
}

impl Media {
    /// One line for a list: kind, name, type and size.
    pub fn describe(&self) -> String {
        let name = self
            .name
            .as_deref()
            .map_or_else(|| "(inline)".to_owned(), single_line);
        let mut details: Vec<String> = Vec::new();
        if let Some(mime) = &self.mime_type {
            details.push(single_line(mime));
        }
        if let Some(size) = self.size {
            details.push(format!("{size} bytes"));
        }
        if details.is_empty() {
            format!("{}: {name}", self.kind.as_str())
        } else {
            format!("{}: {name} ({})", self.kind.as_str(), details.join(", "))
        }
    }
}

/// The pictures, recordings and files attached to a message, in order.
pub fn media(m: &Message) -> Vec<Media> {
    m.parts
        .iter()
        .filter_map(|p| match p {
            Part::Image {
                reference,
                mime_type,
                ..
            } => Some(Media {
                kind: MediaKind::Image,
                name: reference.clone(),
                mime_type: mime_type.clone(),
                size: None,
            }),
            Part::Audio { reference, .. } => Some(Media {
                kind: MediaKind::Audio,
                name: reference.clone(),
                mime_type: None,
                size: None,
            }),
            Part::Attachment {
                name,
                size,
                mime_type,
                ..
            } => Some(Media {
                kind: MediaKind::File,
                name: Some(name.clone()),
                mime_type: mime_type.clone(),
                size: *size,
            }),
            _ => None,
        })
        .collect()
}

fn heading(m: &Message) -> String {
    let role = match m.role {
        Role::User => "User",
        Role::Assistant => "Assistant",
        Role::System => "System",
        Role::Tool => "Tool",
    };
    let mut parts = Vec::new();
    if m.is_note() {
        parts.push("Note".to_owned());
    }
    parts.push(role.to_owned());
    if let Some(model) = m.model.as_deref().filter(|s| !s.is_empty()) {
        parts.push(single_line(model));
    }
    if let Some(ts) = m.created_at {
        parts.push(human_time(ts));
    }
    if m.hidden {
        parts.push("hidden".to_owned());
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
