//! The PostgreSQL backend: the same records, rules and results as the SQLite store, for
//! several server instances on one database.
//!
//! * `conn.rs`: the URL (TLS, the password never shown), the pooled connection with its
//!   statement cache, and which errors mean "the server is gone" ([`crate::Error::Unavailable`]).
//! * `schema.rs`: the migrations, mirroring SQLite's tables, with generated search columns.
//! * `repo/`: the repository, one file per kind of record, like SQLite's.
//! * `bulk.rs`: the importers' writer (`COPY` in batches, one transaction each).
//! * `notify.rs`: `LISTEN`/`NOTIFY`, which carries library events between instances.
//! * `copy.rs`: rows in and out for the SQLite ⇄ PostgreSQL copy.
//!
//! Transactions: a read is `REPEATABLE READ READ ONLY` (one snapshot, like SQLite's read
//! transaction); a write takes a transaction-scoped advisory lock first, so writers are
//! serialised across every instance on the database, as SQLite's `BEGIN IMMEDIATE` serialises
//! them within one file. The repository's read-then-write steps (the current leaf becoming a
//! new message's parent, a content hash compared before a re-import) therefore behave the same
//! on both backends.

pub(crate) mod bulk;
pub(crate) mod conn;
pub(crate) mod media;
pub(crate) mod notify;
pub(crate) mod repo;
mod schema;
pub(crate) mod words;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use r2d2::{Pool, PooledConnection};

use self::conn::{
    is_connection_error, pg_error, CellManager, Manager, PgCell, QuietErrors, Target, WRITE_LOCK,
};
use self::repo::PgRepo;
use crate::error::{Error, Result};
use crate::types::{ListQuery, Page};
use chat_model::Conversation;

pub use self::schema::PG_SCHEMA_VERSION;

/// How long a request waits for a pooled connection. Short, so that while the server is down
/// requests fail fast with [`Error::Unavailable`] instead of piling up.
const POOL_WAIT: Duration = Duration::from_secs(3);
/// Connections per instance: four per core, at least eight (queries wait on the server, not
/// on this process's cores).
fn pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores * 4).unwrap_or(u32::MAX).max(8)
}

/// The pool, closed on a thread of its own: the synchronous client closes a connection by
/// blocking on its own runtime, which panics on a thread that drives an async runtime (the
/// last handle of a store may well be dropped on one, e.g. at the end of an async test).
struct PoolOwner(Option<Pool<CellManager>>);

impl std::ops::Deref for PoolOwner {
    type Target = Pool<CellManager>;

    #[allow(clippy::expect_used)]
    fn deref(&self) -> &Pool<CellManager> {
        // `None` only inside `drop`.
        self.0.as_ref().expect("the pool exists until dropped")
    }
}

impl Drop for PoolOwner {
    fn drop(&mut self) {
        if let Some(pool) = self.0.take() {
            let closing = std::thread::Builder::new()
                .name("chat-store-close".to_owned())
                .spawn(move || drop(pool));
            if let Err(e) = closing {
                tracing::warn!(error = %e, "cannot close PostgreSQL connections on a thread of their own");
            }
        }
    }
}

/// A PostgreSQL database: the pool and how to name the server. Cheap to clone.
#[derive(Clone)]
pub(crate) struct PgStore {
    pool: Arc<PoolOwner>,
    target: Target,
    last_failure: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.target.name)
            .finish_non_exhaustive()
    }
}

/// How a transaction starts.
#[derive(Clone, Copy)]
enum Mode {
    Read,
    Write,
    /// A read-write transaction without the write lock, for statements that touch no record
    /// another writer reads first (a media chunk).
    Unlocked,
}

impl PgStore {
    /// Connects, migrates, and builds the pool. An unreachable server is
    /// [`Error::Unavailable`] naming host, port and what to check.
    pub(crate) fn open(url: &str) -> Result<PgStore> {
        let target = Target::parse(url)?;
        let mut client = target.connect_or_explain()?;
        schema::migrate(&mut client, &target.name)?;
        drop(client);
        let last_failure = Arc::new(Mutex::new(None));
        let manager = CellManager(Manager {
            target: target.clone(),
            last_failure: Arc::clone(&last_failure),
        });
        let pool = Pool::builder()
            .max_size(pool_size())
            .min_idle(Some(1))
            .connection_timeout(POOL_WAIT)
            // A dead connection is found when it is used (see `begin`), not by a round trip
            // on every checkout.
            .test_on_check_out(false)
            .error_handler(Box::new(QuietErrors))
            .build_unchecked(manager);
        let store = PgStore {
            pool: Arc::new(PoolOwner(Some(pool))),
            target,
            last_failure,
        };
        // What writes a crash interrupted, and items no message came to refer to.
        let swept = store.sweep_media(crate::media::MEDIA_GRACE)?;
        if swept != crate::media::MediaSweep::default() {
            tracing::info!(?swept, "removed leftover media");
        }
        Ok(store)
    }

