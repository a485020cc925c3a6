//! The bulk writer used by importers.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io;

use chat_model::timestamp::{now, to_millis};
use chat_model::{ConversationId, FolderPath, ParsedConversation, ParsedMessage, Source};
use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::config::DbConfig;
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use xxhash_rust::xxh3::{xxh3_128, Xxh3};

use crate::error::{Context, Error, Result};
use crate::repo::parts_json;
use crate::search::cjk_runs;

/// Bumped when the canonical serialisation hashed by [`content_hash`] changes, so stored
/// hashes stop matching and the next import re-checks every conversation once.
const HASH_FORMAT: u8 = 2;

/// One conversation to write.
#[derive(Debug, Clone, Copy)]
pub struct BulkItem<'a> {
    /// The parsed conversation.
    pub conversation: &'a ParsedConversation,
    /// Where a newly inserted conversation is filed; `None` is the source's default folder.
    /// Ignored for a conversation that already exists (the user's filing wins).
    pub folder: Option<&'a FolderPath>,
    /// What the writer derives from `conversation`, if the caller computed it already
    /// ([`Prepared::new`]; an importer does so on its parse thread, off the writer's). It must
    /// have been made from this same conversation. `None`: the writer derives it itself.
    pub prepared: Option<&'a Prepared>,
}

impl BulkItem<'_> {
    /// What a conversation is keyed on: `(source, provider id)`.
    fn key(&self) -> (&str, &str) {
        (
            self.conversation.source.as_str(),
            self.conversation.source_id.as_str(),
        )
    }
}

/// What the bulk writer derives from a parsed conversation before writing it: its content
/// hash, message ids, parts as JSON, the CJK runs of its messages, its extra fields as JSON.
/// Pure computation, so an importer can run it on another thread than the writer's.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Which conversation this was made from (see [`Prepared::fits`]).
    source: Source,
    source_id: String,
    hash: [u8; 16],
    /// [`derive_message_id`] of each message, in order.
    message_ids: Vec<String>,
    /// [`parts_json`] of each message.
    parts: Vec<Option<String>>,
    /// The CJK runs of each visible message holding CJK text (see [`note_cjk`]).
    cjk: Vec<Option<String>>,
    extra: Option<String>,
}

impl Prepared {
    /// Derives everything the writer needs from `c`.
    pub fn new(c: &ParsedConversation) -> Result<Prepared> {
        let source = c.source.as_str();
        let mut parts = Vec::with_capacity(c.messages.len());
        for m in &c.messages {
            parts.push(parts_json(&m.parts)?);
        }
        Ok(Prepared {
            source: c.source,
            source_id: c.source_id.clone(),
            hash: content_hash(c)?,
            message_ids: c
                .messages
                .iter()
                .map(|m| derive_message_id(source, &c.source_id, &m.source_id))
                .collect(),
            parts,
            cjk: c
                .messages
                .iter()
                .map(|m| {
                    (!m.hidden && !m.content.is_ascii())
                        .then(|| cjk_runs(&m.content))
                        .filter(|r| !r.is_empty())
                })
                .collect(),
            extra: extra_json(c)?,
        })
    }

    /// Whether this was made from `c`, as far as a cheap check tells (same conversation, same
    /// number of messages: `new` makes every per-message list that long); a mismatch makes
    /// the writer derive everything itself.
    fn fits(&self, c: &ParsedConversation) -> bool {
        self.source == c.source
            && self.source_id == c.source_id
            && self.message_ids.len() == c.messages.len()
    }
}

/// What happened to one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteStatus {
    /// It was new.
    Inserted,
    /// It existed and changed: new messages added, changed ones updated.
    Updated,
    /// It existed with the same content hash; nothing was written.
    Unchanged,
}

/// The outcome for one [`BulkItem`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Our id for the conversation.
    pub conversation_id: ConversationId,
    /// Inserted, updated or unchanged.
    pub status: WriteStatus,
    /// Messages inserted or updated.
    pub messages_written: u64,
}

