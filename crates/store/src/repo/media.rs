//! Media items: what is known about stored bytes, which messages refer to them, the hints an
//! import uses to recognise bytes it stored before, and the trash of deleted items.

use std::time::Duration;

use chat_model::timestamp::{now, to_millis};
use chat_model::{ConversationId, MediaHash, MessageId};
use rusqlite::{params, OptionalExtension};

use super::SqliteRepo;
use crate::error::{Context, Result};
use crate::media::MediaInfo;

impl SqliteRepo<'_> {
    /// Records stored bytes (kept as they are when already known).
    pub(crate) fn put_media(&self, info: &MediaInfo) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO media (hash, size, mime, width, height, name, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (hash) DO NOTHING",
            )?
            .execute(params![
                info.hash.as_str(),
                i64::try_from(info.size).unwrap_or(i64::MAX),
                info.mime,
                info.width,
                info.height,
                info.name,
                to_millis(now()),
            ])
            .ctx("recording media")?;
        Ok(())
    }

    /// What is known about the media `hash`, when the store holds it.
    pub fn media_info(&self, hash: &MediaHash) -> Result<Option<MediaInfo>> {
        self.conn
            .prepare_cached("SELECT size, mime, width, height, name FROM media WHERE hash = ?1")?
            .query_row([hash.as_str()], |r| {
                Ok(MediaInfo {
                    hash: hash.clone(),
                    size: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    mime: r.get(1)?,
                    width: r.get(2)?,
                    height: r.get(3)?,
                    name: r.get(4)?,
                })
            })
            .optional()
            .ctx("reading media")
    }

    /// The media the message refers to (through its parts), in hash order.
    pub fn message_media(&self, message: &MessageId) -> Result<Vec<MediaInfo>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.hash, m.size, m.mime, m.width, m.height, m.name FROM media_links l
             JOIN media m ON m.hash = l.hash WHERE l.turn_id = ?1 ORDER BY m.hash",
        )?;
        let rows = stmt.query_map([message.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<u32>>(3)?,
                r.get::<_, Option<u32>>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (hash, size, mime, width, height, name) = row.ctx("reading a message's media")?;
            out.push(MediaInfo {
                hash: hash.parse()?,
                size: u64::try_from(size).unwrap_or(0),
                mime,
                width,
                height,
                name,
            });
        }
        Ok(out)
    }

    /// Stored media by hash, the `limit` after `after` (for copying a store).
    pub(crate) fn list_media(
        &self,
        after: Option<&MediaHash>,
        limit: u32,
    ) -> Result<Vec<MediaInfo>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT hash FROM media WHERE hash > ?1 ORDER BY hash LIMIT ?2")?;
        let hashes = stmt
            .query_map(params![after.map_or("", MediaHash::as_str), limit], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("listing media")?;
        let mut out = Vec::with_capacity(hashes.len());
        for hash in hashes {
            if let Some(info) = self.media_info(&hash.parse()?)? {
                out.push(info);
            }
        }
        Ok(out)
    }

    /// Gives the media `hash` its original file name, unless it has one already.
    pub fn name_media(&self, hash: &MediaHash, name: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE media SET name = ?2 WHERE hash = ?1 AND name IS NULL")?
            .execute(params![hash.as_str(), name])
            .ctx("naming media")?;
        Ok(())
    }

    /// See [`crate::Repo::link_media`].
    pub fn link_media(&self, conversation: &ConversationId) -> Result<u64> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO media_links (turn_id, hash)
                 SELECT t.id, json_extract(p.value, '$.media') FROM convo_turns t,
                    json_each(t.parts) p
                 WHERE t.convo_id = ?1 AND t.parts IS NOT NULL
                   AND instr(t.parts, '\"media\"') > 0
                   AND json_extract(p.value, '$.media') IN (SELECT hash FROM media)",
            )?
            .execute([conversation.as_str()])
            .ctx("linking messages to their media")?;
        Ok(n as u64)
    }

    /// How many messages refer to the media `hash`.
    pub fn media_references(&self, hash: &MediaHash) -> Result<u64> {
        self.conn
            .prepare_cached("SELECT count(*) FROM media_links WHERE hash = ?1")?
            .query_row([hash.as_str()], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
            .ctx("counting media references")
    }

    /// The hash an import recorded for `key` (what an input called some bytes: e.g. a zip
    /// entry's name, size and CRC), when those bytes are still stored. The caller verifies
    /// the bytes hash to it before relying on it.
    pub fn media_hint(&self, key: &str) -> Result<Option<MediaHash>> {
        let hash: Option<String> = self
            .conn
            .prepare_cached("SELECT hash FROM media_hints WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()
            .ctx("reading a media hint")?;
        Ok(hash.map(|h| h.parse()).transpose()?)
    }

    /// Records that `key` named the bytes of `hash` (which must be stored).
    pub fn put_media_hint(&self, key: &str, hash: &MediaHash) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO media_hints (key, hash) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET hash = excluded.hash",
            )?
            .execute(params![key, hash.as_str()])
            .ctx("recording a media hint")?;
        Ok(())
    }

    /// Deletes items no message refers to that were stored more than `grace` ago (their
    /// files go with the trash); returns how many.
    pub(crate) fn drop_unreferenced_media(&self, grace: Duration) -> Result<u64> {
        let before = to_millis(now()) - i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let n = self
            .conn
            .prepare_cached(
                "DELETE FROM media WHERE created_at <= ?1
                 AND NOT EXISTS (SELECT 1 FROM media_links l WHERE l.hash = media.hash)",
            )?
            .execute([before])
            .ctx("dropping unreferenced media")?;
        Ok(n as u64)
    }

    /// Whether deleted items wait for their files to be removed.
    pub(crate) fn has_media_trash(&self) -> Result<bool> {
        self.conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM media_trash)")?
            .query_row([], |r| r.get(0))
            .ctx("looking at the media trash")
    }

    /// Hashes of deleted items whose files are still to be removed.
    pub(crate) fn media_trash(&self) -> Result<Vec<MediaHash>> {
        let mut stmt = self.conn.prepare_cached("SELECT hash FROM media_trash")?;
        let hashes = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("reading the media trash")?;
        Ok(hashes.into_iter().filter_map(|h| h.parse().ok()).collect())
    }

    /// Takes `hash` out of the trash once its file is gone.
    pub(crate) fn forget_media_trash(&self, hash: &MediaHash) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM media_trash WHERE hash = ?1")?
            .execute([hash.as_str()])
            .ctx("emptying the media trash")?;
        Ok(())
    }
}
