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
    write_conversation_linked(out, detail, None)
}

/// [`write_conversation`], linking the media written beside the file (`links`: where each
/// item's bytes were written; see [`write_message_linked`]).
pub fn write_conversation_linked(
    out: &mut impl Write,
    detail: &ConversationDetail,
    links: Option<&MediaLinks>,
) -> crate::error::Result<()> {
    write_header(out, &detail.conversation)?;
    for m in shown_messages(detail) {
        write_message_linked(out, m, SectionOptions::default(), links)?;
    }
    Ok(())
}

/// The messages a Markdown file shows: the visible messages of the active branch, in order.
pub fn shown_messages(detail: &ConversationDetail) -> impl Iterator<Item = &Message> {
    let leaf = detail
        .conversation
        .current_message_id
        .as_ref()
        .or_else(|| detail.messages.last().map(|m| &m.id));
    active_path(&detail.messages, leaf)
        .into_iter()
        .filter(|m| !m.hidden)
}

/// Where an export wrote the media it links, by media hash: a path relative to the Markdown
/// file, and the item's original name when the store knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaLinks {
    paths: HashMap<String, LinkedMedia>,
}

/// One item of [`MediaLinks`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedMedia {
    /// Where the bytes are, relative to the Markdown file (`media/<hash>.<ext>`).
    pub path: String,
    /// The original file name the store knows, if any.
    pub name: Option<String>,
}

impl MediaLinks {
    /// Records where the bytes of `hash` were written.
    pub fn insert(&mut self, hash: &str, linked: LinkedMedia) {
        self.paths.insert(hash.to_owned(), linked);
    }

    /// Where the bytes of `hash` were written, if they were.
    pub fn get(&self, hash: &str) -> Option<&LinkedMedia> {
        self.paths.get(hash)
    }
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
    write_message_linked(out, m, opts, None)
}

/// [`write_message`], with the media linked when `links` is given: `![name](path)` for an
/// image whose bytes were written, `[name](path)` for other files, and a note instead of a
/// link for an item whose bytes are not in the export. Names are escaped so an imported name
/// cannot break out of the link.
pub fn write_message_linked(
    out: &mut impl Write,
    m: &Message,
    opts: SectionOptions,
    links: Option<&MediaLinks>,
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
            match links {
                Some(links) => writeln!(out, "- {}", item.linked(links))?,
                None => writeln!(out, "- {}", item.describe())?,
            }
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
    /// The id (BLAKE3 hex) of the stored bytes, when the import stored them.
    pub media_id: Option<String>,
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

impl Media {
    /// One line for a list with the bytes linked (see [`write_message_linked`]).
    pub fn linked(&self, links: &MediaLinks) -> String {
        let found = self.media_id.as_deref().and_then(|h| links.get(h));
        let Some(found) = found else {
            let name = self
                .name
                .as_deref()
                .map_or_else(|| "(inline)".to_owned(), link_text);
            return format!(
                "{}: {name} _(not in this export: its bytes were not in the imported file)_",
                self.kind.as_str()
            );
        };
        // An image's reference is often a pointer (`file-service://…`): its stored name reads
        // better.
        let name = match self.kind {
            MediaKind::File => self.name.as_deref().or(found.name.as_deref()),
            _ => found.name.as_deref().or(self.name.as_deref()),
        };
        let text = name.map_or_else(|| self.kind.as_str().to_owned(), link_text);
        match self.kind {
            MediaKind::Image => format!("![{text}]({})", found.path),
            _ => {
                let mut line = format!("{}: [{text}]({})", self.kind.as_str(), found.path);
                if let Some(size) = self.size {
                    line.push_str(&format!(" ({size} bytes)"));
                }
                line
            }
        }
    }
}

/// A name as the text of a Markdown link: one line, no control characters, and Markdown's
/// punctuation escaped, so an imported name cannot close the link, open another or inject
/// HTML.
pub fn link_text(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in single_line(name).chars() {
        if c.is_control() {
            continue;
        }
        if "\\`*_[]()<>!&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
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
                media_id: p.media().map(str::to_owned),
            }),
            Part::Audio { reference, .. } => Some(Media {
                kind: MediaKind::Audio,
                name: reference.clone(),
                mime_type: None,
                size: None,
                media_id: p.media().map(str::to_owned),
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
                media_id: p.media().map(str::to_owned),
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

/// `s` on one line, without control characters.
fn single_line(s: &str) -> String {
    s.split_whitespace()
        .map(|w| w.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
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
