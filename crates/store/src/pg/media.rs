//! PostgreSQL's side of media: bytes streamed into a blob of 1 MiB chunks (each chunk its own
//! short transaction, so no transaction or buffer holds a whole item), owned by its media row
//! once complete, and read back a chunk at a time from any offset.

use std::io::{self, Read};
use std::time::Duration;

use chat_model::timestamp::{now, to_millis};
use chat_model::MediaHash;

use super::PgStore;
use crate::error::{Error, Result};
use crate::media::{Labels, MediaInfo, MediaSweep};

/// Bytes per chunk (the last chunk of an item may be shorter).
pub(crate) const CHUNK: usize = 1 << 20;

/// Bytes on their way into a blob. Dropped uncommitted, the blob is deleted (or, if that
/// fails, swept later).
#[derive(Debug)]
pub(crate) struct PgSink {
    store: PgStore,
    blob: i64,
    seq: i32,
    buf: Vec<u8>,
    done: bool,
}

fn io_error(e: Error) -> io::Error {
    io::Error::other(e.to_string())
}

impl PgSink {
    pub(crate) fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.done {
            return Err(io::Error::other("the media writer is finished"));
        }
        let n = buf.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&buf[..n]);
        if self.buf.len() == CHUNK {
            self.put_chunk().map_err(io_error)?;
        }
        Ok(n)
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        // Chunks are written whole; what is buffered goes in with `commit`.
        Ok(())
    }

    fn put_chunk(&mut self) -> Result<()> {
        let (blob, seq, data) = (self.blob, self.seq, &self.buf);
        self.store.write_unlocked(|r| {
            r.execute(
                "storing media",
                "INSERT INTO media_chunks (blob_id, seq, data) VALUES ($1, $2, $3)",
                &[&blob, &seq, data],
            )
        })?;
        self.seq += 1;
        self.buf.clear();
        Ok(())
    }

    /// Writes what is buffered and gives the blob to a media row for `info.hash`; `false`
    /// (and the blob deleted) when the store had these bytes already.
    pub(crate) fn commit(mut self, info: &MediaInfo, labels: &Labels) -> Result<bool> {
        if !self.buf.is_empty() {
            self.put_chunk()?;
        }
        let blob = self.blob;
        let owned = self.store.write(|r| {
            let owned = r.put_media_blob(info, blob)?;
            let hash = &info.hash;
            labels.record(|n| r.name_media(hash, n), |k| r.put_media_hint(k, hash))?;
            Ok(owned)
        })?;
        if owned {
            self.done = true;
        }
        // Not owned: `drop` deletes the blob.
        Ok(owned)
    }
}

impl Drop for PgSink {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let blob = self.blob;
        let dropped = self.store.write_unlocked(|r| {
            r.execute(
                "dropping a media write",
                "DELETE FROM media_blobs WHERE id = $1",
                &[&blob],
            )
        });
        if let Err(e) = dropped {
            tracing::debug!(error = %e, "an unfinished media write stays until the next sweep");
        }
    }
}

/// Stored bytes being read, one chunk (or the part of one a range needs) at a time.
#[derive(Debug)]
pub(crate) struct PgReader {
    store: PgStore,
    blob: i64,
    /// The offset of the next byte to fetch, and where to stop.
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    buf_pos: usize,
}

impl PgReader {
    fn fetch(&mut self) -> Result<()> {
        let chunk = CHUNK as u64;
        let seq = i32::try_from(self.pos / chunk)
            .map_err(|_| Error::InvalidInput("media offset out of range".into()))?;
        let offset = self.pos % chunk;
        let want = (chunk - offset).min(self.end - self.pos);
        let from = i32::try_from(offset + 1).unwrap_or(i32::MAX);
        let count = i32::try_from(want).unwrap_or(i32::MAX);
        let blob = self.blob;
        let data: Option<Vec<u8>> = self.store.read(|r| {
            let row = r.query_opt(
                "reading media",
                "SELECT substring(data FROM $3 FOR $4) FROM media_chunks
                 WHERE blob_id = $1 AND seq = $2",
                &[&blob, &seq, &from, &count],
            )?;
            Ok(row.map(|r| r.try_get(0)).transpose()?)
        })?;
        let data = data.filter(|d| !d.is_empty()).ok_or_else(|| {
            Error::Corrupt(format!(
                "media blob {blob} lacks the bytes at offset {}",
                self.pos
            ))
        })?;
        self.pos += data.len() as u64;
        self.buf = data;
        self.buf_pos = 0;
        Ok(())
    }
}

impl Read for PgReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.buf_pos == self.buf.len() {
            if self.pos >= self.end || out.is_empty() {
                return Ok(0);
            }
            self.fetch().map_err(io_error)?;
        }
        let n = out.len().min(self.buf.len() - self.buf_pos);
        out[..n].copy_from_slice(&self.buf[self.buf_pos..self.buf_pos + n]);
        self.buf_pos += n;
        Ok(n)
    }
}

impl PgStore {
    pub(crate) fn media_sink(&self) -> Result<PgSink> {
        let started = to_millis(now());
        let blob = self.write_unlocked(|r| {
            let row = r.query_opt(
                "starting a media write",
                "INSERT INTO media_blobs (started_at) VALUES ($1) RETURNING id",
                &[&started],
            )?;
            row.map(|r| r.try_get::<_, i64>(0))
                .transpose()?
                .ok_or_else(|| Error::Corrupt("no media blob id returned".into()))
        })?;
        Ok(PgSink {
            store: self.clone(),
            blob,
            seq: 0,
            buf: Vec::with_capacity(CHUNK),
            done: false,
        })
    }

    pub(crate) fn media_reader(&self, hash: &MediaHash, start: u64, len: u64) -> Result<PgReader> {
        let (blob, size) = self
            .read(|r| r.media_blob(hash))?
            .ok_or_else(|| Error::not_found("media", hash.as_str()))?;
        let pos = start.min(size);
        Ok(PgReader {
            store: self.clone(),
            blob,
            pos,
            end: pos.saturating_add(len).min(size),
            buf: Vec::new(),
            buf_pos: 0,
        })
    }

    /// See [`crate::Store::sweep_media`]: unreferenced items and interrupted writes older
    /// than `grace` (there are no files to list).
    pub(crate) fn sweep_media(&self, grace: Duration) -> Result<MediaSweep> {
        let (unreferenced, temp_files) = self.write(|r| r.drop_unreferenced_media(grace))?;
        Ok(MediaSweep {
            temp_files,
            unreferenced,
            orphan_files: 0,
        })
    }
}
