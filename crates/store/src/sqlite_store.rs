//! The SQLite store: the connection pool and the transaction closures.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, TransactionBehavior};

use crate::bulk::SqliteBulkWriter;
use crate::error::{Context, Error, Result};
use crate::media::{MediaFiles, MediaSweep, MEDIA_GRACE};
use crate::repo::SqliteRepo;
use crate::schema;

/// How long a writer waits for the write lock before SQLite reports "busy".
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Page cache per connection, in KiB (SQLite's negative `cache_size`).
const CACHE_KIB: i64 = 64 * 1024;
/// Page size of databases this program creates, in bytes (SQLite's default is 4,096). Messages
/// average a few KB and an import writes every page twice (WAL, then checkpoint): with 16 KiB
/// pages a 100 MB ChatGPT import took 0.47–0.50 s instead of 0.52–0.55 s, a 1 GB one 4.5 s
/// instead of 5.1 s, the store bench's bulk write ran 26% faster, searches were as fast or
/// faster and the file 9% smaller; 32 and 64 KiB were no faster. See docs/benchmarks.md.
const NEW_DB_PAGE_SIZE: i64 = 16 * 1024;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 64;

/// A SQLite database: the file's pool. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct SqliteStore {
    pool: Pool<SqliteConnectionManager>,
    path: Option<Arc<PathBuf>>,
    /// The media files beside the database; `None` in memory.
    pub(crate) media: Option<Arc<MediaFiles>>,
}

/// Per-connection settings: these are not persistent, so every pooled connection runs them.
fn init_connection(conn: &mut Connection) -> rusqlite::Result<()> {
    // First, before any full-text table is opened on this connection.
    if !crate::pretoken::register(conn) {
        tracing::debug!("FTS5 tokens computed ahead will not be replayed on this connection");
    }
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -{CACHE_KIB};"
    ))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Pool size: two connections per core, at least four.
