//! The bulk writer importers use, split by stage:
//!
//! 1. **hash** (`hash.rs`): what identifies an import. A conversation's content hash
//!    (xxh3-128 of a canonical, length-prefixed encoding of every parsed field) tells an
//!    unchanged conversation apart without reading its messages; message ids are derived from
//!    provider ids, so a re-import finds the rows it wrote before.
//! 2. **prepare** (`prepare.rs`): [`Prepared`], everything derived from a parsed conversation
//!    before it is written (hash, ids, parts JSON, CJK runs, extras). Pure computation: an
//!    importer makes it on its parse thread and hands it in with the [`BulkItem`].
//! 3. **write** (`writer.rs`, `write.rs`): [`BulkWriter`] writes a batch in one transaction,
//!    in two phases (new conversations with the connection's triggers off, then changed
//!    ones); each conversation is skipped, inserted or updated in place by `write.rs`, with
//!    the message rows both paths share in `rows.rs`. Full-text indexing is deferred to one
//!    statement per index for the batch (`index.rs`), and committed pages are copied back into
//!    the database file on a thread of their own (`checkpoint.rs`).

mod checkpoint;
pub(crate) mod hash;
mod index;
pub(crate) mod item;
pub(crate) mod prepare;
pub(crate) mod rows;
pub(crate) mod write;
mod writer;

pub use hash::{content_hash, derive_message_id, imported_message_id};
pub use item::{BulkItem, WriteOutcome, WriteStatus};
pub use prepare::Prepared;
pub(crate) use writer::SqliteBulkWriter;
