//! Message ratings.

use chat_model::timestamp::{now, to_millis};
use chat_model::{MessageId, Rating, RatingValue, Timestamp};
use rusqlite::params;

use super::SqliteRepo;
use crate::columns::{message_from_row, u64_of, MESSAGE_COLUMNS};
use crate::error::{Context, Error, Result};
use crate::types::{RatedMessage, RatingCounts};

/// Longest rating reason, in characters.
const MAX_REASON_CHARS: usize = 4000;

/// A reason longer than 4,000 characters is [`Error::InvalidInput`] (both backends).
pub(crate) fn check_reason(reason: Option<&str>) -> Result<()> {
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(Error::InvalidInput(format!(
            "a reason is at most {MAX_REASON_CHARS} characters"
        )));
    }
    Ok(())
}

/// A rating made now: the reason checked ([`check_reason`]), trimmed, and dropped when blank.
/// Both backends rate with this.
pub(crate) fn new_rating(value: RatingValue, reason: Option<&str>) -> Result<Rating> {
    check_reason(reason)?;
    Ok(Rating {
        value,
        reason: reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
        created_at: now(),
    })
}

impl SqliteRepo<'_> {
    /// Stores a rating, replacing the message's earlier one.
    pub(super) fn put_rating(
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

    /// Rates a message, replacing any earlier rating. A reason longer than 4,000 characters
    /// is [`Error::InvalidInput`].
    pub fn rate_message(
        &self,
        id: &MessageId,
        value: RatingValue,
        reason: Option<&str>,
    ) -> Result<Rating> {
        let rating = new_rating(value, reason)?;
        self.message_conversation(id)?;
        self.put_rating(id, value, rating.reason.as_deref(), rating.created_at)?;
        Ok(rating)
    }

    /// Removes a message's rating (nothing happens if it had none).
    pub fn unrate_message(&self, id: &MessageId) -> Result<()> {
        self.message_conversation(id)?;
        self.conn
            .prepare_cached("DELETE FROM message_ratings WHERE turn_id = ?1")?
            .execute([id.as_str()])?;
        Ok(())
    }

    /// How many messages are rated up and how many down.
    pub fn rating_counts(&self) -> Result<RatingCounts> {
        self.conn
            .prepare_cached(
                "SELECT coalesce(sum(rating = 1), 0), coalesce(sum(rating = -1), 0)
                 FROM message_ratings",
            )?
            .query_row([], |r| {
                Ok(RatingCounts {
                    up: u64_of(r.get(0)?),
                    down: u64_of(r.get(1)?),
                })
            })
            .ctx("counting ratings")
    }

    /// Rated messages, newest rating first, optionally only ups or only downs.
    pub fn rated_messages(&self, filter: Option<RatingValue>) -> Result<Vec<RatedMessage>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM convo_turns t JOIN message_ratings r ON r.turn_id = t.id
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
}
