//! Import jobs: uploads spooled to disk, run in the background by `chat-import`, with their
//! status kept in memory (and in the store's `import_runs` table, which the importer writes).
//!
//! * An upload (multipart files or a raw body) is streamed chunk by chunk into a private folder
//!   `<upload_dir>/chat-upload-<id>/`, counting bytes against the configured limit; it is never
//!   held in memory. Zip archives are recognised by their magic bytes, whatever they are called.
//! * The job runs on its own thread; jobs take turns (one import writes at a time, the others
//!   are `queued`), so an import never blocks the async executor nor another import.
//! * Progress goes to the job's record and, throttled, to the [`crate::Hub`] as
//!   `import.progress`. Paths in reports are made relative to the upload folder, so no server
//!   path reaches a client.
//! * The upload folder is removed when the job ends, except for the last few failed or partial
//!   jobs, whose inputs are kept so they can be retried.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_multipart::Multipart;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use chat_import::{ImportOptions, Importer, Outcome, Progress};
use chat_model::timestamp::rfc3339;
use chat_model::{FolderPath, Source, Timestamp};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};

use crate::dto::{Accepted, ProgressView};
use crate::error::{ApiError, ErrorBody};
use crate::hub::Event;
use crate::params;
use crate::state::ApiState;

/// Jobs remembered in memory (older finished ones are forgotten; the store keeps their row).
const MAX_JOBS: usize = 200;
/// Failed or partial jobs whose uploaded files are kept for a retry.
const KEEP_FAILED_UPLOADS: usize = 4;
/// Least time between two `import.progress` events of one job.
const EVENT_INTERVAL: Duration = Duration::from_millis(250);
/// Longest text form field of a multipart upload.
const MAX_FORM_FIELD: usize = 1024;
/// Most files in one multipart upload.
const MAX_FILES: usize = 10_000;

/// A job's state as served by `GET /imports/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetryView {
    /// The earlier job's id.
    pub id: String,
    /// How the earlier job ended.
    pub previous: RunSummary,
    /// What changed, in a sentence, once the retry has run.
    pub changes: Option<String>,
}

/// A finished import in a few numbers.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
fn describe_changes(previous: &RunSummary, now: &RunSummary) -> String {
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

/// An upload folder, removed when the last reference goes.
#[derive(Debug)]
pub(crate) struct UploadDir(pub(crate) PathBuf);

impl Drop for UploadDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %self.0.display(), error = %e, "could not remove an upload folder");
            }
        }
    }
}

#[derive(Debug)]
struct Job {
    view: ImportJobView,
    cancel: Arc<AtomicBool>,
    upload: Option<Arc<UploadDir>>,
    last_event: Option<Instant>,
}

#[derive(Debug, Default)]
struct Inner {
    jobs: HashMap<String, Job>,
    /// Ids, oldest first.
    order: VecDeque<String>,
}

