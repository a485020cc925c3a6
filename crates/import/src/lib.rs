//! The import pipeline: from the paths a user names to conversations in the store, with every
//! failure isolated, explained and kept for a retry.
//!
//! ```text
//!  paths ──plan──> units (files, zip entries, in layout order)
//!                    │  parse thread: open → detect by structure → Parser::parse → ChannelSink
//!                    ▼
//!            bounded channel (backpressure: memory stays bounded)
//!                    │  writer (calling thread): batches → BulkWriter (one transaction each),
//!                    ▼  item errors → quarantine table with their raw bytes
//!                  store ──> ImportReport (+ an import_runs row)
//! ```
//!
//! * **Bounded memory.** Parsers stream; the parse thread gathers conversations into batches
//!   (one transaction each) of at most [`ImportOptions::batch_messages`] messages and
//!   [`ImportOptions::batch_bytes`] bytes of text, and at most [`CHANNEL_CAPACITY`] batches
//!   wait for the writer: the parser fills the next batch while the writer commits the last.
//!   While the writer is busy, the parse thread also tokenizes the batch's texts for the search
//!   index and derives what the writer stores (`chat_store::Pretokenizer`,
//!   `chat_store::Prepared`), so the two threads share the work.
//! * **Safe to re-run.** The store's bulk writer is keyed on `(source, source_id)` with a
//!   content hash: an identical conversation is recognised and skipped, a grown one gains just
//!   its new messages, and what the user changed locally survives. Every batch is one
//!   transaction, so a run killed at any moment leaves a consistent database and the next run
//!   completes it without duplicates.
//! * **Failure isolation.** One bad conversation becomes one [`ErrorEntry`] (what, where,
//!   what to do) and a quarantine row with its raw bytes; the others import. A file that cannot
//!   be read at all is one failed input; the other inputs still import.
//! * **Detection by structure.** Each parser judges the first bytes ([`chat_parse::Probe`]);
//!   file names never decide alone. `--source` forces a parser, and a forced parser that does
//!   not fit is refused with the source the file looks like.

pub mod copy;
pub mod diagnose;
// Public until the input-planning work under way settles: `Origin::inner_path`,
// `Origin::file_name` and `Opener::limits` have no caller inside this crate yet.
pub mod source;

mod detect;
mod layouts;
mod media;
mod pipeline;
mod plan;
mod report;
mod run_context;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use chat_model::{FolderPath, Source};
use chat_parse::Parser;
use chat_store::Store;

pub use report::{Counts, ErrorEntry, ImportReport, InputReport, MediaCounts, Outcome};
pub use source::Limits;

/// How many batches (and other events) may wait between the parse thread and the writer. Two
/// keep both threads busy when the writer only writes; but a batch whose media are not yet
/// durable waits for them (see `chat_store::MediaBatch`), and with two slots the parser
/// then stopped too: the 2 GB media benchmark took 10.7–12.3 s with 2 and 10.1–10.2 s with
/// 8 (peak RSS 51 → 61 MiB: a batch holds at most `batch_bytes` of text).
pub const CHANNEL_CAPACITY: usize = 8;

/// What can end a whole run (anything smaller is reported per input or per item).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The store failed (disk full, database locked beyond the timeout, corrupt file).
    #[error("the database could not be written: {0}")]
    Store(#[from] chat_store::Error),
    /// The parse thread died unexpectedly.
    #[error("the import stopped unexpectedly: {0}")]
    Internal(String),
}

/// A snapshot of a run's progress.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Bytes read from inputs so far.
    pub bytes_read: u64,
    /// Total bytes of the inputs, when known.
    pub bytes_total: u64,
    /// Conversations read so far.
    pub conversations: u64,
    /// Messages newly written so far.
    pub messages: u64,
    /// The input being read.
    pub current: String,
}

/// Called now and then with the run's progress (from the pipeline's threads).
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A conversation a run has read and written (or, in a dry run, would write), as
/// [`ImportOptions::observe`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// Its source.
    pub source: Source,
    /// The provider's id (for an AI OS Chat export document, our own id).
    pub id: &'a str,
    /// Its title, as read.
    pub title: &'a str,
    /// How many messages it holds.
    pub messages: usize,
    /// When it was created, when the export says.
    pub created_at: Option<chat_model::Timestamp>,
    /// New, changed or identical to what is stored.
    pub status: chat_store::WriteStatus,
}

