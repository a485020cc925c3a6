//! What the API shows of an import job: its view (`GET /imports/{id}`), the summary of a
//! finished run, and what a retry changed. Paths in reports are made relative to the upload
//! folder, so no server path reaches a client.

use chat_model::timestamp::rfc3339;
use chat_model::{Source, Timestamp};
use chat_store::ImportRunRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::ProgressView;

/// A job's state as served by `GET /imports/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportJobView {
    /// The job's id (also the store's import run id).
    pub id: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// When the upload was accepted (or the run started, for runs known only to the store).
    #[serde(with = "rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When the import started.
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    /// When it ended.
    #[serde(with = "rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
    /// The forced source, when one was given.
    #[schema(value_type = Option<String>)]
    pub source: Option<Source>,
    /// The uploaded files, relative to the upload.
    pub files: Vec<String>,
    /// Counters.
    pub progress: ProgressView,
    /// `success`, `partial` or `nothing` once the import has run.
    pub outcome: Option<String>,
    /// The import report (the `chat-import --json` shape) once the import has run.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    /// Why the job failed, in a sentence (details are in the report's errors).
    pub error: Option<String>,
    /// Set when this job retries an earlier one: what that one did, and what changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<RetryView>,
}

/// What a retried import did, and what the retry changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RetryView {
    /// The earlier job's id.
    pub id: String,
    /// How the earlier job ended.
    pub previous: RunSummary,
    /// What changed, in a sentence, once the retry has run.
    pub changes: Option<String>,
}

/// A finished import in a few numbers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunSummary {
    /// `done` or `failed`.
    pub status: String,
    /// `success`, `partial` or `nothing`.
    pub outcome: Option<String>,
    /// The forced source, if any (`null`: detected).
    #[schema(value_type = Option<String>)]
    pub source: Option<Source>,
    /// Conversations new to the store.
    pub imported: u64,
    /// Conversations that changed.
    pub updated: u64,
    /// Conversations already present and identical.
    pub unchanged: u64,
    /// Items or inputs that failed.
    pub failed: u64,
    /// The first error of the report, when there was one.
    pub first_error: Option<String>,
}

impl RunSummary {
    /// Summarises a finished job.
    pub(crate) fn of(view: &ImportJobView) -> Self {
        let totals = view.report.as_ref().and_then(|r| r.get("totals"));
        let count = |key: &str| {
            totals
                .and_then(|t| t.get(key))
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0)
        };
        let first_error = view
            .report
            .as_ref()
            .and_then(|r| serde_json::from_value::<chat_import::ImportReport>(r.clone()).ok())
            .and_then(|r| r.errors().next().map(|(_, e)| e.error.clone()))
            .or_else(|| view.error.clone());
        RunSummary {
            status: view.status.clone(),
            outcome: view.outcome.clone(),
            source: view.source,
            imported: count("imported"),
            updated: count("updated"),
            unchanged: count("unchanged"),
            failed: count("failed"),
            first_error,
        }
    }

    fn describe(&self) -> String {
        let how = match self.source {
            Some(s) => format!("read as {}", s.as_str()),
            None => "source detected".to_owned(),
        };
        format!(
            "{} ({how}): {} imported, {} updated, {} unchanged, {} failed",
            self.status, self.imported, self.updated, self.unchanged, self.failed
        )
    }
}

/// "before → now" for a retry.
pub(super) fn describe_changes(previous: &RunSummary, now: &RunSummary) -> String {
    let mut out = format!("before: {}; now: {}", previous.describe(), now.describe());
    match (&previous.first_error, &now.first_error) {
        (Some(before), None) => out.push_str(&format!("; the error {before:?} is gone")),
        (Some(before), Some(after)) if before != after => {
            out.push_str(&format!("; the error is now {after:?} (was {before:?})"));
        }
        (Some(_), Some(after)) => out.push_str(&format!("; the same error remains: {after:?}")),
        (None, Some(after)) => out.push_str(&format!("; a new error: {after:?}")),
        (None, None) => {}
    }
    out
}

/// Makes paths in report text relative to the upload folder.
pub(super) fn scrub(value: &mut serde_json::Value, dir: &str) {
    match value {
        serde_json::Value::String(s) if s.contains(dir) => {
            *s = s.replace(&format!("{dir}/"), "").replace(dir, "upload");
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, dir)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| scrub(v, dir)),
        _ => {}
    }
}

pub(super) fn progress_view(p: &chat_import::Progress, dir: &str) -> ProgressView {
    let mut current = serde_json::Value::String(p.current.clone());
    scrub(&mut current, dir);
    ProgressView {
        bytes_read: p.bytes_read,
        bytes_total: p.bytes_total,
        conversations: p.conversations,
        messages: p.messages,
        current: match current {
            serde_json::Value::String(s) => s,
            _ => String::new(),
        },
    }
}

/// The view of a run known only to the store (run by the CLI or an earlier server); `dir` is
/// where its upload folder was.
pub(super) fn record_view(r: ImportRunRecord, dir: &str) -> ImportJobView {
    let mut report = r.report;
    if let Some(report) = report.as_mut() {
        scrub(report, dir);
    }
    let status = match r.status.as_str() {
        "running" => "running",
        "done" | "succeeded" => "done",
        _ => "failed",
    };
    let mut files = serde_json::Value::clone(&r.inputs);
    scrub(&mut files, dir);
    ImportJobView {
        id: r.id,
        status: status.to_owned(),
        created_at: r.started_at,
        started_at: Some(r.started_at),
        finished_at: r.finished_at,
        source: None,
        files: match files {
            serde_json::Value::Array(items) => items
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        },
        progress: ProgressView::default(),
        outcome: None,
        report,
        error: r
            .error
            .map(|_| "the import failed; the server log has the details".to_owned()),
        retry_of: None,
    }
}
