//! The SQLite backend's side of media: bytes written to a temporary file and moved into place
//! under their hash (`files.rs`), read back from that file, and the sweep of what a crash or a
//! deletion left behind.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Take, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chat_model::MediaHash;

use super::settle::Settler;
use super::{Labels, MediaFiles, MediaInfo, MediaSweep};
use crate::error::{Error, Result};
use crate::sqlite_store::SqliteStore;

/// Bytes on their way to a media file: a temporary file, removed if never committed.
#[derive(Debug)]
pub(crate) struct FileSink {
    store: SqliteStore,
    files: Arc<MediaFiles>,
    temp: Option<(PathBuf, BufWriter<File>)>,
    /// Set for an import's writers: the file is made durable on the settler's thread.
    settler: Option<Arc<Settler>>,
}

impl FileSink {
    pub(crate) fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.temp.as_mut() {
            Some((_, file)) => file.write(buf),
            None => Err(io::Error::other("the media writer is finished")),
        }
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        match self.temp.as_mut() {
            Some((_, file)) => file.flush(),
            None => Ok(()),
        }
    }

    /// Syncs the file, moves it into place as `info.hash` and records `info` and `labels`;
    /// `false` when the bytes were stored already. With a settler, hands the file over
    /// instead (see `settle.rs`).
    pub(crate) fn commit(mut self, info: &MediaInfo, labels: Labels) -> Result<bool> {
        let Some((path, file)) = self.temp.take() else {
            return Err(Error::InvalidInput("the media writer is finished".into()));
        };
        let result = match file.into_inner() {
            Err(e) => Err(Error::io("writing media", e.into_error())),
            Ok(file) => match &self.settler {
                Some(settler) => settler.hand_over((path.clone(), file), info.clone(), labels),
                None => self.commit_file(&path, file, info, &labels),
            },
        };
        if result.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        result
    }

    fn commit_file(
        &self,
        path: &Path,
        file: File,
        info: &MediaInfo,
        labels: &Labels,
    ) -> Result<bool> {
        file.sync_all().map_err(|e| Error::io("syncing media", e))?;
        drop(file);
        // The file moves into place inside the write transaction that records it, so a sweep
        // (which holds the same lock) never sees one without the other.
        self.store.write(|repo| {
            let moved = self
                .files
                .commit(path, &info.hash)
                .map_err(|e| Error::io("moving media into place", e))?;
            repo.put_media(info)?;
            let hash = &info.hash;
            labels.record(
                |n| repo.name_media(hash, n),
                |k| repo.put_media_hint(k, hash),
            )?;
            Ok(moved)
        })
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        if let Some((path, _)) = self.temp.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A stored file being read.
#[derive(Debug)]
pub(crate) struct FileReader {
    inner: Take<File>,
}

impl Read for FileReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl SqliteStore {
    fn media_files(&self) -> Result<Arc<MediaFiles>> {
        self.media
            .clone()
            .ok_or_else(|| Error::InvalidInput("an in-memory store keeps no media".into()))
    }

    /// Where a media writer's bytes go; with `settler`, made durable on its thread.
    pub(crate) fn media_sink(&self, settler: Option<Arc<Settler>>) -> Result<FileSink> {
        let files = self.media_files()?;
        let (path, file) = files
            .temp()
            .map_err(|e| Error::io("creating a media file", e))?;
        Ok(FileSink {
            store: self.clone(),
            files,
            temp: Some((path, BufWriter::with_capacity(256 * 1024, file))),
            settler,
        })
    }

    /// A thread that makes the media of writers given it durable (see `settle.rs`).
    pub(crate) fn media_settler(&self) -> Result<Settler> {
        Settler::start(self.clone(), self.media_files()?)
    }

    pub(crate) fn media_reader(
        &self,
        hash: &MediaHash,
        start: u64,
        len: u64,
    ) -> Result<FileReader> {
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
        Ok(FileReader {
            inner: file.take(len),
        })
    }

    /// See [`crate::Store::sweep_media`].
    pub(crate) fn sweep_media(&self, grace: Duration, full: bool) -> Result<MediaSweep> {
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

    /// The media directory (`None` in memory).
    pub(crate) fn media_dir(&self) -> Option<&Path> {
        self.media.as_deref().map(MediaFiles::root)
    }
}
