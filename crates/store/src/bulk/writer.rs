//! The bulk writer: one pooled connection tuned for appends, batches written in one
//! transaction each, in two phases.

use std::borrow::Cow;
use std::collections::HashSet;

use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::config::DbConfig;
use rusqlite::TransactionBehavior;

use super::checkpoint::Checkpointer;
use super::index::{Deferred, TriggersOff};
use super::item::{BulkItem, WriteOutcome};
use super::prepare::Prepared;
use super::write::{write_one, Phase};
use crate::error::{Context, Error, Result};
use crate::pretoken::{with_tokens, TokenSet};

/// Writes parsed conversations in large transactions. Holds one pooled connection; create one
/// per import thread. Prepared statements are cached on that connection across batches.
pub(crate) struct SqliteBulkWriter {
    conn: PooledConnection<SqliteConnectionManager>,
    /// Copies committed batches into the database file on its own thread; `None` in memory.
    checkpointer: Option<Checkpointer>,
    /// The pool's page cache, in KiB, restored when the connection goes back to the pool.
    pool_cache_kib: i64,
}

impl std::fmt::Debug for SqliteBulkWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBulkWriter").finish_non_exhaustive()
    }
}

/// Page cache of the bulk writer's connection, in KiB. Kept small on purpose: an import's
/// memory must stay bounded whatever the export's size (the import benchmark holds a 1 GB
/// import under 128 MiB of RSS), and the writes are appends (ordered ids, FTS5 segments), so
/// the hot pages are few. 8 MiB measured faster than 32 MiB (0.52 against 0.55 s on a 100 MB
/// import, 5.2 against 6.1 s on 1 GB): every page a bigger cache fills is fresh memory the
/// kernel has to fault in, and a 512 MiB cache was no faster than 32 MiB either; 2 MiB was
/// slower again.
const BULK_CACHE_KIB: i64 = 8 * 1024;
/// WAL size, in pages, at which the bulk writer's commits checkpoint (SQLite's default is
/// 1,000 pages, which a 10,000-message batch exceeds several times over, so every commit
/// copied its pages back at once). Bigger: pages changed by several batches (B-tree interior
/// pages, the FTS5 structure record, segments merged soon after being written) are copied
/// once; the WAL stays bounded at about 64 MiB plus one batch.
const BULK_AUTOCHECKPOINT_PAGES: i64 = 16_384;
/// SQLite's default `wal_autocheckpoint`, restored when the writer goes back to the pool.
const DEFAULT_AUTOCHECKPOINT_PAGES: i64 = 1_000;

impl Drop for SqliteBulkWriter {
    fn drop(&mut self) {
        // Let the background checkpoint finish first, so the one below has only the rest.
        self.checkpointer = None;
        // The connection goes back to the pool: never with its triggers off.
        if let Err(e) = self
            .conn
            .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, true)
        {
            tracing::error!(error = %e, "could not make sure triggers are on");
        }
        if let Err(e) = self.conn.execute_batch(&format!(
            "PRAGMA cache_size = -{};
             PRAGMA wal_autocheckpoint = {DEFAULT_AUTOCHECKPOINT_PAGES};",
            self.pool_cache_kib
        )) {
            tracing::warn!(error = %e, "could not restore the cache size of a pooled connection");
        }
        // Copy what the larger autocheckpoint left in the WAL now, so the next interactive
        // commit does not pay for it. PASSIVE: never waits on readers.
        if let Err(e) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, "could not checkpoint after a bulk import");
        }
    }
}