/// Writes parsed conversations in large transactions. Holds one pooled connection; create one
/// per import thread. Prepared statements are cached on that connection across batches.
pub struct BulkWriter {
    conn: PooledConnection<SqliteConnectionManager>,
    /// Copies committed batches into the database file on its own thread; `None` in memory.
    checkpointer: Option<Checkpointer>,
}

/// Runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection and thread after each commit
/// of the bulk writer. A passive checkpoint never blocks the writer (SQLite lets one
/// checkpointer copy frames while one writer appends), so copying a batch's pages back into
/// the database file overlaps building the next batch instead of following the last one: the
/// final checkpoint, which took a tenth of a 100 MB import when the writer did it itself, is
/// left with one batch. When the checkpointer has copied everything by the time the writer
/// begins its next batch, SQLite starts the WAL over from its beginning, so the WAL stays about
/// one batch long; the writer's own autocheckpoint remains as the bound if it falls behind.
struct Checkpointer {
    /// One pending wake-up at most: commits that land while a checkpoint runs are covered by
    /// the next one.
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// `None` if no thread can be started; the writer then checkpoints by itself as before.
    fn start(conn: rusqlite::Connection) -> Option<Checkpointer> {
        let (wake, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("chat-store-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(error = %e, "background checkpoint failed; the writer's own will cover it");
                    }
                }
            });
        match thread {
            Ok(thread) => Some(Checkpointer {
                wake: Some(wake),
                thread: Some(thread),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "no checkpoint thread; the bulk writer checkpoints by itself");
                None
            }
        }
    }

    /// Asks for a checkpoint; returns at once.
    fn nudge(&self) {
        if let Some(wake) = &self.wake {
            // Full: a checkpoint is already due and will include this commit.
            let _ = wake.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::warn!("the checkpoint thread panicked");
            }
        }
    }
}

impl std::fmt::Debug for BulkWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkWriter").finish_non_exhaustive()
    }
}

/// Page cache of the bulk writer's connection, in KiB. Kept small on purpose: an import's
/// memory must stay bounded whatever the export's size (the import benchmark holds a 1 GB
/// import under 128 MiB of RSS), and the writes are appends (ordered ids, FTS5 segments), so
/// the hot pages are few. 8 MiB measured faster than 32 MiB (0.52 against 0.55 s on a 100 MB
/// import, 5.2 against 6.1 s on 1 GB): every page a bigger cache fills is fresh memory the
/// kernel has to fault in, and a 512 MiB cache was no faster than 32 MiB either; 2 MiB was
/// slower again.
const BULK_CACHE_KIB: i64 = 8 * 1024;
/// WAL size, in pages, at which the bulk writer's commits checkpoint (SQLite's default is
/// 1,000 pages, which a 10,000-message batch exceeds several times over, so every commit
/// copied its pages back at once). Bigger: pages changed by several batches (B-tree interior
/// pages, the FTS5 structure record, segments merged soon after being written) are copied
/// once; the WAL stays bounded at about 64 MiB plus one batch.
const BULK_AUTOCHECKPOINT_PAGES: i64 = 16_384;
/// SQLite's default `wal_autocheckpoint`, restored when the writer goes back to the pool.
const DEFAULT_AUTOCHECKPOINT_PAGES: i64 = 1_000;

impl Drop for BulkWriter {
    fn drop(&mut self) {
        // Let the background checkpoint finish first, so the one below has only the rest.
        self.checkpointer = None;
        // The connection goes back to the pool: never with its triggers off.
        if let Err(e) = self
            .conn
            .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, true)
        {
            tracing::error!(error = %e, "could not make sure triggers are on");
        }
        if let Err(e) = self.conn.execute_batch(&format!(
            "PRAGMA cache_size = -{};
             PRAGMA wal_autocheckpoint = {DEFAULT_AUTOCHECKPOINT_PAGES};",
            crate::store::CACHE_KIB
        )) {
            tracing::warn!(error = %e, "could not restore the cache size of a pooled connection");
        }
        // Copy what the larger autocheckpoint left in the WAL now, so the next interactive
        // commit does not pay for it. PASSIVE: never waits on readers.
        if let Err(e) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        {
            tracing::warn!(error = %e, "could not checkpoint after a bulk import");
        }
    }
}

