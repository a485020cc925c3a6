//! A conversation's full state, saved at once (the rules a state must follow are checked by
//! [`crate::Repo::save_conversation_state`], for both backends).

use std::collections::HashSet;

use chat_model::timestamp::to_millis;
use chat_model::{Conversation, ConversationDetail, ConversationId, Message, MessageId};

use super::rows::{pg_text, pg_text_opt};
use super::PgRepo;
use crate::columns::parts_json;
use crate::error::{Error, Result};
use crate::pg::words::{cjk_column, TsVector};

impl PgRepo<'_> {
    /// See [`crate::Repo::save_conversation`].
    pub(crate) fn save_conversation(&self, detail: &ConversationDetail) -> Result<Conversation> {
        let c = &detail.conversation;
        self.upsert_conversation_row(c)?;
        let keep: Vec<&str> = detail.messages.iter().map(|m| m.id.as_str()).collect();
        self.execute(
            "deleting messages left out of a saved state",
            "DELETE FROM convo_turns WHERE convo_id = $1 AND NOT (id = ANY($2))",
            &[&c.id.as_str(), &keep],
        )?;
        for m in &detail.messages {
            self.upsert_message(&c.id, m)?;
        }
        let kept: HashSet<&str> = keep.into_iter().collect();
        let leaf = c
            .current_message_id
            .as_ref()
            .filter(|id| kept.contains(id.as_str()))
            .or_else(|| detail.messages.last().map(|m| &m.id));
        self.execute(
            "saving a conversation",
            "UPDATE convos SET current_turn_id = $2 WHERE id = $1",
            &[&c.id.as_str(), &leaf.map(MessageId::as_str)],
        )?;
        self.execute(
            "saving a conversation's tags",
            "DELETE FROM convo_tags WHERE convo_id = $1",
            &[&c.id.as_str()],
        )?;
        for tag in &c.tags {
            self.add_tag(&c.id, tag)?;
        }
        self.get_conversation(&c.id)
    }

    /// The conversation's row, inserted or updated by id (the current leaf is set after the
    /// messages). Another conversation with the same source and source id is a conflict.
    fn upsert_conversation_row(&self, c: &Conversation) -> Result<()> {
        if let Some(source_id) = &c.source_id {
            let clash = self.query_opt(
                "saving a conversation",
                "SELECT 1 FROM convos WHERE source = $1 AND source_id = $2 AND id <> $3",
                &[&c.source.as_str(), source_id, &c.id.as_str()],
            )?;
            if clash.is_some() {
                return Err(Error::Conflict(format!(
                    "another conversation already has source {} and source id {:?}",
                    c.source, c.source_id
                )));
            }
        }
        let forked = c.forked_from.as_ref();
        let title = pg_text(&c.title);
        self.execute(
            "saving a conversation",
            "INSERT INTO convos (id, source, source_id, title, folder, created_at, updated_at,
                archived_at, summary, current_turn_id, forked_from_convo_id, forked_from_turn_id,
                title_tsv)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12)
             ON CONFLICT (id) DO UPDATE SET source = excluded.source,
                source_id = excluded.source_id, title = excluded.title,
                title_tsv = excluded.title_tsv,
                folder = excluded.folder, created_at = excluded.created_at,
                updated_at = excluded.updated_at, archived_at = excluded.archived_at,
                summary = excluded.summary,
                forked_from_convo_id = excluded.forked_from_convo_id,
                forked_from_turn_id = excluded.forked_from_turn_id",
            &[
                &c.id.as_str(),
                &c.source.as_str(),
                &c.source_id,
                &title,
                &c.folder.as_str(),
                &to_millis(c.created_at),
                &to_millis(c.updated_at),
                &c.archived_at.map(to_millis),
                &pg_text_opt(c.summary.as_deref()),
                &forked.map(|f| f.conversation_id.as_str()),
                &forked.map(|f| f.message_id.as_str()),
                &TsVector::of(&title, None)?,
            ],
        )?;
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
        let parts = parts_json(&m.parts)?;
        let content = pg_text(&m.content);
        let changed = self.execute(
            "saving a message",
            "INSERT INTO convo_turns (id, convo_id, parent_id, role, content, parts, model,
                created_at, hidden, source_id, status, tsv, cjk)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id,
                role = excluded.role, content = excluded.content, parts = excluded.parts,
                model = excluded.model, created_at = excluded.created_at,
                hidden = excluded.hidden, source_id = excluded.source_id,
                status = excluded.status, tsv = excluded.tsv, cjk = excluded.cjk
             WHERE convo_turns.convo_id = excluded.convo_id",
            &[
                &m.id.as_str(),
                &conversation.as_str(),
                &m.parent_id.as_ref().map(MessageId::as_str),
                &m.role.as_str(),
                &content,
                &parts.as_deref().map(pg_text),
                &m.model,
                &m.created_at.map(to_millis),
                &m.hidden,
                &m.source_id,
                &m.status.as_str(),
                &TsVector::of(&content, None)?,
                &cjk_column(&content, m.hidden),
            ],
        )?;
        if changed == 0 {
            return Err(Error::Conflict(format!(
                "message id {} already belongs to another conversation",
                m.id
            )));
        }
        match &m.rating {
            Some(r) => self.put_rating(&m.id, r.value, r.reason.as_deref(), r.created_at)?,
            None => {
                self.execute(
                    "saving a message's rating",
                    "DELETE FROM message_ratings WHERE turn_id = $1",
                    &[&m.id.as_str()],
                )?;
            }
        }
        Ok(())
    }
}