/// The import jobs of one [`ApiState`].
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    inner: Mutex<Inner>,
    /// Held by the job that is importing; the others wait their turn.
    turn: Mutex<()>,
    handles: Mutex<Vec<JoinHandle<()>>>,
    shutting_down: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Jobs {
    fn insert(&self, job: Job) {
        let mut inner = lock(&self.inner);
        inner.order.push_back(job.view.id.clone());
        inner.jobs.insert(job.view.id.clone(), job);
        // Forget the oldest finished jobs beyond the limit.
        while inner.order.len() > MAX_JOBS {
            let finished = inner.order.iter().position(|id| {
                inner
                    .jobs
                    .get(id)
                    .is_some_and(|j| j.view.finished_at.is_some())
            });
            let Some(pos) = finished else { break };
            if let Some(id) = inner.order.remove(pos) {
                inner.jobs.remove(&id);
            }
        }
    }

    pub(crate) fn view(&self, id: &str) -> Option<ImportJobView> {
        lock(&self.inner).jobs.get(id).map(|j| j.view.clone())
    }

    /// The kept upload folder of a job and its files (relative), while it is kept.
    pub(crate) fn kept_upload(&self, id: &str) -> Option<(PathBuf, Vec<String>)> {
        let inner = lock(&self.inner);
        let job = inner.jobs.get(id)?;
        let dir = job.upload.as_ref()?;
        Some((dir.0.clone(), job.view.files.clone()))
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }

    fn views(&self) -> Vec<ImportJobView> {
        let inner = lock(&self.inner);
        inner
            .order
            .iter()
            .rev()
            .filter_map(|id| inner.jobs.get(id).map(|j| j.view.clone()))
            .collect()
    }

    /// Updates a job and returns its new view.
    fn update(&self, id: &str, f: impl FnOnce(&mut Job)) -> Option<ImportJobView> {
        let mut inner = lock(&self.inner);
        let job = inner.jobs.get_mut(id)?;
        f(job);
        Some(job.view.clone())
    }

    /// Drops the upload folders of finished jobs but the last few failed ones.
    fn prune_uploads(&self) {
        let mut inner = lock(&self.inner);
        let Inner { jobs, order } = &mut *inner;
        let mut kept = 0;
        for id in order.iter().rev() {
            let Some(job) = jobs.get_mut(id) else {
                continue;
            };
            if job.upload.is_none() || job.view.finished_at.is_none() {
                continue;
            }
            let failed =
                job.view.status == "failed" || job.view.outcome.as_deref() == Some("partial");
            if failed && kept < KEEP_FAILED_UPLOADS {
                kept += 1;
            } else {
                job.upload = None;
            }
        }
    }

    fn cancel(&self, id: &str) -> Option<Result<ImportJobView, ApiError>> {
        let inner = lock(&self.inner);
        let job = inner.jobs.get(id)?;
        if job.view.finished_at.is_some() {
            return Some(Err(ApiError::Conflict(format!(
                "import {id} has already finished"
            ))));
        }
        job.cancel.store(true, Ordering::Relaxed);
        Some(Ok(job.view.clone()))
    }

    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        self.shutting_down.store(true, Ordering::Relaxed);
        for job in lock(&self.inner).jobs.values() {
            job.cancel.store(true, Ordering::Relaxed);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let mut handles = lock(&self.handles);
            handles.retain(|h| !h.is_finished());
            if handles.is_empty() {
                return true;
            }
            drop(handles);
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Makes paths in report text relative to the upload folder.
fn scrub(value: &mut serde_json::Value, dir: &str) {
    match value {
        serde_json::Value::String(s) if s.contains(dir) => {
            *s = s.replace(&format!("{dir}/"), "").replace(dir, "upload");
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, dir)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| scrub(v, dir)),
        _ => {}
    }
}

pub(crate) fn upload_path(state: &ApiState, id: &str) -> PathBuf {
    state.upload_dir().join(format!("chat-upload-{id}"))
}

fn progress_view(p: &Progress, dir: &str) -> ProgressView {
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

fn publish(state: &ApiState, view: &ImportJobView) {
    state.hub().publish(Event::ImportProgress {
        id: view.id.clone(),
        status: view.status.clone(),
        progress: view.progress.clone(),
    });
}

/// Runs one job on the calling (dedicated) thread.
fn run_job(
    state: web::Data<ApiState>,
    id: String,
    paths: Vec<PathBuf>,
    mut options: ImportOptions,
) {
    let _turn = lock(&state.jobs.turn);
    let dir = upload_path(&state, &id).display().to_string();
    if options.cancel.load(Ordering::Relaxed) {
        finish(&state, &id, Some("cancelled before it started".to_owned()));
        return;
    }
    if let Some(view) = state.jobs.update(&id, |job| {
        job.view.status = "running".to_owned();
        job.view.started_at = Some(chat_model::timestamp::now());
    }) {
        publish(&state, &view);
    }
    let progress_state = state.clone();
    let progress_id = id.clone();
    let progress_dir = dir.clone();
    options.progress = Some(Arc::new(move |p: &Progress| {
        let now = Instant::now();
        let mut due = false;
        let view = progress_state.jobs.update(&progress_id, |job| {
            job.view.progress = progress_view(p, &progress_dir);
            due = job
                .last_event
                .is_none_or(|last| now.duration_since(last) >= EVENT_INTERVAL);
            if due {
                job.last_event = Some(now);
            }
        });
        if let (true, Some(view)) = (due, view) {
            publish(&progress_state, &view);
        }
    }));
    let result = Importer::new(state.store().clone()).run(&paths, &options);
    match result {
        Ok(report) => {
            let outcome = report.outcome();
            let error = if report.cancelled {
                Some("the import was cancelled; what was read before is kept".to_owned())
            } else if outcome == Outcome::Nothing {
                Some("nothing could be imported; the report's errors say why".to_owned())
            } else {
                None
            };
            let mut json = serde_json::to_value(&report).unwrap_or_default();
            scrub(&mut json, &dir);
            let outcome = match outcome {
                Outcome::Success => "success",
                Outcome::Partial => "partial",
                Outcome::Nothing => "nothing",
            };
            state.jobs.update(&id, |job| {
                job.view.outcome = Some(outcome.to_owned());
                job.view.report = Some(json);
                job.view.progress.conversations = report.totals.seen;
                job.view.progress.messages = report.totals.messages;
            });
            finish(&state, &id, error);
        }
        Err(e) => {
            tracing::error!(job = %id, error = %e, "import failed");
            let message = match e {
                chat_import::ImportError::Store(_) => {
                    "the database could not be written; the server log has the details"
                }
                _ => "the import stopped unexpectedly; the server log has the details",
            };
            finish(&state, &id, Some(message.to_owned()));
        }
    }
}

fn finish(state: &ApiState, id: &str, error: Option<String>) {
    let view = state.jobs.update(id, |job| {
        job.view.status = if error.is_some() { "failed" } else { "done" }.to_owned();
        job.view.error = error;
        job.view.finished_at = Some(chat_model::timestamp::now());
        let now = RunSummary::of(&job.view);
        if let Some(retry) = job.view.retry_of.as_mut() {
            retry.changes = Some(describe_changes(&retry.previous, &now));
        }
    });
    if let Some(view) = view {
        tracing::info!(job = %id, status = %view.status, "import finished");
        publish(state, &view);
    }
    state.jobs.prune_uploads();
}

/// Starts a job over files already in its upload folder.
pub(crate) fn start(
    state: &web::Data<ApiState>,
    id: String,
    upload: UploadDir,
    files: Vec<String>,
    source: Option<Source>,
    folder: Option<FolderPath>,
    retry_of: Option<RetryView>,
) -> Result<ImportJobView, ApiError> {
    let paths = if files.len() == 1 {
        vec![upload.0.join(&files[0])]
    } else {
        // Several files: the folder, so the importer recognises multi-file layouts.
        vec![upload.0.clone()]
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let options = ImportOptions {
        source,
        folder,
        cancel: Arc::clone(&cancel),
        run_id: Some(id.clone()),
        ..ImportOptions::default()
    };
    let view = ImportJobView {
        id: id.clone(),
        status: "queued".to_owned(),
        created_at: chat_model::timestamp::now(),
        started_at: None,
        finished_at: None,
        source,
        files,
        progress: ProgressView::default(),
        outcome: None,
        report: None,
        error: None,
        retry_of,
    };
    state.jobs.insert(Job {
        view: view.clone(),
        cancel,
        upload: Some(Arc::new(upload)),
        last_event: None,
    });
    // Announced before the thread can announce `running`.
    publish(state, &view);
    let thread_state = state.clone();
    let thread_id = id.clone();
    let handle = std::thread::Builder::new()
        .name(format!("import-{}", &id[..id.len().min(8)]))
        .spawn(move || run_job(thread_state, thread_id, paths, options))
        .map_err(ApiError::internal)?;
    let mut handles = lock(&state.jobs.handles);
    handles.retain(|h| !h.is_finished());
    handles.push(handle);
    Ok(view)
}

// ----- uploads ---------------------------------------------------------------------------------

/// A file name from a client, reduced to safe relative path segments.
fn safe_relative(name: &str, n: usize) -> PathBuf {
    let segments: Vec<String> = name
        .split(['/', '\\'])
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .map(|s| {
            s.chars()
                .map(|c| if c.is_control() || c == ':' { '_' } else { c })
                .take(200)
                .collect::<String>()
        })
        .collect();
    let keep = segments.len().saturating_sub(8);
    let path: PathBuf = segments[keep..].iter().collect();
    if path.as_os_str().is_empty() {
        PathBuf::from(format!("upload-{n}"))
    } else {
        path
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Streams `body` into `path`, counting against `max`. Returns the first bytes.
async fn spool<S, E>(
    mut body: S,
    path: &Path,
    total: &mut u64,
    max: u64,
) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(ApiError::internal)?;
    }
    let file = tokio::fs::File::create(path)
        .await
        .map_err(ApiError::internal)?;
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut head = Vec::with_capacity(4);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("invalid_body", format!("the upload could not be read: {e}"))
        })?;
        *total += chunk.len() as u64;
        if *total > max {
            return Err(too_large(max));
        }
        if head.len() < 4 {
            head.extend(chunk.iter().take(4 - head.len()));
        }
        out.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    out.flush().await.map_err(ApiError::internal)?;
    Ok(head)
}

fn too_large(max: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the upload is larger than the limit of {max} bytes"
    ))
}

