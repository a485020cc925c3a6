//! Streaming media in and out of the store, whatever the backend: [`MediaWriter`],
//! [`MediaBytes`] and the store's media methods. The bytes go to files beside a SQLite
//! database (`crate::media::sqlite`) or to chunks in a PostgreSQL one (`crate::pg::media`).

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use chat_model::MediaHash;

use crate::error::{Error, Result};
use crate::media::settle::{MediaMark, Settler};
use crate::media::sqlite::{FileReader, FileSink};
use crate::media::{sniff, Labels, MediaInfo, MediaSweep, StoredMedia, HEAD_LEN};
use crate::pg::media::{PgReader, PgSink};
use crate::store::{Backend, Store};

/// Streams bytes into the store: write them, then [`MediaWriter::finish`]. Dropping it
/// unfinished discards what was written.
#[derive(Debug)]
pub struct MediaWriter {
    sink: Option<Sink>,
    digest: Digest,
    labels: Labels,
}

/// Where a writer's bytes go until they are committed.
#[derive(Debug)]
enum Sink {
    Files(FileSink),
    Postgres(Box<PgSink>),
}

/// What the bytes written so far hash to, how many there are and how they begin.
#[derive(Debug)]
struct Digest {
    hasher: blake3::Hasher,
    head: Vec<u8>,
    size: u64,
}

impl Digest {
    fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        let room = HEAD_LEN.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..room.min(bytes.len())]);
        self.size += bytes.len() as u64;
    }

    /// The item these bytes make: hash, size and what the first bytes say it is.
    fn info(&self) -> MediaInfo {
        let (mime, width, height) = sniff(&self.head);
        MediaInfo {
            hash: MediaHash::from_bytes(self.hasher.finalize().as_bytes()),
            size: self.size,
            mime,
            name: None,
            width,
            height,
        }
    }
}

impl Write for MediaWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match self.sink.as_mut() {
            Some(Sink::Files(s)) => s.write(buf)?,
            Some(Sink::Postgres(s)) => s.write(buf)?,
            None => return Err(io::Error::other("the media writer is finished")),
        };
        self.digest.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.sink.as_mut() {
            Some(Sink::Files(s)) => s.flush(),
            Some(Sink::Postgres(s)) => s.flush(),
            None => Ok(()),
        }
    }
}

impl MediaWriter {
    fn new(sink: Sink) -> Self {
        MediaWriter {
            sink: Some(sink),
            digest: Digest {
                hasher: blake3::Hasher::new(),
                head: Vec::new(),
                size: 0,
            },
            labels: Labels::default(),
        }
    }

    /// The item's original file name, recorded with it unless the store has one for it.
    pub fn with_name(mut self, name: Option<&str>) -> Self {
        self.labels.name = name.map(str::to_owned);
        self
    }

    /// A key for where these bytes were found, recorded as pointing at them
    /// ([`crate::Repo::media_hint`]) so that a later import can tell it has them.
    pub fn with_hint(mut self, key: String) -> Self {
        self.labels.hint = Some(key);
        self
    }

    /// Makes the bytes durable and keeps them under their hash (once: bytes the store has
    /// already are dropped), records what they are, and says which. A writer of a
    /// [`MediaBatch`] hands the bytes over instead: they are durable and recorded once a
    /// later [`MediaBatch::mark`] has been waited for.
    pub fn finish(mut self) -> Result<StoredMedia> {
        let mut info = self.digest.info();
        info.name.clone_from(&self.labels.name);
        let labels = std::mem::take(&mut self.labels);
        let newly_stored = match self.sink.take() {
            Some(Sink::Files(s)) => s.commit(&info, labels)?,
            Some(Sink::Postgres(s)) => s.commit(&info, &labels)?,
            None => return Err(Error::InvalidInput("the media writer is finished".into())),
        };
        Ok(StoredMedia { info, newly_stored })
    }
}

/// Stored bytes being read: the whole item or a range of it.
#[derive(Debug)]
pub struct MediaBytes {
    inner: Reader,
}

#[derive(Debug)]
enum Reader {
    File(FileReader),
    Postgres(Box<PgReader>),
}

impl Read for MediaBytes {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Reader::File(r) => r.read(buf),
            Reader::Postgres(r) => r.read(buf),
        }
    }
}

/// Media writers for many items in a row (an import): on SQLite, each item's bytes are made
/// durable and recorded on a thread of the batch's own while the next item is read, instead
/// of before [`MediaWriter::finish`] returns. Whatever refers to items of the batch is
/// written only after waiting for a [`MediaMark`] taken after they were finished. (On
/// PostgreSQL, each writer commits as it finishes.) Dropping the batch waits for what it
/// holds; [`MediaBatch::close`] also says whether all of it was stored.
#[derive(Debug)]
pub struct MediaBatch {
    store: Store,
    settler: Option<Arc<Settler>>,
}

