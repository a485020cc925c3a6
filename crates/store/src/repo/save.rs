//! A conversation's full state, saved at once: the API's `PUT /conversations/{id}` (with the
//! rules a client's body must follow) and the restore of a native export document.

use std::collections::HashSet;

use chat_model::timestamp::to_millis;
use chat_model::{
    Conversation, ConversationDetail, ConversationId, Message, MessageId, Source, Timestamp,
};
use rusqlite::params;

use super::SqliteRepo;
use crate::columns::parts_json;
use crate::error::{Context, Error, Result};
use crate::types::ConversationState;

/// The messages of a state, checked and completed: each names this conversation, follows an
/// earlier message of the list (parents before children), and has an id that appears once (a
/// new one when empty). Returns the messages and their ids.
pub(crate) fn checked_messages(
    conversation: &ConversationId,
    given: Vec<Message>,
) -> Result<(Vec<Message>, HashSet<MessageId>)> {
    let mut messages = Vec::with_capacity(given.len());
    let mut seen: HashSet<MessageId> = HashSet::with_capacity(given.len());
    for mut m in given {
        if &m.conversation_id != conversation {
            return Err(Error::InvalidInput(format!(
                "message {:?} names another conversation",
                m.id.as_str()
            )));
        }
        if m.id.as_str().is_empty() {
            m.id = MessageId::generate();
        }
        if let Some(p) = &m.parent_id {
            if !seen.contains(p) {
                return Err(Error::InvalidInput(format!(
                    "message {}: parent {:?} is not an earlier message of the body \
                     (list parents before children)",
                    m.id,
                    p.as_str()
                )));
            }
        }
        if !seen.insert(m.id.clone()) {
            return Err(Error::InvalidInput(format!(
                "message id {} appears twice",
                m.id
            )));
        }
        messages.push(m);
    }
    Ok((messages, seen))
}

/// The conversation a state describes, with what the state leaves out taken from the stored
/// conversation (`existing`) or the defaults: source native, the source's folder, created now.
pub(crate) fn merged(
    state: ConversationState,
    existing: Option<&Conversation>,
    at: Timestamp,
) -> Conversation {
    let source = state
        .source
        .or(existing.map(|c| c.source))
        .unwrap_or(Source::Native);
    let archived_at = match (state.archived_at, state.archived) {
        (Some(t), _) => Some(t),
        (None, Some(false)) => None,
        (None, Some(true)) => Some(existing.and_then(|c| c.archived_at).unwrap_or(at)),
        (None, None) => existing.and_then(|c| c.archived_at),
    };
    Conversation {
        id: state.id,
        source,
        source_id: state.source_id,
        title: state.title,
        folder: state
            .folder
            .or_else(|| existing.map(|c| c.folder.clone()))
            .unwrap_or_else(|| source.default_folder()),
        created_at: state
            .created_at
            .or(existing.map(|c| c.created_at))
            .unwrap_or(at),
        updated_at: state.updated_at.unwrap_or(at),
        archived_at,
        summary: state.summary,
        current_message_id: state.current_message_id,
        forked_from: state.forked_from,
        tags: state.tags,
        message_count: 0,
    }
}