/// Gives a zip archive a `.zip` name whatever it was called, since the importer opens archives
/// by extension.
async fn fix_name(dir: &Path, rel: PathBuf, head: &[u8]) -> Result<PathBuf, ApiError> {
    let is_zip_name = rel
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if head == ZIP_MAGIC && !is_zip_name {
        let mut renamed = rel.clone().into_os_string();
        renamed.push(".zip");
        let renamed = PathBuf::from(renamed);
        tokio::fs::rename(dir.join(&rel), dir.join(&renamed))
            .await
            .map_err(ApiError::internal)?;
        return Ok(renamed);
    }
    Ok(rel)
}

/// Options of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Force a parser (`chatgpt`, `claude`, `gemini`, `copilot`) instead of detecting it.
    source: Option<String>,
    /// The folder new conversations land in (default `imported/<source>`).
    folder: Option<String>,
    /// A name for a raw-body upload (default from the content type).
    filename: Option<String>,
}

/// Uploads a chat export (zip or JSON) and starts importing it in the background.
///
/// The body is either `multipart/form-data` with one or more file fields (and optional text
/// fields `source` and `folder`), or the raw file with any other content type.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", params(ImportParams),
    request_body(content = Vec<u8>, description = "The export file (raw), or multipart/form-data with file fields",
        content_type = "application/octet-stream"),
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    payload: web::Payload,
    q: web::Query<ImportParams>,
) -> Result<HttpResponse, ApiError> {
    if state.jobs.shutting_down.load(Ordering::Relaxed) {
        return Err(ApiError::Unavailable(
            "the server is shutting down".to_owned(),
        ));
    }
    let q = q.into_inner();
    let mut source = params::source(q.source.as_deref())?;
    let mut folder = params::folder(q.folder.as_deref())?;
    let max = state.max_upload();
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let id = uuid::Uuid::now_v7().to_string();
    let dir = upload_path(&state, &id);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ApiError::internal)?;
    // Removes the folder if anything below fails.
    let upload = UploadDir(dir.clone());
    let mut total = 0u64;
    let mut files: Vec<String> = Vec::new();
    if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::new(req.headers(), payload.into_inner());
        while let Some(field) = form.next().await {
            let mut field = field.map_err(|e| {
                ApiError::bad_request("invalid_multipart", format!("invalid multipart body: {e}"))
            })?;
            let (name, filename) = match field.content_disposition() {
                Some(cd) => (
                    cd.get_name().map(str::to_owned),
                    cd.get_filename().map(str::to_owned),
                ),
                None => (None, None),
            };
            match filename {
                None => {
                    let mut text = Vec::new();
                    while let Some(chunk) = field.next().await {
                        let chunk = chunk.map_err(|e| {
                            ApiError::bad_request(
                                "invalid_multipart",
                                format!("invalid multipart body: {e}"),
                            )
                        })?;
                        if text.len() + chunk.len() > MAX_FORM_FIELD {
                            return Err(ApiError::bad_request(
                                "invalid_multipart",
                                "a text field of the form is too long",
                            ));
                        }
                        text.extend_from_slice(&chunk);
                    }
                    let text = String::from_utf8_lossy(&text).into_owned();
                    match name.as_deref() {
                        Some("source") => source = params::source(Some(&text))?.or(source),
                        Some("folder") => folder = params::folder(Some(&text))?.or(folder),
                        _ => {}
                    }
                }
                Some(filename) => {
                    if files.len() >= MAX_FILES {
                        return Err(ApiError::invalid(format!(
                            "at most {MAX_FILES} files per upload"
                        )));
                    }
                    let mut rel = safe_relative(&filename, files.len());
                    if dir.join(&rel).exists() {
                        rel = PathBuf::from(format!("{}-{}", files.len(), rel.display()));
                    }
                    let head = spool(&mut field, &dir.join(&rel), &mut total, max).await?;
                    let rel = fix_name(&dir, rel, &head).await?;
                    files.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
    } else {
        let default_name = if content_type.starts_with("text/html") {
            "upload.html"
        } else if content_type.contains("zip") {
            "upload.zip"
        } else {
            "upload.json"
        };
        let rel = q
            .filename
            .as_deref()
            .map(|f| safe_relative(f, 0))
            .and_then(|p| p.file_name().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(default_name));
        let head = spool(payload.into_inner(), &dir.join(&rel), &mut total, max).await?;
        if total > 0 {
            let rel = fix_name(&dir, rel, &head).await?;
            files.push(rel.to_string_lossy().into_owned());
        }
    }
    if files.is_empty() || total == 0 {
        return Err(ApiError::bad_request(
            "empty_upload",
            "the request holds no file to import",
        ));
    }
    tracing::info!(job = %id, bytes = total, files = files.len(), "import upload accepted");
    let view = start(&state, id.clone(), upload, files, source, folder, None)?;
    Ok(HttpResponse::Accepted()
        .insert_header((LOCATION, format!("imports/{id}")))
        .json(Accepted {
            id: view.id,
            status: view.status,
        }))
}

fn record_view(state: &ApiState, r: chat_store::ImportRunRecord) -> ImportJobView {
    let dir = upload_path(state, &r.id).display().to_string();
    let mut report = r.report;
    if let Some(report) = report.as_mut() {
        scrub(report, &dir);
    }
    let status = match r.status.as_str() {
        "running" => "running",
        "done" | "succeeded" => "done",
        _ => "failed",
    };
    let mut files = serde_json::Value::clone(&r.inputs);
    scrub(&mut files, &dir);
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

/// A job's view from memory, or from the store for runs of the CLI or an earlier server.
pub(crate) async fn find_view(state: &ApiState, id: &str) -> Result<ImportJobView, ApiError> {
    if let Some(view) = state.jobs.view(id) {
        return Ok(view);
    }
    let owned = id.to_owned();
    let record = state.read(move |repo| repo.get_import_run(&owned)).await?;
    Ok(record_view(state, record))
}

/// An import job's status, progress and report.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports",
    params(("id" = String, Path, description = "Import id")),
    responses((status = 200, body = ImportJobView), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    if let Some(view) = state.jobs.view(&id) {
        return Ok(HttpResponse::Ok().json(view));
    }
    let record = state.read(move |repo| repo.get_import_run(&id)).await?;
    Ok(HttpResponse::Ok().json(record_view(&state, record)))
}

/// Paging of the import list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportListParams {
    /// How many, 1 to 200 (default 20).
    limit: Option<u32>,
}

/// Recent imports, newest first: this server's jobs and runs recorded in the store (by the CLI
/// or an earlier server).
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", params(ImportListParams),
    responses((status = 200, body = Vec<ImportJobView>), (status = 400, body = ErrorBody)))]
pub async fn list(
    state: web::Data<ApiState>,
    q: web::Query<ImportListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = match params::limit(q.limit, 200)? {
        0 => 20,
        n => n,
    };
    let records = state.read(move |repo| repo.list_import_runs(limit)).await?;
    let mut views = state.jobs.views();
    for r in records {
        if !views.iter().any(|v| v.id == r.id) {
            views.push(record_view(&state, r));
        }
    }
    views.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.id.cmp(&a.id))
    });
    views.truncate(limit as usize);
    Ok(HttpResponse::Ok().json(views))
}

/// Cancels a queued or running import; what was read so far is kept.
#[utoipa::path(post, path = "/api/v1/imports/{id}/cancel", tag = "imports",
    params(("id" = String, Path, description = "Import id")),
    responses((status = 202, body = ImportJobView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn cancel(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    match state.jobs.cancel(&id) {
        Some(Ok(view)) => Ok(HttpResponse::Accepted().json(view)),
        Some(Err(e)) => Err(e),
        None => {
            // Known to the store only: it ended with an earlier server.
            state.read(move |repo| repo.get_import_run(&id)).await?;
            Err(ApiError::Conflict(
                "that import is not running on this server".to_owned(),
            ))
        }
    }
}