/// Feeds serde's output straight into the hasher, without building the JSON in memory.
struct HashWriter<'a>(&'a mut Xxh3);

impl io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A length-prefixed, tagged encoding of the fields that make up a conversation, so that
/// distinct values never encode to the same byte stream.
struct Canonical(Xxh3);

impl Canonical {
    fn tag(&mut self, t: u8) {
        self.0.update(&[t]);
    }
    fn str(&mut self, s: &str) {
        self.0.update(&(s.len() as u64).to_le_bytes());
        self.0.update(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.tag(0),
            Some(s) => {
                self.tag(1);
                self.str(s);
            }
        }
    }
    fn opt_time(&mut self, t: Option<chat_model::Timestamp>) {
        match t {
            None => self.tag(0),
            Some(t) => {
                self.tag(1);
                self.0.update(&t.unix_timestamp_nanos().to_le_bytes());
                self.0.update(&t.offset().whole_seconds().to_le_bytes());
            }
        }
    }
    /// Rarely non-empty values (parts, attachments, raw provider fields) go through serde's
    /// JSON, framed by a start tag and an end tag that JSON text cannot contain.
    fn json<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> Result<()> {
        self.tag(2);
        serde_json::to_writer(HashWriter(&mut self.0), v)
            .map_err(|e| Error::InvalidInput(format!("conversation cannot be serialised: {e}")))?;
        self.tag(0xff);
        Ok(())
    }
}

/// xxh3-128 of a canonical encoding of everything the parser produced (every field of the
/// conversation and of each message; the exhaustive destructuring below makes a new field a
/// compile error here until it is hashed). Equal values hash equally.
pub fn content_hash(c: &ParsedConversation) -> Result<[u8; 16]> {
    let ParsedConversation {
        source,
        source_id,
        title,
        created_at,
        updated_at,
        messages,
        active_leaf,
        attachments,
        archived,
        model,
        summary,
        extra,
        // Only used when a conversation is first filed, never compared.
        subfolder: _,
    } = c;
    let mut h = Canonical(Xxh3::new());
    h.tag(HASH_FORMAT);
    h.str(source.as_str());
    h.str(source_id);
    h.str(title);
    h.opt_time(*created_at);
    h.opt_time(*updated_at);
    h.opt_str(active_leaf.as_deref());
    h.tag(u8::from(*archived));
    h.opt_str(model.as_deref());
    h.opt_str(summary.as_deref());
    if !attachments.is_empty() {
        h.json(attachments)?;
    }
    if !extra.is_null() {
        h.json(extra)?;
    }
    h.0.update(&(messages.len() as u64).to_le_bytes());
    for m in messages {
        let ParsedMessage {
            source_id,
            parent,
            role,
            content,
            parts,
            model,
            created_at,
            hidden,
            interrupted,
        } = m;
        h.str(source_id);
        h.opt_str(parent.as_deref());
        h.str(role.as_str());
        h.str(content);
        if !parts.is_empty() {
            h.json(parts)?;
        }
        h.opt_str(model.as_deref());
        h.opt_time(*created_at);
        h.tag(u8::from(*hidden) | (u8::from(*interrupted) << 1) | 0x10);
    }
    Ok(h.0.digest128().to_be_bytes())
}

/// A hash of source, conversation and message provider ids (32 hex digits): the part of an
/// imported message's id that identifies the message; see [`derive_turn_id`] for the whole id.
pub fn derive_message_id(source: &str, convo_source_id: &str, message_source_id: &str) -> String {
    let mut buf =
        Vec::with_capacity(source.len() + convo_source_id.len() + message_source_id.len() + 2);
    buf.extend_from_slice(source.as_bytes());
    buf.push(0);
    buf.extend_from_slice(convo_source_id.as_bytes());
    buf.push(0);
    buf.extend_from_slice(message_source_id.as_bytes());
    format!("{:032x}", xxh3_128(&buf))
}

