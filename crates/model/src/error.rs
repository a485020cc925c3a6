/// A value that does not satisfy the rules of its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A role name that is not one of `user`, `assistant`, `system`, `tool`.
    #[error("unknown role {0:?}: expected one of user, assistant, system, tool")]
    UnknownRole(String),
    /// A source name that is not one of the known sources.
    #[error("unknown source {0:?}: expected one of native, chatgpt, claude, gemini, copilot")]
    UnknownSource(String),
    /// A rating that is not `up` or `down` (or +1 / -1).
    #[error("unknown rating {0:?}: expected \"up\" or \"down\"")]
    UnknownRating(String),
    /// A tag that is empty, too long or contains control characters.
    #[error("invalid tag {tag:?}: {reason}")]
    InvalidTag {
        /// The offending tag as given.
        tag: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A folder path with empty, `.` or `..` segments, control characters, or too long.
    #[error("invalid folder path {path:?}: {reason}")]
    InvalidFolder {
        /// The offending path as given.
        path: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A media id that is not 64 lower-case hex digits (a BLAKE3 hash).
    #[error("invalid media id {0:?}: expected 64 lower-case hex digits")]
    InvalidMediaHash(String),
    /// A unix-millisecond value outside the range `time` can represent.
    #[error("timestamp {0} ms is out of range")]
    TimestampOutOfRange(i64),
}
