//! Copying committed batches back into the database file on a thread of its own.

/// Runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection and thread after each commit
/// of the bulk writer. A passive checkpoint never blocks the writer (SQLite lets one
/// checkpointer copy frames while one writer appends), so copying a batch's pages back into
/// the database file overlaps building the next batch instead of following the last one: the
/// final checkpoint, which took a tenth of a 100 MB import when the writer did it itself, is
/// left with one batch. When the checkpointer has copied everything by the time the writer
/// begins its next batch, SQLite starts the WAL over from its beginning, so the WAL stays about
/// one batch long; the writer's own autocheckpoint remains as the bound if it falls behind.
pub(super) struct Checkpointer {
    /// One pending wake-up at most: commits that land while a checkpoint runs are covered by
    /// the next one.
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// `None` if no thread can be started; the writer then checkpoints by itself as before.
    pub(super) fn start(conn: rusqlite::Connection) -> Option<Checkpointer> {
        let (wake, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("chat-store-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(error = %e, "background checkpoint failed; the writer's own will cover it");
                    }
                }
            });
        match thread {
            Ok(thread) => Some(Checkpointer {
                wake: Some(wake),
                thread: Some(thread),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "no checkpoint thread; the bulk writer checkpoints by itself");
                None
            }
        }
    }

    /// Asks for a checkpoint; returns at once.
    pub(super) fn nudge(&self) {
        if let Some(wake) = &self.wake {
            // Full: a checkpoint is already due and will include this commit.
            let _ = wake.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::warn!("the checkpoint thread panicked");
            }
        }
    }
}
