use std::fmt;

use serde::Serialize;

/// Result type of this crate.
pub type Result<T, E = ParseError> = std::result::Result<T, E>;

/// Where in an input something is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Byte offset from the start of the input.
    pub byte_offset: Option<u64>,
    /// JSON path inside the item, e.g. `$.mapping["abc"].message.content`.
    pub json_path: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.byte_offset, &self.json_path) {
            (Some(off), Some(path)) => write!(f, "at byte {off}, {path}"),
            (Some(off), None) => write!(f, "at byte {off}"),
            (None, Some(path)) => write!(f, "at {path}"),
            (None, None) => Ok(()),
        }
    }
}

/// Which item of an input something concerns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ItemRef {
    /// Position in the input (0-based), for humans only; never used as an id.
    pub index: Option<u64>,
    /// The provider's id, when it could be read.
    pub id: Option<String>,
    /// The title, when it could be read.
    pub title: Option<String>,
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(i) = self.index {
            write!(f, "item #{i}")?;
            wrote = true;
        }
        if let Some(title) = &self.title {
            write!(f, "{}\"{title}\"", if wrote { " " } else { "" })?;
            wrote = true;
        }
        if let Some(id) = &self.id {
            write!(f, "{}(id {id})", if wrote { " " } else { "" })?;
            wrote = true;
        }
        if !wrote {
            f.write_str("an item")?;
        }
        Ok(())
    }
}

/// One item (usually a conversation) that could not be read. The others still import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemError {
    /// Which item.
    pub item: ItemRef,
    /// What is wrong, in plain words.
    pub message: String,
    /// Where.
    pub location: Location,
    /// What the user can do about it.
    pub hint: String,
    /// The item's raw bytes, when they could be cut out of the input, so they can be kept for a
    /// later retry. Not serialised.
    #[serde(skip)]
    pub raw: Option<Vec<u8>>,
}

impl fmt::Display for ItemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.item, self.message)?;
        let loc = self.location.to_string();
        if !loc.is_empty() {
            write!(f, " ({loc})")?;
        }
        Ok(())
    }
}

/// What ends a whole input. Everything complete before it has already been pushed to the sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The bytes are not this parser's format.
    #[error("{input}: this is not a {expected}: {reason}")]
    NotThisFormat {
        /// The input's name.
        input: String,
        /// What the parser reads, e.g. "ChatGPT export".
        expected: &'static str,
        /// What was found instead.
        reason: String,
    },
    /// The input ends before its JSON does.
    #[error(
        "{input}: the file ends in the middle of item #{items_complete} at byte {offset}, so the \
         download was probably cut off; the {items_complete} complete items before that point \
         were read"
    )]
    Truncated {
        /// The input's name.
        input: String,
        /// Byte offset where the incomplete item starts.
        offset: u64,
        /// How many complete items came before it.
        items_complete: u64,
    },
    /// The input's outer structure is not valid JSON (inside an item, it is an [`ItemError`]).
    #[error("{input}: invalid JSON at byte {offset}: {message}")]
    Syntax {
        /// The input's name.
        input: String,
        /// Byte offset of the problem.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// The input holds no bytes (or only white space).
    #[error("{input}: the file is empty")]
    Empty {
        /// The input's name.
        input: String,
    },
    /// Reading the input failed.
    #[error("{input}: read error at byte {offset}: {source}")]
    Io {
        /// The input's name.
        input: String,
        /// How far reading got.
        offset: u64,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl ParseError {
    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            ParseError::NotThisFormat { .. } => {
                "check that this is the export file you meant, or let the importer detect the \
                 source (--source auto)"
                    .to_owned()
            }
            ParseError::Truncated { .. } => {
                "download the export again (the archive or file is incomplete), then import it \
                 again: conversations already imported are recognised and skipped"
                    .to_owned()
            }
            ParseError::Syntax { .. } => {
                "the file is damaged or not JSON; download the export again".to_owned()
            }
            ParseError::Empty { .. } => {
                "the file has no content; download the export again".to_owned()
            }
            ParseError::Io { .. } => {
                "check that the file is readable and the disk is healthy, then retry".to_owned()
            }
        }
    }
}
