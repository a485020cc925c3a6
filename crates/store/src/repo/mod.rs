//! The repository: every read and write of the store's records, bound to one transaction.
//!
//! The SQLite implementation of [`crate::Repo`]: `SqliteRepo` is one type whose methods are spread over one file per kind of record, each with
//! the SQL for that record next to its Rust API (the shape of application-services'
//! `places/src/storage/`):
//!
//! | file | records |
//! |---|---|
//! | `conversations.rs` | create, read, list (keyset pages), rename, file, archive, summary, delete |
//! | `save.rs` | a conversation's full state saved at once (the API's `PUT`, native imports) |
//! | `messages.rs` | messages and the tree: append, finish a reply, branches, the current leaf |
//! | `tags.rs` | tags and the folder list |
//! | `ratings.rs` | message ratings |
//! | `forks.rs` | forks |
//! | `settings.rs` | store-wide settings (key/value) |
//! | `imports.rs` | import runs and their quarantined items |
//! | `media.rs` | media items (metadata), their links to messages, import hints, the trash |
//! | `extras.rs` | a conversation row's fields beyond the model's, for copying a store |
//! | `search.rs` | full-text search |
//! | `stats.rs` | statistics |
//!
//! Inputs and outputs are domain types (`chat-model`) or the plain types of `crate::types`,
//! never SQLite's, so a second backend can offer the same methods. Row conversions shared by
//! these files and the bulk writer are in `crate::columns`.

mod conversations;
mod extras;
mod forks;
mod imports;
pub(crate) mod media;
pub(crate) mod messages;
pub(crate) mod ratings;
pub(crate) mod save;
pub(crate) mod search;
pub(crate) mod settings;
pub(crate) mod stats;
mod tags;

use chat_model::{ConversationId, MessageId};
use rusqlite::{Connection, OptionalExtension};

use crate::error::{Context, Error, Result};

/// The SQLite repository, bound to one transaction opened by the SQLite store; the public
/// [`crate::Repo`] dispatches to it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqliteRepo<'c> {
    pub(crate) conn: &'c Connection,
}

impl<'c> SqliteRepo<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Self {
        SqliteRepo { conn }
    }

    /// The conversation's current leaf; [`Error::NotFound`] when it does not exist.
    pub(crate) fn ensure_conversation(&self, id: &ConversationId) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT current_turn_id FROM convos WHERE id = ?1")?
            .query_row([id.as_str()], |r| r.get::<_, Option<String>>(0))
            .optional()
            .ctx("looking up a conversation")?
            .ok_or_else(|| Error::not_found("conversation", id.as_str()))
    }

    /// Rows of a table, for tests.
    #[cfg(feature = "testing")]
    pub(crate) fn count_rows(&self, table: &str) -> Result<i64> {
        self.conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .ctx("counting rows")
    }

    /// The conversation a message belongs to.
    pub(crate) fn message_conversation(&self, id: &MessageId) -> Result<String> {
        self.conn
            .prepare_cached("SELECT convo_id FROM convo_turns WHERE id = ?1")?
            .query_row([id.as_str()], |r| r.get::<_, String>(0))
            .optional()
            .ctx("looking up a message")?
            .ok_or_else(|| Error::not_found("message", id.as_str()))
    }
}