/// Called with each conversation a run writes (or would write), in input order, from the
/// writer's thread.
pub type ObserveFn = Arc<dyn Fn(&Observed<'_>) + Send + Sync>;

/// Options of a run.
#[derive(Clone)]
pub struct ImportOptions {
    /// Force a source instead of detecting it.
    pub source: Option<Source>,
    /// The folder new conversations land in (default: `imported/<source>`).
    pub folder: Option<FolderPath>,
    /// File conversations in the subfolder their export gives them (a Claude project, a VS
    /// Code workspace) below `folder` (default); `false` files them all in `folder` itself.
    pub subfolders: bool,
    /// Parse and report without writing anything.
    pub dry_run: bool,
    /// Archive limits.
    pub limits: Limits,
    /// Most conversations per transaction.
    pub batch_conversations: usize,
    /// Most messages per transaction.
    pub batch_messages: usize,
    /// Most bytes of message text per transaction (a batch is written when any limit is
    /// reached). Bounds the search index's pending memory, whatever the messages' sizes.
    pub batch_bytes: usize,
    /// Set to stop the run; what was read so far is written.
    pub cancel: Arc<AtomicBool>,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
    /// Called with each conversation written (or, in a dry run, that would be written): a
    /// preview lists what an export holds this way without writing anything.
    pub observe: Option<ObserveFn>,
    /// Use this id for the `import_runs` row (the API hands out the id before the run starts).
    pub run_id: Option<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            source: None,
            folder: None,
            subfolders: true,
            dry_run: false,
            limits: Limits::default(),
            batch_conversations: 500,
            batch_messages: 20_000,
            // Small enough that the parser and the writer overlap from the first batch (8 MiB
            // made them take turns on a 100 MB export), large enough that commits stay cheap.
            batch_bytes: 2 * 1024 * 1024,
            cancel: Arc::new(AtomicBool::new(false)),
            progress: None,
            observe: None,
            run_id: None,
        }
    }
}

impl std::fmt::Debug for ImportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("source", &self.source)
            .field("folder", &self.folder)
            .field("subfolders", &self.subfolders)
            .field("dry_run", &self.dry_run)
            .field("limits", &self.limits)
            .field("batch_conversations", &self.batch_conversations)
            .field("batch_messages", &self.batch_messages)
            .field("batch_bytes", &self.batch_bytes)
            .field("cancelled", &self.cancel.load(Ordering::Relaxed))
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

/// Every parser this build knows, in detection order.
pub fn parsers() -> Vec<Box<dyn Parser>> {
    vec![
        Box::new(chat_parse_chatgpt::ChatGptParser),
        Box::new(chat_parse_claude::ClaudeParser),
        Box::new(chat_parse_gemini::TakeoutParser),
        Box::new(chat_parse_gemini::AiStudioParser),
        Box::new(chat_parse_copilot::CopilotParser),
    ]
}

/// Runs imports into a store. Used by the `chat-import` CLI and by the server alike.
pub struct Importer {
    store: Store,
    parsers: Arc<Vec<Box<dyn Parser>>>,
}

impl std::fmt::Debug for Importer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Importer")
            .field(
                "parsers",
                &self.parsers.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Importer {
    /// An importer into `store` with every known parser.
    pub fn new(store: Store) -> Self {
        Importer {
            store,
            parsers: Arc::new(parsers()),
        }
    }

    /// Imports `paths` (files, folders, zip archives). Failures of single items or inputs are
    /// in the report; `Err` means the store itself failed.
    pub fn run(
        &self,
        paths: &[PathBuf],
        options: &ImportOptions,
    ) -> Result<ImportReport, ImportError> {
        pipeline::run(&self.store, Arc::clone(&self.parsers), paths, options)
    }
}

/// Shared counters behind [`Progress`].
#[derive(Debug, Default)]
pub(crate) struct ProgressState {
    pub bytes_read: AtomicU64,
    pub bytes_total: AtomicU64,
    pub conversations: AtomicU64,
    pub messages: AtomicU64,
    pub current: std::sync::Mutex<String>,
}

impl ProgressState {
    pub(crate) fn snapshot(&self) -> Progress {
        Progress {
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
            bytes_total: self.bytes_total.load(Ordering::Relaxed),
            conversations: self.conversations.load(Ordering::Relaxed),
            messages: self.messages.load(Ordering::Relaxed),
            current: self.current.lock().map(|c| c.clone()).unwrap_or_default(),
        }
    }
}
