//! Streaming media in and out of the store: [`MediaWriter`], [`MediaBytes`] and the store's
//! media methods (see `crate::media` for the types and the files).

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Take, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chat_model::MediaHash;

use crate::error::{Error, Result};
use crate::media::{sniff, MediaFiles, MediaInfo, MediaSweep, StoredMedia, HEAD_LEN};
use crate::store::Store;

/// Streams bytes into the store: write them, then [`MediaWriter::finish`]. Dropping it
/// unfinished discards what was written.
#[derive(Debug)]
pub struct MediaWriter {
    store: Store,
    files: Arc<MediaFiles>,
    temp: Option<(PathBuf, BufWriter<File>)>,
    hasher: blake3::Hasher,
    head: Vec<u8>,
    size: u64,
}

impl Write for MediaWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some((_, file)) = self.temp.as_mut() else {
            return Err(io::Error::other("the media writer is finished"));
        };
        let n = file.write(buf)?;
        let written = &buf[..n];
        self.hasher.update(written);
        let room = HEAD_LEN.saturating_sub(self.head.len());
        self.head
            .extend_from_slice(&written[..room.min(written.len())]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.temp.as_mut() {
            Some((_, file)) => file.flush(),
            None => Ok(()),
        }
    }
}

impl MediaWriter {
    /// Makes the bytes durable and keeps them under their hash (once: bytes the store has
    /// already are dropped), records what they are, and says which.
    pub fn finish(mut self) -> Result<StoredMedia> {
        let Some((path, file)) = self.temp.take() else {
            return Err(Error::InvalidInput("the media writer is finished".into()));
        };
        let result = self.commit(&path, file);
        if result.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        result
    }

    fn commit(&mut self, path: &std::path::Path, file: BufWriter<File>) -> Result<StoredMedia> {
        let file = file
            .into_inner()
            .map_err(|e| Error::io("writing media", e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("syncing media", e))?;
        drop(file);
        let hash = MediaHash::from_bytes(self.hasher.finalize().as_bytes());
        let (mime, width, height) = sniff(&self.head);
        let info = MediaInfo {
            hash,
            size: self.size,
            mime,
            name: None,
            width,
            height,
        };
        let files = Arc::clone(&self.files);
        // The file moves into place inside the write transaction that records it, so a sweep
        // (which holds the same lock) never sees one without the other.
        let newly_stored = self.store.write(|repo| {
            let moved = files
                .commit(path, &info.hash)
                .map_err(|e| Error::io("moving media into place", e))?;
            repo.put_media(&info)?;
            Ok(moved)
        })?;
        Ok(StoredMedia { info, newly_stored })
    }
}

impl Drop for MediaWriter {
    fn drop(&mut self) {
        if let Some((path, _)) = self.temp.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Stored bytes being read: the whole item or a range of it.
#[derive(Debug)]
pub struct MediaBytes {
    inner: Take<File>,
}

impl Read for MediaBytes {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Store {
    fn media_files(&self) -> Result<Arc<MediaFiles>> {
        self.media
            .clone()
            .ok_or_else(|| Error::InvalidInput("an in-memory store keeps no media".into()))
    }

    /// A writer that stores the bytes written to it.
    pub fn media_writer(&self) -> Result<MediaWriter> {
        let files = self.media_files()?;
        let (path, file) = files
            .temp()
            .map_err(|e| Error::io("creating a media file", e))?;
        Ok(MediaWriter {
            store: self.clone(),
            files,
            temp: Some((path, BufWriter::with_capacity(256 * 1024, file))),
            hasher: blake3::Hasher::new(),
            head: Vec::new(),
            size: 0,
        })
    }

    /// Stores bytes held in memory, writing nothing when the store has them already.
    pub fn put_media_bytes(&self, bytes: &[u8]) -> Result<StoredMedia> {
        let hash = MediaHash::from_bytes(blake3::hash(bytes).as_bytes());
        if let Some(info) = self.read(|repo| repo.media_info(&hash))? {
            return Ok(StoredMedia {
                info,
                newly_stored: false,
            });
        }
        let mut writer = self.media_writer()?;
        writer
            .write_all(bytes)
            .map_err(|e| Error::io("writing media", e))?;
        writer.finish()
    }

    /// The bytes of `hash` from `start`, at most `len` of them (`u64::MAX`: to the end).
    /// [`Error::NotFound`] when the store does not hold them.
    pub fn media_bytes(&self, hash: &MediaHash, start: u64, len: u64) -> Result<MediaBytes> {
        let files = self.media_files()?;
        let mut file = match File::open(files.path(hash)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::not_found("media", hash.as_str()))
            }
            Err(e) => return Err(Error::io("opening media", e)),
        };
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io("seeking in media", e))?;
        Ok(MediaBytes {
            inner: file.take(len),
        })
    }

    /// Removes what no longer needs keeping: temporary files and items no message refers to,
    /// older than `grace`, and the files of items deleted since the last sweep. With `full`,
    /// also every file the database does not know (which lists the whole media directory).
    /// [`Store::open`] runs the cheap part with [`MEDIA_GRACE`].
    pub fn sweep_media(&self, grace: Duration, full: bool) -> Result<MediaSweep> {
        let Some(files) = self.media.clone() else {
            return Ok(MediaSweep::default());
        };
        let mut sweep = MediaSweep {
            temp_files: files
                .sweep_temps(grace)
                .map_err(|e| Error::io("removing temporary media files", e))?,
            ..MediaSweep::default()
        };
        sweep.unreferenced = self.write(|repo| repo.drop_unreferenced_media(grace))?;
        self.empty_media_trash()?;
        if full {
            let stored = files
                .stored(grace)
                .map_err(|e| Error::io("listing media files", e))?;
            sweep.orphan_files = self.write(|repo| {
                let mut removed = 0;
                for hash in stored {
                    if repo.media_info(&hash)?.is_none()
                        && files
                            .remove(&hash)
                            .map_err(|e| Error::io("removing a media file", e))?
                    {
                        removed += 1;
                    }
                }
                Ok(removed)
            })?;
        }
        Ok(sweep)
    }

    /// Removes the files of deleted items (queued by the database in the same transaction as
    /// the deletion), holding the write lock so no writer stores the same bytes meanwhile.
    pub(crate) fn empty_media_trash(&self) -> Result<()> {
        let Some(files) = self.media.clone() else {
            return Ok(());
        };
        self.write_inner(|repo| {
            for hash in repo.media_trash()? {
                files
                    .remove(&hash)
                    .map_err(|e| Error::io("removing a media file", e))?;
                repo.forget_media_trash(&hash)?;
            }
            Ok(())
        })
    }

    /// The media directory, for backups and tests (`None` in memory).
    pub fn media_dir(&self) -> Option<&std::path::Path> {
        self.media.as_deref().map(MediaFiles::root)
    }
}