    /// `host:port (database d, user u)`.
    pub(crate) fn target_name(&self) -> &str {
        &self.target.name
    }

    /// The target, for connections outside the pool (the event listener).
    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    /// A pooled connection; a timeout while the server refuses connections is
    /// [`Error::Unavailable`].
    pub(crate) fn conn(&self) -> Result<PooledConnection<CellManager>> {
        self.pool.get().map_err(|e| {
            let last = self.last_failure.lock().ok().and_then(|l| l.clone());
            match last {
                Some(cause) => Error::Unavailable(format!(
                    "the database at {} is unavailable: {cause}",
                    self.target.name
                )),
                None => Error::Pool(e),
            }
        })
    }

    /// A pooled connection inside a new transaction. A connection that died while idle in the
    /// pool (the server restarted) is discarded and another tried, so the first request after
    /// an outage does not fail for it.
    fn begin(&self, mode: Mode) -> Result<PooledConnection<CellManager>> {
        let begin = match mode {
            Mode::Read => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            Mode::Write | Mode::Unlocked => "BEGIN",
        };
        let mut attempts = self.pool.max_size() + 1;
        loop {
            let conn = self.conn()?;
            let started = {
                let mut c = conn.0.borrow_mut();
                let mut r = c.client.batch_execute(begin);
                if r.is_ok() {
                    if let Mode::Write = mode {
                        r = c
                            .client
                            .execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
                            .map(|_| ());
                    }
                }
                if r.is_err() {
                    c.broken = true;
                }
                r
            };
            match started {
                Ok(()) => return Ok(conn),
                Err(e) if is_connection_error(&e) && attempts > 1 => {
                    attempts -= 1;
                    tracing::debug!(error = %e, "a pooled PostgreSQL connection had died; trying another");
                }
                Err(e) => return Err(pg_error(&self.target.name, "starting a transaction", e)),
            }
        }
    }

