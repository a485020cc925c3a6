//! The AI OS shape: the JSON the original AI OS chat module exported and served, which the AI
//! OS frontend reads. A conversation there is a list of *turns*, each one user message and the
//! assistant's answer, taken from the active branch; sources are named as the frontend names
//! them (our native conversations are `aios`).
//!
//! The pairing rule lives here once, for the export ([`write_conversation`], [`AllWriter`])
//! and for chat-api's compatibility routes, which show the same turns ([`turns`]) and count
//! them in lists from the roles alone ([`count_turns`]):
//!
//! * only visible user and assistant messages take part (system prompts, tool output and
//!   hidden messages are not turns);
//! * a user message followed by an assistant message makes one turn;
//! * a lone message (a user message followed by another user message or ending the branch, an
//!   assistant message with no user message before it) makes a turn with the other side empty.

use std::io::Write;

use chat_model::timestamp::rfc3339;
use chat_model::{Conversation, ConversationDetail, Message, Role, Source, Timestamp};
use serde::Serialize;

use crate::markdown::active_path;

/// The `platform` of an AI OS export.
pub const PLATFORM: &str = "AI_OS";
/// The `version` of an AI OS export.
pub const VERSION: &str = "1.0";
/// The name shown for a conversation that has no title yet.
pub const UNTITLED: &str = "New conversation";

/// One user message and the assistant's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Turn {
    /// The user's text (empty for an answer with no question before it).
    pub user: String,
    /// The assistant's text (empty for a question not answered).
    pub assistant: String,
    /// When the turn was written: the user message's time, else the answer's, else the
    /// conversation's creation (RFC 3339).
    #[serde(with = "rfc3339::option")]
    pub timestamp: Option<Timestamp>,
    /// Our id of the user message.
    pub user_message_id: Option<String>,
    /// Our id of the assistant message (the one to rate).
    pub assistant_message_id: Option<String>,
}

/// Pairs a branch's items (root first) by role, calling `emit(user, assistant)` per turn.
fn pair<T>(items: impl IntoIterator<Item = (Role, T)>, mut emit: impl FnMut(Option<T>, Option<T>)) {
    let mut question: Option<T> = None;
    for (role, item) in items {
        match role {
            Role::User => {
                if let Some(unanswered) = question.replace(item) {
                    emit(Some(unanswered), None);
                }
            }
            Role::Assistant => emit(question.take(), Some(item)),
            Role::System | Role::Tool => {}
        }
    }
    if let Some(unanswered) = question {
        emit(Some(unanswered), None);
    }
}

/// The turns of a branch (root first); `fallback` is the time of a turn whose messages have
/// none (the conversation's creation).
pub fn turns<'a>(
    branch: impl IntoIterator<Item = &'a Message>,
    fallback: Option<Timestamp>,
) -> Vec<Turn> {
    let mut out = Vec::new();
    let visible = branch
        .into_iter()
        .filter(|m| !m.hidden)
        .map(|m| (m.role, m));
    pair(
        visible,
        |user: Option<&Message>, assistant: Option<&Message>| {
            out.push(Turn {
                timestamp: user
                    .and_then(|m| m.created_at)
                    .or_else(|| assistant.and_then(|m| m.created_at))
                    .or(fallback),
                user: user.map(|m| m.content.clone()).unwrap_or_default(),
                assistant: assistant.map(|m| m.content.clone()).unwrap_or_default(),
                user_message_id: user.map(|m| m.id.as_str().to_owned()),
                assistant_message_id: assistant.map(|m| m.id.as_str().to_owned()),
            });
        },
    );
    out
}

/// How many turns a branch makes, from the roles of its visible messages (root first).
pub fn count_turns(roles: impl IntoIterator<Item = Role>) -> u64 {
    let mut n = 0;
    pair(roles.into_iter().map(|r| (r, ())), |_, _| n += 1);
    n
}

/// A source as the AI OS frontend names it: ours are `aios`, imports keep their names.
pub fn source_name(source: Source) -> &'static str {
    match source {
        Source::Native => "aios",
        other => other.as_str(),
    }
}

/// A source named the AI OS way ([`source_name`]) or ours (`native`), any case.
pub fn parse_source(name: &str) -> Option<Source> {
    if name.eq_ignore_ascii_case("aios") {
        return Some(Source::Native);
    }
    name.parse().ok()
}

/// The name a conversation is shown under: its title, or [`UNTITLED`].
pub fn name_of(c: &Conversation) -> &str {
    let title = c.title.trim();
    if title.is_empty() {
        UNTITLED
    } else {
        title
    }
}

/// One conversation in an AI OS export.
#[derive(Debug, Serialize)]
struct Exported<'a> {
    session_id: &'a str,
    name: &'a str,
    #[serde(with = "rfc3339")]
    started: Timestamp,
    source: &'static str,
    summary: Option<&'a str>,
    turns: Vec<Turn>,
    turn_count: usize,
    /// The original kept the agent's state here; we have none.
    state_snapshot: Option<()>,
}

