//! Conversations: create, read, list, rename, file, archive, summarise, delete.

use chat_model::timestamp::{now, to_millis};
use chat_model::{Conversation, ConversationId, FolderPath, Source, Timestamp};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter};

use super::SqliteRepo;
use crate::columns::{conversation_from_row, like_escape, CONVERSATION_COLUMNS};
use crate::error::{Context, Error, Result};
use crate::types::{Cursor, ListQuery, NewConversation, Page};

/// Largest list page.
const MAX_PAGE: u32 = 1000;

impl SqliteRepo<'_> {
    /// A conversation with its tags and message count.
    pub fn get_conversation(&self, id: &ConversationId) -> Result<Conversation> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {CONVERSATION_COLUMNS} FROM convos c WHERE c.id = ?1"
            ))
            .ctx("preparing to read a conversation")?;
        let mut rows = stmt.query([id.as_str()])?;
        match rows.next()? {
            Some(row) => conversation_from_row(row),
            None => Err(Error::not_found("conversation", id.as_str())),
        }
    }

    /// Creates an empty conversation.
    pub fn create_conversation(&self, new: NewConversation) -> Result<Conversation> {
        let id = ConversationId::generate();
        let at = to_millis(now());
        let folder = new.folder.unwrap_or_else(|| new.source.default_folder());
        self.conn
            .prepare_cached(
                "INSERT INTO convos (id, source, title, folder, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )?
            .execute(params![
                id.as_str(),
                new.source.as_str(),
                new.title.unwrap_or_default(),
                folder.as_str(),
                at
            ])
            .ctx("creating a conversation")?;
        for tag in &new.tags {
            self.add_tag(&id, tag)?;
        }
        self.get_conversation(&id)
    }

    /// Conversations, newest `updated_at` first, filtered and paged by keyset: the cursor is
    /// the `(updated_at, id)` of the previous page's last item, so pages never skip or repeat
    /// an item even while conversations are added.
    pub fn list_conversations(&self, q: &ListQuery) -> Result<Page<Conversation>> {
        let limit = match q.limit {
            0 => 50,
            n => n.min(MAX_PAGE),
        };
        let mut sql = format!(
            "SELECT {CONVERSATION_COLUMNS} FROM convos c WHERE {}",
            q.archived.sql("c.archived_at")
        );
        let mut args: Vec<Value> = Vec::new();
        if let Some(source) = q.source {
            args.push(Value::Text(source.as_str().to_owned()));
            sql.push_str(&format!(" AND c.source = ?{}", args.len()));
        }
        if let Some(folder) = q.folder.as_ref().filter(|f| !f.is_root()) {
            args.push(Value::Text(folder.as_str().to_owned()));
            let exact = args.len();
            args.push(Value::Text(format!("{}/%", like_escape(folder.as_str()))));
            sql.push_str(&format!(
                " AND (c.folder = ?{exact} OR c.folder LIKE ?{} ESCAPE '\\')",
                args.len()
            ));
        }
        if let Some(tag) = &q.tag {
            args.push(Value::Text(tag.as_str().to_owned()));
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM convo_tags ct JOIN tags tg ON tg.id = ct.tag_id
                   WHERE ct.convo_id = c.id AND tg.name = ?{})",
                args.len()
            ));
        }
        if let Some(after) = q.updated_after {
            args.push(Value::Integer(to_millis(after)));
            sql.push_str(&format!(" AND c.updated_at >= ?{}", args.len()));
        }
        if let Some(before) = q.updated_before {
            args.push(Value::Integer(to_millis(before)));
            sql.push_str(&format!(" AND c.updated_at < ?{}", args.len()));
        }
        if let Some(cursor) = &q.cursor {
            args.push(Value::Integer(cursor.updated_at));
            let at = args.len();
            args.push(Value::Text(cursor.id.clone()));
            sql.push_str(&format!(
                " AND (c.updated_at < ?{at} OR (c.updated_at = ?{at} AND c.id < ?{}))",
                args.len()
            ));
        }
        sql.push_str(&format!(
            " ORDER BY c.updated_at DESC, c.id DESC LIMIT {}",
            limit + 1
        ));
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .ctx("listing conversations")?;
        let mut rows = stmt.query(params_from_iter(args))?;
        let mut items = Vec::new();
        while let Some(row) = rows.next()? {
            items.push(conversation_from_row(row)?);
        }
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|c| Cursor {
                updated_at: to_millis(c.updated_at),
                id: c.id.as_str().to_owned(),
            })
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    fn update_conversation_row(
        &self,
        id: &ConversationId,
        sql: &str,
        arg: Value,
    ) -> Result<Conversation> {
        let n = self
            .conn
            .prepare_cached(sql)?
            .execute(params![id.as_str(), arg])
            .ctx("updating a conversation")?;
        Error::found(n, "conversation", id.as_str())?;
        self.get_conversation(id)
    }

    /// Sets the title; a later import will not overwrite it.
    pub fn rename(&self, id: &ConversationId, title: &str) -> Result<Conversation> {
        self.update_conversation_row(
            id,
            "UPDATE convos SET title = ?2, title_edited = 1 WHERE id = ?1",
            Value::Text(title.trim().to_owned()),
        )
    }

    /// Files the conversation in `folder`.
    pub fn move_to_folder(&self, id: &ConversationId, folder: &FolderPath) -> Result<Conversation> {
        self.update_conversation_row(
            id,
            "UPDATE convos SET folder = ?2 WHERE id = ?1",
            Value::Text(folder.as_str().to_owned()),
        )
    }

    /// Archives the conversation (hidden from the default list, nothing deleted). Archiving an
    /// archived conversation keeps its original `archived_at`.
    pub fn archive(&self, id: &ConversationId) -> Result<Conversation> {
        self.update_conversation_row(
            id,
            "UPDATE convos SET archived_at = coalesce(archived_at, ?2) WHERE id = ?1",
            Value::Integer(to_millis(now())),
        )
    }

    /// Returns an archived conversation to the default list.
    pub fn restore(&self, id: &ConversationId) -> Result<Conversation> {
        self.update_conversation_row(
            id,
            "UPDATE convos SET archived_at = ?2 WHERE id = ?1",
            Value::Null,
        )
    }

    /// Sets or clears the summary.
    pub fn set_summary(&self, id: &ConversationId, summary: Option<&str>) -> Result<Conversation> {
        self.update_conversation_row(
            id,
            "UPDATE convos SET summary = ?2 WHERE id = ?1",
            summary.map_or(Value::Null, |s| Value::Text(s.to_owned())),
        )
    }

    /// Archives every conversation (optionally of one source) not updated since `before`;
    /// returns how many were archived.
    pub fn archive_older_than(&self, before: Timestamp, source: Option<Source>) -> Result<u64> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE convos SET archived_at = ?3
                 WHERE archived_at IS NULL AND updated_at < ?1 AND (?2 IS NULL OR source = ?2)",
            )?
            .execute(params![
                to_millis(before),
                source.map(Source::as_str),
                to_millis(now())
            ])
            .ctx("archiving old conversations")?;
        Ok(n as u64)
    }

    /// Deletes a conversation; its messages, ratings, tag links and search rows go with it
    /// (foreign-key cascades and triggers), and tags no longer used anywhere disappear.
    pub fn delete_conversation(&self, id: &ConversationId) -> Result<()> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM convos WHERE id = ?1")?
            .execute([id.as_str()])
            .ctx("deleting a conversation")?;
        Error::found(n, "conversation", id.as_str())
    }

    /// Deletes every conversation of `source`, as [`Repo::delete_conversation`] does each;
    /// returns the ids of those deleted.
    pub fn delete_source(&self, source: Source) -> Result<Vec<ConversationId>> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM convos WHERE source = ?1 RETURNING id")?;
        let mut rows = stmt.query([source.as_str()])?;
        let mut ids = Vec::new();
        while let Some(row) = rows.next()? {
            ids.push(ConversationId::from_string(row.get::<_, String>(0)?));
        }
        Ok(ids)
    }
}
