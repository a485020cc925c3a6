//! Repository functions over one transaction.

use std::collections::{HashMap, HashSet};

use chat_model::timestamp::{from_millis, now, to_millis};
use chat_model::{
    Conversation, ConversationDetail, ConversationId, FolderPath, ForkOrigin, Message, MessageId,
    MessageStatus, Part, Rating, RatingValue, Source, Tag, Timestamp,
};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use crate::error::{Context, Error, Result};
use crate::types::{
    Cursor, FolderInfo, ImportRunRecord, ListQuery, NewConversation, NewTurn, Page, QuarantineItem,
    RatedMessage,
};

/// Columns of a message row (`t`) with its rating (`r`), in the order [`message_from_row`] reads.
pub(crate) const MSG_COLS: &str = "t.id, t.convo_id, t.parent_id, t.role, t.content, t.parts, \
     t.model, t.created_at, t.hidden, t.source_id, t.status, r.rating, r.reason, r.created_at";
/// The tables [`MSG_COLS`] come from.
pub(crate) const MSG_FROM: &str = "convo_turns t LEFT JOIN message_ratings r ON r.turn_id = t.id";

/// Columns of a conversation row (`c`), in the order [`conversation_from_row`] reads.
const CONVO_COLS: &str = "c.id, c.source, c.source_id, c.title, c.folder, c.created_at, \
     c.updated_at, c.archived_at, c.summary, c.current_turn_id, c.forked_from_convo_id, \
     c.forked_from_turn_id, \
     (SELECT count(*) FROM convo_turns WHERE convo_id = c.id), \
     (SELECT group_concat(name, char(31)) FROM (SELECT tg.name AS name FROM convo_tags ct \
        JOIN tags tg ON tg.id = ct.tag_id WHERE ct.convo_id = c.id ORDER BY tg.name))";

/// Largest list page.
const MAX_PAGE: u32 = 1000;

/// Repository functions, bound to one transaction opened by [`crate::Store::read`] or
/// [`crate::Store::write`]. Calling a writing function inside `read` fails with SQLite's
/// "readonly transaction" only if another writer holds the lock; use `write` for writes.
#[derive(Debug)]
pub struct Repo<'c> {
    pub(crate) conn: &'c Connection,
}

pub(crate) fn ts(ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(from_millis).transpose().map_err(Error::from)
}

pub(crate) fn parts_json(parts: &[Part]) -> Result<Option<String>> {
    if parts.is_empty() {
        Ok(None)
    } else {
        serde_json::to_string(parts)
            .map(Some)
            .map_err(|e| Error::InvalidInput(format!("message parts cannot be serialised: {e}")))
    }
}

pub(crate) fn message_from_row(row: &Row<'_>) -> Result<Message> {
    let parts: Option<String> = row.get(5)?;
    let parts = match parts {
        Some(json) => serde_json::from_str(&json)?,
        None => Vec::new(),
    };
    let status: String = row.get(10)?;
    let status = match status.as_str() {
        "interrupted" => MessageStatus::Interrupted,
        "complete" => MessageStatus::Complete,
        other => return Err(Error::Corrupt(format!("unknown message status {other:?}"))),
    };
    let rating = match row.get::<_, Option<i64>>(11)? {
        Some(v) => Some(Rating {
            value: RatingValue::from_i64(v)?,
            reason: row.get(12)?,
            created_at: from_millis(row.get(13)?)?,
        }),
        None => None,
    };
    Ok(Message {
        id: MessageId::from_string(row.get::<_, String>(0)?),
        conversation_id: ConversationId::from_string(row.get::<_, String>(1)?),
        parent_id: row.get::<_, Option<String>>(2)?.map(MessageId::from_string),
        role: row.get::<_, String>(3)?.parse()?,
        content: row.get(4)?,
        parts,
        model: row.get(6)?,
        created_at: ts(row.get(7)?)?,
        hidden: row.get(8)?,
        source_id: row.get(9)?,
        status,
        rating,
    })
}