impl<'a> Exported<'a> {
    /// `detail.messages` holds the whole tree; the turns are its active branch's.
    fn new(detail: &'a ConversationDetail) -> Self {
        let c = &detail.conversation;
        let branch = active_path(&detail.messages, c.current_message_id.as_ref());
        let turns = turns(branch, Some(c.created_at));
        Exported {
            session_id: c.id.as_str(),
            name: name_of(c),
            started: c.created_at,
            source: source_name(c.source),
            summary: c.summary.as_deref(),
            turn_count: turns.len(),
            turns,
            state_snapshot: None,
        }
    }
}

/// The envelope of an export of one conversation.
#[derive(Debug, Serialize)]
struct One<'a> {
    version: &'static str,
    platform: &'static str,
    #[serde(with = "rfc3339")]
    exported_at: Timestamp,
    conversation: Exported<'a>,
}

/// Writes one conversation (`detail.messages` holding the whole tree) as a pretty-printed AI
/// OS export: `{version, platform, exported_at, conversation}`.
pub fn write_conversation(
    out: &mut impl Write,
    detail: &ConversationDetail,
    exported_at: Timestamp,
) -> crate::error::Result<()> {
    let doc = One {
        version: VERSION,
        platform: PLATFORM,
        exported_at,
        conversation: Exported::new(detail),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Streams many conversations as one AI OS export, `{version, platform, exported_at,
/// conversations: [...]}`: call [`AllWriter::push`] per conversation, then
/// [`AllWriter::finish`]. Only one conversation is in memory at a time.
#[derive(Debug)]
pub struct AllWriter<W: Write> {
    out: W,
    count: u64,
}

impl<W: Write> AllWriter<W> {
    /// Writes the envelope's head.
    pub fn new(mut out: W, exported_at: Timestamp) -> crate::error::Result<Self> {
        write!(
            out,
            "{{\"version\":{},\"platform\":{},\"exported_at\":{},\"conversations\":[",
            serde_json::to_string(VERSION)?,
            serde_json::to_string(PLATFORM)?,
            serde_json::to_string(&chat_model::timestamp::to_rfc3339(exported_at))?,
        )?;
        Ok(AllWriter { out, count: 0 })
    }

    /// Appends one conversation (`detail.messages` holding the whole tree).
    pub fn push(&mut self, detail: &ConversationDetail) -> crate::error::Result<()> {
        if self.count > 0 {
            self.out.write_all(b",")?;
        }
        self.out.write_all(b"\n")?;
        serde_json::to_writer(&mut self.out, &Exported::new(detail))?;
        self.count += 1;
        Ok(())
    }

    /// How many conversations were written.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Closes the envelope and returns the writer.
    pub fn finish(mut self) -> crate::error::Result<W> {
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_model::{ConversationId, MessageId, MessageStatus};

    fn message(id: &str, role: Role, content: &str, hidden: bool) -> Message {
        Message {
            id: MessageId::from_string(id.to_owned()),
            conversation_id: ConversationId::from_string("c".to_owned()),
            parent_id: None,
            role,
            content: content.to_owned(),
            parts: Vec::new(),
            model: None,
            created_at: None,
            hidden,
            source_id: None,
            status: MessageStatus::Complete,
            rating: None,
        }
    }

    #[test]
    fn lone_messages_make_turns_with_one_side_empty() {
        let branch = [
            message("s", Role::System, "be brief", false),
            message("a0", Role::Assistant, "hello first", false),
            message("u1", Role::User, "q1", false),
            message("h", Role::Tool, "tool output", true),
            message("a1", Role::Assistant, "a1", false),
            message("u2", Role::User, "q2", false),
            message("u3", Role::User, "q3", false),
            message("a3", Role::Assistant, "a3\n```\ncode\n```", false),
            message("u4", Role::User, "q4", false),
        ];
        let turns = turns(&branch, None);
        let shape: Vec<(Option<&str>, Option<&str>, &str, &str)> = turns
            .iter()
            .map(|t| {
                (
                    t.user_message_id.as_deref(),
                    t.assistant_message_id.as_deref(),
                    t.user.as_str(),
                    t.assistant.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                (None, Some("a0"), "", "hello first"),
                (Some("u1"), Some("a1"), "q1", "a1"),
                (Some("u2"), None, "q2", ""),
                (Some("u3"), Some("a3"), "q3", "a3\n```\ncode\n```"),
                (Some("u4"), None, "q4", ""),
            ]
        );
        let roles = branch.iter().filter(|m| !m.hidden).map(|m| m.role);
        assert_eq!(count_turns(roles), 5);
        assert_eq!(count_turns([]), 0);
    }

    #[test]
    fn sources_are_named_the_aios_way() {
        assert_eq!(source_name(Source::Native), "aios");
        assert_eq!(source_name(Source::Claude), "claude");
        assert_eq!(parse_source("AIOS"), Some(Source::Native));
        assert_eq!(parse_source("native"), Some(Source::Native));
        assert_eq!(parse_source("gemini"), Some(Source::Gemini));
        assert_eq!(parse_source("myspace"), None);
    }
}
