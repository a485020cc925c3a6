//! The import jobs service: uploads run in the background by `chat-import`, with their status
//! kept in memory and saved in the store (`put_import_job`, at each state change and
//! throttled progress), so any instance of the server on the database answers
//! `GET /imports/{id}`; the importer also writes the store's `import_runs` table.
//!
//! * Each job runs on its own thread; jobs take turns (one import writes at a time, the others
//!   are `queued`), so an import never blocks the async executor nor another import.
//! * Progress goes to the job's record and, throttled, to the hub as `import.progress`.
//! * The upload folder is removed when the job ends, except for the last few failed or partial
//!   jobs, whose inputs are kept so they can be retried.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::web;
use chat_import::{diagnose, ImportOptions, Importer, Outcome, Progress};
use chat_llm::ChatProvider;
use chat_model::{FolderPath, Source};
use chat_store::{ImportJobRecord, Store};

use super::staged::Staged;
use super::upload::{upload_path, Upload, UploadDir};
use super::view::{
    describe_changes, progress_view, record_view, scrub, ImportJobView, RetryView, RunSummary,
};
use crate::db::Db;
use crate::dto::ProgressView;
use crate::error::ApiError;
use crate::events::{Event, Hub};
use crate::sync::lock;

/// Jobs remembered in memory (older finished ones are forgotten; the store keeps their row).
const MAX_JOBS: usize = 200;
/// Failed or partial jobs whose uploaded files are kept for a retry.
const KEEP_FAILED_UPLOADS: usize = 4;
/// Least time between two `import.progress` events of one job.
const EVENT_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Debug)]
struct Job {
    view: ImportJobView,
    cancel: Arc<AtomicBool>,
    upload: Option<Arc<UploadDir>>,
    last_event: Option<Instant>,
}

#[derive(Debug, Default)]
struct Registry {
    jobs: HashMap<String, Job>,
    /// Ids, oldest first.
    order: VecDeque<String>,
}

/// The import jobs of one application state. Cheap to clone; every clone is the same service.
#[derive(Debug, Clone)]
pub(crate) struct ImportJobs {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    hub: Hub,
    /// Where upload folders are made.
    upload_root: PathBuf,
    /// The largest upload, in bytes.
    max_upload: u64,
    /// Writes import explanations.
    provider: Arc<dyn ChatProvider>,
    table: JobTable,
    /// Uploads waiting to be previewed and committed (the AI OS import dialog).
    staged: Staged,
}

/// The jobs and their threads.
#[derive(Debug, Default)]
struct JobTable {
    registry: Mutex<Registry>,
    /// Held by the job that is importing; the others wait their turn.
    turn: Mutex<()>,
    handles: Mutex<Vec<JoinHandle<()>>>,
    shutting_down: AtomicBool,
}

impl ImportJobs {
    pub(crate) fn new(
        db: Db,
        hub: Hub,
        upload_root: PathBuf,
        max_upload: u64,
        provider: Arc<dyn ChatProvider>,
    ) -> Self {
        let inner = Inner {
            db,
            hub,
            upload_root,
            max_upload,
            provider,
            table: JobTable::default(),
            staged: Staged::default(),
        };
        ImportJobs {
            inner: Arc::new(inner),
        }
    }

    /// The largest upload, in bytes.
    pub(crate) fn max_upload(&self) -> u64 {
        self.inner.max_upload
    }

    pub(super) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(super) fn provider(&self) -> &Arc<dyn ChatProvider> {
        &self.inner.provider
    }

    pub(super) fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    pub(super) fn staged(&self) -> &Staged {
        &self.inner.staged
    }

    /// 503 once the server is shutting down: no new job is taken then.
    pub(crate) fn accepting(&self) -> Result<(), ApiError> {
        if self.inner.table.shutting_down.load(Ordering::Relaxed) {
            return Err(ApiError::Unavailable(
                "the server is shutting down".to_owned(),
            ));
        }
        Ok(())
    }

    /// A new upload folder, to spool files into before [`ImportJobs::start`].
    pub(crate) async fn new_upload(&self) -> Result<Upload, ApiError> {
        Upload::create(&self.inner.upload_root, self.inner.max_upload).await
    }

    /// Where a job's upload folder is, as text (for making report paths relative to it).
    fn upload_text(&self, id: &str) -> String {
        upload_path(&self.inner.upload_root, id)
            .display()
            .to_string()
    }

