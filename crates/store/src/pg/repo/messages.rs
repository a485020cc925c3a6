//! Messages and the tree they form, and forks (a new conversation from a branch).

use chat_model::timestamp::{now, to_millis};
use chat_model::{Conversation, ConversationId, Message, MessageId, MessageStatus, Role};

use super::rows::{message, pg_text, MESSAGE_COLUMNS, MESSAGE_TABLES};
use super::PgRepo;
use crate::columns::parts_json;
use crate::error::{Error, Result};
use crate::pg::words::{cjk_column, TsVector};
use crate::repo::messages::{branch_to, outline_of, parent_of, OutlineRow};
use crate::types::{BranchOutline, NewMessage};

impl PgRepo<'_> {
    /// See [`crate::Repo::add_message`].
    pub(crate) fn add_message(
        &self,
        conversation: &ConversationId,
        new: NewMessage,
    ) -> Result<Message> {
        let current = self.ensure_conversation(conversation)?;
        let parent = parent_of(conversation, new.parent_id, current, |p| {
            self.message_conversation(p)
        })?;
        let id = MessageId::generate();
        let at = now();
        let parts = parts_json(&new.parts)?;
        let content = pg_text(&new.content);
        self.execute(
            "adding a message",
            "INSERT INTO convo_turns (id, convo_id, parent_id, role, content, parts, model,
                created_at, hidden, status, tsv, cjk)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &id.as_str(),
                &conversation.as_str(),
                &parent,
                &new.role.as_str(),
                &content,
                &parts.as_deref().map(pg_text),
                &new.model,
                &to_millis(new.created_at.unwrap_or(at)),
                &new.hidden,
                &new.status.as_str(),
                &TsVector::of(&content, None)?,
                &cjk_column(&content, new.hidden),
            ],
        )?;
        self.execute(
            "adding a message",
            "UPDATE convos SET current_turn_id = $2, updated_at = greatest(updated_at, $3)
             WHERE id = $1",
            &[&conversation.as_str(), &id.as_str(), &to_millis(at)],
        )?;
        self.get_message(&id)
    }

    /// See [`crate::Repo::update_message_content`].
    pub(crate) fn update_message_content(
        &self,
        id: &MessageId,
        content: &str,
        status: MessageStatus,
    ) -> Result<Message> {
        let conversation = self.message_conversation(id)?;
        let content = pg_text(content);
        self.execute(
            "updating a message",
            "UPDATE convo_turns SET content = $2, status = $3, tsv = $4,
                cjk = CASE WHEN hidden THEN NULL ELSE $5::tsvector END
             WHERE id = $1",
            &[
                &id.as_str(),
                &content,
                &status.as_str(),
                &TsVector::of(&content, None)?,
                &cjk_column(&content, false),
            ],
        )?;
        self.execute(
            "updating a message",
            "UPDATE convos SET updated_at = greatest(updated_at, $2) WHERE id = $1",
            &[&conversation, &to_millis(now())],
        )?;
        self.get_message(id)
    }

    /// See [`crate::Repo::get_message`].
    pub(crate) fn get_message(&self, id: &MessageId) -> Result<Message> {
        let row = self.query_opt(
            "reading a message",
            &format!("SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_TABLES} WHERE t.id = $1"),
            &[&id.as_str()],
        )?;
        match row {
            Some(row) => message(&row),
            None => Err(Error::not_found("message", id.as_str())),
        }
    }

    /// See [`crate::Repo::message_tree`].
    pub(crate) fn message_tree(
        &self,
        conversation: &ConversationId,
        include_hidden: bool,
    ) -> Result<Vec<Message>> {
        self.ensure_conversation(conversation)?;
        let hidden = if include_hidden {
            ""
        } else {
            " AND NOT t.hidden"
        };
        self.query(
            "reading a conversation's messages",
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_TABLES}
                 WHERE t.convo_id = $1{hidden} ORDER BY t.seq"
            ),
            &[&conversation.as_str()],
        )?
        .iter()
        .map(message)
        .collect()
    }

    /// See [`crate::Repo::active_branch`].
    pub(crate) fn active_branch(
        &self,
        conversation: &ConversationId,
        include_hidden: bool,
    ) -> Result<Vec<Message>> {
        let Some(leaf) = self.ensure_conversation(conversation)? else {
            return Ok(Vec::new());
        };
        let mut path = branch_to(self.message_tree(conversation, true)?, &leaf);
        if !include_hidden {
            path.retain(|m| !m.hidden);
        }
        Ok(path)
    }

    /// See [`crate::Repo::branch_outline`].
    pub(crate) fn branch_outline(
        &self,
        conversation: &ConversationId,
        preview_chars: u32,
    ) -> Result<BranchOutline> {
        self.ensure_conversation(conversation)?;
        let rows = self.query(
            "outlining a branch",
            "WITH RECURSIVE branch (id, parent_id, role, hidden, created_at, depth) AS (
                 SELECT t.id, t.parent_id, t.role, t.hidden, t.created_at, 0
                   FROM convos c JOIN convo_turns t ON t.id = c.current_turn_id
                  WHERE c.id = $1 AND t.convo_id = $1
                 UNION ALL
                 SELECT t.id, t.parent_id, t.role, t.hidden, t.created_at, b.depth + 1
                   FROM branch b JOIN convo_turns t ON t.id = b.parent_id
                  WHERE t.convo_id = $1
                    AND b.depth < (SELECT count(*) FROM convo_turns WHERE convo_id = $1)
             )
             SELECT id, role, hidden, created_at FROM branch ORDER BY depth",
            &[&conversation.as_str()],
        )?;
        let mut leaf_first = Vec::with_capacity(rows.len());
        for r in &rows {
            leaf_first.push(OutlineRow {
                id: r.try_get(0)?,
                role: r.try_get::<_, &str>(1)?.parse()?,
                hidden: r.try_get(2)?,
                created_at: r.try_get(3)?,
            });
        }
        let (visible, last_at) = outline_of(leaf_first)?;
        let first_user = match visible.iter().find(|m| m.role == Role::User) {
            Some(m) => self
                .query_opt(
                    "reading a message preview",
                    "SELECT substr(content, 1, $2) FROM convo_turns WHERE id = $1",
                    &[&m.id, &i32::try_from(preview_chars).unwrap_or(i32::MAX)],
                )?
                .map(|r| r.try_get::<_, String>(0))
                .transpose()?,
            None => None,
        };
        Ok(BranchOutline {
            roles: visible.into_iter().map(|m| m.role).collect(),
            first_user,
            last_at,
        })
    }

    /// See [`crate::Repo::set_current_leaf`].
    pub(crate) fn set_current_leaf(
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
        self.execute(
            "moving the current leaf",
            "UPDATE convos SET current_turn_id = $2 WHERE id = $1",
            &[&conversation.as_str(), &message.as_str()],
        )?;
        Ok(())
    }

    /// See [`crate::Repo::clear_current_leaf`].
    pub(crate) fn clear_current_leaf(&self, conversation: &ConversationId) -> Result<()> {
        self.ensure_conversation(conversation)?;
        self.execute(
            "clearing the current leaf",
            "UPDATE convos SET current_turn_id = NULL WHERE id = $1",
            &[&conversation.as_str()],
        )?;
        Ok(())
    }

    /// See [`crate::Repo::fork`].
    pub(crate) fn fork(
        &self,
        conversation: &ConversationId,
        at: &MessageId,
    ) -> Result<Conversation> {
        let original = self.get_conversation(conversation)?;
        if self.message_conversation(at)? != conversation.as_str() {
            return Err(Error::InvalidInput(format!(
                "message {at} does not belong to conversation {conversation}"
            )));
        }
        let path = branch_to(self.message_tree(conversation, true)?, at.as_str());
        let id = ConversationId::generate();
        let stamp = to_millis(now());
        self.execute(
            "forking a conversation",
            "INSERT INTO convos (id, source, title, title_edited, folder, model, created_at,
                updated_at, forked_from_convo_id, forked_from_turn_id, title_tsv)
             SELECT $1, 'native', title, title_edited, folder, model, $2, $2, id, $3, title_tsv
             FROM convos WHERE id = $4",
            &[&id.as_str(), &stamp, &at.as_str(), &conversation.as_str()],
        )?;
        let mut parent: Option<String> = None;
        for m in &path {
            let new_id = MessageId::generate().into_string();
            self.execute(
                "copying a message into a fork",
                "INSERT INTO convo_turns (id, convo_id, parent_id, role, content, parts,
                    model, created_at, hidden, status, tsv, cjk)
                 SELECT $1, $2, $3, role, content, parts, model, created_at, hidden, status,
                    tsv, cjk
                 FROM convo_turns WHERE id = $4",
                &[&new_id, &id.as_str(), &parent, &m.id.as_str()],
            )?;
            parent = Some(new_id);
        }
        self.execute(
            "forking a conversation",
            "UPDATE convos SET current_turn_id = $2 WHERE id = $1",
            &[&id.as_str(), &parent],
        )?;
        for tag in &original.tags {
            self.add_tag(&id, tag)?;
        }
        self.get_conversation(&id)
    }
}