/// Our id for an imported message of the conversation `conversation_id`: the first 12 hex
/// digits of the conversation id followed by [`derive_message_id`]. Deterministic, so writing
/// the same message again finds the same row instead of duplicating it; and because our
/// conversation ids are UUIDv7 (their first 12 hex digits are the creation time in ms), the
/// messages of an import get ids in ascending order and the `id` index grows at its end
/// instead of taking random inserts all over a large B-tree.
pub fn derive_turn_id(
    conversation_id: &ConversationId,
    source: &str,
    convo_source_id: &str,
    message_source_id: &str,
) -> String {
    turn_id(
        &turn_id_prefix(conversation_id),
        &derive_message_id(source, convo_source_id, message_source_id),
    )
}

/// The first 12 hex digits of a conversation id, lowercased: how its messages' ids start.
fn turn_id_prefix(conversation_id: &ConversationId) -> String {
    conversation_id
        .as_str()
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(12)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn turn_id(prefix: &str, message_id: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + message_id.len());
    id.push_str(prefix);
    id.push_str(message_id);
    id
}

/// Raw attachments and unmodelled provider fields, kept as JSON on the conversation row.
fn extra_json(c: &ParsedConversation) -> Result<Option<String>> {
    let empty_extra = c.extra.is_null() || c.extra.as_object().is_some_and(|o| o.is_empty());
    if c.attachments.is_empty() && empty_extra {
        return Ok(None);
    }
    serde_json::to_string(&serde_json::json!({
        "attachments": c.attachments,
        "extra": c.extra,
    }))
    .map(Some)
    .map_err(|e| Error::InvalidInput(format!("conversation extras cannot be serialised: {e}")))
}

/// A message as stored, for comparison on re-import.
struct Stored {
    content: String,
    parts: Option<String>,
    model: Option<String>,
    created_at: Option<i64>,
    hidden: bool,
    status: String,
}

/// Remembers the row just inserted for the CJK index when it is visible and holds CJK text,
/// with the CJK runs of its text ([`Prepared`]): only those go to the trigram index
/// (trigram-indexing a long English answer because it quotes one Japanese word cost 30% of an
/// import's time; the Latin words are in `turns_fts` already).
fn note_cjk(
    tx: &Transaction<'_>,
    runs: Option<&String>,
    inserted: usize,
    cjk: &mut Vec<(i64, String)>,
) {
    if let (1, Some(runs)) = (inserted, runs) {
        cjk.push((tx.last_insert_rowid(), runs.clone()));
    }
}

fn status_of(m: &ParsedMessage) -> &'static str {
    if m.interrupted {
        "interrupted"
    } else {
        "complete"
    }
}

const INSERT_TURN: &str = "INSERT INTO convo_turns (id, convo_id, parent_id, role, content, parts,
        model, created_at, hidden, source_id, status)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
     ON CONFLICT (id) DO NOTHING";

