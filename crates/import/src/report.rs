//! The import report: the CLI's `--json` shape, also served by the API.

use chat_model::Source;
use serde::{Deserialize, Serialize};

pub use crate::media::MediaCounts;

/// Counts for a whole run or one input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Conversations read from the input (imported, updated, unchanged or failed).
    pub seen: u64,
    /// Conversations new to the store.
    pub imported: u64,
    /// Conversations already present that gained messages or changed.
    pub updated: u64,
    /// Conversations already present and identical.
    pub unchanged: u64,
    /// Entries that are not conversations (ChatGPT project rows, Takeout records of other verbs).
    pub skipped: u64,
    /// Items (or whole inputs) that could not be read.
    pub failed: u64,
    /// Messages newly written.
    pub messages: u64,
    /// The media the conversations refer to: stored, already stored, missing from the export.
    #[serde(default)]
    pub media: MediaCounts,
}

impl Counts {
    /// Adds another set of counts to this one.
    pub fn add(&mut self, other: &Counts) {
        self.seen += other.seen;
        self.imported += other.imported;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.messages += other.messages;
        self.media.add(&other.media);
    }

    /// Counts one conversation the store wrote (or recognised), with the messages written.
    pub(crate) fn add_write(&mut self, status: chat_store::WriteStatus, messages: u64) {
        self.seen += 1;
        match status {
            chat_store::WriteStatus::Inserted => self.imported += 1,
            chat_store::WriteStatus::Updated => self.updated += 1,
            chat_store::WriteStatus::Unchanged => self.unchanged += 1,
        }
        self.messages += messages;
    }

    /// Conversations read successfully (imported, updated or unchanged).
    pub fn ok(&self) -> u64 {
        self.imported + self.updated + self.unchanged
    }
}

/// One failure, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEntry {
    /// Which item: `item #3 "Title" (id abc)`, or `file` for the input as a whole.
    pub item: String,
    /// What happened, including where (byte offset, JSON path).
    pub error: String,
    /// What to do about it.
    pub hint: String,
    /// Id of the quarantined raw bytes, when they were kept for a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine_id: Option<i64>,
}

/// What happened to one input: a file, or one entry of an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputReport {
    /// The path, or `archive.zip!entry`.
    pub path: String,
    /// The source it was read as; `None` when it could not be recognised.
    pub source: Option<Source>,
    /// The counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// Every failure, explained.
    pub errors: Vec<ErrorEntry>,
}

impl InputReport {
    /// An empty report for an input.
    pub fn new(path: impl Into<String>) -> Self {
        InputReport {
            path: path.into(),
            source: None,
            counts: Counts::default(),
            errors: Vec::new(),
        }
    }

    /// Records a failure of the input as a whole (or of one item).
    pub fn fail(
        &mut self,
        item: impl Into<String>,
        error: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.counts.failed += 1;
        self.errors.push(ErrorEntry {
            item: item.into(),
            error: error.into(),
            hint: hint.into(),
            quarantine_id: None,
        });
    }
}

/// The result of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The sum over all inputs.
    pub totals: Counts,
    /// One entry per input read (files, archive entries) or refused.
    pub inputs: Vec<InputReport>,
    /// Files in folders and archives that are not chat exports and were passed over.
    #[serde(default)]
    pub ignored: Vec<String>,
    /// The run's id in the store (`None` for dry runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Whether the run was cancelled before the end.
    #[serde(default)]
    pub cancelled: bool,
    /// Whether this was a dry run (nothing written).
    #[serde(default)]
    pub dry_run: bool,
}

/// How a run ended, as a process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything imported or was unchanged (skipped entries allowed). Exit 0.
    Success,
    /// Some items failed but others were read. Exit 1.
    Partial,
    /// Nothing could be read. Exit 2.
    Nothing,
}

impl Outcome {
    /// The exit status for this outcome.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Partial => 1,
            Outcome::Nothing => 2,
        }
    }
}

impl ImportReport {
    /// Recomputes the totals from the inputs.
    pub fn recount(&mut self) {
        let mut totals = Counts::default();
        for input in &self.inputs {
            totals.add(&input.counts);
        }
        self.totals = totals;
    }

    /// Every error of every input, with the input's path.
    pub fn errors(&self) -> impl Iterator<Item = (&str, &ErrorEntry)> {
        self.inputs
            .iter()
            .flat_map(|i| i.errors.iter().map(move |e| (i.path.as_str(), e)))
    }

    /// How the run ended: success when nothing failed and there was something to read; partial
    /// when something failed but at least one conversation (or skipped entry) was read; nothing
    /// otherwise.
    pub fn outcome(&self) -> Outcome {
        if self.totals.failed == 0 && !self.inputs.is_empty() {
            Outcome::Success
        } else if self.totals.ok() > 0 || self.totals.skipped > 0 {
            Outcome::Partial
        } else {
            Outcome::Nothing
        }
    }
}
