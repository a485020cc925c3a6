//! Media bytes, stored once per content hash (BLAKE3), streamed in and out.
//!
//! The public API is backend neutral: bytes go in through a [`crate::MediaWriter`] (`std::io::Write`,
//! hashing as it goes; [`crate::MediaWriter::finish`] returns a [`StoredMedia`]) and come out through
//! [`crate::MediaBytes`] (`std::io::Read`, for the whole item or a byte range). What is known about
//! an item ([`MediaInfo`]) and which messages refer to it are in the database (`repo/media.rs`);
//! a message refers to media through the `media` field of its parts. The SQLite backend keeps
//! the bytes in files beside the database (`files.rs`, `sqlite.rs`); the PostgreSQL backend
//! keeps them in its database in chunks (`crate::pg::media`). The public writer, reader and
//! the store's media methods are in `crate::media_io`.

mod files;
pub(crate) mod settle;
mod sniff;
pub(crate) mod sqlite;

use std::time::Duration;

use chat_model::MediaHash;
use serde::Serialize;

pub(crate) use files::MediaFiles;
pub(crate) use sniff::{sniff, HEAD_LEN};

/// How old a temporary file or an unreferenced item must be before a sweep removes it: an
/// import stores an item's bytes a little before the conversation that refers to it.
pub const MEDIA_GRACE: Duration = Duration::from_secs(3600);

/// What a writer records beside the bytes: the item's original name (kept when the store has
/// none for it) and a hint, a key that says where these bytes were found
/// ([`crate::Repo::media_hint`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Labels {
    pub(crate) name: Option<String>,
    pub(crate) hint: Option<String>,
}

impl Labels {
    /// Records the labels through a repository's `name_media` and `put_media_hint` (for the
    /// item at hand).
    pub(crate) fn record(
        &self,
        name: impl FnOnce(&str) -> crate::error::Result<()>,
        hint: impl FnOnce(&str) -> crate::error::Result<()>,
    ) -> crate::error::Result<()> {
        if let Some(n) = &self.name {
            name(n)?;
        }
        match &self.hint {
            Some(key) => hint(key),
            None => Ok(()),
        }
    }
}

/// What is known about stored media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaInfo {
    /// The BLAKE3 hash of the bytes: the media id.
    pub hash: MediaHash,
    /// Size in bytes.
    pub size: u64,
    /// The MIME type sniffed from the bytes.
    pub mime: String,
    /// The original file name, as the first export that held the bytes gave it.
    pub name: Option<String>,
    /// An image's width in pixels, from its header.
    pub width: Option<u32>,
    /// An image's height in pixels, from its header.
    pub height: Option<u32>,
}

/// The result of storing bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMedia {
    /// What is known about them now.
    pub info: MediaInfo,
    /// `false` when the store had these bytes already (nothing new was kept).
    pub newly_stored: bool,
}

/// What a media sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MediaSweep {
    /// Temporary files left by interrupted writes.
    pub temp_files: u64,
    /// Items no message refers to.
    pub unreferenced: u64,
    /// Files of items the database does not know.
    pub orphan_files: u64,
}