fn conversation_from_row(row: &Row<'_>) -> Result<Conversation> {
    let forked_from = match (
        row.get::<_, Option<String>>(10)?,
        row.get::<_, Option<String>>(11)?,
    ) {
        (Some(c), Some(m)) => Some(ForkOrigin {
            conversation_id: ConversationId::from_string(c),
            message_id: MessageId::from_string(m),
        }),
        _ => None,
    };
    let tags = match row.get::<_, Option<String>>(13)? {
        Some(joined) => joined
            .split('\u{1f}')
            .map(Tag::new)
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    Ok(Conversation {
        id: ConversationId::from_string(row.get::<_, String>(0)?),
        source: row.get::<_, String>(1)?.parse()?,
        source_id: row.get(2)?,
        title: row.get(3)?,
        folder: FolderPath::new(&row.get::<_, String>(4)?)?,
        created_at: from_millis(row.get(5)?)?,
        updated_at: from_millis(row.get(6)?)?,
        archived_at: ts(row.get(7)?)?,
        summary: row.get(8)?,
        current_message_id: row.get::<_, Option<String>>(9)?.map(MessageId::from_string),
        forked_from,
        tags,
        message_count: u64::try_from(row.get::<_, i64>(12)?).unwrap_or(0),
    })
}

/// Escapes `%`, `_` and `\` for `LIKE ... ESCAPE '\'`.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl<'c> Repo<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        Repo { conn }
    }

    /// The underlying connection, for queries this API does not cover. Writes made through it
    /// must keep the invariants described in `docs/architecture.md`.
    pub fn connection(&self) -> &Connection {
        self.conn
    }

    // ----- conversations -------------------------------------------------------------------

    /// A conversation with its tags and message count.
    pub fn get_conversation(&self, id: &ConversationId) -> Result<Conversation> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {CONVO_COLS} FROM convos c WHERE c.id = ?1"
            ))
            .ctx("preparing to read a conversation")?;
        let mut rows = stmt.query([id.as_str()])?;
        match rows.next()? {
            Some(row) => conversation_from_row(row),
            None => Err(Error::not_found("conversation", id.as_str())),
        }
    }

    fn ensure_conversation(&self, id: &ConversationId) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT current_turn_id FROM convos WHERE id = ?1")?
            .query_row([id.as_str()], |r| r.get::<_, Option<String>>(0))
            .optional()
            .ctx("looking up a conversation")?
            .ok_or_else(|| Error::not_found("conversation", id.as_str()))
    }

    /// The conversation a message belongs to.
    fn message_conversation(&self, id: &MessageId) -> Result<String> {
        self.conn
            .prepare_cached("SELECT convo_id FROM convo_turns WHERE id = ?1")?
            .query_row([id.as_str()], |r| r.get::<_, String>(0))
            .optional()
            .ctx("looking up a message")?
            .ok_or_else(|| Error::not_found("message", id.as_str()))
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

    /// Persists a conversation's full state atomically: the conversation row (inserted or
    /// updated by id), exactly the given messages (others of this conversation are deleted;
    /// kept ones are updated in place, so their search rows and ratings follow), their ratings
    /// and the tags.
    pub fn save_conversation(&self, detail: &ConversationDetail) -> Result<Conversation> {
        let c = &detail.conversation;
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
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Error::Conflict(format!(
                        "another conversation already has source {} and source id {:?}",
                        c.source, c.source_id
                    ))
                }
                e => Error::sqlite("saving a conversation", e),
            })?;

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
            if m.conversation_id != c.id {
                return Err(Error::InvalidInput(format!(
                    "message {} belongs to conversation {}, not {}",
                    m.id, m.conversation_id, c.id
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
                    c.id.as_str(),
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

    /// Appends a message. Its parent is `turn.parent_id` or, when `None`, the current leaf;
    /// the new message becomes the current leaf and the conversation's `updated_at` moves to
    /// now. A missing conversation is [`Error::NotFound`]; a parent of another conversation
    /// is [`Error::InvalidInput`].
    pub fn add_turn(&self, convo: &ConversationId, turn: NewTurn) -> Result<Message> {
        let current = self.ensure_conversation(convo)?;
        let parent = match turn.parent_id {
            Some(p) => {
                let owner = self.message_conversation(&p)?;
                if owner != convo.as_str() {
                    return Err(Error::InvalidInput(format!(
                        "parent message {p} belongs to another conversation"
                    )));
                }
                Some(p.into_string())
            }
            None => current,
        };
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
                convo.as_str(),
                parent,
                turn.role.as_str(),
                turn.content,
                parts_json(&turn.parts)?,
                turn.model,
                to_millis(turn.created_at.unwrap_or(at)),
                turn.hidden,
                turn.status.as_str(),
            ])
            .ctx("adding a message")?;
        self.conn
            .prepare_cached(
                "UPDATE convos SET current_turn_id = ?2, updated_at = max(updated_at, ?3)
                 WHERE id = ?1",
            )?
            .execute(params![convo.as_str(), id.as_str(), to_millis(at)])?;
        self.get_message(&id)
    }

    /// Replaces a message's text and status (e.g. when a streamed reply finishes). The search
    /// index follows through the table's triggers.
    pub fn update_turn_content(
        &self,
        id: &MessageId,
        content: &str,
        status: MessageStatus,
    ) -> Result<Message> {
        let convo = self.message_conversation(id)?;
        self.conn
            .prepare_cached("UPDATE convo_turns SET content = ?2, status = ?3 WHERE id = ?1")?
            .execute(params![id.as_str(), content, status.as_str()])
            .ctx("updating a message")?;
        self.conn
            .prepare_cached("UPDATE convos SET updated_at = max(updated_at, ?2) WHERE id = ?1")?
            .execute(params![convo, to_millis(now())])?;
        self.get_message(id)
    }

    /// One message, with its rating.
    pub fn get_message(&self, id: &MessageId) -> Result<Message> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MSG_COLS} FROM {MSG_FROM} WHERE t.id = ?1"
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
        convo: &ConversationId,
        include_hidden: bool,
    ) -> Result<Vec<Message>> {
        self.ensure_conversation(convo)?;
        let hidden = if include_hidden {
            ""
        } else {
            " AND t.hidden = 0"
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MSG_COLS} FROM {MSG_FROM} WHERE t.convo_id = ?1{hidden} ORDER BY t.seq"
        ))?;
        let mut rows = stmt.query([convo.as_str()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(message_from_row(row)?);
        }
        Ok(out)
    }

    /// The messages from the root to `leaf`, walking parent links upwards; a cycle or a
    /// dangling parent ends the walk instead of looping.
    fn path_to(&self, convo: &ConversationId, leaf: &str) -> Result<Vec<Message>> {
        let mut by_id: HashMap<String, Message> = self
            .message_tree(convo, true)?
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
        Ok(path)
    }

    /// The active branch, root to current leaf. Hidden messages are left out unless
    /// `include_hidden`.
    pub fn active_branch(
        &self,
        convo: &ConversationId,
        include_hidden: bool,
    ) -> Result<Vec<Message>> {
        let Some(leaf) = self.ensure_conversation(convo)? else {
            return Ok(Vec::new());
        };
        let mut path = self.path_to(convo, &leaf)?;
        if !include_hidden {
            path.retain(|m| !m.hidden);
        }
        Ok(path)
    }

    /// Makes `message` the leaf of the active branch (switching to another edit or
    /// regeneration).
    pub fn set_current_leaf(&self, convo: &ConversationId, message: &MessageId) -> Result<()> {
        self.ensure_conversation(convo)?;
        if self.message_conversation(message)? != convo.as_str() {
            return Err(Error::InvalidInput(format!(
                "message {message} belongs to another conversation"
            )));
        }
        self.conn
            .prepare_cached("UPDATE convos SET current_turn_id = ?2 WHERE id = ?1")?
            .execute(params![convo.as_str(), message.as_str()])?;
        Ok(())
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
            "SELECT {CONVO_COLS} FROM convos c WHERE {}",
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

    fn update_convo(&self, id: &ConversationId, sql: &str, arg: Value) -> Result<Conversation> {
        let n = self
            .conn
            .prepare_cached(sql)?
            .execute(params![id.as_str(), arg])
            .ctx("updating a conversation")?;
        if n == 0 {
            return Err(Error::not_found("conversation", id.as_str()));
        }
        self.get_conversation(id)
    }

    /// Sets the title; a later import will not overwrite it.
    pub fn rename(&self, id: &ConversationId, title: &str) -> Result<Conversation> {
        self.update_convo(
            id,
            "UPDATE convos SET title = ?2, title_edited = 1 WHERE id = ?1",
            Value::Text(title.trim().to_owned()),
        )
    }

    /// Files the conversation in `folder`.
    pub fn move_to_folder(&self, id: &ConversationId, folder: &FolderPath) -> Result<Conversation> {
        self.update_convo(
            id,
            "UPDATE convos SET folder = ?2 WHERE id = ?1",
            Value::Text(folder.as_str().to_owned()),
        )
    }

    /// Archives the conversation (hidden from the default list, nothing deleted). Archiving an
    /// archived conversation keeps its original `archived_at`.
    pub fn archive(&self, id: &ConversationId) -> Result<Conversation> {
        self.update_convo(
            id,
            "UPDATE convos SET archived_at = coalesce(archived_at, ?2) WHERE id = ?1",
            Value::Integer(to_millis(now())),
        )
    }

    /// Returns an archived conversation to the default list.
    pub fn restore(&self, id: &ConversationId) -> Result<Conversation> {
        self.update_convo(
            id,
            "UPDATE convos SET archived_at = ?2 WHERE id = ?1",
            Value::Null,
        )
    }

    /// Sets or clears the summary.
    pub fn set_summary(&self, id: &ConversationId, summary: Option<&str>) -> Result<Conversation> {
        self.update_convo(
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
        if n == 0 {
            return Err(Error::not_found("conversation", id.as_str()));
        }
        Ok(())
    }

    // ----- tags and folders ----------------------------------------------------------------

    /// Tags a conversation (tags compare case-insensitively; the first spelling is kept).
    pub fn add_tag(&self, id: &ConversationId, tag: &Tag) -> Result<()> {
        self.ensure_conversation(id)?;
        self.conn
            .prepare_cached("INSERT INTO tags (name) VALUES (?1) ON CONFLICT (name) DO NOTHING")?
            .execute([tag.as_str()])?;
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO convo_tags (convo_id, tag_id)
                 SELECT ?1, id FROM tags WHERE name = ?2",
            )?
            .execute([id.as_str(), tag.as_str()])
            .ctx("tagging a conversation")?;
        Ok(())
    }

    /// Removes a tag from a conversation (nothing happens if it did not carry it).
    pub fn remove_tag(&self, id: &ConversationId, tag: &Tag) -> Result<()> {
        self.ensure_conversation(id)?;
        self.conn
            .prepare_cached(
                "DELETE FROM convo_tags
                 WHERE convo_id = ?1 AND tag_id = (SELECT id FROM tags WHERE name = ?2)",
            )?
            .execute([id.as_str(), tag.as_str()])
            .ctx("untagging a conversation")?;
        Ok(())
    }

    /// Every tag in use with the number of conversations carrying it, by name.
    pub fn list_tags(&self) -> Result<Vec<(Tag, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT tg.name, count(*) FROM tags tg JOIN convo_tags ct ON ct.tag_id = tg.id
             GROUP BY tg.id ORDER BY tg.name",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push((Tag::new(&row.get::<_, String>(0)?)?, u64_of(row.get(1)?)));
        }
        Ok(out)
    }

    /// Folders with their conversation counts, one entry per folder and source (so
    /// `source` is always set), ordered by path then source.
    pub fn list_folders(&self) -> Result<Vec<FolderInfo>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT folder, source, sum(archived_at IS NULL), sum(archived_at IS NOT NULL)
             FROM convos GROUP BY folder, source ORDER BY folder, source",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(FolderInfo {
                path: FolderPath::new(&row.get::<_, String>(0)?)?,
                source: Some(row.get::<_, String>(1)?.parse()?),
                count: u64_of(row.get(2)?),
                archived_count: u64_of(row.get(3)?),
            });
        }
        Ok(out)
    }

    // ----- ratings -------------------------------------------------------------------------

    fn put_rating(
        &self,
        id: &MessageId,
        value: RatingValue,
        reason: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO message_ratings (turn_id, rating, reason, created_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (turn_id) DO UPDATE SET rating = excluded.rating,
                    reason = excluded.reason, created_at = excluded.created_at",
            )?
            .execute(params![id.as_str(), value.as_i64(), reason, to_millis(at)])
            .ctx("rating a message")?;
        Ok(())
    }

    /// Rates a message, replacing any earlier rating.
    pub fn rate_message(
        &self,
        id: &MessageId,
        value: RatingValue,
        reason: Option<&str>,
    ) -> Result<Rating> {
        self.message_conversation(id)?;
        let at = now();
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        self.put_rating(id, value, reason, at)?;
        Ok(Rating {
            value,
            reason: reason.map(str::to_owned),
            created_at: at,
        })
    }

    /// Removes a message's rating (nothing happens if it had none).
    pub fn unrate_message(&self, id: &MessageId) -> Result<()> {
        self.message_conversation(id)?;
        self.conn
            .prepare_cached("DELETE FROM message_ratings WHERE turn_id = ?1")?
            .execute([id.as_str()])?;
        Ok(())
    }

    /// Rated messages, newest rating first, optionally only ups or only downs.
    pub fn rated_messages(&self, filter: Option<RatingValue>) -> Result<Vec<RatedMessage>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MSG_COLS} FROM convo_turns t JOIN message_ratings r ON r.turn_id = t.id
             WHERE ?1 IS NULL OR r.rating = ?1 ORDER BY r.created_at DESC, t.seq DESC"
        ))?;
        let mut rows = stmt.query([filter.map(RatingValue::as_i64)])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let message = message_from_row(row)?;
            let Some(rating) = message.rating.clone() else {
                continue;
            };
            out.push(RatedMessage {
                conversation_id: message.conversation_id.clone(),
                message,
                rating,
            });
        }
        Ok(out)
    }

    // ----- forks ---------------------------------------------------------------------------

    /// A new native conversation holding copies (new ids) of the messages from the root to
    /// `at`, with its fork origin recorded; title, folder and tags are copied, ratings are
    /// not. The original is untouched. A message of another conversation is
    /// [`Error::InvalidInput`].
    pub fn fork(&self, convo: &ConversationId, at: &MessageId) -> Result<Conversation> {
        let original = self.get_conversation(convo)?;
        if self.message_conversation(at)? != convo.as_str() {
            return Err(Error::InvalidInput(format!(
                "message {at} does not belong to conversation {convo}"
            )));
        }
        let path = self.path_to(convo, at.as_str())?;
        let id = ConversationId::generate();
        let stamp = to_millis(now());
        self.conn
            .prepare_cached(
                "INSERT INTO convos (id, source, title, title_edited, folder, model, created_at,
                    updated_at, forked_from_convo_id, forked_from_turn_id)
                 SELECT ?1, 'native', title, title_edited, folder, model, ?2, ?2, id, ?3
                 FROM convos WHERE id = ?4",
            )?
            .execute(params![id.as_str(), stamp, at.as_str(), convo.as_str()])
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

    // ----- import runs and quarantine ----------------------------------------------------------

    /// Records a new import run.
    pub fn create_import_run(&self, run: &ImportRunRecord) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO import_runs (id, started_at, finished_at, status, inputs, sources,
                    report, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                run.id,
                to_millis(run.started_at),
                run.finished_at.map(to_millis),
                run.status,
                run.inputs.to_string(),
                run.sources.to_string(),
                run.report.as_ref().map(ToString::to_string),
                run.error,
            ])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Error::Conflict(format!("import run {} already exists", run.id))
                }
                e => Error::sqlite("recording an import run", e),
            })?;
        Ok(())
    }

    /// Overwrites an import run's fields (all but `id` and `started_at`).
    pub fn update_import_run(&self, run: &ImportRunRecord) -> Result<()> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE import_runs SET finished_at = ?2, status = ?3, inputs = ?4, sources = ?5,
                    report = ?6, error = ?7 WHERE id = ?1",
            )?
            .execute(params![
                run.id,
                run.finished_at.map(to_millis),
                run.status,
                run.inputs.to_string(),
                run.sources.to_string(),
                run.report.as_ref().map(ToString::to_string),
                run.error,
            ])
            .ctx("updating an import run")?;
        if n == 0 {
            return Err(Error::not_found("import run", run.id.as_str()));
        }
        Ok(())
    }

    fn import_run_from_row(row: &Row<'_>) -> Result<ImportRunRecord> {
        let report: Option<String> = row.get(6)?;
        Ok(ImportRunRecord {
            id: row.get(0)?,
            started_at: from_millis(row.get(1)?)?,
            finished_at: ts(row.get(2)?)?,
            status: row.get(3)?,
            inputs: serde_json::from_str(&row.get::<_, String>(4)?)?,
            sources: serde_json::from_str(&row.get::<_, String>(5)?)?,
            report: report.map(|r| serde_json::from_str(&r)).transpose()?,
            error: row.get(7)?,
        })
    }

    /// One import run.
    pub fn get_import_run(&self, id: &str) -> Result<ImportRunRecord> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, started_at, finished_at, status, inputs, sources, report, error
             FROM import_runs WHERE id = ?1",
        )?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(row) => Self::import_run_from_row(row),
            None => Err(Error::not_found("import run", id)),
        }
    }

    /// The latest import runs, newest first.
    pub fn list_import_runs(&self, limit: u32) -> Result<Vec<ImportRunRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, started_at, finished_at, status, inputs, sources, report, error
             FROM import_runs ORDER BY started_at DESC, id DESC LIMIT ?1",
        )?;
        let mut rows = stmt.query([i64::from(limit)])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(Self::import_run_from_row(row)?);
        }
        Ok(out)
    }

    /// Keeps an item an import could not read; returns its row id.
    pub fn quarantine_item(&self, item: &QuarantineItem) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO import_quarantine (run_id, input, item, error, hint, source,
                    location, raw, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                item.run_id,
                item.input,
                item.item,
                item.error,
                item.hint,
                item.source.map(Source::as_str),
                item.location,
                item.raw,
                to_millis(item.created_at),
            ])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Error::not_found("import run", item.run_id.as_str())
                }
                e => Error::sqlite("quarantining an item", e),
            })?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The quarantined items of a run, in the order they were kept.
    pub fn list_quarantine(&self, run_id: &str) -> Result<Vec<QuarantineItem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, run_id, input, item, error, hint, source, location, raw, created_at
             FROM import_quarantine WHERE run_id = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([run_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(QuarantineItem {
                id: row.get(0)?,
                run_id: row.get(1)?,
                input: row.get(2)?,
                item: row.get(3)?,
                error: row.get(4)?,
                hint: row.get(5)?,
                source: row
                    .get::<_, Option<String>>(6)?
                    .map(|s| s.parse())
                    .transpose()?,
                location: row.get(7)?,
                raw: row.get(8)?,
                created_at: from_millis(row.get(9)?)?,
            });
        }
        Ok(out)
    }

    /// Deletes one quarantined item.
    pub fn delete_quarantine(&self, id: i64) -> Result<()> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM import_quarantine WHERE id = ?1")?
            .execute([id])?;
        if n == 0 {
            return Err(Error::not_found("quarantined item", id.to_string()));
        }
        Ok(())
    }
}