impl SqliteRepo<'_> {
    /// Persists a conversation's full state atomically: the conversation row (inserted or
    /// updated by id), exactly the given messages (others of this conversation are deleted;
    /// kept ones are updated in place, so their search rows and ratings follow), their ratings
    /// and the tags.
    pub fn save_conversation(&self, detail: &ConversationDetail) -> Result<Conversation> {
        let c = &detail.conversation;
        self.upsert_conversation_row(c)?;
        let keep: HashSet<&str> = detail.messages.iter().map(|m| m.id.as_str()).collect();
        let existing: Vec<String> = self
            .conn
            .prepare_cached("SELECT id FROM convo_turns WHERE convo_id = ?1")?
            .query_map([c.id.as_str()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for old in existing.iter().filter(|id| !keep.contains(id.as_str())) {
            self.conn
                .prepare_cached("DELETE FROM convo_turns WHERE id = ?1")?
                .execute([old])?;
        }
        for m in &detail.messages {
            self.upsert_message(&c.id, m)?;
        }
        let leaf = c
            .current_message_id
            .as_ref()
            .filter(|id| keep.contains(id.as_str()))
            .or_else(|| detail.messages.last().map(|m| &m.id));
        self.conn
            .prepare_cached("UPDATE convos SET current_turn_id = ?2 WHERE id = ?1")?
            .execute(params![c.id.as_str(), leaf.map(MessageId::as_str)])?;

        self.conn
            .prepare_cached("DELETE FROM convo_tags WHERE convo_id = ?1")?
            .execute([c.id.as_str()])?;
        for tag in &c.tags {
            self.add_tag(&c.id, tag)?;
        }
        self.get_conversation(&c.id)
    }

    /// The conversation's row, inserted or updated by id (the current leaf is set after the
    /// messages).
    fn upsert_conversation_row(&self, c: &Conversation) -> Result<()> {
        let forked = c.forked_from.as_ref();
        self.conn
            .prepare_cached(
                "INSERT INTO convos (id, source, source_id, title, folder, created_at, updated_at,
                    archived_at, summary, current_turn_id, forked_from_convo_id, forked_from_turn_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, ?10, ?11)
                 ON CONFLICT (id) DO UPDATE SET source = excluded.source,
                    source_id = excluded.source_id, title = excluded.title,
                    folder = excluded.folder, created_at = excluded.created_at,
                    updated_at = excluded.updated_at, archived_at = excluded.archived_at,
                    summary = excluded.summary,
                    forked_from_convo_id = excluded.forked_from_convo_id,
                    forked_from_turn_id = excluded.forked_from_turn_id",
            )?
            .execute(params![
                c.id.as_str(),
                c.source.as_str(),
                c.source_id,
                c.title,
                c.folder.as_str(),
                to_millis(c.created_at),
                to_millis(c.updated_at),
                c.archived_at.map(to_millis),
                c.summary,
                forked.map(|f| f.conversation_id.as_str()),
                forked.map(|f| f.message_id.as_str()),
            ])
            .map_err(|e| {
                if Error::is_constraint(&e) {
                    Error::Conflict(format!(
                        "another conversation already has source {} and source id {:?}",
                        c.source, c.source_id
                    ))
                } else {
                    Error::sqlite("saving a conversation", e)
                }
            })?;
        Ok(())
    }

    /// One message of a saved state, inserted or updated in place, with its rating.
    fn upsert_message(&self, conversation: &ConversationId, m: &Message) -> Result<()> {
        if &m.conversation_id != conversation {
            return Err(Error::InvalidInput(format!(
                "message {} belongs to conversation {}, not {}",
                m.id, m.conversation_id, conversation
            )));
        }
        let changed = self
            .conn
            .prepare_cached(
                "INSERT INTO convo_turns (id, convo_id, parent_id, role, content, parts, model,
                    created_at, hidden, source_id, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id,
                    role = excluded.role, content = excluded.content, parts = excluded.parts,
                    model = excluded.model, created_at = excluded.created_at,
                    hidden = excluded.hidden, source_id = excluded.source_id,
                    status = excluded.status
                 WHERE convo_id = excluded.convo_id",
            )?
            .execute(params![
                m.id.as_str(),
                conversation.as_str(),
                m.parent_id.as_ref().map(MessageId::as_str),
                m.role.as_str(),
                m.content,
                parts_json(&m.parts)?,
                m.model,
                m.created_at.map(to_millis),
                m.hidden,
                m.source_id,
                m.status.as_str(),
            ])
            .ctx("saving a message")?;
        if changed == 0 {
            return Err(Error::Conflict(format!(
                "message id {} already belongs to another conversation",
                m.id
            )));
        }
        match &m.rating {
            Some(r) => self.put_rating(&m.id, r.value, r.reason.as_deref(), r.created_at)?,
            None => {
                self.conn
                    .prepare_cached("DELETE FROM message_ratings WHERE turn_id = ?1")?
                    .execute([m.id.as_str()])?;
            }
        }
        Ok(())
    }
}
