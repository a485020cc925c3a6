//! An import in three steps, as the AI OS import dialog makes it: stage an upload, preview what
//! it holds (a dry run of the importer: nothing is written), then commit it as an import job
//! (the usual job: `import.progress` events, `GET /api/v1/imports/{id}`) and wait for its
//! report.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web;
use chat_import::{ImportOptions, ImportReport, Importer, Observed};
use chat_model::{Source, Timestamp};
use chat_store::WriteStatus;
use tokio::sync::broadcast::error::RecvError;

use super::jobs::ImportJobs;
use super::staged::StagedUpload;
use super::upload::Upload;
use super::view::{scrub, ImportJobView};
use crate::error::ApiError;
use crate::events::Event;
use crate::sync::lock;

/// Longest wait between two looks at a committed job, should its last event be missed.
const POLL: Duration = Duration::from_millis(250);

/// A staged upload as its uploader sees it.
#[derive(Debug)]
pub(crate) struct Staging {
    pub(crate) id: String,
    pub(crate) files: Vec<String>,
    pub(crate) size: u64,
}

/// A conversation a preview found.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The provider's id.
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) messages: usize,
    pub(crate) created_at: Option<Timestamp>,
    /// What committing would do with it.
    pub(crate) status: WriteStatus,
}

/// What committing a staged upload would do.
#[derive(Debug)]
pub(crate) struct PreviewOutcome {
    /// The first conversations, in the export's order.
    pub(crate) first: Vec<Found>,
    /// The dry run's report, paths relative to the upload.
    pub(crate) report: ImportReport,
}

impl ImportJobs {
    /// Keeps a received upload, to be read as `source` (else detected), for a preview and a
    /// commit (see `staged.rs` for how long).
    pub(crate) fn stage(
        &self,
        upload: Upload,
        source: Option<Source>,
    ) -> Result<Staging, ApiError> {
        let size = upload.total();
        let (id, dir, files) = upload.finish()?;
        self.staged().keep(id.clone(), dir, files.clone(), source);
        Ok(Staging { id, files, size })
    }

    fn staged_upload(&self, id: &str, take: bool) -> Result<StagedUpload, ApiError> {
        let found = if take {
            self.staged().take(id)
        } else {
            self.staged().get(id)
        };
        found.ok_or_else(|| {
            ApiError::not_found(
                "upload_not_found",
                format!(
                    "no upload {id:?} is waiting: it was imported already, or it expired \
                     (uploads wait an hour); upload the file again"
                ),
            )
        })
    }

    /// A dry run over a staged upload (read as `source`, else as staged): the first `keep`
    /// conversations and the report. 404 for an unknown or expired upload; 400 with the
    /// importer's explanation when nothing in it can be read.
    pub(crate) async fn preview(
        &self,
        id: &str,
        source: Option<Source>,
        keep: usize,
    ) -> Result<PreviewOutcome, ApiError> {
        let staged = self.staged_upload(id, false)?;
        let source = source.or(staged.source);
        let first: Arc<Mutex<Vec<Found>>> = Arc::default();
        let sink = Arc::clone(&first);
        let options = ImportOptions {
            source,
            dry_run: true,
            observe: Some(Arc::new(move |o: &Observed<'_>| {
                let mut first = lock(&sink);
                if first.len() < keep {
                    first.push(Found {
                        id: o.id.to_owned(),
                        title: o.title.to_owned(),
                        messages: o.messages,
                        created_at: o.created_at,
                        status: o.status,
                    });
                }
            })),
            ..ImportOptions::default()
        };
        let store = self.db().store().clone();
        let paths = staged.paths();
        let report = web::block(move || Importer::new(store).run(&paths, &options))
            .await?
            .map_err(|e| ApiError::internal(format!("an import preview failed: {e}")))?;
        let report = relative(report, &staged)?;
        if report.totals.ok() == 0 {
            if let Some(why) = explanation(&report) {
                return Err(ApiError::bad_request("not_an_export", why));
            }
        }
        let first = std::mem::take(&mut *lock(&first));
        Ok(PreviewOutcome { first, report })
    }

    /// Imports a staged upload (read as `source`, else as staged; `subfolders`: Claude
    /// projects and VS Code workspaces in folders of their own) as an import job, and waits
    /// for its end. The upload is no longer staged afterwards. 404 for an unknown or expired
    /// upload.
    pub(crate) async fn commit(
        &self,
        id: &str,
        source: Option<Source>,
        subfolders: bool,
    ) -> Result<ImportJobView, ApiError> {
        self.accepting()?;
        let staged = self.staged_upload(id, true)?;
        let options = ImportOptions {
            source: source.or(staged.source),
            subfolders,
            ..ImportOptions::default()
        };
        let mut events = self.hub().subscribe();
        self.launch(staged.id.clone(), staged.dir, staged.files, options, None)?;
        loop {
            let view = self.view(&staged.id).await?;
            if view.finished_at.is_some() {
                return Ok(view);
            }
            // Woken by the job's own events; a missed one costs at most `POLL`.
            let _ = tokio::time::timeout(POLL, async {
                loop {
                    match events.recv().await {
                        Ok(m) if matches!(&*m.event, Event::ImportProgress { id, .. } if *id == staged.id) => {
                            return
                        }
                        Ok(_) | Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return,
                    }
                }
            })
            .await;
        }
    }
}

impl StagedUpload {
    /// What the importer reads: the one file, or the folder (multi-file layouts).
    fn paths(&self) -> Vec<std::path::PathBuf> {
        match self.files.as_slice() {
            [one] => vec![self.dir.0.join(one)],
            _ => vec![self.dir.0.clone()],
        }
    }
}

/// The report with paths relative to the upload folder.
fn relative(report: ImportReport, staged: &StagedUpload) -> Result<ImportReport, ApiError> {
    let dir = staged.dir.0.display().to_string();
    let mut json = serde_json::to_value(&report).map_err(ApiError::internal)?;
    scrub(&mut json, &dir);
    serde_json::from_value(json).map_err(ApiError::internal)
}

/// Why nothing could be read, in the importer's words (what, where, what to do).
pub(crate) fn explanation(report: &ImportReport) -> Option<String> {
    let (input, error) = report
        .inputs
        .iter()
        .find_map(|i| i.errors.first().map(|e| (i, e)))?;
    Some(format!(
        "{}: {} ({}). {}",
        input.path, error.error, error.item, error.hint
    ))
}
