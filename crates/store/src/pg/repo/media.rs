//! Media on PostgreSQL: the same records as SQLite's `crate::repo::media`, and the blobs that
//! hold the bytes in chunks (`super::super::media` streams them).

use std::time::Duration;

use chat_model::timestamp::{now, to_millis};
use chat_model::{ConversationId, MediaHash, MessageId};
use postgres::Row;

use super::rows::{pg_text, pg_text_opt};
use super::PgRepo;
use crate::error::Result;
use crate::media::MediaInfo;

/// The columns [`media_row`] reads, in its order.
const MEDIA_COLUMNS: &str = "m.hash, m.size, m.mime, m.width, m.height, m.name";

fn media_row(r: &Row) -> Result<MediaInfo> {
    Ok(MediaInfo {
        hash: r.try_get::<_, String>(0)?.parse()?,
        size: u64::try_from(r.try_get::<_, i64>(1)?).unwrap_or(0),
        mime: r.try_get(2)?,
        width: r
            .try_get::<_, Option<i32>>(3)?
            .and_then(|w| u32::try_from(w).ok()),
        height: r
            .try_get::<_, Option<i32>>(4)?
            .and_then(|h| u32::try_from(h).ok()),
        name: r.try_get(5)?,
    })
}

fn dimension(v: Option<u32>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}

impl PgRepo<'_> {
    /// Records complete bytes held by `blob` as `info`, unless the hash is stored already;
    /// returns whether the blob now belongs to a media row (`false`: the caller drops it).
    pub(crate) fn put_media_blob(&self, info: &MediaInfo, blob: i64) -> Result<bool> {
        let n = self.execute(
            "recording media",
            "INSERT INTO media (hash, size, mime, width, height, name, created_at, blob_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (hash) DO NOTHING",
            &[
                &info.hash.as_str(),
                &i64::try_from(info.size).unwrap_or(i64::MAX),
                &info.mime,
                &dimension(info.width),
                &dimension(info.height),
                &pg_text_opt(info.name.as_deref()).as_deref(),
                &to_millis(now()),
                &blob,
            ],
        )?;
        Ok(n == 1)
    }

    /// The blob holding the bytes of `hash`, with their size.
    pub(crate) fn media_blob(&self, hash: &MediaHash) -> Result<Option<(i64, u64)>> {
        let row = self.query_opt(
            "reading media",
            "SELECT blob_id, size FROM media WHERE hash = $1",
            &[&hash.as_str()],
        )?;
        row.map(|r| {
            Ok((
                r.try_get::<_, i64>(0)?,
                u64::try_from(r.try_get::<_, i64>(1)?).unwrap_or(0),
            ))
        })
        .transpose()
    }

    /// See [`crate::Repo::media_info`].
    pub(crate) fn media_info(&self, hash: &MediaHash) -> Result<Option<MediaInfo>> {
        let sql = format!("SELECT {MEDIA_COLUMNS} FROM media m WHERE m.hash = $1");
        let row = self.query_opt("reading media", &sql, &[&hash.as_str()])?;
        row.as_ref().map(media_row).transpose()
    }

    /// See [`crate::Repo::message_media`].
    pub(crate) fn message_media(&self, message: &MessageId) -> Result<Vec<MediaInfo>> {
        let sql = format!(
            "SELECT {MEDIA_COLUMNS} FROM media_links l JOIN media m ON m.hash = l.hash
             WHERE l.turn_id = $1 ORDER BY m.hash"
        );
        let rows = self.query("reading a message's media", &sql, &[&message.as_str()])?;
        rows.iter().map(media_row).collect()
    }

    /// See [`crate::Repo::list_media`].
    pub(crate) fn list_media(
        &self,
        after: Option<&MediaHash>,
        limit: u32,
    ) -> Result<Vec<MediaInfo>> {
        let sql = format!(
            "SELECT {MEDIA_COLUMNS} FROM media m WHERE m.hash > $1 ORDER BY m.hash LIMIT $2"
        );
        let rows = self.query(
            "listing media",
            &sql,
            &[&after.map_or("", MediaHash::as_str), &i64::from(limit)],
        )?;
        rows.iter().map(media_row).collect()
    }

    /// See [`crate::Repo::name_media`].
    pub(crate) fn name_media(&self, hash: &MediaHash, name: &str) -> Result<()> {
        self.execute(
            "naming media",
            "UPDATE media SET name = $2 WHERE hash = $1 AND name IS NULL",
            &[&hash.as_str(), &pg_text(name).as_ref()],
        )?;
        Ok(())
    }

    /// See [`crate::Repo::link_media`].
    pub(crate) fn link_media(&self, conversation: &ConversationId) -> Result<u64> {
        self.execute(
            "linking messages to their media",
            "INSERT INTO media_links (turn_id, hash)
             SELECT t.id, p->>'media' FROM convo_turns t,
                jsonb_array_elements(t.parts::jsonb) p
             WHERE t.convo_id = $1 AND t.parts IS NOT NULL
               AND strpos(t.parts, '\"media\"') > 0 AND jsonb_typeof(p) = 'object'
               AND p->>'media' IN (SELECT hash FROM media)
             ON CONFLICT DO NOTHING",
            &[&conversation.as_str()],
        )
    }

    /// See [`crate::Repo::media_references`].
    pub(crate) fn media_references(&self, hash: &MediaHash) -> Result<u64> {
        let row = self.query_opt(
            "counting media references",
            "SELECT count(*) FROM media_links WHERE hash = $1",
            &[&hash.as_str()],
        )?;
        Ok(row
            .map(|r| r.try_get::<_, i64>(0))
            .transpose()?
            .map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    /// See [`crate::Repo::media_hint`].
    pub(crate) fn media_hint(&self, key: &str) -> Result<Option<MediaHash>> {
        let row = self.query_opt(
            "reading a media hint",
            "SELECT hash FROM media_hints WHERE key = $1",
            &[&pg_text(key).as_ref()],
        )?;
        Ok(row
            .map(|r| r.try_get::<_, String>(0))
            .transpose()?
            .map(|h| h.parse())
            .transpose()?)
    }

    /// See [`crate::Repo::put_media_hint`].
    pub(crate) fn put_media_hint(&self, key: &str, hash: &MediaHash) -> Result<()> {
        self.execute(
            "recording a media hint",
            "INSERT INTO media_hints (key, hash) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET hash = excluded.hash",
            &[&pg_text(key).as_ref(), &hash.as_str()],
        )?;
        Ok(())
    }

    /// Deletes items no message refers to stored more than `grace` ago, and blobs no item
    /// owns started more than `grace` ago (interrupted writes); returns both counts.
    pub(crate) fn drop_unreferenced_media(&self, grace: Duration) -> Result<(u64, u64)> {
        let before = to_millis(now()) - i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let items = self.execute(
            "dropping unreferenced media",
            "DELETE FROM media WHERE created_at <= $1
             AND NOT EXISTS (SELECT 1 FROM media_links l WHERE l.hash = media.hash)",
            &[&before],
        )?;
        let blobs = self.execute(
            "dropping interrupted media writes",
            "DELETE FROM media_blobs b WHERE started_at <= $1
             AND NOT EXISTS (SELECT 1 FROM media m WHERE m.blob_id = b.id)",
            &[&before],
        )?;
        Ok((items, blobs))
    }
}
