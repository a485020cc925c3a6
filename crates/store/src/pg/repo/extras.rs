//! What a conversation row holds beyond [`chat_model::Conversation`], for copying a store.

use chat_model::ConversationId;

use super::PgRepo;
use crate::error::{Error, Result};
use crate::types::ConversationExtras;

impl PgRepo<'_> {
    /// See [`crate::Repo::conversation_extras`].
    pub(crate) fn conversation_extras(&self, id: &ConversationId) -> Result<ConversationExtras> {
        let row = self
            .query_opt(
                "reading a conversation's extras",
                "SELECT title_edited, model, content_hash, extra FROM convos WHERE id = $1",
                &[&id.as_str()],
            )?
            .ok_or_else(|| Error::not_found("conversation", id.as_str()))?;
        Ok(ConversationExtras {
            title_edited: row.try_get(0)?,
            model: row.try_get(1)?,
            content_hash: row.try_get(2)?,
            extra: row.try_get(3)?,
        })
    }

    /// See [`crate::Repo::set_conversation_extras`].
    pub(crate) fn set_conversation_extras(
        &self,
        id: &ConversationId,
        extras: &ConversationExtras,
    ) -> Result<()> {
        let changed = self.execute(
            "setting a conversation's extras",
            "UPDATE convos SET title_edited = $2, model = $3, content_hash = $4, extra = $5
             WHERE id = $1",
            &[
                &id.as_str(),
                &extras.title_edited,
                &extras.model,
                &extras.content_hash,
                &extras.extra,
            ],
        )?;
        Error::found(changed as usize, "conversation", id.as_str())
    }
}
