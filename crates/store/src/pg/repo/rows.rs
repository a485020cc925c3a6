//! Column lists and row conversions of the PostgreSQL repository (SQLite's are in
//! `crate::columns`; the domain values are the same).

use std::borrow::Cow;

use chat_model::timestamp::from_millis;
use chat_model::{
    Conversation, ConversationId, FolderPath, ForkOrigin, Message, MessageId, MessageStatus,
    Rating, RatingValue, Tag,
};
use postgres::Row;

use crate::columns::ts;
use crate::error::{Error, Result};

/// Columns of a message row (`t`) with its rating (`r`), in the order [`message`] reads.
pub(crate) const MESSAGE_COLUMNS: &str =
    "t.id, t.convo_id, t.parent_id, t.role, t.content, t.parts, \
     t.model, t.created_at, t.hidden, t.source_id, t.status, r.rating, r.reason, r.created_at";
/// The tables [`MESSAGE_COLUMNS`] come from.
pub(crate) const MESSAGE_TABLES: &str =
    "convo_turns t LEFT JOIN message_ratings r ON r.turn_id = t.id";

/// Columns of a conversation row (`c`), in the order [`conversation`] reads.
pub(crate) const CONVERSATION_COLUMNS: &str =
    "c.id, c.source, c.source_id, c.title, c.folder, c.created_at, \
     c.updated_at, c.archived_at, c.summary, c.current_turn_id, c.forked_from_convo_id, \
     c.forked_from_turn_id, c.turn_count, c.tag_names";

/// A message read from [`MESSAGE_COLUMNS`].
pub(crate) fn message(row: &Row) -> Result<Message> {
    let parts: Option<String> = row.try_get(5)?;
    let parts = match parts {
        Some(json) => serde_json::from_str(&json)?,
        None => Vec::new(),
    };
    let status: String = row.try_get(10)?;
    let status = match status.as_str() {
        "interrupted" => MessageStatus::Interrupted,
        "complete" => MessageStatus::Complete,
        other => return Err(Error::Corrupt(format!("unknown message status {other:?}"))),
    };
    let rating = match row.try_get::<_, Option<i16>>(11)? {
        Some(v) => Some(Rating {
            value: RatingValue::from_i64(i64::from(v))?,
            reason: row.try_get(12)?,
            created_at: from_millis(row.try_get(13)?)?,
        }),
        None => None,
    };
    Ok(Message {
        id: MessageId::from_string(row.try_get::<_, String>(0)?),
        conversation_id: ConversationId::from_string(row.try_get::<_, String>(1)?),
        parent_id: row
            .try_get::<_, Option<String>>(2)?
            .map(MessageId::from_string),
        role: row.try_get::<_, String>(3)?.parse()?,
        content: row.try_get(4)?,
        parts,
        model: row.try_get(6)?,
        created_at: ts(row.try_get(7)?)?,
        hidden: row.try_get(8)?,
        source_id: row.try_get(9)?,
        status,
        rating,
    })
}

/// A conversation read from [`CONVERSATION_COLUMNS`].
pub(crate) fn conversation(row: &Row) -> Result<Conversation> {
    let forked_from = match (
        row.try_get::<_, Option<String>>(10)?,
        row.try_get::<_, Option<String>>(11)?,
    ) {
        (Some(c), Some(m)) => Some(ForkOrigin {
            conversation_id: ConversationId::from_string(c),
            message_id: MessageId::from_string(m),
        }),
        _ => None,
    };
    let tags = match row.try_get::<_, Option<String>>(13)? {
        Some(joined) => joined
            .split('\u{1f}')
            .map(Tag::new)
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    Ok(Conversation {
        id: ConversationId::from_string(row.try_get::<_, String>(0)?),
        source: row.try_get::<_, String>(1)?.parse()?,
        source_id: row.try_get(2)?,
        title: row.try_get(3)?,
        folder: FolderPath::new(&row.try_get::<_, String>(4)?)?,
        created_at: from_millis(row.try_get(5)?)?,
        updated_at: from_millis(row.try_get(6)?)?,
        archived_at: ts(row.try_get(7)?)?,
        summary: row.try_get(8)?,
        current_message_id: row
            .try_get::<_, Option<String>>(9)?
            .map(MessageId::from_string),
        forked_from,
        tags,
        message_count: u64::try_from(row.try_get::<_, i64>(12)?).unwrap_or(0),
    })
}

/// Text as PostgreSQL can hold it: its `text` cannot contain NUL, which JSON exports may
/// (`\u0000`); each becomes U+2400 (␀), visible and searchable as itself.
pub(crate) fn pg_text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{2400}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// [`pg_text`] of an optional value.
pub(crate) fn pg_text_opt(s: Option<&str>) -> Option<Cow<'_, str>> {
    s.map(pg_text)
}

/// A count (never negative) as `u64`.
pub(crate) fn count(row: &Row, i: usize) -> Result<u64> {
    Ok(u64::try_from(row.try_get::<_, i64>(i)?).unwrap_or(0))
}
