//! Cutting a conversation into pages of at most `max_chars` characters.
//!
//! A page is a run of whole messages as chat-export renders them (Markdown sections, or the
//! JSON document holding them). A message longer than a page is split: its first part ends
//! the page with a line saying it continues, and the cursor points into it, so nothing is ever
//! cut silently. Every page carries at least [`MIN_CHUNK`] characters of messages, so paging
//! always reaches the end.

use chat_model::{Conversation, Message};

use crate::args::Format;
use crate::error::{Error, Result};
use crate::render::{self, MediaItem};

/// Least message text on a page, whatever the budget left after the header.
pub(crate) const MIN_CHUNK: usize = 256;

/// Where a page starts: a message of the selection and how many characters of its rendering
/// (Markdown: its section; JSON: its content) were already sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    pub message_id: String,
    pub offset: usize,
}

/// One page.
#[derive(Debug)]
pub(crate) struct Page {
    /// The rendered page.
    pub text: String,
    /// Index of the first message on the page (0-based, in the selection).
    pub first: usize,
    /// Index after the last message on the page (a split message counts as on it).
    pub end: usize,
    /// Messages in the selection.
    pub total: usize,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Position>,
    /// The media of the messages on the page.
    pub media: Vec<MediaItem>,
}

pub(crate) fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The byte index of the `n`th character (or the end).
pub(crate) fn byte_at(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// Where to cut `text` to keep at most `limit` characters: after the last line break in the
/// last quarter of that span, else after the last space there, else at `limit`. Never 0.
pub(crate) fn cut_at(text: &str, limit: usize) -> usize {
    let hard = byte_at(text, limit.max(1));
    let head = &text[..hard];
    let floor = byte_at(head, limit * 3 / 4);
    let soft = head[floor..]
        .rfind('\n')
        .or_else(|| head[floor..].rfind(' '))
        .map(|i| floor + i + 1);
    match soft {
        Some(i) if i > 0 => chars(&text[..i]),
        _ => chars(head),
    }
}

/// The next page starts at the beginning of `m`.
fn before(m: &Message) -> Option<Position> {
    Some(Position {
        message_id: m.id.as_str().to_owned(),
        offset: 0,
    })
}

fn stale() -> Error {
    Error::InvalidArgument(
        "the cursor points to a message that is not in this conversation's selection (the \
         conversation changed, or branch or include_hidden differ from the first page): start \
         again without a cursor"
            .to_owned(),
    )
}

/// The page of `messages` (the selection, in reading order) starting at `start`, or the
/// first page (with the conversation's header) when `start` is `None`.
pub(crate) fn page(
    c: &Conversation,
    messages: &[Message],
    format: Format,
    max_chars: usize,
    start: Option<&Position>,
) -> Result<Page> {
    let (first, offset) = match start {
        None => (0, 0),
        Some(p) => (
            messages
                .iter()
                .position(|m| m.id.as_str() == p.message_id)
                .ok_or_else(stale)?,
            p.offset,
        ),
    };
    let mut page = match format {
        Format::Markdown => markdown_page(c, messages, first, offset, max_chars)?,
        Format::Json => json_page(c, messages, first, offset, max_chars)?,
    };
    page.media = messages[first..page.end]
        .iter()
        .flat_map(render::media)
        .collect();
    Ok(page)
}

fn markdown_page(
    c: &Conversation,
    messages: &[Message],
    first: usize,
    mut offset: usize,
    max_chars: usize,
) -> Result<Page> {
    let mut text = if first == 0 && offset == 0 {
        render::header(c)?
    } else {
        String::new()
    };
    let mut used = chars(&text);
    let mut i = first;
    let mut next = None;
    while let Some(m) = messages.get(i) {
        let section = render::section(m)?;
        let total = chars(&section);
        if offset > total {
            return Err(stale());
        }
        let rest = &section[byte_at(&section, offset)..];
        let lead = if offset > 0 {
            format!("\n_(message {} continued from the previous page)_\n", m.id)
        } else {
            String::new()
        };
        let need = chars(&lead) + (total - offset);
        if used + need <= max_chars {
            text.push_str(&lead);
            text.push_str(rest);
            used += need;
            i += 1;
            offset = 0;
            continue;
        }
        if i > first {
            next = before(m);
            break;
        }
        // The first message does not fit: send what fits, and say it continues.
        let room = max_chars
            .saturating_sub(used + chars(&lead) + 64)
            .max(MIN_CHUNK);
        let take = cut_at(rest, room);
        text.push_str(&lead);
        text.push_str(&rest[..byte_at(rest, take)]);
        text.push_str("\n\n_(this message continues on the next page)_\n");
        next = Some(Position {
            message_id: m.id.as_str().to_owned(),
            offset: offset + take,
        });
        i += 1;
        break;
    }
    Ok(Page {
        text,
        first,
        end: i,
        total: messages.len(),
        next,
        media: Vec::new(),
    })
}

fn json_len(s: &str) -> usize {
    serde_json::to_string(s).map_or(0, |j| chars(&j))
}

fn json_page(
    c: &Conversation,
    messages: &[Message],
    first: usize,
    offset: usize,
    max_chars: usize,
) -> Result<Page> {
    let mut used = chars(&render::json_document(c, Vec::new())?);
    let mut kept: Vec<Message> = Vec::new();
    let mut i = first;
    let mut next = None;
    while let Some(m) = messages.get(i) {
        let mut m = m.clone();
        let content_chars = chars(&m.content);
        let start = if i == first { offset } else { 0 };
        if start > content_chars {
            return Err(stale());
        }
        m.content = m.content[byte_at(&m.content, start)..].to_owned();
        let size = render::json_size(&m);
        if used + size <= max_chars {
            used += size;
            kept.push(m);
            i += 1;
            continue;
        }
        if i > first {
            next = before(&m);
            break;
        }
        // Split the content so the message fits, measuring it as JSON escapes it.
        let fixed = size.saturating_sub(json_len(&m.content));
        let room = max_chars.saturating_sub(used + fixed).max(MIN_CHUNK);
        let mut take = cut_at(&m.content, room);
        loop {
            let over = json_len(&m.content[..byte_at(&m.content, take)]).saturating_sub(room);
            if over == 0 || take <= MIN_CHUNK {
                break;
            }
            take = cut_at(&m.content, take.saturating_sub(over).max(MIN_CHUNK));
        }
        m.content.truncate(byte_at(&m.content, take));
        next = Some(Position {
            message_id: m.id.as_str().to_owned(),
            offset: start + take,
        });
        kept.push(m);
        i += 1;
        break;
    }
    Ok(Page {
        text: render::json_document(c, kept)?,
        first,
        end: i,
        total: messages.len(),
        next,
        media: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::message;
    use chat_model::timestamp::from_millis;
    use chat_model::{ConversationId, FolderPath, Role, Source};

    fn convo() -> Conversation {
        Conversation {
            id: ConversationId::from("c1"),
            source: Source::Claude,
            source_id: None,
            title: "Long one".into(),
            folder: FolderPath::root(),
            created_at: from_millis(1_700_000_000_000).unwrap(),
            updated_at: from_millis(1_700_000_000_000).unwrap(),
            archived_at: None,
            summary: None,
            current_message_id: None,
            forked_from: None,
            tags: Vec::new(),
            message_count: 0,
        }
    }

    fn messages(sizes: &[usize]) -> Vec<Message> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let role = if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                };
                message(&format!("m{i}"), None, role, text(i, *n))
            })
            .collect()
    }

    /// About `n` characters in numbered lines of 80, with quotes and accents so that JSON
    /// escaping makes the serialised text longer than the text.
    fn text(message: usize, n: usize) -> String {
        let mut out = String::new();
        let mut line = 0;
        while chars(&out) < n {
            let head = format!("m{message} line {line}: \"é\" ");
            out.push_str(&head);
            out.push_str(&"é".repeat(79 - chars(&head)));
            out.push('\n');
            line += 1;
        }
        out
    }

    /// Pages through everything; returns the pages.
    fn all_pages(msgs: &[Message], format: Format, max: usize) -> Vec<Page> {
        let c = convo();
        let mut out = Vec::new();
        let mut at: Option<Position> = None;
        loop {
            let p = page(&c, msgs, format, max, at.as_ref()).unwrap();
            at = p.next.clone();
            out.push(p);
            if at.is_none() {
                return out;
            }
            assert!(out.len() < 1000, "paging does not end");
        }
    }

    #[test]
    fn markdown_pages_hold_every_character_once_and_respect_the_budget() {
        let msgs = messages(&[100, 5000, 30, 12_000, 40, 900]);
        let pages = all_pages(&msgs, Format::Markdown, 2000);
        let mut joined = String::new();
        for p in &pages {
            assert!(chars(&p.text) <= 2000 + 200, "{}", chars(&p.text));
            joined.push_str(&p.text);
        }
        // Every line of every message arrives whole, once, in order, across the pages.
        let mut from = 0;
        for m in &msgs {
            for line in m.content.lines() {
                let at = joined[from..].find(line).expect("a line went missing");
                from += at + line.len();
                assert_eq!(joined.matches(line).count(), 1, "{line}");
            }
        }
        assert!(joined.contains("continues on the next page"));
        assert!(joined.contains("continued from the previous page"));
        assert_eq!(pages.last().unwrap().end, msgs.len());
    }

    #[test]
    fn json_pages_reassemble_every_message() {
        let msgs = messages(&[100, 5000, 30, 12_000]);
        let pages = all_pages(&msgs, Format::Json, 3000);
        let mut rebuilt: Vec<(String, String)> = Vec::new();
        for p in &pages {
            assert!(chars(&p.text) <= 3000 + MIN_CHUNK, "{}", chars(&p.text));
            let doc: serde_json::Value = serde_json::from_str(&p.text).unwrap();
            for m in doc["conversation"]["messages"].as_array().unwrap() {
                let id = m["id"].as_str().unwrap().to_owned();
                let content = m["content"].as_str().unwrap();
                match rebuilt.last_mut() {
                    Some((last, text)) if *last == id => text.push_str(content),
                    _ => rebuilt.push((id, content.to_owned())),
                }
            }
        }
        let want: Vec<(String, String)> = msgs
            .iter()
            .map(|m| (m.id.as_str().to_owned(), m.content.clone()))
            .collect();
        assert_eq!(rebuilt, want);
    }

    #[test]
    fn a_cursor_into_another_selection_is_refused() {
        let msgs = messages(&[10, 10]);
        let bad = Position {
            message_id: "elsewhere".into(),
            offset: 0,
        };
        let e = page(&convo(), &msgs, Format::Markdown, 2000, Some(&bad)).unwrap_err();
        assert!(e.to_string().contains("start again without a cursor"));
        let past_end = Position {
            message_id: "m1".into(),
            offset: 1_000_000,
        };
        assert!(page(&convo(), &msgs, Format::Json, 2000, Some(&past_end)).is_err());
    }
}
