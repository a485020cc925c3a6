//! The crate's one error type.

/// What can go wrong while exporting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Writing the output failed.
    #[error("could not write the export: {0}")]
    Io(#[from] std::io::Error),
    /// Serialising JSON failed.
    #[error("could not serialise the export: {0}")]
    Json(#[from] serde_json::Error),
    /// Reading conversations or media from the store failed.
    #[error("could not read the store: {0}")]
    Store(#[from] chat_store::Error),
    /// Writing the zip archive failed.
    #[error("could not write the zip archive: {0}")]
    Zip(#[from] zip::result::ZipError),
}

impl Error {
    /// The I/O error underneath, when writing failed (e.g. the reader of a download went
    /// away).
    pub fn io(&self) -> Option<&std::io::Error> {
        match self {
            Error::Io(e) | Error::Zip(zip::result::ZipError::Io(e)) => Some(e),
            _ => None,
        }
    }
}

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
