//! The crate's one error type.

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