impl BulkWriter {
    pub(crate) fn new(
        conn: PooledConnection<SqliteConnectionManager>,
        checkpoint_conn: Option<rusqlite::Connection>,
    ) -> Result<Self> {
        // A page cache sized for appends (see BULK_CACHE_KIB), and a larger autocheckpoint
        // that copies pages changed by several batches back once; both restored on drop.
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{BULK_CACHE_KIB};
             PRAGMA wal_autocheckpoint = {BULK_AUTOCHECKPOINT_PAGES};"
        ))
        .ctx("sizing the bulk writer's cache")?;
        let checkpointer = checkpoint_conn.and_then(Checkpointer::start);
        Ok(BulkWriter { conn, checkpointer })
    }

    /// Writes many conversations in ONE transaction with cached prepared statements; all or
    /// nothing. Each conversation is keyed on `(source, source_id)`:
    /// * new: inserted with its messages (folder from the item, archived if the provider says
    ///   so);
    /// * same content hash as stored: skipped without a single write;
    /// * changed: new messages added, changed ones updated in place (message ids derive from
    ///   provider ids, so nothing is duplicated), the current leaf moved to the provider's
    ///   active leaf, `updated_at` advanced. The title is replaced only if the user never
    ///   renamed it; folder, tags, archive state and ratings are the user's and stay.
    pub fn write_batch(&mut self, items: &[BulkItem<'_>]) -> Result<Vec<WriteOutcome>> {
        self.run_batch(items, true, None)
    }

    /// [`BulkWriter::write_batch`] with the batch's texts (messages and titles) tokenized
    /// ahead by a [`crate::Pretokenizer`], typically on the importer's parse thread: the full-
    /// text indexes then take those tokens instead of tokenizing on this thread. Texts missing
    /// from `tokens` are tokenized as usual; the index is the same either way.
    pub fn write_batch_tokenized(
        &mut self,
        items: &[BulkItem<'_>],
        tokens: &crate::TokenSet,
    ) -> Result<Vec<WriteOutcome>> {
        self.run_batch(items, true, Some(tokens))
    }

    /// What [`BulkWriter::write_batch`] would do, without writing anything: the same code runs
    /// in a transaction that is rolled back, so dry runs report exactly the figures of a real
    /// run.
    pub fn preview_batch(&mut self, items: &[BulkItem<'_>]) -> Result<Vec<WriteOutcome>> {
        self.run_batch(items, false, None)
    }

    fn run_batch(
        &mut self,
        items: &[BulkItem<'_>],
        commit: bool,
        tokens: Option<&crate::TokenSet>,
    ) -> Result<Vec<WriteOutcome>> {
        crate::pretoken::with_tokens(tokens, || self.run_batch_inner(items, commit))
    }

    fn run_batch_inner(
        &mut self,
        items: &[BulkItem<'_>],
        commit: bool,
    ) -> Result<Vec<WriteOutcome>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting a bulk write")?;
        // What the caller did not prepare (or prepared from another conversation) is derived
        // here, once per item, for both phases.
        let prepared: Vec<Cow<'_, Prepared>> = items
            .iter()
            .map(|item| match item.prepared {
                Some(p) if p.fits(item.conversation) => Ok(Cow::Borrowed(p)),
                _ => Prepared::new(item.conversation).map(Cow::Owned),
            })
            .collect::<Result<_>>()?;
        let mut deferred = Deferred::default();
        let mut out: Vec<Option<WriteOutcome>> = vec![None; items.len()];
        // Phase 1, with the connection's triggers off: new conversations are inserted and
        // unchanged ones recognised. Inserts need no trigger (the deferred index statements
        // cover them), and without one in its program an INSERT also needs no statement
        // journal: together a twentieth of an import's time. Conversations that changed, and
        // a conversation's second appearance in the batch, wait for phase 2.
        let mut later = Vec::new();
        {
            let _off = TriggersOff::new(&tx)?;
            let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if !seen.insert(item.key()) {
                    later.push(i);
                    continue;
                }
                match write_one(&tx, item, &prepared[i], &mut deferred, Phase::NewOnly)? {
                    Some(outcome) => out[i] = Some(outcome),
                    None => later.push(i),
                }
            }
        }
        // Phase 2, triggers on: updates in place, which the update triggers keep indexed.
        if !later.is_empty() {
            // Index what phase 1 inserted first, so an update never has to un-index a row
            // that is not indexed yet.
            deferred.flush(&tx)?;
            let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(later.len());
            for i in later {
                if !seen.insert(items[i].key()) {
                    // The same conversation twice: likewise.
                    deferred.flush(&tx)?;
                }
                out[i] = write_one(&tx, &items[i], &prepared[i], &mut deferred, Phase::Any)?;
            }
        }
        deferred.flush(&tx)?;
        let out = out
            .into_iter()
            .map(|o| o.ok_or_else(|| Error::Corrupt("a bulk item was not written".into())))
            .collect::<Result<Vec<_>>>()?;
        if commit {
            tx.commit().ctx("committing a bulk write")?;
            if let Some(c) = &self.checkpointer {
                c.nudge();
            }
        } else {
            tx.rollback().ctx("rolling back a previewed bulk write")?;
        }
        Ok(out)
    }
}

/// Which conversations [`write_one`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// New ones only (and recognising unchanged ones); `None` for one that changed.
    NewOnly,
    /// Any.
    Any,
}

/// Turns the connection's triggers off until dropped (`SQLITE_DBCONFIG_ENABLE_TRIGGER`; it
/// recompiles the connection's statements when it changes).
struct TriggersOff<'a>(&'a rusqlite::Connection);

