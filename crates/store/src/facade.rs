//! The public repository and bulk writer: one API over both backends. Each method dispatches
//! to the SQLite implementation (`crate::repo`, `crate::bulk`) or the PostgreSQL one
//! (`crate::pg`); callers never see which.

use chat_model::{
    Conversation, ConversationDetail, ConversationId, FolderPath, MediaHash, Message, MessageId,
    MessageStatus, Rating, RatingValue, Source, Tag, Timestamp,
};

use crate::bulk::item::{BulkItem, WriteOutcome};
use crate::bulk::SqliteBulkWriter;
use chat_model::timestamp::now;

use crate::error::{Error, Result};
use crate::media::MediaInfo;
use crate::pg::bulk::PgBulkWriter;
use crate::pg::repo::PgRepo;
use crate::pretoken::TokenSet;
use crate::repo::save::{checked_messages, merged};
use crate::repo::SqliteRepo;
use crate::types::{
    BranchOutline, ConversationExtras, ConversationState, FolderInfo, ImportJobRecord,
    ImportRunRecord, LibraryStats, ListQuery, NewConversation, NewMessage, Page, QuarantineItem,
    RatedMessage, RatingCounts, SavedConversation, SearchHit, SearchQuery,
};

/// Repository functions, bound to one transaction opened by [`crate::Store::read`] or
/// [`crate::Store::write`]. Use `write` for writes: on PostgreSQL a read transaction is
/// read-only, and on SQLite a write inside `read` fails whenever another writer holds the lock.
#[derive(Debug)]
pub struct Repo<'c> {
    inner: Inner<'c>,
}

