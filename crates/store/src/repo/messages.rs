//! Messages and the tree they form: append, finish a streamed reply, read one, the whole tree,
//! the active branch, and the current leaf that selects it.

use std::collections::{HashMap, HashSet};

use chat_model::timestamp::{now, to_millis};
use chat_model::{ConversationId, Message, MessageId, MessageStatus, Role, Timestamp};
use rusqlite::{params, OptionalExtension};

use super::SqliteRepo;
use crate::columns::{message_from_row, parts_json, ts, MESSAGE_COLUMNS, MESSAGE_TABLES};
use crate::error::{Context, Error, Result};
use crate::types::{BranchOutline, NewMessage};

/// The messages of `tree` from the root to `leaf`, walking parent links upwards; a cycle or a
/// dangling parent ends the walk instead of looping. Both backends walk with this.
pub(crate) fn branch_to(tree: Vec<Message>, leaf: &str) -> Vec<Message> {
    let mut by_id: HashMap<String, Message> = tree
        .into_iter()
        .map(|m| (m.id.as_str().to_owned(), m))
        .collect();
    let mut path = Vec::new();
    let mut next = Some(leaf.to_owned());
    while let Some(id) = next {
        // Removing each visited message makes a cycle end the walk.
        let Some(m) = by_id.remove(&id) else { break };
        next = m.parent_id.as_ref().map(|p| p.as_str().to_owned());
        path.push(m);
    }
    path.reverse();
    path
}

/// The parent a new message gets: `asked` when it is a message of `conversation` (else
/// [`Error::InvalidInput`]), or the current leaf. `owner` looks up a message's conversation.
/// Both backends append with this.
pub(crate) fn parent_of(
    conversation: &ConversationId,
    asked: Option<MessageId>,
    current: Option<String>,
    owner: impl FnOnce(&MessageId) -> Result<String>,
) -> Result<Option<String>> {
    let Some(p) = asked else {
        return Ok(current);
    };
    if owner(&p)? != conversation.as_str() {
        return Err(Error::InvalidInput(format!(
            "parent message {p} belongs to another conversation"
        )));
    }
    Ok(Some(p.into_string()))
}

/// One message of a branch as [`SqliteRepo::branch_outline`] reads it, leaf first.
pub(crate) struct OutlineRow {
    pub(crate) id: String,
    pub(crate) role: Role,
    pub(crate) hidden: bool,
    pub(crate) created_at: Option<i64>,
}

/// The visible messages of a branch read leaf first, root first, and the time of the last one
/// that has a time. A repeated id is a cycle, which ends the branch. Both backends outline
/// with this.
pub(crate) fn outline_of(
    leaf_first: Vec<OutlineRow>,
) -> Result<(Vec<OutlineRow>, Option<Timestamp>)> {
    let mut seen = HashSet::new();
    let mut visible = Vec::new();
    for m in leaf_first {
        if !seen.insert(m.id.clone()) {
            break;
        }
        if !m.hidden {
            visible.push(m);
        }
    }
    let last_at = ts(visible.iter().find_map(|m| m.created_at))?;
    visible.reverse();
    Ok((visible, last_at))
}

