//! Forks: a new conversation from the root of another down to one of its messages.

use chat_model::timestamp::{now, to_millis};
use chat_model::{Conversation, ConversationId, MessageId};
use rusqlite::params;

use super::SqliteRepo;
use crate::error::{Context, Error, Result};

impl SqliteRepo<'_> {
    /// A new native conversation holding copies (new ids) of the messages from the root to
    /// `at`, with its fork origin recorded; title, folder and tags are copied, ratings are
    /// not. The original is untouched. A message of another conversation is
    /// [`Error::InvalidInput`].
    pub fn fork(&self, conversation: &ConversationId, at: &MessageId) -> Result<Conversation> {
        let original = self.get_conversation(conversation)?;
        if self.message_conversation(at)? != conversation.as_str() {
            return Err(Error::InvalidInput(format!(
                "message {at} does not belong to conversation {conversation}"
            )));
        }
        let path = self.path_to(conversation, at.as_str())?;
        let id = ConversationId::generate();
        let stamp = to_millis(now());
        self.conn
            .prepare_cached(
                "INSERT INTO convos (id, source, title, title_edited, folder, model, created_at,
                    updated_at, forked_from_convo_id, forked_from_turn_id)
                 SELECT ?1, 'native', title, title_edited, folder, model, ?2, ?2, id, ?3
                 FROM convos WHERE id = ?4",
            )?
            .execute(params![
                id.as_str(),
                stamp,
                at.as_str(),
                conversation.as_str()
            ])
            .ctx("forking a conversation")?;
        let mut parent: Option<String> = None;
        for m in &path {
            let new_id = MessageId::generate().into_string();
            self.conn
                .prepare_cached(
                    "INSERT INTO convo_turns (id, convo_id, parent_id, role, content, parts,
                        model, created_at, hidden, status)
                     SELECT ?1, ?2, ?3, role, content, parts, model, created_at, hidden, status
                     FROM convo_turns WHERE id = ?4",
                )?
                .execute(params![new_id, id.as_str(), parent, m.id.as_str()])
                .ctx("copying a message into a fork")?;
            parent = Some(new_id);
        }
        self.conn
            .prepare_cached("UPDATE convos SET current_turn_id = ?2 WHERE id = ?1")?
            .execute(params![id.as_str(), parent])?;
        for tag in &original.tags {
            self.add_tag(&id, tag)?;
        }
        self.get_conversation(&id)
    }
}