#[derive(Debug)]
enum Inner<'c> {
    Sqlite(SqliteRepo<'c>),
    Postgres(PgRepo<'c>),
}

impl<'c> Repo<'c> {
    pub(crate) fn sqlite(repo: SqliteRepo<'c>) -> Self {
        Repo {
            inner: Inner::Sqlite(repo),
        }
    }

    pub(crate) fn postgres(repo: PgRepo<'c>) -> Self {
        Repo {
            inner: Inner::Postgres(repo),
        }
    }

    /// The underlying SQLite connection, for this crate's tests and benchmarks (feature
    /// `testing`), which check what the repository wrote with their own SQL. Code outside the
    /// store goes through the repository methods.
    ///
    /// # Panics
    /// On a PostgreSQL store (see [`Repo::count_rows`] for what both backends answer).
    #[cfg(feature = "testing")]
    #[allow(clippy::panic)]
    pub fn connection(&self) -> &rusqlite::Connection {
        match &self.inner {
            Inner::Sqlite(r) => r.conn,
            Inner::Postgres(_) => panic!("Repo::connection is SQLite's; this store is PostgreSQL"),
        }
    }

    /// Rows of a table (feature `testing`), on either backend.
    #[cfg(feature = "testing")]
    pub fn count_rows(&self, table: &str) -> Result<i64> {
        match &self.inner {
            Inner::Sqlite(r) => r.count_rows(table),
            Inner::Postgres(r) => r.count_rows(table),
        }
    }

    /// Runs one statement written for both backends (no parameters; feature `testing`), for
    /// tests that set up a state no repository method makes. Returns the rows changed.
    #[cfg(feature = "testing")]
    pub fn execute_sql(&self, sql: &str) -> Result<u64> {
        match &self.inner {
            Inner::Sqlite(r) => r
                .conn
                .execute(sql, [])
                .map(|n| n as u64)
                .map_err(|e| Error::sqlite("running a test statement", e)),
            Inner::Postgres(r) => r.execute("running a test statement", sql, &[]),
        }
    }

    /// Whether this is a PostgreSQL store (feature `testing`).
    #[cfg(feature = "testing")]
    pub fn is_postgres(&self) -> bool {
        matches!(self.inner, Inner::Postgres(_))
    }
}

impl Repo<'_> {
    /// Saves the full state of a conversation, created if its id is new: exactly the messages
    /// given (others are deleted), their ratings, and the tags. Fields the state leaves out keep
    /// their stored values (source, folder, creation time, archive state) or take defaults.
    /// A body that breaks the rules of [`ConversationState`] is
    /// [`crate::Error::InvalidInput`], before anything is written.
    pub fn save_conversation_state(&self, state: ConversationState) -> Result<SavedConversation> {
        let at = now();
        let mut state = state;
        let (messages, ids) = checked_messages(&state.id, std::mem::take(&mut state.messages))?;
        if state
            .current_message_id
            .as_ref()
            .is_some_and(|leaf| !ids.contains(leaf))
        {
            return Err(Error::InvalidInput(
                "current_message_id is not one of the saved messages".to_owned(),
            ));
        }
        let existing = match self.get_conversation(&state.id) {
            Ok(c) => Some(c),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let conversation = merged(state, existing.as_ref(), at);
        let saved = self.save_conversation(&ConversationDetail {
            conversation,
            messages,
        })?;
        Ok(SavedConversation {
            conversation: saved,
            created: existing.is_none(),
        })
    }
}

/// Public methods that both backends implement with the same signature, each documented here.
macro_rules! delegate {
    ($(
        $(#[$doc:meta])*
        fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;
    )*) => {
        impl Repo<'_> {
            $(
                $(#[$doc])*
                pub fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match &self.inner {
                        Inner::Sqlite(r) => r.$name($($arg),*),
                        Inner::Postgres(r) => r.$name($($arg),*),
                    }
                }
            )*
        }
    };
}

delegate! {
    /// A conversation with its tags and message count.
    fn get_conversation(&self, id: &ConversationId) -> Result<Conversation>;
    /// Creates an empty conversation.
    fn create_conversation(&self, new: NewConversation) -> Result<Conversation>;
    /// Conversations, newest `updated_at` first, filtered and paged by keyset: the cursor is
    /// the `(updated_at, id)` of the previous page's last item, so pages never skip or repeat
    /// an item even while conversations are added.
    fn list_conversations(&self, q: &ListQuery) -> Result<Page<Conversation>>;
    /// Sets the title; a later import will not overwrite it.
    fn rename(&self, id: &ConversationId, title: &str) -> Result<Conversation>;
    /// Files the conversation in `folder`.
    fn move_to_folder(&self, id: &ConversationId, folder: &FolderPath) -> Result<Conversation>;
    /// Archives the conversation (hidden from the default list, nothing deleted). Archiving an
    /// archived conversation keeps its original `archived_at`.
    fn archive(&self, id: &ConversationId) -> Result<Conversation>;
    /// Returns an archived conversation to the default list.
    fn restore(&self, id: &ConversationId) -> Result<Conversation>;
    /// Sets or clears the summary.
    fn set_summary(&self, id: &ConversationId, summary: Option<&str>) -> Result<Conversation>;
    /// Archives every conversation (optionally of one source) not updated since `before`;
    /// returns how many were archived.
    fn archive_older_than(&self, before: Timestamp, source: Option<Source>) -> Result<u64>;
    /// Deletes a conversation; its messages, ratings, tag links and search rows go with it,
    /// and tags no longer used anywhere disappear.
    fn delete_conversation(&self, id: &ConversationId) -> Result<()>;
    /// Persists a conversation's full state atomically: the conversation row (inserted or
    /// updated by id), exactly the given messages (others of this conversation are deleted;
    /// kept ones are updated in place, so their search rows and ratings follow), their ratings
    /// and the tags.
    fn save_conversation(&self, detail: &ConversationDetail) -> Result<Conversation>;
    /// Appends a message. Its parent is `new.parent_id` or, when `None`, the current leaf;
    /// the new message becomes the current leaf and the conversation's `updated_at` moves to
    /// now. A missing conversation is [`crate::Error::NotFound`]; a parent of another
    /// conversation is [`crate::Error::InvalidInput`].
    fn add_message(&self, conversation: &ConversationId, new: NewMessage) -> Result<Message>;
    /// Replaces a message's text and status (e.g. when a streamed reply finishes). The search
    /// index follows.
    fn update_message_content(
        &self,
        id: &MessageId,
        content: &str,
        status: MessageStatus
    ) -> Result<Message>;
    /// One message, with its rating.
    fn get_message(&self, id: &MessageId) -> Result<Message>;
    /// Every message of a conversation (all branches) in insertion order, which puts parents
    /// before children. Hidden messages are left out unless `include_hidden`.
    fn message_tree(&self, conversation: &ConversationId, include_hidden: bool) -> Result<Vec<Message>>;
    /// The active branch, root to current leaf. Hidden messages are left out unless
    /// `include_hidden`.
    fn active_branch(&self, conversation: &ConversationId, include_hidden: bool) -> Result<Vec<Message>>;
    /// Makes `message` the leaf of the active branch (switching to another edit or
    /// regeneration).
    fn set_current_leaf(&self, conversation: &ConversationId, message: &MessageId) -> Result<()>;
    /// Clears the current leaf, so the next message added without a parent starts a new root
    /// (the first message edited). The branches already there stay.
    fn clear_current_leaf(&self, conversation: &ConversationId) -> Result<()>;
    /// Tags a conversation (tags compare case-insensitively; the first spelling is kept).
    fn add_tag(&self, id: &ConversationId, tag: &Tag) -> Result<()>;
    /// Removes a tag from a conversation (nothing happens if it did not carry it).
    fn remove_tag(&self, id: &ConversationId, tag: &Tag) -> Result<()>;
    /// Every tag in use with the number of conversations carrying it, by name.
    fn list_tags(&self) -> Result<Vec<(Tag, u64)>>;
    /// Folders with their conversation counts, one entry per folder and source (so
    /// `source` is always set), ordered by path then source.
    fn list_folders(&self) -> Result<Vec<FolderInfo>>;
    /// Rates a message, replacing any earlier rating. A reason longer than 4,000 characters
    /// is [`crate::Error::InvalidInput`].
    fn rate_message(&self, id: &MessageId, value: RatingValue, reason: Option<&str>) -> Result<Rating>;
    /// Removes a message's rating (nothing happens if it had none).
    fn unrate_message(&self, id: &MessageId) -> Result<()>;
    /// Rated messages, newest rating first, optionally only ups or only downs.
    fn rated_messages(&self, filter: Option<RatingValue>) -> Result<Vec<RatedMessage>>;
    /// A new native conversation holding copies (new ids) of the messages from the root to
    /// `at`, with its fork origin recorded; title, folder and tags are copied, ratings are
    /// not. The original is untouched. A message of another conversation is
    /// [`crate::Error::InvalidInput`].
    fn fork(&self, conversation: &ConversationId, at: &MessageId) -> Result<Conversation>;
    /// Records a new import run.
    fn create_import_run(&self, run: &ImportRunRecord) -> Result<()>;
    /// Overwrites an import run's fields (all but `id` and `started_at`).
    fn update_import_run(&self, run: &ImportRunRecord) -> Result<()>;
    /// One import run.
    fn get_import_run(&self, id: &str) -> Result<ImportRunRecord>;
    /// The latest import runs, newest first.
    fn list_import_runs(&self, limit: u32) -> Result<Vec<ImportRunRecord>>;
    /// Keeps an item an import could not read; returns its row id.
    fn quarantine_item(&self, item: &QuarantineItem) -> Result<i64>;
    /// The quarantined items of a run, in the order they were kept.
    fn list_quarantine(&self, run_id: &str) -> Result<Vec<QuarantineItem>>;
    /// Deletes one quarantined item.
    fn delete_quarantine(&self, id: i64) -> Result<()>;
    /// Saves the state of an import job (the API's view of it, as JSON), so that every
    /// instance of the server on this database can answer for it.
    fn put_import_job(&self, job: &ImportJobRecord) -> Result<()>;
    /// One import job's saved state.
    fn get_import_job(&self, id: &str) -> Result<ImportJobRecord>;
    /// The latest import jobs, newest first.
    fn list_import_jobs(&self, limit: u32) -> Result<Vec<ImportJobRecord>>;
    /// What the conversation's row holds beyond [`Conversation`] (for copying a store).
    fn conversation_extras(&self, id: &ConversationId) -> Result<ConversationExtras>;
    /// Sets what [`Repo::conversation_extras`] reads (for copying a store).
    fn set_conversation_extras(&self, id: &ConversationId, extras: &ConversationExtras) -> Result<()>;
    /// Searches visible messages (and hidden ones if asked) and titles; returns the best
    /// `limit` hits, best first. Whatever `q.text` holds, the result is hits or nothing, never
    /// a syntax error; text with no words returns nothing.
    fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>>;
    /// Conversations (by creation month) and messages (by the month they were written, else
    /// their conversation's) per month (UTC, `YYYY-MM`) and source, oldest month first. The
    /// totals count everything; a month of a source this build does not know is left out of
    /// the list.
    fn stats(&self) -> Result<LibraryStats>;
    /// Deletes every conversation of `source`, as [`Repo::delete_conversation`] does each;
    /// returns the ids of those deleted.
    fn delete_source(&self, source: Source) -> Result<Vec<ConversationId>>;
    /// The active branch in brief: each visible message's role (root first), the first
    /// `preview_chars` characters of the first visible user message, and the time of the last
    /// message that has one, without reading the other texts.
    fn branch_outline(&self, conversation: &ConversationId, preview_chars: u32) -> Result<BranchOutline>;
    /// How many messages are rated up and how many down.
    fn rating_counts(&self) -> Result<RatingCounts>;
    /// The value of a setting; `None` when it was never set (or was cleared).
    fn get_setting(&self, key: &str) -> Result<Option<String>>;
    /// Every setting, as (key, value), by key.
    fn list_settings(&self) -> Result<Vec<(String, String)>>;
    /// Sets a setting, or clears it with `None`. A key over 128 bytes or a value over 64 KiB
    /// is [`Error::InvalidInput`].
    fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()>;
    /// What is known about the media `hash`, when the store holds it.
    fn media_info(&self, hash: &MediaHash) -> Result<Option<MediaInfo>>;
    /// The media the message refers to (through its parts), in hash order.
    fn message_media(&self, message: &MessageId) -> Result<Vec<MediaInfo>>;
    /// Stored media in hash order: the first `limit` after `after` (for copying a store).
    fn list_media(&self, after: Option<&MediaHash>, limit: u32) -> Result<Vec<MediaInfo>>;
    /// Gives the media `hash` its original file name, unless it has one already.
    fn name_media(&self, hash: &MediaHash, name: &str) -> Result<()>;
    /// Links the messages of `conversation` to the stored media their parts name and that
    /// they are not linked to yet (media stored after the messages were saved, as when a
    /// restored export brings the bytes later); returns how many links were made.
    fn link_media(&self, conversation: &ConversationId) -> Result<u64>;
    /// How many messages refer to the media `hash`.
    fn media_references(&self, hash: &MediaHash) -> Result<u64>;
    /// The hash an import recorded for `key` (what an input called some bytes: e.g. a zip
    /// entry's name, size and CRC), when those bytes are still stored. The caller verifies
    /// the bytes hash to it before relying on it.
    fn media_hint(&self, key: &str) -> Result<Option<MediaHash>>;
    /// Records that `key` named the bytes of `hash` (which must be stored).
    fn put_media_hint(&self, key: &str, hash: &MediaHash) -> Result<()>;
}

/// Writes parsed conversations in large transactions, for importers. Holds one pooled
/// connection; create one per import thread.
#[derive(Debug)]
pub struct BulkWriter {
    inner: WriterInner,
}

#[derive(Debug)]
enum WriterInner {
    Sqlite(Box<SqliteBulkWriter>),
    Postgres(Box<PgBulkWriter>),
}

impl BulkWriter {
    pub(crate) fn sqlite(writer: SqliteBulkWriter) -> Self {
        BulkWriter {
            inner: WriterInner::Sqlite(Box::new(writer)),
        }
    }

    pub(crate) fn postgres(writer: PgBulkWriter) -> Self {
        BulkWriter {
            inner: WriterInner::Postgres(Box::new(writer)),
        }
    }

    /// Writes many conversations in ONE transaction; all or nothing. Each conversation is
    /// keyed on `(source, source_id)`:
    /// * new: inserted with its messages (folder from the item, archived if the provider says
    ///   so);
    /// * same content hash as stored: skipped without a single write;
    /// * changed: new messages added, changed ones updated in place (message ids derive from
    ///   provider ids, so nothing is duplicated), the current leaf moved to the provider's
    ///   active leaf, `updated_at` advanced. The title is replaced only if the user never
    ///   renamed it; folder, tags, archive state and ratings are the user's and stay.
    pub fn write_batch(&mut self, items: &[BulkItem<'_>]) -> Result<Vec<WriteOutcome>> {
        match &mut self.inner {
            WriterInner::Sqlite(w) => w.write_batch(items),
            WriterInner::Postgres(w) => w.write_batch(items, None, true),
        }
    }

    /// [`BulkWriter::write_batch`] with the batch's texts tokenized ahead by a
    /// [`crate::Pretokenizer`]: SQLite's full-text index and PostgreSQL's search columns are
    /// then made from those tokens instead of tokenizing on this thread.
    pub fn write_batch_tokenized(
        &mut self,
        items: &[BulkItem<'_>],
        tokens: &TokenSet,
    ) -> Result<Vec<WriteOutcome>> {
        match &mut self.inner {
            WriterInner::Sqlite(w) => w.write_batch_tokenized(items, tokens),
            WriterInner::Postgres(w) => w.write_batch(items, Some(tokens), true),
        }
    }

    /// What [`BulkWriter::write_batch`] would do, without writing anything: the same code runs
    /// in a transaction that is rolled back, so dry runs report exactly the figures of a real
    /// run.
    pub fn preview_batch(&mut self, items: &[BulkItem<'_>]) -> Result<Vec<WriteOutcome>> {
        match &mut self.inner {
            WriterInner::Sqlite(w) => w.preview_batch(items),
            WriterInner::Postgres(w) => w.write_batch(items, None, false),
        }
    }
}