    /// Starts importing a finished upload in the background (queued behind the running job).
    pub(crate) fn start(
        &self,
        upload: Upload,
        source: Option<Source>,
        folder: Option<FolderPath>,
    ) -> Result<ImportJobView, ApiError> {
        let (id, dir, files) = upload.finish()?;
        self.launch(
            id,
            Arc::new(dir),
            files,
            ImportOptions {
                source,
                folder,
                ..ImportOptions::default()
            },
            None,
        )
    }

    /// Starts a job over files already in its upload folder; `options` says how to read them
    /// (its cancel flag, run id and progress callback are the job's own).
    pub(super) fn launch(
        &self,
        id: String,
        upload: Arc<UploadDir>,
        files: Vec<String>,
        options: ImportOptions,
        retry_of: Option<RetryView>,
    ) -> Result<ImportJobView, ApiError> {
        let paths = if files.len() == 1 {
            vec![upload.0.join(&files[0])]
        } else {
            // Several files: the folder, so the importer recognises multi-file layouts.
            vec![upload.0.clone()]
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let source = options.source;
        let options = ImportOptions {
            cancel: Arc::clone(&cancel),
            run_id: Some(id.clone()),
            progress: None,
            ..options
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
        self.insert(Job {
            view: view.clone(),
            cancel,
            upload: Some(upload),
            last_event: None,
        });
        // Announced before the thread can announce `running`.
        self.publish(&view);
        let jobs = self.clone();
        let handle = std::thread::Builder::new()
            .name(format!("import-{}", &id[..id.len().min(8)]))
            .spawn(move || jobs.run_job(id, paths, options))
            .map_err(ApiError::internal)?;
        let mut handles = lock(&self.inner.table.handles);
        handles.retain(|h| !h.is_finished());
        handles.push(handle);
        Ok(view)
    }

    fn insert(&self, job: Job) {
        let mut registry = lock(&self.inner.table.registry);
        registry.order.push_back(job.view.id.clone());
        registry.jobs.insert(job.view.id.clone(), job);
        // Forget the oldest finished jobs beyond the limit.
        while registry.order.len() > MAX_JOBS {
            let finished = registry.order.iter().position(|id| {
                registry
                    .jobs
                    .get(id)
                    .is_some_and(|j| j.view.finished_at.is_some())
            });
            let Some(pos) = finished else { break };
            if let Some(id) = registry.order.remove(pos) {
                registry.jobs.remove(&id);
            }
        }
    }

    /// Updates a job and returns its new view.
    fn update(&self, id: &str, f: impl FnOnce(&mut Job)) -> Option<ImportJobView> {
        let mut registry = lock(&self.inner.table.registry);
        let job = registry.jobs.get_mut(id)?;
        f(job);
        Some(job.view.clone())
    }

    /// Announces the job's state and saves it in the store, so that every instance of the
    /// server on this database answers for it.
    fn publish(&self, view: &ImportJobView) {
        self.inner.hub.publish(Event::ImportProgress {
            id: view.id.clone(),
            status: view.status.clone(),
            progress: view.progress.clone(),
        });
        self.persist(view);
    }

    /// Saves the job's state in the store (best effort: a failure is logged; this instance
    /// still answers from memory).
    fn persist(&self, view: &ImportJobView) {
        let record = match serde_json::to_value(view) {
            Ok(state) => ImportJobRecord {
                id: view.id.clone(),
                created_at: view.created_at,
                updated_at: chat_model::timestamp::now(),
                state,
            },
            Err(e) => {
                tracing::warn!(job = %view.id, error = %e, "cannot serialise a job's state");
                return;
            }
        };
        // On a thread of its own: `launch` runs on the async executor, where the store must
        // not be called (see `chat_store::Store::open`); the job's progress is throttled, so
        // this is a few threads a second at most.
        let store = self.inner.db.store();
        let saved = std::thread::scope(|s| {
            s.spawn(|| store.write(|repo| repo.put_import_job(&record)))
                .join()
                .unwrap_or_else(|_| {
                    Err(chat_store::Error::InvalidInput(
                        "saving a job's state panicked".to_owned(),
                    ))
                })
        });
        if let Err(e) = saved {
            tracing::warn!(job = %view.id, error = %e, "cannot save a job's state in the database");
        }
    }

    /// A job saved by another instance (or an earlier server), if the store has it.
    async fn saved_job(&self, id: &str) -> Result<Option<ImportJobView>, ApiError> {
        let owned = id.to_owned();
        let saved = self
            .db()
            .read(move |repo| match repo.get_import_job(&owned) {
                Ok(job) => Ok(Some(job)),
                Err(chat_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            });
        Ok(saved
            .await?
            .and_then(|job| serde_json::from_value(job.state).ok()))
    }

    /// The kept upload folder of a job and its files (relative), while it is kept.
    pub(super) fn kept_upload(&self, id: &str) -> Option<(PathBuf, Vec<String>)> {
        let registry = lock(&self.inner.table.registry);
        let job = registry.jobs.get(id)?;
        let dir = job.upload.as_ref()?;
        Some((dir.0.clone(), job.view.files.clone()))
    }

    /// A job's view from memory, or from the store for runs of the CLI or an earlier server.
    pub(crate) async fn view(&self, id: &str) -> Result<ImportJobView, ApiError> {
        if let Some(view) = lock(&self.inner.table.registry)
            .jobs
            .get(id)
            .map(|j| j.view.clone())
        {
            return Ok(view);
        }
        if let Some(view) = self.saved_job(id).await? {
            return Ok(view);
        }
        let owned = id.to_owned();
        let record = self
            .db()
            .read(move |repo| repo.get_import_run(&owned))
            .await?;
        Ok(record_view(record, &self.upload_text(id)))
    }

    /// The latest `limit` imports, newest first: this server's jobs and runs recorded in the
    /// store (by the CLI or an earlier server).
    pub(crate) async fn list(&self, limit: u32) -> Result<Vec<ImportJobView>, ApiError> {
        let (saved, records) = self
            .db()
            .read(move |repo| Ok((repo.list_import_jobs(limit)?, repo.list_import_runs(limit)?)))
            .await?;
        let mut views: Vec<ImportJobView> = {
            let registry = lock(&self.inner.table.registry);
            registry
                .order
                .iter()
                .rev()
                .filter_map(|id| registry.jobs.get(id).map(|j| j.view.clone()))
                .collect()
        };
        for job in saved {
            if !views.iter().any(|v| v.id == job.id) {
                if let Ok(view) = serde_json::from_value::<ImportJobView>(job.state) {
                    views.push(view);
                }
            }
        }
        for r in records {
            if !views.iter().any(|v| v.id == r.id) {
                let dir = self.upload_text(&r.id);
                views.push(record_view(r, &dir));
            }
        }
        views.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        views.truncate(limit as usize);
        Ok(views)
    }

    /// Cancels a queued or running job; what was read so far is kept.
    pub(crate) async fn cancel(&self, id: &str) -> Result<ImportJobView, ApiError> {
        let found = {
            let registry = lock(&self.inner.table.registry);
            registry.jobs.get(id).map(|job| {
                if job.view.finished_at.is_some() {
                    return Err(ApiError::Conflict(format!(
                        "import {id} has already finished"
                    )));
                }
                job.cancel.store(true, Ordering::Relaxed);
                Ok(job.view.clone())
            })
        };
        if let Some(result) = found {
            return result;
        }
        // Known to the store only: it ended with an earlier server.
        let owned = id.to_owned();
        self.db()
            .read(move |repo| repo.get_import_run(&owned))
            .await?;
        Err(ApiError::Conflict(
            "that import is not running on this server".to_owned(),
        ))
    }

    /// Runs a finished import again from its kept input (the kept upload folder, else the
    /// quarantined items) as a new job, optionally with another source. The new job's view
    /// has `retry_of`: what the earlier run did and, once it ends, what changed.
    pub(crate) async fn retry(
        &self,
        id: &str,
        source: Option<Source>,
    ) -> Result<ImportJobView, ApiError> {
        let previous = self.view(id).await?;
        if previous.finished_at.is_none() {
            return Err(ApiError::Conflict(format!(
                "import {id} has not ended yet; retry it once it has"
            )));
        }
        let new_id = uuid::Uuid::now_v7().to_string();
        let dir = upload_path(&self.inner.upload_root, &new_id);
        let upload = Arc::new(UploadDir(dir.clone()));
        let files: Vec<String> = match self.kept_upload(id) {
            Some((from, files)) => {
                let copied = files.clone();
                web::block(move || diagnose::copy_kept(&from, &dir, &copied))
                    .await?
                    .map_err(ApiError::internal)?;
                files
            }
            None => {
                let run = id.to_owned();
                let items = self
                    .db()
                    .read(move |repo| repo.list_quarantine(&run))
                    .await?;
                let raws: Vec<Vec<u8>> = items.into_iter().filter_map(|i| i.raw).collect();
                if raws.is_empty() {
                    return Err(ApiError::Conflict(format!(
                        "the input of import {id} is no longer kept (the server keeps the last \
                         few failed uploads, and not across restarts); upload the file again"
                    )));
                }
                web::block(move || diagnose::restore_quarantined(&dir, &raws))
                    .await?
                    .map_err(ApiError::internal)?
            }
        };
        let retry_of = RetryView {
            id: id.to_owned(),
            previous: RunSummary::of(&previous),
            changes: None,
        };
        tracing::info!(job = %new_id, retry_of = %id, source = ?source, "retrying an import");
        let options = ImportOptions {
            source,
            ..ImportOptions::default()
        };
        self.launch(new_id, upload, files, options, Some(retry_of))
    }

    /// Runs one job on the calling (dedicated) thread.
    fn run_job(&self, id: String, paths: Vec<PathBuf>, mut options: ImportOptions) {
        let _turn = lock(&self.inner.table.turn);
        let dir = self.upload_text(&id);
        if options.cancel.load(Ordering::Relaxed) {
            self.finish(&id, Some("cancelled before it started".to_owned()));
            return;
        }
        if let Some(view) = self.update(&id, |job| {
            job.view.status = "running".to_owned();
            job.view.started_at = Some(chat_model::timestamp::now());
        }) {
            self.publish(&view);
        }
        let jobs = self.clone();
        let progress_id = id.clone();
        let progress_dir = dir.clone();
        options.progress = Some(Arc::new(move |p: &Progress| {
            let now = Instant::now();
            let mut due = false;
            let view = jobs.update(&progress_id, |job| {
                job.view.progress = progress_view(p, &progress_dir);
                due = job
                    .last_event
                    .is_none_or(|last| now.duration_since(last) >= EVENT_INTERVAL);
                if due {
                    job.last_event = Some(now);
                }
            });
            if let (true, Some(view)) = (due, view) {
                jobs.publish(&view);
            }
        }));
        let store: Store = self.inner.db.store().clone();
        match Importer::new(store).run(&paths, &options) {
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
                self.update(&id, |job| {
                    job.view.outcome = Some(outcome.to_owned());
                    job.view.report = Some(json);
                    job.view.progress.conversations = report.totals.seen;
                    job.view.progress.messages = report.totals.messages;
                });
                self.finish(&id, error);
            }
            Err(e) => {
                tracing::error!(job = %id, error = %e, "import failed");
                let message = match e {
                    chat_import::ImportError::Store(_) => {
                        "the database could not be written; the server log has the details"
                    }
                    _ => "the import stopped unexpectedly; the server log has the details",
                };
                self.finish(&id, Some(message.to_owned()));
            }
        }
    }

    fn finish(&self, id: &str, error: Option<String>) {
        // One lock for the end and the pruning: whoever sees the job ended sees its upload
        // already released (or kept for a retry), never in between.
        let view = {
            let mut registry = lock(&self.inner.table.registry);
            let view = registry.jobs.get_mut(id).map(|job| {
                job.view.status = if error.is_some() { "failed" } else { "done" }.to_owned();
                job.view.error = error;
                job.view.finished_at = Some(chat_model::timestamp::now());
                let now = RunSummary::of(&job.view);
                if let Some(retry) = job.view.retry_of.as_mut() {
                    retry.changes = Some(describe_changes(&retry.previous, &now));
                }
                job.view.clone()
            });
            prune_uploads(&mut registry);
            view
        };
        if let Some(view) = view {
            tracing::info!(job = %id, status = %view.status, "import finished");
            self.publish(&view);
        }
    }

    /// Cancels running and queued jobs (what they read so far is committed) and waits for
    /// them, up to `timeout`. Returns whether every job ended in time.
    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        self.inner
            .table
            .shutting_down
            .store(true, Ordering::Relaxed);
        for job in lock(&self.inner.table.registry).jobs.values() {
            job.cancel.store(true, Ordering::Relaxed);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let mut handles = lock(&self.inner.table.handles);
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

/// Drops the upload folders of finished jobs but the last few failed ones.
fn prune_uploads(registry: &mut Registry) {
    let Registry { jobs, order } = registry;
    let mut kept = 0;
    for id in order.iter().rev() {
        let Some(job) = jobs.get_mut(id) else {
            continue;
        };
        if job.upload.is_none() || job.view.finished_at.is_none() {
            continue;
        }
        let failed = job.view.status == "failed" || job.view.outcome.as_deref() == Some("partial");
        if failed && kept < KEEP_FAILED_UPLOADS {
            kept += 1;
        } else {
            job.upload = None;
        }
    }
}
