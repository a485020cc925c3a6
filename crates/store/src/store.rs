//! The store handle: one database, SQLite or PostgreSQL, chosen by [`Store::open`].

use std::path::Path;

use crate::error::{Error, Result};
use crate::events::{Events, Subscription};
use crate::facade::{BulkWriter, Repo};
use crate::pg::conn::{is_postgres_url, redact};
use crate::pg::PgStore;
use crate::sqlite_store::SqliteStore;
use crate::types::{ListQuery, Page};
use chat_model::Conversation;

/// A handle on one chat database. Cheap to clone; share it between threads.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) backend: Backend,
    events: Events,
}

#[derive(Clone, Debug)]
pub(crate) enum Backend {
    Sqlite(SqliteStore),
    Postgres(Box<PgStore>),
}

impl Store {
    /// Opens the database at `location` and migrates it to the current schema:
    /// * a `postgres://` or `postgresql://` URL opens a PostgreSQL database (TLS with
    ///   `sslmode=require`; see `docs/deploy.md`); a server that cannot be reached is
    ///   [`crate::Error::Unavailable`], naming host and port and what to check;
    /// * anything else is a SQLite file, created if needed and switched to WAL.
    ///
    /// A database written by a newer version of this program is refused with
    /// [`crate::Error::SchemaTooNew`].
    ///
    /// On PostgreSQL, call `read`, `write` and the other methods from threads that do not
    /// drive an async runtime (`spawn_blocking`, as chat-api does): the synchronous client
    /// blocks on a runtime of its own. Opening and dropping are safe anywhere.
    pub fn open(location: impl AsRef<Path>) -> Result<Store> {
        let location = location.as_ref();
        match location.to_str() {
            Some(url) if is_postgres_url(url) => {
                // On a thread of its own: the synchronous client blocks on a runtime of its
                // own, which panics on a thread that drives an async runtime (an async `main`).
                let pg = std::thread::scope(|s| {
                    s.spawn(|| PgStore::open(url)).join().unwrap_or_else(|_| {
                        Err(Error::Unavailable(
                            "connecting to PostgreSQL failed unexpectedly".to_owned(),
                        ))
                    })
                })?;
                let events = Events::postgres(pg.clone());
                Ok(Store {
                    backend: Backend::Postgres(Box::new(pg)),
                    events,
                })
            }
            _ => Ok(Store {
                events: Events::in_process(Some(location)),
                backend: Backend::Sqlite(SqliteStore::open(location)?),
            }),
        }
    }

    /// A private in-memory SQLite database, for tests. The pool holds a single connection, so
    /// do not call `read`/`write` from inside another `read`/`write` closure.
    pub fn open_in_memory() -> Result<Store> {
        Ok(Store {
            backend: Backend::Sqlite(SqliteStore::open_in_memory()?),
            events: Events::in_process(None),
        })
    }

    /// The SQLite database file; `None` in memory and on PostgreSQL.
    pub fn path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sqlite(s) => s.path(),
            Backend::Postgres(_) => None,
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Where the database is, fit for logs and messages (a URL's password is left out).
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Sqlite(s) => s
                .path()
                .map_or_else(|| "(in memory)".to_owned(), |p| p.display().to_string()),
            Backend::Postgres(p) => p.target_name().to_owned(),
        }
    }

    /// Runs `f` in a read transaction (a consistent snapshot; read-only on PostgreSQL).
    pub fn read<T>(&self, f: impl FnOnce(&Repo<'_>) -> Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(|r| f(&Repo::sqlite(r))),
            Backend::Postgres(p) => p.read(|r| f(&Repo::postgres(r))),
        }
    }

    /// A page of conversations: what `read(|r| r.list_conversations(q))` returns. On PostgreSQL
    /// it is one statement outside any transaction (a statement sees one snapshot by itself),
    /// which saves the `BEGIN` and `COMMIT` round trips on the library's busiest read.
    pub fn list_conversations(&self, q: &ListQuery) -> Result<Page<Conversation>> {
        match &self.backend {
            Backend::Sqlite(s) => s.read(|r| r.list_conversations(q)),
            Backend::Postgres(p) => p.list_conversations(q),
        }
    }

    /// Runs `f` in one write transaction, committed if `f` returns `Ok` and rolled back
    /// otherwise. Writers are serialised: SQLite's `BEGIN IMMEDIATE` takes the write lock up
    /// front, PostgreSQL's transaction takes an advisory lock first, so on both backends the
    /// repository's read-then-write steps (a new message's parent is the current leaf, ...)
    /// see no concurrent writer, whichever server instance it runs in.
    pub fn write<T>(&self, f: impl FnOnce(&Repo<'_>) -> Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Sqlite(s) => s.write(|r| f(&Repo::sqlite(r))),
            Backend::Postgres(p) => p.write(|r| f(&Repo::postgres(r))),
        }
    }

    /// A writer for imports that holds one pooled connection.
    pub fn bulk_writer(&self) -> Result<BulkWriter> {
        match &self.backend {
            Backend::Sqlite(s) => s.bulk_writer().map(BulkWriter::sqlite),
            Backend::Postgres(p) => p.bulk_writer().map(BulkWriter::postgres),
        }
    }

    /// Copies the WAL into the database file and truncates it, for a graceful shutdown
    /// (nothing to do on PostgreSQL).
    pub fn checkpoint(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.checkpoint(),
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// Compacts the search indexes after a large import (SQLite: merges FTS5 segments;
    /// PostgreSQL: `VACUUM ANALYZE`, which also flushes the GIN pending lists). It takes a
    /// while on a big store.
    pub fn optimize(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.optimize(),
            Backend::Postgres(p) => p.optimize(),
        }
    }

    /// Checks the database's consistency: SQLite's `integrity_check` and the full-text
    /// indexes against their tables; on PostgreSQL, that every search column matches its text.
    /// Any disagreement is [`crate::Error::Corrupt`].
    pub fn integrity_check(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.integrity_check(),
            Backend::Postgres(p) => p.integrity_check(),
        }
    }

    /// Copies a SQLite database, while it is in use, into a new file `to` with SQLite's
    /// online backup API (pages copied in steps, other connections keep reading and writing),
    /// with its media directory (`<to>.media`). On PostgreSQL use `pg_dump` (see `docs/deploy.md`): this is
    /// [`crate::Error::InvalidInput`].
    pub fn backup_to(&self, to: &Path) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.backup_to(to),
            Backend::Postgres(_) => Err(Error::InvalidInput(
                "a PostgreSQL store is backed up with pg_dump (see docs/deploy.md)".to_owned(),
            )),
        }
    }

    /// Announces that something changed (`payload`, typically a JSON event) to every
    /// [`Store::subscribe`]r of this database: in this process only on SQLite, to every
    /// process on the same database through `NOTIFY` on PostgreSQL. Best effort: a failure is
    /// logged, never returned (the change itself is committed already).
    pub fn publish(&self, payload: &str) {
        self.events.publish(payload);
    }

    /// Receives what other handles on this database [`Store::publish`] from now on (not what
    /// this handle published itself).
    pub fn subscribe(&self) -> Subscription {
        self.events.subscribe()
    }
}

/// A database location fit for messages and logs: a PostgreSQL URL without its password.
pub fn display_location(location: &Path) -> String {
    redact(&location.to_string_lossy())
}

/// Whether `location` is a PostgreSQL URL (`postgres://` or `postgresql://`) rather than a
/// SQLite file path.
pub fn is_database_url(location: &Path) -> bool {
    location.to_str().is_some_and(is_postgres_url)
}
