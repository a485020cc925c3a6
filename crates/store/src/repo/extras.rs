//! What a conversation row holds beyond [`chat_model::Conversation`], for copying a store.

use chat_model::ConversationId;

use super::SqliteRepo;
use crate::error::{Context, Error, Result};
use crate::types::ConversationExtras;

impl SqliteRepo<'_> {
    /// See [`crate::Repo::conversation_extras`].
    pub fn conversation_extras(&self, id: &ConversationId) -> Result<ConversationExtras> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT title_edited, model, content_hash, extra FROM convos WHERE id = ?1",
        )?;
        let mut rows = stmt.query([id.as_str()])?;
        let Some(row) = rows.next()? else {
            return Err(Error::not_found("conversation", id.as_str()));
        };
        Ok(ConversationExtras {
            title_edited: row.get::<_, i64>(0)? != 0,
            model: row.get(1)?,
            content_hash: row.get(2)?,
            extra: row.get(3)?,
        })
    }

    /// See [`crate::Repo::set_conversation_extras`].
    pub fn set_conversation_extras(
        &self,
        id: &ConversationId,
        extras: &ConversationExtras,
    ) -> Result<()> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE convos SET title_edited = ?2, model = ?3, content_hash = ?4, extra = ?5
                 WHERE id = ?1",
            )?
            .execute(rusqlite::params![
                id.as_str(),
                i64::from(extras.title_edited),
                extras.model,
                extras.content_hash,
                extras.extra
            ])
            .ctx("setting a conversation's extras")?;
        Error::found(changed, "conversation", id.as_str())
    }
}