fn pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores * 2).unwrap_or(u32::MAX).max(4)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, switches it to WAL and migrates it
    /// to [`crate::SCHEMA_VERSION`]. A file written by a newer version is refused with
    /// [`Error::SchemaTooNew`].
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let path = path.to_path_buf();
        {
            let mut conn = Self::connect(&path).ctx("opening the database file")?;
            // Takes effect only while the file is empty (a new database); an existing one
            // keeps its page size. Must come before the switch to WAL.
            conn.pragma_update(None, "page_size", NEW_DB_PAGE_SIZE)
                .ctx("setting the page size of a new database")?;
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .ctx("switching to WAL")?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(mode, "the database could not switch to WAL");
            }
            schema::migrate(&mut conn)?;
        }
        let manager = SqliteConnectionManager::file(&path).with_init(init_connection);
        let pool = Pool::builder()
            .max_size(pool_size())
            .min_idle(Some(1))
            .build(manager)?;
        let media =
            MediaFiles::beside(&path).map_err(|e| Error::io("creating the media directory", e))?;
        let store = SqliteStore {
            pool,
            path: Some(Arc::new(path)),
            media: Some(Arc::new(media)),
        };
        // What a killed import or a crash between a deletion and its file removal left.
        let swept = store.sweep_media(MEDIA_GRACE, false)?;
        if swept != MediaSweep::default() {
            tracing::info!(?swept, "removed leftover media");
        }
        Ok(store)
    }

    /// A private in-memory database, for tests. The pool holds a single connection, so do not
    /// call `read`/`write` from inside another `read`/`write` closure.
    pub fn open_in_memory() -> Result<SqliteStore> {
        let manager = SqliteConnectionManager::memory().with_init(init_connection);
        let pool = Pool::builder().max_size(1).build(manager)?;
        {
            let mut conn = pool.get()?;
            schema::migrate(&mut conn)?;
        }
        Ok(SqliteStore {
            pool,
            path: None,
            media: None,
        })
    }

    /// The database file, or `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref().map(PathBuf::as_path)
    }

    /// Runs `f` in a read transaction (a consistent snapshot).
    pub fn read<T>(&self, f: impl FnOnce(SqliteRepo<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.pool.get()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .ctx("starting a read transaction")?;
        let out = f(SqliteRepo::new(&tx))?;
        tx.commit().ctx("ending a read transaction")?;
        Ok(out)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed if `f` returns `Ok` and
    /// rolled back otherwise. Taking the write lock up front means concurrent writers queue
    /// on the busy timeout instead of failing with "database is locked" on lock upgrade.
    ///
    /// Files of media the transaction dropped (no message refers to them any more) are
    /// removed after the commit; if that fails they are removed by the next sweep.
    pub fn write<T>(&self, f: impl FnOnce(SqliteRepo<'_>) -> Result<T>) -> Result<T> {
        let keeps_media = self.media.is_some();
        let (out, trash) = self.write_inner(|repo| {
            let out = f(repo)?;
            let trash = keeps_media && repo.has_media_trash()?;
            Ok((out, trash))
        })?;
        if trash {
            if let Err(e) = self.empty_media_trash() {
                tracing::warn!(error = %e, "media files of deleted items stay until the next sweep");
            }
        }
        Ok(out)
    }

    /// [`SqliteStore::write`] without the media file removal.
    pub(crate) fn write_inner<T>(&self, f: impl FnOnce(SqliteRepo<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.pool.get()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting a write transaction")?;
        let out = f(SqliteRepo::new(&tx))?;
        tx.commit().ctx("committing")?;
        Ok(out)
    }

    /// A writer for imports that holds one pooled connection.
    pub fn bulk_writer(&self) -> Result<SqliteBulkWriter> {
        let writer = self.pool.get()?;
        // The checkpoint thread gets its own connection, not a pooled one, so an import in
        // the server leaves the pool's connections to the API. In memory there is no WAL to
        // copy back (and the pool has one connection).
        let checkpoint = match self.path.as_deref() {
            Some(path) => match Self::connect(path) {
                Ok(conn) => Some(conn),
                Err(e) => {
                    tracing::warn!(error = %e, "no checkpoint connection; the bulk writer checkpoints by itself");
                    None
                }
            },
            None => None,
        };
        SqliteBulkWriter::new(writer, checkpoint, CACHE_KIB)
    }

    /// A connection outside the pool, configured like the pooled ones.
    fn connect(path: &Path) -> rusqlite::Result<Connection> {
        let mut conn = Connection::open(path)?;
        init_connection(&mut conn)?;
        Ok(conn)
    }

    /// Copies the WAL into the database file and truncates it, for a graceful shutdown.
    pub fn checkpoint(&self) -> Result<()> {
        let conn = self.pool.get()?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .ctx("checkpointing the WAL")
    }

    /// Copies the database into a new file `to` with SQLite's online backup API, a few pages
    /// at a time, while other connections keep reading and writing; the copy is a consistent
    /// snapshot. Then the media files go into `to`'s media directory. An existing file at `to`
    /// is refused.
    pub fn backup_to(&self, to: &Path) -> Result<()> {
        if to.exists() {
            return Err(Error::InvalidInput(format!(
                "{} exists already; back up into a new file",
                to.display()
            )));
        }
        let conn = self.pool.get()?;
        let mut dest = Connection::open(to).ctx("creating the backup file")?;
        let backup = rusqlite::backup::Backup::new(&conn, &mut dest).ctx("starting the backup")?;
        backup
            .run_to_completion(1024, Duration::from_millis(5), None)
            .ctx("copying pages into the backup")?;
        // Then the media files: after the pages, so every item the copy of the database knows
        // is on disk already (its file was in place before its row committed).
        if let Some(files) = &self.media {
            let copy = MediaFiles::beside(to)
                .and_then(|target| files.copy_into(&target))
                .map_err(|e| Error::io("copying media into the backup", e))?;
            tracing::info!(files = copy, "copied media into the backup");
        }
        Ok(())
    }

    /// Merges the full-text index segments into one (`optimize`) and runs `PRAGMA optimize`.
    /// Worth calling after a large import; it takes a while on a big store.
    pub fn optimize(&self) -> Result<()> {
        let conn = self.pool.get()?;
        conn.execute_batch(
            "INSERT INTO turns_fts(turns_fts) VALUES('optimize');
             INSERT INTO turns_hidden_fts(turns_hidden_fts) VALUES('optimize');
             INSERT INTO turns_cjk_fts(turns_cjk_fts) VALUES('optimize');
             INSERT INTO convos_fts(convos_fts) VALUES('optimize');
             PRAGMA optimize;",
        )
        .ctx("optimizing the search index")
    }

    /// Checks the full-text indexes against the tables they index and SQLite's own
    /// `PRAGMA integrity_check`; any disagreement is [`Error::Corrupt`].
    pub fn integrity_check(&self) -> Result<()> {
        let conn = self.pool.get()?;
        let verdict: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .ctx("checking integrity")?;
        if verdict != "ok" {
            return Err(Error::Corrupt(verdict));
        }
        for fts in [
            "turns_fts",
            "turns_hidden_fts",
            "turns_cjk_fts",
            "convos_fts",
        ] {
            conn.execute(
                &format!("INSERT INTO {fts}({fts}, rank) VALUES('integrity-check', 1)"),
                [],
            )
            .map_err(|e| Error::Corrupt(format!("{fts}: {e}")))?;
        }
        Ok(())
    }
}