impl MediaBatch {
    /// A writer whose bytes are made durable by the batch.
    pub fn writer(&self) -> Result<MediaWriter> {
        self.store.writer_with(self.settler.clone())
    }

    /// Everything the batch's writers finished so far.
    pub fn mark(&self) -> MediaMark {
        self.settler
            .as_ref()
            .map_or_else(MediaMark::settled, |s| s.mark())
    }

    /// Stores bytes held in memory through the batch, writing nothing when the store holds
    /// them already (see [`Store::put_media_bytes`]); `name` as for
    /// [`MediaWriter::with_name`].
    pub fn put_bytes(&self, bytes: &[u8], name: Option<&str>) -> Result<StoredMedia> {
        self.store.put_bytes_with(bytes, self.settler.clone(), name)
    }

    /// Waits for everything finished so far to be stored; an error if any of it was not.
    pub fn close(self) -> Result<()> {
        match &self.settler {
            Some(s) => s.close(),
            None => Ok(()),
        }
    }
}

impl Store {
    /// A writer that stores the bytes written to it.
    pub fn media_writer(&self) -> Result<MediaWriter> {
        self.writer_with(None)
    }

    /// Writers for many items in a row (see [`MediaBatch`]).
    pub fn media_batch(&self) -> Result<MediaBatch> {
        let settler = match &self.backend {
            Backend::Sqlite(s) => Some(Arc::new(s.media_settler()?)),
            Backend::Postgres(_) => None,
        };
        Ok(MediaBatch {
            store: self.clone(),
            settler,
        })
    }

    fn writer_with(&self, settler: Option<Arc<Settler>>) -> Result<MediaWriter> {
        let sink = match &self.backend {
            Backend::Sqlite(s) => Sink::Files(s.media_sink(settler)?),
            Backend::Postgres(p) => Sink::Postgres(Box::new(p.media_sink()?)),
        };
        Ok(MediaWriter::new(sink))
    }

    /// Stores bytes held in memory, writing nothing when the store has them already.
    pub fn put_media_bytes(&self, bytes: &[u8]) -> Result<StoredMedia> {
        self.put_bytes_with(bytes, None, None)
    }

    fn put_bytes_with(
        &self,
        bytes: &[u8],
        settler: Option<Arc<Settler>>,
        name: Option<&str>,
    ) -> Result<StoredMedia> {
        let hash = MediaHash::from_bytes(blake3::hash(bytes).as_bytes());
        if let Some(info) = self.read(|repo| repo.media_info(&hash))? {
            return Ok(StoredMedia {
                info,
                newly_stored: false,
            });
        }
        let mut writer = self.writer_with(settler)?.with_name(name);
        writer
            .write_all(bytes)
            .map_err(|e| Error::io("writing media", e))?;
        writer.finish()
    }

    /// The bytes of `hash` from `start`, at most `len` of them (`u64::MAX`: to the end).
    /// [`Error::NotFound`] when the store does not hold them.
    pub fn media_bytes(&self, hash: &MediaHash, start: u64, len: u64) -> Result<MediaBytes> {
        let inner = match &self.backend {
            Backend::Sqlite(s) => Reader::File(s.media_reader(hash, start, len)?),
            Backend::Postgres(p) => Reader::Postgres(Box::new(p.media_reader(hash, start, len)?)),
        };
        Ok(MediaBytes { inner })
    }

    /// Removes what no longer needs keeping: items no message refers to stored more than
    /// `grace` ago, and the leftovers of interrupted writes older than that. On SQLite, also
    /// the files of items deleted since the last sweep and, with `full`, every file the
    /// database does not know (which lists the whole media directory). Opening a store runs
    /// the cheap part with [`crate::MEDIA_GRACE`].
    pub fn sweep_media(&self, grace: Duration, full: bool) -> Result<MediaSweep> {
        match &self.backend {
            Backend::Sqlite(s) => s.sweep_media(grace, full),
            Backend::Postgres(p) => p.sweep_media(grace),
        }
    }

    /// The media directory of a SQLite store, for backups and tests (`None` in memory and on
    /// PostgreSQL, which keeps media in the database).
    pub fn media_dir(&self) -> Option<&std::path::Path> {
        match &self.backend {
            Backend::Sqlite(s) => s.media_dir(),
            Backend::Postgres(_) => None,
        }
    }
}
