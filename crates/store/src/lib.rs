//! SQLite storage for AI OS Chat: migrations, repositories, full-text search and the bulk
//! writer importers use.
//!
//! # Shape
//!
//! * [`Store`] owns an r2d2 pool of rusqlite connections. Opening a file switches it to WAL and
//!   runs the migrations once, on one connection, before the pool exists; every pooled
//!   connection then gets its per-connection pragmas (`foreign_keys`, `busy_timeout`,
//!   `synchronous = NORMAL`, cache size) in the pool's init hook. A file whose
//!   `user_version` is newer than [`SCHEMA_VERSION`] is refused ([`Error::SchemaTooNew`]).
//! * All work happens in closures that own a transaction: [`Store::read`] (a deferred
//!   transaction: one consistent snapshot) and [`Store::write`] (`BEGIN IMMEDIATE`, committed
//!   when the closure returns `Ok`). Taking the write lock at `BEGIN` means concurrent writers
//!   wait on the busy timeout rather than failing with "database is locked" when a read lock
//!   would have to be upgraded. The closures get a [`Repo`], which holds the repository
//!   functions; they are synchronous (async callers use `spawn_blocking`). Every SQL statement
//!   of the workspace is in this crate, one file per kind of record under `repo/`; callers
//!   see domain types only, never SQLite's, so another backend can offer the same API.
//! * Messages form a tree (`parent_id`): an edit or a regeneration is a sibling, and a
//!   conversation's `current_turn_id` is the leaf of the active branch.
//!   [`Repo::active_branch`] walks up from that leaf, refusing to loop on a cycle.
//! * Search is SQLite FTS5. The indexes are external-content tables (the text is stored once,
//!   in `convo_turns`/`convos`) kept in sync by triggers on every write path, delete included,
//!   so no caller can forget to update them. See [`Repo::search`] and `docs/architecture.md`.
//! * [`BulkWriter`] writes many parsed conversations per transaction for importers, keyed on
//!   `(source, source_id)`, with a content hash to skip unchanged conversations and
//!   deterministic message ids so a re-import never duplicates a message. An importer can
//!   tokenize a batch's texts ahead on its own thread ([`Pretokenizer`], [`TokenSet`],
//!   [`BulkWriter::write_batch_tokenized`]) so the writer only adds the tokens to the index.
//! * Media bytes are stored once per BLAKE3 hash, streamed in through a [`MediaWriter`] and
//!   out through [`MediaBytes`]; a message refers to them by the `media` field of its parts,
//!   and triggers keep the links (and drop media nothing refers to). In this backend the bytes
//!   are files beside the database (`chat.db.media/`); see `docs/architecture.md`.
//! * Exports walk the store with [`Store::conversation_details`]: every conversation with its
//!   whole tree, a page (and a tree) per short read transaction.
//!
//! ```no_run
//! use chat_store::{NewConversation, NewMessage, Store};
//! use chat_model::Role;
//!
//! # fn main() -> chat_store::Result<()> {
//! let store = Store::open("chat.db")?;
//! let conversation = store.write(|repo| repo.create_conversation(NewConversation::default()))?;
//! let id = conversation.id;
//! store.write(|repo| repo.add_message(&id, NewMessage::new(Role::User, "Hello")))?;
//! let branch = store.read(|repo| repo.active_branch(&id, false))?;
//! assert_eq!(branch.len(), 1);
//! # Ok(()) }
//! ```

mod bulk;
mod bus;
mod columns;
mod error;
mod events;
mod facade;
mod media;
mod media_io;
mod pg;
mod pretoken;
mod repo;
mod schema;
mod sqlite_store;
mod store;
#[cfg(feature = "test-server")]
pub mod test_server;
mod types;
mod walk;

pub use bulk::{
    content_hash, derive_message_id, imported_message_id, BulkItem, Prepared, WriteOutcome,
    WriteStatus,
};
pub use error::{Error, Result};
pub use events::{Subscription, MAX_EVENT_BYTES};
pub use facade::{BulkWriter, Repo};
pub use media::settle::MediaMark;
pub use media::{MediaInfo, MediaSweep, StoredMedia, MEDIA_GRACE};
pub use media_io::{MediaBatch, MediaBytes, MediaWriter};
pub use pg::PG_SCHEMA_VERSION;
pub use pretoken::{Pretokenizer, TokenSet};
pub use schema::SCHEMA_VERSION;
pub use store::{display_location, is_database_url, Store};
pub use types::{
    ArchivedFilter, BranchOutline, ConversationExtras, ConversationState, Cursor, FolderInfo,
    ImportJobRecord, ImportRunRecord, ImportRunStatus, LibraryStats, ListQuery, MonthStats,
    NewConversation, NewMessage, Page, QuarantineItem, RatedMessage, RatingCounts,
    SavedConversation, SearchHit, SearchQuery,
};
pub use walk::ConversationWalk;
