//! Making media durable off the writer's thread (SQLite backend), for imports.
//!
//! Storing an item synchronously syncs its file, moves it into place, syncs the shard
//! directory and records it before the next item is read: the disk and the reader take
//! turns, and an export of a thousand photos spends most of its time waiting for `fsync`.
//! A [`Settler`] takes those steps on a thread of its own: a writer hands over its complete
//! temporary file and goes on reading. The thread starts the writeback of every file it was
//! handed, syncs them, moves them into place and syncs each shard directory once, then
//! records the items (with their names and hints) in one transaction. A [`MediaMark`] waits until everything handed over before it is recorded:
//! whatever refers to the media (the conversations of an import batch) is written only
//! after its mark, so nothing durable ever refers to bytes that are not.

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use chat_model::MediaHash;

use super::files::sync_dir;
use super::{Labels, MediaFiles, MediaInfo};
use crate::error::{Error, Result};
use crate::sqlite_store::SqliteStore;

/// Most items settled in one transaction.
const GROUP: usize = 64;

/// One item handed over: its temporary file (`None` when the store has the bytes already or
/// is about to) and what to record.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) temp: Option<(PathBuf, File)>,
    pub(crate) info: MediaInfo,
    pub(crate) labels: Labels,
}

/// What the thread and the writers share.
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    settled: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Jobs handed over, and jobs done (recorded, or failed).
    submitted: u64,
    done: u64,
    /// The first failure, reported by every mark after it.
    failure: Option<String>,
    /// Items handed over and not yet in place: a second copy is not kept.
    pending: HashSet<MediaHash>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The thread that makes handed-over media durable; dropping it waits for what it holds.
#[derive(Debug)]
pub(crate) struct Settler {
    files: Arc<MediaFiles>,
    tx: Mutex<Option<Sender<Job>>>,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Everything handed over to a [`Settler`] up to a point (for PostgreSQL, whose writers
/// commit as they finish, nothing).
#[derive(Debug, Clone)]
pub struct MediaMark {
    upto: Option<(Arc<Shared>, u64)>,
}

impl MediaMark {
    /// A mark with nothing to wait for.
    pub(crate) fn settled() -> Self {
        MediaMark { upto: None }
    }

    /// Waits until the media handed over before this mark are durable and recorded; an error
    /// when making any of them (or any handed over earlier) durable failed.
    pub fn wait(&self) -> Result<()> {
        let Some((shared, upto)) = &self.upto else {
            return Ok(());
        };
        let mut state = shared.lock();
        while state.done < *upto && state.failure.is_none() {
            state = shared
                .settled
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        match &state.failure {
            Some(e) => Err(Error::io(
                "making media durable",
                std::io::Error::other(e.clone()),
            )),
            None => Ok(()),
        }
    }
}

impl Settler {
    pub(crate) fn start(store: SqliteStore, files: Arc<MediaFiles>) -> Result<Self> {
        let (tx, rx) = channel();
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("chat-store-media".into())
            .spawn({
                let shared = Arc::clone(&shared);
                let files = Arc::clone(&files);
                move || run(&store, &files, &rx, &shared)
            })
            .map_err(|e| Error::io("starting the media thread", e))?;
        Ok(Settler {
            files,
            tx: Mutex::new(Some(tx)),
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Hands over a complete temporary file holding `info.hash`'s bytes; `false` (and the
    /// file removed) when the store holds those bytes already or is about to.
    pub(crate) fn hand_over(
        &self,
        temp: (PathBuf, File),
        info: MediaInfo,
        labels: Labels,
    ) -> Result<bool> {
        let mut state = self.shared.lock();
        let known = state.pending.contains(&info.hash) || self.files.path(&info.hash).is_file();
        let temp = if known {
            drop(temp.1);
            std::fs::remove_file(&temp.0).map_err(|e| Error::io("removing a media file", e))?;
            // Still recorded (a file left by a crash may lack its row), named and hinted.
            None
        } else {
            state.pending.insert(info.hash.clone());
            Some(temp)
        };
        let job = Job { temp, info, labels };
        let sent = self
            .tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|tx| tx.send(job).is_ok());
        if !sent {
            return Err(Error::io(
                "handing media over",
                std::io::Error::other("the media thread has stopped"),
            ));
        }
        state.submitted += 1;
        Ok(!known)
    }

    /// Everything handed over so far.
    pub(crate) fn mark(&self) -> MediaMark {
        let upto = self.shared.lock().submitted;
        MediaMark {
            upto: Some((Arc::clone(&self.shared), upto)),
        }
    }

    /// Waits for everything handed over, stops the thread, and says whether all of it was
    /// stored.
    pub(crate) fn close(&self) -> Result<()> {
        let mark = self.mark();
        let waited = mark.wait();
        self.tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
        waited
    }
}

impl Drop for Settler {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::warn!(error = %e, "media were not all stored");
        }
    }
}

/// Asks the kernel to start writing the file to disk now (not waiting for it), so that the
/// later `fsync` finds it mostly written. Linux starts the writeback for `DONTNEED` (on the
/// calling thread: block allocation and building the I/O cost the caller a second of system
/// time per 1.5 GB, which is why this thread does it and not the writer's), and then also
/// drops the pages once they are clean, so an import does not fill the page cache with media
/// nobody is reading.
fn start_writeback(file: &File) {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::DontNeed);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

fn run(store: &SqliteStore, files: &MediaFiles, rx: &Receiver<Job>, shared: &Shared) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let count = group.len() as u64;
        let hashes: Vec<MediaHash> = group
            .iter()
            .filter(|j| j.temp.is_some())
            .map(|j| j.info.hash.clone())
            .collect();
        let temps: Vec<PathBuf> = group
            .iter()
            .filter_map(|j| j.temp.as_ref().map(|(p, _)| p.clone()))
            .collect();
        let result = settle(store, files, group);
        if result.is_err() {
            // What was not moved into place is not kept (a moved file is the item's bytes,
            // synced: it stays for a later import to record).
            for path in temps {
                let _ = std::fs::remove_file(path);
            }
        }
        let mut state = shared.lock();
        state.done += count;
        for hash in &hashes {
            state.pending.remove(hash);
        }
        if let Err(e) = result {
            tracing::warn!(error = %e, "media could not be made durable");
            state.failure.get_or_insert_with(|| e.to_string());
        }
        drop(state);
        shared.settled.notify_all();
    }
}

/// Syncs the group's files, then under the write lock moves them into place, syncs their
/// shard directories once each and records the items.
fn settle(store: &SqliteStore, files: &MediaFiles, group: Vec<Job>) -> Result<()> {
    // Every file's writeback first, so the disk works on all of them while this thread waits
    // for each in turn.
    for (_, file) in group.iter().filter_map(|j| j.temp.as_ref()) {
        start_writeback(file);
    }
    for job in &group {
        if let Some((_, file)) = &job.temp {
            file.sync_all().map_err(|e| Error::io("syncing media", e))?;
        }
    }
    store.write(|repo| {
        let mut shards = BTreeSet::new();
        for job in &group {
            if let Some((path, _)) = &job.temp {
                let placed = files
                    .place(path, &job.info.hash)
                    .map_err(|e| Error::io("moving media into place", e))?;
                shards.extend(placed);
            }
        }
        for shard in &shards {
            sync_dir(shard);
        }
        for job in &group {
            repo.put_media(&job.info)?;
            let hash = &job.info.hash;
            job.labels.record(
                |n| repo.name_media(hash, n),
                |k| repo.put_media_hint(k, hash),
            )?;
        }
        Ok(())
    })
}