impl<'a> TriggersOff<'a> {
    fn new(conn: &'a rusqlite::Connection) -> Result<Self> {
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)
            .ctx("turning triggers off for a bulk insert")?;
        Ok(TriggersOff(conn))
    }
}

impl Drop for TriggersOff<'_> {
    fn drop(&mut self) {
        if let Err(e) = self
            .0
            .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, true)
        {
            // Cannot happen for a valid option; the writer's connection is not returned to
            // the pool with triggers off either way (see `BulkWriter`'s drop).
            tracing::error!(error = %e, "could not turn triggers back on");
        }
    }
}

/// Rows inserted while the insert triggers stand aside, to be indexed in one statement per
/// index. Nothing is written until the first conversation that needs writing, so a batch of
/// unchanged conversations leaves the file untouched.
#[derive(Default)]
struct Deferred {
    /// Whether `defer_fts` is set in this transaction.
    armed: bool,
    /// Highest `convo_turns.seq` already indexed.
    turns_from: i64,
    /// Highest `convos.seq` already indexed.
    convos_from: i64,
    /// `seq` and CJK runs of inserted visible messages that hold CJK text.
    cjk: Vec<(i64, String)>,
}

impl Deferred {
    /// Called before any write: turns the insert triggers off and remembers where new rows
    /// start (INTEGER PRIMARY KEY takes max + 1, and we hold the write lock).
    fn arm(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if self.armed {
            return Ok(());
        }
        (self.turns_from, self.convos_from) = tx
            .prepare_cached(
                "SELECT (SELECT coalesce(max(seq), 0) FROM convo_turns),
                        (SELECT coalesce(max(seq), 0) FROM convos)",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("reading the bulk start position")?;
        tx.prepare_cached("UPDATE store_flags SET defer_fts = 1 WHERE id = 1")?
            .execute([])
            .ctx("deferring search indexing")?;
        self.armed = true;
        Ok(())
    }

    /// Indexes every row inserted since [`Deferred::arm`] and turns the triggers back on.
    fn flush(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if !self.armed {
            return Ok(());
        }
        tx.prepare_cached(
            "INSERT INTO turns_fts (rowid, content)
             SELECT seq, content FROM convo_turns WHERE seq > ?1 AND hidden = 0",
        )?
        .execute([self.turns_from])
        .ctx("indexing imported messages")?;
        tx.prepare_cached(
            "INSERT INTO turns_hidden_fts (rowid, content)
             SELECT seq, content FROM convo_turns WHERE seq > ?1 AND hidden = 1",
        )?
        .execute([self.turns_from])
        .ctx("indexing imported hidden messages")?;
        if !self.cjk.is_empty() {
            let list = serde_json::to_string(&self.cjk)
                .map_err(|e| Error::InvalidInput(format!("cannot list CJK rows: {e}")))?;
            tx.prepare_cached(
                "INSERT INTO turns_cjk_fts (rowid, content)
                 SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]')
                 FROM json_each(?1)",
            )?
            .execute([list])
            .ctx("indexing imported CJK messages")?;
            self.cjk.clear();
        }
        tx.prepare_cached(
            "INSERT INTO convos_fts (rowid, title) SELECT seq, title FROM convos WHERE seq > ?1",
        )?
        .execute([self.convos_from])
        .ctx("indexing imported titles")?;
        tx.prepare_cached("UPDATE store_flags SET defer_fts = 0 WHERE id = 1")?
            .execute([])
            .ctx("re-enabling search indexing")?;
        self.armed = false;
        Ok(())
    }
}

