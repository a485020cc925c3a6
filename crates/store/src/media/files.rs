//! The SQLite backend's media bytes: immutable files beside the database, named by their hash.
//!
//! `chat.db` keeps its media in `chat.db.media/`: `ab/abcd…` (sharded by the hash's first
//! byte) and `tmp/` for files being written. A file is written under `tmp/`, synced, and only
//! then renamed to its hash (same directory tree, so the rename is atomic), after which the
//! shard directory is synced too; so a file named by a hash always holds those bytes in full.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chat_model::MediaHash;

/// Where one store's media files live.
#[derive(Debug)]
pub(crate) struct MediaFiles {
    root: PathBuf,
}

impl MediaFiles {
    /// The media directory of the database at `db` (`<db>.media`), created if needed.
    pub(crate) fn beside(db: &Path) -> io::Result<Self> {
        let mut name = db.as_os_str().to_owned();
        name.push(".media");
        let root = PathBuf::from(name);
        fs::create_dir_all(root.join("tmp"))?;
        Ok(MediaFiles { root })
    }

    /// The directory itself.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Where the bytes of `hash` live.
    pub(crate) fn path(&self, hash: &MediaHash) -> PathBuf {
        let hex = hash.as_str();
        self.root.join(&hex[..2]).join(hex)
    }

    /// A new temporary file to write into.
    pub(crate) fn temp(&self) -> io::Result<(PathBuf, File)> {
        let path = self
            .root
            .join("tmp")
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let file = File::options().write(true).create_new(true).open(&path)?;
        Ok((path, file))
    }

    /// Moves a complete, synced temporary file into place as `hash`. Returns `false` (and
    /// removes the temporary file) when the bytes were there already.
    pub(crate) fn commit(&self, temp: &Path, hash: &MediaHash) -> io::Result<bool> {
        let shard = self.place(temp, hash)?;
        if let Some(shard) = &shard {
            sync_dir(shard);
        }
        Ok(shard.is_some())
    }

    /// Moves a complete, synced temporary file into place as `hash` without syncing its
    /// directory: returns that directory, for the caller to sync ([`sync_dir`]) before
    /// anything refers to the item; `None` (and the temporary file removed) when the bytes
    /// were there already.
    pub(crate) fn place(&self, temp: &Path, hash: &MediaHash) -> io::Result<Option<PathBuf>> {
        let target = self.path(hash);
        if target.is_file() {
            fs::remove_file(temp)?;
            return Ok(None);
        }
        let shard = target.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&shard)?;
        fs::rename(temp, &target)?;
        Ok(Some(shard))
    }

    /// Removes the file of `hash`, if there is one.
    pub(crate) fn remove(&self, hash: &MediaHash) -> io::Result<bool> {
        match fs::remove_file(self.path(hash)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes temporary files older than `grace` (left by a killed writer); returns how many.
    pub(crate) fn sweep_temps(&self, grace: Duration) -> io::Result<u64> {
        let mut removed = 0;
        for entry in fs::read_dir(self.root.join("tmp"))? {
            let entry = entry?;
            if older_than(&entry, grace) && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Every stored file older than `grace`, with its hash.
    pub(crate) fn stored(&self, grace: Duration) -> io::Result<Vec<MediaHash>> {
        let mut out = Vec::new();
        for shard in fs::read_dir(&self.root)? {
            let shard = shard?;
            let name = shard.file_name();
            if name == "tmp" || !shard.file_type()?.is_dir() {
                continue;
            }
            for entry in fs::read_dir(shard.path())? {
                let entry = entry?;
                let hash = entry.file_name().to_str().and_then(|n| n.parse().ok());
                if let Some(hash) = hash.filter(|_| older_than(&entry, grace)) {
                    out.push(hash);
                }
            }
        }
        Ok(out)
    }
}

impl MediaFiles {
    /// Copies every stored file that `to` lacks into it (files never change, so one present
    /// there is the same); returns how many were copied.
    pub(crate) fn copy_into(&self, to: &MediaFiles) -> io::Result<u64> {
        let mut copied = 0;
        for hash in self.stored(Duration::ZERO)? {
            let target = to.path(&hash);
            if target.is_file() {
                continue;
            }
            if let Some(shard) = target.parent() {
                fs::create_dir_all(shard)?;
            }
            fs::copy(self.path(&hash), &target)?;
            copied += 1;
        }
        Ok(copied)
    }
}

/// Whether a directory entry was last modified more than `grace` ago.
fn older_than(entry: &fs::DirEntry, grace: Duration) -> bool {
    entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age >= grace)
}

/// Syncs a directory so a rename into it survives a crash (best effort: not every platform
/// lets a directory be opened for syncing).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