impl SqliteRepo<'_> {
    /// Appends a message. Its parent is `new.parent_id` or, when `None`, the current leaf;
    /// the new message becomes the current leaf and the conversation's `updated_at` moves to
    /// now. A missing conversation is [`Error::NotFound`]; a parent of another conversation
    /// is [`Error::InvalidInput`].
    pub fn add_message(&self, conversation: &ConversationId, new: NewMessage) -> Result<Message> {
        let current = self.ensure_conversation(conversation)?;
        let parent = parent_of(conversation, new.parent_id, current, |p| {
            self.message_conversation(p)
        })?;
        let id = MessageId::generate();
        let at = now();
        self.conn
            .prepare_cached(
                "INSERT INTO convo_turns (id, convo_id, parent_id, role, content, parts, model,
                    created_at, hidden, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                id.as_str(),
                conversation.as_str(),
                parent,
                new.role.as_str(),
                new.content,
                parts_json(&new.parts)?,
                new.model,
                to_millis(new.created_at.unwrap_or(at)),
                new.hidden,
                new.status.as_str(),
            ])
            .ctx("adding a message")?;
        self.conn
            .prepare_cached(
                "UPDATE convos SET current_turn_id = ?2, updated_at = max(updated_at, ?3)
                 WHERE id = ?1",
            )?
            .execute(params![conversation.as_str(), id.as_str(), to_millis(at)])?;
        self.get_message(&id)
    }

    /// Replaces a message's text and status (e.g. when a streamed reply finishes). The search
    /// index follows through the table's triggers.
    pub fn update_message_content(
        &self,
        id: &MessageId,
        content: &str,
        status: MessageStatus,
    ) -> Result<Message> {
        let conversation = self.message_conversation(id)?;
        self.conn
            .prepare_cached("UPDATE convo_turns SET content = ?2, status = ?3 WHERE id = ?1")?
            .execute(params![id.as_str(), content, status.as_str()])
            .ctx("updating a message")?;
        self.conn
            .prepare_cached("UPDATE convos SET updated_at = max(updated_at, ?2) WHERE id = ?1")?
            .execute(params![conversation, to_millis(now())])?;
        self.get_message(id)
    }

    /// One message, with its rating.
    pub fn get_message(&self, id: &MessageId) -> Result<Message> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_TABLES} WHERE t.id = ?1"
        ))?;
        let mut rows = stmt.query([id.as_str()])?;
        match rows.next()? {
            Some(row) => message_from_row(row),
            None => Err(Error::not_found("message", id.as_str())),
        }
    }

    /// Every message of a conversation (all branches) in insertion order, which puts parents
    /// before children. Hidden messages are left out unless `include_hidden`.
    pub fn message_tree(
        &self,
        conversation: &ConversationId,
        include_hidden: bool,
    ) -> Result<Vec<Message>> {
        self.ensure_conversation(conversation)?;
        let hidden = if include_hidden {
            ""
        } else {
            " AND t.hidden = 0"
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_TABLES} WHERE t.convo_id = ?1{hidden} ORDER BY t.seq"
        ))?;
        let mut rows = stmt.query([conversation.as_str()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(message_from_row(row)?);
        }
        Ok(out)
    }

    /// The messages from the root to `leaf`, walking parent links upwards; a cycle or a
    /// dangling parent ends the walk instead of looping.
    pub(super) fn path_to(
        &self,
        conversation: &ConversationId,
        leaf: &str,
    ) -> Result<Vec<Message>> {
        Ok(branch_to(self.message_tree(conversation, true)?, leaf))
    }

    /// The active branch, root to current leaf. Hidden messages are left out unless
    /// `include_hidden`.
    pub fn active_branch(
        &self,
        conversation: &ConversationId,
        include_hidden: bool,
    ) -> Result<Vec<Message>> {
        let Some(leaf) = self.ensure_conversation(conversation)? else {
            return Ok(Vec::new());
        };
        let mut path = self.path_to(conversation, &leaf)?;
        if !include_hidden {
            path.retain(|m| !m.hidden);
        }
        Ok(path)
    }

    /// The active branch in brief: each visible message's role (root first), the first
    /// `preview_chars` characters of the first visible user message, and the time of the last
    /// message that has one. Walks up from the current leaf like [`Repo::active_branch`] (a
    /// cycle or a parent outside the conversation ends the walk) without reading the texts,
    /// so a list can show many conversations cheaply.
    pub fn branch_outline(
        &self,
        conversation: &ConversationId,
        preview_chars: u32,
    ) -> Result<BranchOutline> {
        self.ensure_conversation(conversation)?;
        let mut stmt = self.conn.prepare_cached(
            "WITH RECURSIVE branch (id, parent_id, role, hidden, created_at, depth) AS (
                 SELECT t.id, t.parent_id, t.role, t.hidden, t.created_at, 0
                   FROM convos c JOIN convo_turns t ON t.id = c.current_turn_id
                  WHERE c.id = ?1 AND t.convo_id = ?1
                 UNION ALL
                 SELECT t.id, t.parent_id, t.role, t.hidden, t.created_at, b.depth + 1
                   FROM branch b JOIN convo_turns t ON t.id = b.parent_id
                  WHERE t.convo_id = ?1
                    AND b.depth < (SELECT count(*) FROM convo_turns WHERE convo_id = ?1)
             )
             SELECT id, role, hidden, created_at FROM branch ORDER BY depth",
        )?;
        let mut rows = stmt.query([conversation.as_str()])?;
        let mut leaf_first = Vec::new();
        while let Some(row) = rows.next()? {
            leaf_first.push(OutlineRow {
                id: row.get(0)?,
                role: row.get::<_, String>(1)?.parse()?,
                hidden: row.get(2)?,
                created_at: row.get(3)?,
            });
        }
        let (visible, last_at) = outline_of(leaf_first)?;
        let first_user = match visible.iter().find(|m| m.role == Role::User) {
            Some(m) => self
                .conn
                .prepare_cached("SELECT substr(content, 1, ?2) FROM convo_turns WHERE id = ?1")?
                .query_row(params![m.id, preview_chars], |r| r.get::<_, String>(0))
                .optional()
                .ctx("reading a message preview")?,
            None => None,
        };
        Ok(BranchOutline {
            roles: visible.into_iter().map(|m| m.role).collect(),
            first_user,
            last_at,
        })
    }

    /// Makes `message` the leaf of the active branch (switching to another edit or
    /// regeneration).
    pub fn set_current_leaf(
        &self,
        conversation: &ConversationId,
        message: &MessageId,
    ) -> Result<()> {
        self.ensure_conversation(conversation)?;
        if self.message_conversation(message)? != conversation.as_str() {
            return Err(Error::InvalidInput(format!(
                "message {message} belongs to another conversation"
            )));
        }
        self.conn
            .prepare_cached("UPDATE convos SET current_turn_id = ?2 WHERE id = ?1")?
            .execute(params![conversation.as_str(), message.as_str()])?;
        Ok(())
    }

    /// Clears the current leaf, so the next message added without a parent starts a new root
    /// (the first message edited). The branches already there stay.
    pub fn clear_current_leaf(&self, conversation: &ConversationId) -> Result<()> {
        self.ensure_conversation(conversation)?;
        self.conn
            .prepare_cached("UPDATE convos SET current_turn_id = NULL WHERE id = ?1")?
            .execute([conversation.as_str()])
            .ctx("clearing the current leaf")?;
        Ok(())
    }
}