/// When the conversation was created and last changed, from what the provider gave.
fn times(c: &ParsedConversation) -> (i64, i64) {
    let first = c.messages.iter().filter_map(|m| m.created_at).min();
    let last = c.messages.iter().filter_map(|m| m.created_at).max();
    let created = c
        .created_at
        .or(first)
        .map_or_else(|| to_millis(now()), to_millis);
    let updated = c
        .updated_at
        .or(last)
        .map_or(created, to_millis)
        .max(created);
    (created, updated)
}

/// Writes `item`, with `prepared` derived from its conversation.
fn write_one(
    tx: &Transaction<'_>,
    item: &BulkItem<'_>,
    prepared: &Prepared,
    deferred: &mut Deferred,
    phase: Phase,
) -> Result<Option<WriteOutcome>> {
    let c = item.conversation;
    let source = c.source.as_str();
    let hash = prepared.hash;
    let existing = tx
        .prepare_cached(
            "SELECT id, content_hash, updated_at FROM convos WHERE source = ?1 AND source_id = ?2",
        )?
        .query_row([source, c.source_id.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<Vec<u8>>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()
        .ctx("looking up an imported conversation")?;
    let (conversation_id, stored_updated) = match existing {
        Some((id, stored_hash, stored_updated)) => {
            let conversation_id = ConversationId::from_string(id);
            if stored_hash.as_deref() == Some(&hash[..]) {
                return Ok(Some(WriteOutcome {
                    conversation_id,
                    status: WriteStatus::Unchanged,
                    messages_written: 0,
                }));
            }
            if phase == Phase::NewOnly {
                return Ok(None);
            }
            (conversation_id, Some(stored_updated))
        }
        None => (ConversationId::generate(), None),
    };
    let (created_at, updated_at) = times(c);
    let prefix = turn_id_prefix(&conversation_id);
    let ids: Vec<String> = prepared
        .message_ids
        .iter()
        .map(|m| turn_id(&prefix, m))
        .collect();
    let by_source: HashMap<&str, usize> = c
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.source_id.as_str(), i))
        .collect();
    let leaf = c
        .active_leaf
        .as_deref()
        .and_then(|l| by_source.get(l).copied())
        .or_else(|| ids.len().checked_sub(1))
        .and_then(|i| ids.get(i));

    let Some(stored_updated) = stored_updated else {
        deferred.arm(tx)?;
        let id = conversation_id;
        let folder = item
            .folder
            .cloned()
            .unwrap_or_else(|| c.source.default_folder());
        tx.prepare_cached(
            "INSERT INTO convos (id, source, source_id, title, folder, model, created_at,
                updated_at, archived_at, summary, current_turn_id, content_hash, extra)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            id.as_str(),
            source,
            c.source_id,
            c.title,
            folder.as_str(),
            c.model,
            created_at,
            updated_at,
            c.archived.then_some(updated_at),
            c.summary,
            leaf,
            &hash[..],
            prepared.extra,
        ])
        .ctx("inserting an imported conversation")?;
        let mut insert = tx.prepare_cached(INSERT_TURN)?;
        let mut written = 0u64;
        for (i, (m, mid)) in c.messages.iter().zip(&ids).enumerate() {
            let parent = m
                .parent
                .as_deref()
                .and_then(|p| by_source.get(p))
                .and_then(|&i| ids.get(i));
            let n = insert
                .execute(params![
                    mid,
                    id.as_str(),
                    parent,
                    m.role.as_str(),
                    m.content,
                    prepared.parts.get(i).and_then(Option::as_deref),
                    m.model,
                    m.created_at.map(to_millis),
                    m.hidden,
                    m.source_id,
                    status_of(m),
                ])
                .ctx("inserting an imported message")?;
            note_cjk(
                tx,
                prepared.cjk.get(i).and_then(Option::as_ref),
                n,
                &mut deferred.cjk,
            );
            written += n as u64;
        }
        return Ok(Some(WriteOutcome {
            conversation_id: id,
            status: WriteStatus::Inserted,
            messages_written: written,
        }));
    };

    deferred.arm(tx)?;
    let cid = conversation_id.as_str();
    let mut stored: HashMap<String, Stored> = HashMap::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT id, content, parts, model, created_at, hidden, status
             FROM convo_turns WHERE convo_id = ?1",
        )?;
        let mut rows = stmt.query([cid])?;
        while let Some(r) = rows.next()? {
            stored.insert(
                r.get(0)?,
                Stored {
                    content: r.get(1)?,
                    parts: r.get(2)?,
                    model: r.get(3)?,
                    created_at: r.get(4)?,
                    hidden: r.get(5)?,
                    status: r.get(6)?,
                },
            );
        }
    }
    let known: HashSet<&str> = stored.keys().map(String::as_str).collect();
    let mut written = 0u64;
    let mut insert = tx.prepare_cached(INSERT_TURN)?;
    let mut update = tx.prepare_cached(
        "UPDATE convo_turns SET content = ?2, parts = ?3, model = ?4, created_at = ?5,
            hidden = ?6, status = ?7 WHERE id = ?1",
    )?;
    for (i, (m, mid)) in c.messages.iter().zip(&ids).enumerate() {
        let parts = prepared.parts.get(i).and_then(Option::as_deref);
        let created = m.created_at.map(to_millis);
        match stored.get(mid.as_str()) {
            Some(s) => {
                let same = s.content == m.content
                    && s.parts.as_deref() == parts
                    && s.model == m.model
                    && s.created_at == created
                    && s.hidden == m.hidden
                    && s.status == status_of(m);
                if !same {
                    written += update
                        .execute(params![
                            mid,
                            m.content,
                            parts,
                            m.model,
                            created,
                            m.hidden,
                            status_of(m)
                        ])
                        .ctx("updating an imported message")? as u64;
                }
            }
            None => {
                let parent = m.parent.as_deref().and_then(|p| {
                    let pid = turn_id(&prefix, &derive_message_id(source, &c.source_id, p));
                    (by_source.contains_key(p) || known.contains(pid.as_str())).then_some(pid)
                });
                let n = insert
                    .execute(params![
                        mid,
                        cid,
                        parent,
                        m.role.as_str(),
                        m.content,
                        parts,
                        m.model,
                        created,
                        m.hidden,
                        m.source_id,
                        status_of(m),
                    ])
                    .ctx("inserting an imported message")?;
                note_cjk(
                    tx,
                    prepared.cjk.get(i).and_then(Option::as_ref),
                    n,
                    &mut deferred.cjk,
                );
                written += n as u64;
            }
        }
    }
    tx.prepare_cached(
        "UPDATE convos SET
            title = CASE WHEN title_edited = 1 THEN title ELSE ?2 END,
            model = ?3, summary = coalesce(?4, summary), updated_at = ?5,
            current_turn_id = coalesce(?6, current_turn_id), content_hash = ?7, extra = ?8
         WHERE id = ?1",
    )?
    .execute(params![
        cid,
        c.title,
        c.model,
        c.summary,
        updated_at.max(stored_updated),
        leaf,
        &hash[..],
        prepared.extra,
    ])
    .ctx("updating an imported conversation")?;
    Ok(Some(WriteOutcome {
        conversation_id,
        status: WriteStatus::Updated,
        messages_written: written,
    }))
}
