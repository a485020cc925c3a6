//! The two threads of a run and what passes between them, split by stage:
//!
//! * `mod.rs` (here): one run from start to end: the plan, the `import_runs` row, the parse
//!   thread spawned beside the writer, the report.
//! * `parse.rs`: the parse thread. Each unit of the plan is detected and parsed (native
//!   AI OS Chat exports included); what comes out goes to the batcher.
//! * `batch.rs`: what crosses the bounded channel ([`batch::Event`]), and the batcher that
//!   gathers conversations into one writer transaction each and tokenizes them ahead.
//! * `write.rs`: the writer, on the calling thread: batches through the store's bulk writer,
//!   quarantine, the report.
//! * `native.rs`: restoring AI OS Chat export documents with their own ids.

mod batch;
mod native;
mod parse;
mod write;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use chat_parse::Parser;
use chat_store::{ImportRunRecord, Store};
use crossbeam_channel::bounded;

use self::batch::{Batcher, Event, WriterState};
use self::parse::ParseThread;
use self::write::Writer;
use crate::media::MediaResolver;
use crate::plan::plan;
use crate::report::{ImportReport, InputReport};
use crate::source::{Opener, Origin};
use crate::{ImportError, ImportOptions, ProgressState, CHANNEL_CAPACITY};

pub(crate) fn run(
    store: &Store,
    parsers: Arc<Vec<Box<dyn Parser>>>,
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let opener = Opener::new(options.limits.clone());
    let plan = plan(paths, &opener);
    let progress = Arc::new(ProgressState::default());
    let total: u64 = plan.units.iter().filter_map(|u| unit_size(&u.origin)).sum();
    progress.bytes_total.store(total, Ordering::Relaxed);

    let mut report = ImportReport {
        dry_run: options.dry_run,
        ignored: plan.ignored.clone(),
        ..ImportReport::default()
    };
    for p in &plan.problems {
        let mut input = InputReport::new(&p.input);
        input.fail("file", &p.error, &p.hint);
        report.inputs.push(input);
    }
    let record = if options.dry_run {
        None
    } else {
        Some(start_record(store, paths, options)?)
    };
    report.run_id = record.as_ref().map(|r| r.id.clone());

    let (tx, rx) = bounded::<Event>(CHANNEL_CAPACITY);
    let units = plan.units;
    // What the writer tells the parse thread (see [`Batcher`]); a dry run tokenizes nothing
    // ahead (its batches are rolled back).
    let writer_state = WriterState::new(!options.dry_run);
    let result = std::thread::scope(|scope| {
        let parse_progress = Arc::clone(&progress);
        let opener = opener.clone();
        let parsers = Arc::clone(&parsers);
        let parse_options = options.clone();
        let base = report.inputs.len();
        let state = &writer_state;
        let media_store = store.clone();
        let parse = scope.spawn(move || {
            let mut out = Batcher::new(&tx, &parse_options, state, &parse_progress);
            if !parse_options.dry_run {
                out.media = Some(MediaResolver::new(
                    media_store,
                    parse_options.limits.clone(),
                    paths,
                ));
            }
            let thread = ParseThread {
                parsers: &parsers,
                opener: &opener,
                options: &parse_options,
                progress: &parse_progress,
            };
            thread.parse_all(&units, base, &mut out);
            // What was read before the end (or a cancellation) is written too.
            out.flush();
        });
        let writer = Writer {
            store,
            report: &mut report,
            options,
            progress: &progress,
            run_id: record.as_ref().map(|r| r.id.as_str()),
            state: &writer_state,
        };
        let written = writer.write_all(rx);
        let joined = parse.join();
        match (written, joined) {
            (Err(e), _) => Err(e),
            (Ok(()), Err(_)) => Err(ImportError::Internal("the parse thread panicked".into())),
            (Ok(()), Ok(())) => Ok(()),
        }
    });
    report.cancelled = options.cancel.load(Ordering::Relaxed);
    report.recount();
    if let Some(record) = record {
        finish_record(store, record, &report, result.as_ref().err());
    }
    result.map(|()| report)
}

/// Records the start of a run in `import_runs`.
fn start_record(
    store: &Store,
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportRunRecord, ImportError> {
    let id = options
        .run_id
        .clone()
        .unwrap_or_else(|| chat_model::ConversationId::generate().into_string());
    let inputs: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let record = ImportRunRecord {
        id,
        started_at: chat_model::timestamp::now(),
        finished_at: None,
        status: "running".to_owned(),
        inputs: serde_json::json!(inputs),
        sources: serde_json::json!([]),
        report: None,
        error: None,
    };
    store.write(|repo| repo.create_import_run(&record))?;
    Ok(record)
}

/// Records the end of a run: its status, the sources detected, the report and the error. A
/// failure here is logged, never returned: it must not hide the run's own result.
fn finish_record(
    store: &Store,
    mut record: ImportRunRecord,
    report: &ImportReport,
    error: Option<&ImportError>,
) {
    let status = match (error, report.cancelled) {
        (Some(_), _) => "failed",
        (None, true) => "cancelled",
        (None, false) => "done",
    };
    let mut detected: Vec<String> = report
        .inputs
        .iter()
        .filter_map(|i| i.source.map(|s| s.as_str().to_owned()))
        .collect();
    detected.sort();
    detected.dedup();
    record.finished_at = Some(chat_model::timestamp::now());
    record.status = status.to_owned();
    record.sources = serde_json::json!(detected);
    record.report = Some(serde_json::to_value(report).unwrap_or_default());
    record.error = error.map(ToString::to_string);
    if let Err(e) = store.write(|repo| repo.update_import_run(&record)) {
        tracing::warn!(run = %record.id, error = %e, "could not record the end of the import run");
    }
}

fn unit_size(origin: &Origin) -> Option<u64> {
    match origin {
        Origin::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        Origin::ZipEntry { .. } => None,
    }
}