    fn run<T>(&self, mode: Mode, f: impl FnOnce(PgRepo<'_>) -> Result<T>) -> Result<T> {
        let conn = self.begin(mode)?;
        let mut guard = TxGuard {
            cell: &conn,
            open: true,
        };
        let out = f(PgRepo::new(&conn.0, &self.target.name));
        match out {
            Ok(value) => {
                guard.finish("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                let _ = guard.finish("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Runs `f` in a read-only snapshot transaction.
    pub(crate) fn read<T>(&self, f: impl FnOnce(PgRepo<'_>) -> Result<T>) -> Result<T> {
        self.run(Mode::Read, f)
    }

    /// Runs `f` in a write transaction behind the write lock.
    pub(crate) fn write<T>(&self, f: impl FnOnce(PgRepo<'_>) -> Result<T>) -> Result<T> {
        self.run(Mode::Write, f)
    }

    /// Runs `f` in a write transaction that does not take the write lock.
    pub(crate) fn write_unlocked<T>(&self, f: impl FnOnce(PgRepo<'_>) -> Result<T>) -> Result<T> {
        self.run(Mode::Unlocked, f)
    }

    /// See [`crate::Store::list_conversations`]: one statement, outside any transaction (a
    /// statement sees one snapshot by itself), so the busiest read makes one round trip
    /// instead of three. A pooled connection found dead is replaced, as in `begin`.
    pub(crate) fn list_conversations(&self, q: &ListQuery) -> Result<Page<Conversation>> {
        let (sql, args, limit) = repo::conversations::list_statement(q);
        let params = repo::conversations::refs(&args);
        let mut attempts = self.pool.max_size() + 1;
        loop {
            let conn = self.conn()?;
            let rows = PgRepo::new(&conn.0, &self.target.name).query_or_client_error(&sql, &params);
            match rows {
                Ok(rows) => return repo::conversations::list_page(&rows, limit),
                Err(e) if is_connection_error(&e) && attempts > 1 => {
                    conn.0.borrow_mut().broken = true;
                    attempts -= 1;
                    tracing::debug!(error = %e, "a pooled PostgreSQL connection had died; trying another");
                }
                Err(e) => return Err(pg_error(&self.target.name, "listing conversations", e)),
            }
        }
    }

    /// A bulk writer on a connection of its own from the pool.
    pub(crate) fn bulk_writer(&self) -> Result<bulk::PgBulkWriter> {
        Ok(bulk::PgBulkWriter::new(
            self.conn()?,
            self.target.name.clone(),
        ))
    }

    /// `VACUUM ANALYZE` of the searched tables.
    pub(crate) fn optimize(&self) -> Result<()> {
        let conn = self.conn()?;
        let mut c = conn.0.borrow_mut();
        // One statement per call: several in one string run as one transaction, which
        // VACUUM refuses.
        for sql in ["VACUUM ANALYZE convos", "VACUUM ANALYZE convo_turns"] {
            c.client
                .batch_execute(sql)
                .map_err(|e| pg_error(&self.target.name, "vacuuming", e))?;
        }
        Ok(())
    }

    /// Checks that the stored search columns match their text (the store writes them with
    /// it, [`words`]; this recomputes each one, streaming the rows), and that each
    /// conversation's kept message count and tag list match its rows.
    pub(crate) fn integrity_check(&self) -> Result<()> {
        use postgres::fallible_iterator::FallibleIterator;
        let conn = self.conn()?;
        let mut c = conn.0.borrow_mut();
        let fail = |e| pg_error(&self.target.name, "checking the search columns", e);
        let mut bad = 0u64;
        let none: [&str; 0] = [];
        let mut rows = c
            .client
            .query_raw("SELECT content, hidden, tsv, cjk FROM convo_turns", none)
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let content: String = row.try_get(0)?;
            let stored: words::TsVector = row.try_get(2)?;
            let cjk: Option<words::TsVector> = row.try_get(3)?;
            if stored != words::TsVector::of(&content, None)?
                || cjk != words::cjk_column(&content, row.try_get(1)?)
            {
                bad += 1;
            }
        }
        drop(rows);
        let mut rows = c
            .client
            .query_raw("SELECT title, title_tsv FROM convos", none)
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let stored: words::TsVector = row.try_get(1)?;
            if stored != words::TsVector::of(row.try_get(0)?, None)? {
                bad += 1;
            }
        }
        drop(rows);
        if bad != 0 {
            return Err(Error::Corrupt(format!(
                "{bad} rows have search columns that do not match their text"
            )));
        }
        let stale: i64 = c
            .client
            .query_one(
                "SELECT count(*) FROM convos c
                 WHERE c.turn_count <> (SELECT count(*) FROM convo_turns WHERE convo_id = c.id)
                    OR c.tag_names IS DISTINCT FROM (
                        SELECT string_agg(tg.name, chr(31) ORDER BY lower(tg.name), tg.name)
                        FROM convo_tags ct JOIN tags tg ON tg.id = ct.tag_id
                        WHERE ct.convo_id = c.id)",
                &[],
            )
            .and_then(|r| r.try_get(0))
            .map_err(|e| pg_error(&self.target.name, "checking the listing columns", e))?;
        if stale != 0 {
            return Err(Error::Corrupt(format!(
                "{stale} conversations have a message count or tag list that does not match \
                 their messages and tags"
            )));
        }
        Ok(())
    }
}

/// Ends a transaction; if it was not ended (a panic in the closure), rolls it back on drop,
/// and marks the connection broken when that fails, so the pool discards it rather than hand
/// out a connection inside a transaction.
struct TxGuard<'a> {
    cell: &'a PgCell,
    open: bool,
}

impl TxGuard<'_> {
    fn finish(&mut self, statement: &str) -> Result<()> {
        self.open = false;
        let mut c = self.cell.0.borrow_mut();
        let r = c.client.batch_execute(statement);
        if r.is_err() {
            c.broken = true;
        }
        drop(c);
        r.map_err(|e| {
            let name = "the database";
            pg_error(name, "ending a transaction", e)
        })
    }
}

impl Drop for TxGuard<'_> {
    fn drop(&mut self) {
        if self.open {
            if let Ok(mut c) = self.cell.0.try_borrow_mut() {
                if c.client.batch_execute("ROLLBACK").is_err() {
                    c.broken = true;
                }
            }
        }
    }
}
