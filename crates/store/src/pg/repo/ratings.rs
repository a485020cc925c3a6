//! Message ratings.

use chat_model::timestamp::to_millis;
use chat_model::{MessageId, Rating, RatingValue, Timestamp};

use super::rows::{message, pg_text_opt, MESSAGE_COLUMNS};
use super::PgRepo;
use crate::error::Result;
use crate::repo::ratings::new_rating;
use crate::types::{RatedMessage, RatingCounts};

impl PgRepo<'_> {
    /// Stores a rating, replacing the message's earlier one.
    pub(super) fn put_rating(
        &self,
        id: &MessageId,
        value: RatingValue,
        reason: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        self.execute(
            "rating a message",
            "INSERT INTO message_ratings (turn_id, rating, reason, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (turn_id) DO UPDATE SET rating = excluded.rating,
                reason = excluded.reason, created_at = excluded.created_at",
            &[
                &id.as_str(),
                &(value.as_i64() as i16),
                &pg_text_opt(reason),
                &to_millis(at),
            ],
        )?;
        Ok(())
    }

    /// See [`crate::Repo::rate_message`].
    pub(crate) fn rate_message(
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

    /// See [`crate::Repo::unrate_message`].
    pub(crate) fn unrate_message(&self, id: &MessageId) -> Result<()> {
        self.message_conversation(id)?;
        self.execute(
            "removing a rating",
            "DELETE FROM message_ratings WHERE turn_id = $1",
            &[&id.as_str()],
        )?;
        Ok(())
    }

    /// See [`crate::Repo::rated_messages`].
    pub(crate) fn rated_messages(&self, filter: Option<RatingValue>) -> Result<Vec<RatedMessage>> {
        let rows = self.query(
            "listing rated messages",
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM convo_turns t
                 JOIN message_ratings r ON r.turn_id = t.id
                 WHERE $1::smallint IS NULL OR r.rating = $1::smallint
                 ORDER BY r.created_at DESC, t.seq DESC"
            ),
            &[&filter.map(|v| v.as_i64() as i16)],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let message = message(row)?;
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

    /// See [`crate::Repo::rating_counts`].
    pub(crate) fn rating_counts(&self) -> Result<RatingCounts> {
        let row = self.query_opt(
            "counting ratings",
            "SELECT count(*) FILTER (WHERE rating = 1), count(*) FILTER (WHERE rating = -1)
             FROM message_ratings",
            &[],
        )?;
        let (up, down) = match row {
            Some(r) => (r.try_get::<_, i64>(0)?, r.try_get::<_, i64>(1)?),
            None => (0, 0),
        };
        Ok(RatingCounts {
            up: u64::try_from(up).unwrap_or(0),
            down: u64::try_from(down).unwrap_or(0),
        })
    }
}
