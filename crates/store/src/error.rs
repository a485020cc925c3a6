//! The crate's one error type.

use std::error::Error as _;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing asked for does not exist.
    #[error("{entity} {id:?} not found")]
    NotFound {
        /// What kind of thing: `conversation`, `message`, `import run`, ...
        entity: &'static str,
        /// The id that was looked up.
        id: String,
    },
    /// The request contradicts what is stored (e.g. a duplicate natural key).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller passed something that cannot be honoured (a message of another
    /// conversation, an undecodable cursor, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The database holds a value the code cannot make sense of, or SQLite reports corruption.
    #[error("corrupt database: {0}")]
    Corrupt(String),
    /// The file was written by a newer version of this program.
    #[error(
        "the database schema version is {found}, but this program only understands up to \
         {supported}; upgrade the program or use another database file"
    )]
    SchemaTooNew {
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// [`crate::SCHEMA_VERSION`].
        supported: i64,
    },
    /// An SQLite error, with what the store was doing when it happened.
    #[error("sqlite error while {context}: {source}")]
    Sqlite {
        /// What the store was doing.
        context: &'static str,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// Reading or writing media bytes failed.
    #[error("i/o error while {context}: {source}")]
    Io {
        /// What the store was doing.
        context: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// No connection could be taken from the pool (or the pool could not be built).
    #[error("connection pool error: {0}")]
    Pool(#[from] r2d2::Error),
    /// A PostgreSQL error, with what the store was doing when it happened.
    #[error("postgres error while {context}: {}", error_text(source))]
    Postgres {
        /// What the store was doing.
        context: &'static str,
        /// The underlying error.
        #[source]
        source: postgres::Error,
    },
    /// The database server cannot be reached (refused, unreachable, restarting, the
    /// connection dropped). Retrying later may succeed; nothing was committed by the failed
    /// call. The message names the server (never its password) and what to check.
    #[error("{0}")]
    Unavailable(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an SQLite error with context, recognising corruption.
    pub(crate) fn sqlite(context: &'static str, source: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(e, _) = &source {
            if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            ) {
                return Error::Corrupt(format!("{context}: {source}"));
            }
        }
        Error::Sqlite { context, source }
    }

    /// Whether an SQLite error is a constraint violation (a duplicate key, a missing parent).
    pub(crate) fn is_constraint(e: &rusqlite::Error) -> bool {
        matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
    }

    /// `Ok` when a statement changed at least one row, else [`Error::NotFound`] for
    /// `entity` `id`.
    pub(crate) fn found(changed: usize, entity: &'static str, id: impl Into<String>) -> Result<()> {
        if changed == 0 {
            return Err(Error::not_found(entity, id));
        }
        Ok(())
    }

    pub(crate) fn io(context: &'static str, source: std::io::Error) -> Self {
        Error::Io { context, source }
    }

    pub(crate) fn not_found(entity: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            entity,
            id: id.into(),
        }
    }

    /// Whether the database server could not be reached ([`Error::Unavailable`]): a 503 to an
    /// HTTP client, a "run it again once the database is back" to a person.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }

    /// Whether this is SQLite's "database is locked" / "busy".
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Error::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }
}

impl From<rusqlite::Error> for Error {
    fn from(source: rusqlite::Error) -> Self {
        Error::sqlite("running a query", source)
    }
}

impl From<chat_model::ModelError> for Error {
    fn from(e: chat_model::ModelError) -> Self {
        Error::Corrupt(format!("stored value is not valid: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Corrupt(format!("stored JSON is not valid: {e}"))
    }
}

/// Adds context to SQLite results.
pub(crate) trait Context<T> {
    /// Maps an SQLite error to [`Error::Sqlite`] with `context`.
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|e| Error::sqlite(context, e))
    }
}

/// The error with its causes, which tokio-postgres keeps out of its `Display`.
pub(crate) fn error_text(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Whether a PostgreSQL error means the server is gone or not accepting us now (the
/// connection dropped, it is shutting down or starting up), rather than a problem with the
/// statement.
pub(crate) fn is_connection_error(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
        }
        None => {
            // Not an error the server sent: I/O, a timeout, a closed connection.
            let mut source = e.source();
            while let Some(s) = source {
                if s.is::<std::io::Error>() {
                    return true;
                }
                source = s.source();
            }
            let text = e.to_string();
            text.contains("connection closed") || text.contains("error connecting")
        }
    }
}

/// A PostgreSQL error as the store's: [`Error::Unavailable`] when the server is gone.
pub(crate) fn pg_error(target: &str, context: &'static str, e: postgres::Error) -> Error {
    if is_connection_error(&e) {
        Error::Unavailable(format!(
            "the database at {target} is unavailable ({context}): {}",
            error_text(&e)
        ))
    } else if e
        .code()
        .is_some_and(|c| matches!(c.code(), "54000" | "22P05" | "22021"))
    {
        Error::InvalidInput(format!("{context}: {e}"))
    } else {
        Error::Postgres { context, source: e }
    }
}

impl From<postgres::Error> for Error {
    fn from(source: postgres::Error) -> Self {
        pg_error("the database", "reading a row", source)
    }
}
