//! Columns shared by the repository files and the bulk writer: the column lists of a message
//! and a conversation, reading rows of them back into domain types, and the conversions
//! between domain values and column values.

use chat_model::timestamp::from_millis;
use chat_model::{
    Conversation, ConversationId, FolderPath, ForkOrigin, Message, MessageId, MessageStatus, Part,
    Rating, RatingValue, Tag, Timestamp,
};
use rusqlite::Row;

use crate::error::{Error, Result};

/// Columns of a message row (`t`) with its rating (`r`), in the order [`message_from_row`] reads.
pub(crate) const MESSAGE_COLUMNS: &str =
    "t.id, t.convo_id, t.parent_id, t.role, t.content, t.parts, \
     t.model, t.created_at, t.hidden, t.source_id, t.status, r.rating, r.reason, r.created_at";
/// The tables [`MESSAGE_COLUMNS`] come from.
pub(crate) const MESSAGE_TABLES: &str =
    "convo_turns t LEFT JOIN message_ratings r ON r.turn_id = t.id";

/// Columns of a conversation row (`c`), in the order [`conversation_from_row`] reads.
pub(crate) const CONVERSATION_COLUMNS: &str =
    "c.id, c.source, c.source_id, c.title, c.folder, c.created_at, \
     c.updated_at, c.archived_at, c.summary, c.current_turn_id, c.forked_from_convo_id, \
     c.forked_from_turn_id, \
     (SELECT count(*) FROM convo_turns WHERE convo_id = c.id), \
     (SELECT group_concat(name, char(31)) FROM (SELECT tg.name AS name FROM convo_tags ct \
        JOIN tags tg ON tg.id = ct.tag_id WHERE ct.convo_id = c.id ORDER BY tg.name))";

/// A nullable millisecond column as a time.
pub(crate) fn ts(ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(from_millis).transpose().map_err(Error::from)
}

/// Message parts as the `parts` column: JSON, or NULL when there are none.
pub(crate) fn parts_json(parts: &[Part]) -> Result<Option<String>> {
    if parts.is_empty() {
        Ok(None)
    } else {
        serde_json::to_string(parts)
            .map(Some)
            .map_err(|e| Error::InvalidInput(format!("message parts cannot be serialised: {e}")))
    }
}

/// A message read from [`MESSAGE_COLUMNS`].
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

/// A conversation read from [`CONVERSATION_COLUMNS`].
pub(crate) fn conversation_from_row(row: &Row<'_>) -> Result<Conversation> {
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

/// A count read from SQLite (never negative) as `u64`.
pub(crate) fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