impl SqliteBulkWriter {
    /// A writer on `conn` (a pooled connection whose page cache is `pool_cache_kib`), with a
    /// background checkpointer on `checkpoint_conn` when there is one.
    pub(crate) fn new(
        conn: PooledConnection<SqliteConnectionManager>,
        checkpoint_conn: Option<rusqlite::Connection>,
        pool_cache_kib: i64,
    ) -> Result<Self> {
        // A page cache sized for appends (see BULK_CACHE_KIB), and a larger autocheckpoint
        // that copies pages changed by several batches back once; both restored on drop.
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{BULK_CACHE_KIB};
             PRAGMA wal_autocheckpoint = {BULK_AUTOCHECKPOINT_PAGES};"
        ))
        .ctx("sizing the bulk writer's cache")?;
        let checkpointer = checkpoint_conn.and_then(Checkpointer::start);
        Ok(SqliteBulkWriter {
            conn,
            checkpointer,
            pool_cache_kib,
        })
    }

    /// Writes many conversations in ONE transaction with cached prepared statements; all or
    /// nothing. Each conversation is keyed on `(source, source_id)`:
    /// * new: inserted with its messages (folder from the item, archived if the provider says
    ///   so);
    /// * same content hash as stored: skipped without a single write;
    /// * changed: new messages added, changed ones updated in place (message ids derive from
    ///   provider ids, so nothing is duplicated), the current leaf moved to the provider's
    ///   active leaf, `updated_at` advanced. The title is replaced only if the user never
    ///   renamed it; folder, tags, archive state and ratings are the user's and stay.
    pub fn write_batch(&mut self, items: &[BulkItem<'_>]) -> Result<Vec<WriteOutcome>> {
        self.run_batch(items, true, None)
    }

    /// [`BulkWriter::write_batch`] with the batch's texts (messages and titles) tokenized
    /// ahead by a [`crate::Pretokenizer`], typically on the importer's parse thread: the full-
    /// text indexes then take those tokens instead of tokenizing on this thread. Texts missing
    /// from `tokens` are tokenized as usual; the index is the same either way.
    pub fn write_batch_tokenized(
        &mut self,
        items: &[BulkItem<'_>],
        tokens: &TokenSet,
    ) -> Result<Vec<WriteOutcome>> {
        self.run_batch(items, true, Some(tokens))
    }

    /// What [`BulkWriter::write_batch`] would do, without writing anything: the same code runs
    /// in a transaction that is rolled back, so dry runs report exactly the figures of a real
    /// run.
    pub fn preview_batch(&mut self, items: &[BulkItem<'_>]) -> Result<Vec<WriteOutcome>> {
        self.run_batch(items, false, None)
    }

    fn run_batch(
        &mut self,
        items: &[BulkItem<'_>],
        commit: bool,
        tokens: Option<&TokenSet>,
    ) -> Result<Vec<WriteOutcome>> {
        with_tokens(tokens, || self.run_batch_inner(items, commit))
    }

    fn run_batch_inner(
        &mut self,
        items: &[BulkItem<'_>],
        commit: bool,
    ) -> Result<Vec<WriteOutcome>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting a bulk write")?;
        // What the caller did not prepare (or prepared from another conversation) is derived
        // here, once per item, for both phases.
        let prepared: Vec<Cow<'_, Prepared>> = items
            .iter()
            .map(|item| match item.prepared {
                Some(p) if p.fits(item.conversation) => Ok(Cow::Borrowed(p)),
                _ => Prepared::new(item.conversation).map(Cow::Owned),
            })
            .collect::<Result<_>>()?;
        let mut deferred = Deferred::default();
        let mut out: Vec<Option<WriteOutcome>> = vec![None; items.len()];
        // Phase 1, with the connection's triggers off: new conversations are inserted and
        // unchanged ones recognised. Inserts need no trigger (the deferred index statements
        // cover them), and without one in its program an INSERT also needs no statement
        // journal: together a twentieth of an import's time. Conversations that changed, and
        // a conversation's second appearance in the batch, wait for phase 2.
        let mut later = Vec::new();
        {
            let _off = TriggersOff::new(&tx)?;
            let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if !seen.insert(item.key()) {
                    later.push(i);
                    continue;
                }
                match write_one(&tx, item, &prepared[i], &mut deferred, Phase::NewOnly)? {
                    Some(outcome) => out[i] = Some(outcome),
                    None => later.push(i),
                }
            }
        }
        // Phase 2, triggers on: updates in place, which the update triggers keep indexed.
        if !later.is_empty() {
            // Index what phase 1 inserted first, so an update never has to un-index a row
            // that is not indexed yet.
            deferred.flush(&tx)?;
            let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(later.len());
            for i in later {
                if !seen.insert(items[i].key()) {
                    // The same conversation twice: likewise.
                    deferred.flush(&tx)?;
                }
                out[i] = write_one(&tx, &items[i], &prepared[i], &mut deferred, Phase::Any)?;
            }
        }
        deferred.flush(&tx)?;
        let out = out
            .into_iter()
            .map(|o| o.ok_or_else(|| Error::Corrupt("a bulk item was not written".into())))
            .collect::<Result<Vec<_>>>()?;
        if commit {
            tx.commit().ctx("committing a bulk write")?;
            if let Some(c) = &self.checkpointer {
                c.nudge();
            }
        } else {
            tx.rollback().ctx("rolling back a previewed bulk write")?;
        }
        Ok(out)
    }
}
