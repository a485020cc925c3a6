//! The writer (the calling thread): receives the parse thread's events in order, writes each
//! batch in one transaction, restores native documents, quarantines what could not be read,
//! and keeps the report.

use std::sync::atomic::Ordering;

use chat_model::FolderPath;
use chat_parse::ItemError;
use chat_store::{BulkItem, BulkWriter, QuarantineItem, Store};
use crossbeam_channel::Receiver;

use super::batch::{Batch, Event, WriterState};
use super::native;
use super::parse::notify;
use crate::report::{ErrorEntry, ImportReport, InputReport};
use crate::run_context::folder_for;
use crate::{ImportError, ImportOptions, Observed, ProgressState};

/// What the writer works with.
pub(super) struct Writer<'a> {
    pub(super) store: &'a Store,
    pub(super) report: &'a mut ImportReport,
    pub(super) options: &'a ImportOptions,
    pub(super) progress: &'a ProgressState,
    /// The `import_runs` row quarantined items belong to; `None` in a dry run.
    pub(super) run_id: Option<&'a str>,
    pub(super) state: &'a WriterState,
}

/// An item to keep in the quarantine table.
struct Kept<'a> {
    unit: usize,
    item: &'a str,
    error: &'a str,
    hint: &'a str,
    location: &'a str,
    raw: &'a [u8],
}

impl Writer<'_> {
    /// Handles every event until the parse thread is done.
    pub(super) fn write_all(mut self, rx: Receiver<Event>) -> Result<(), ImportError> {
        let mut bulk = self.store.bulk_writer()?;
        while let Some(event) = self.state.next(&rx) {
            self.handle(&mut bulk, event)?;
        }
        notify(self.options, self.progress);
        Ok(())
    }

    fn handle(&mut self, bulk: &mut BulkWriter, event: Event) -> Result<(), ImportError> {
        match event {
            Event::Begin { unit, path } => {
                let inputs = &mut self.report.inputs;
                while inputs.len() <= unit {
                    inputs.push(InputReport::new(""));
                }
                inputs[unit] = InputReport::new(path);
            }
            Event::Source { unit, source } => {
                if let Some(input) = self.report.inputs.get_mut(unit) {
                    input.source = Some(source);
                }
            }
            Event::Batch(batch) => {
                if let Some(media) = &batch.media {
                    media.wait()?;
                }
                let written = self.flush(bulk, &batch)?;
                if !self.options.dry_run {
                    self.state.wrote.store(written > 0, Ordering::Relaxed);
                }
            }
            Event::Native {
                unit,
                document,
                relink,
                media,
            } => {
                if let Some(media) = &media {
                    media.wait()?;
                }
                let detail = &document.conversation;
                let outcome = native::restore(self.store, detail, self.options.dry_run, relink);
                if let (Some(observe), Ok(status)) = (&self.options.observe, &outcome) {
                    let c = &detail.conversation;
                    observe(&Observed {
                        source: c.source,
                        id: c.id.as_str(),
                        title: &c.title,
                        messages: detail.messages.len(),
                        created_at: Some(c.created_at),
                        status: *status,
                    });
                }
                if let Some(input) = self.report.inputs.get_mut(unit) {
                    native::count(input, detail, outcome)?;
                }
                self.progress.conversations.fetch_add(1, Ordering::Relaxed);
            }
            Event::ItemError { unit, error } => self.item_error(unit, &error)?,
            Event::Media { unit, counts } => {
                if let Some(input) = self.report.inputs.get_mut(unit) {
                    input.counts.media.add(&counts);
                }
            }
            Event::Skipped { unit, count } => {
                if let Some(input) = self.report.inputs.get_mut(unit) {
                    input.counts.skipped += count;
                }
            }
            Event::Failed {
                unit,
                item,
                error,
                hint,
                raw,
            } => {
                let quarantine_id = match &raw {
                    Some(raw) => self.quarantine(&Kept {
                        unit,
                        item: &item,
                        error: &error,
                        hint: &hint,
                        location: "",
                        raw,
                    })?,
                    None => None,
                };
                if let Some(input) = self.report.inputs.get_mut(unit) {
                    input.counts.failed += 1;
                    input.errors.push(ErrorEntry {
                        item,
                        error,
                        hint,
                        quarantine_id,
                    });
                }
            }
            Event::Ignored { what } => self.report.ignored.push(what),
        }
        Ok(())
    }

    /// One conversation the parser could not read: kept with its raw bytes, and reported.
    fn item_error(&mut self, unit: usize, error: &ItemError) -> Result<(), ImportError> {
        let item = error.item.to_string();
        let location = error.location.to_string();
        let quarantine_id = match &error.raw {
            Some(raw) => self.quarantine(&Kept {
                unit,
                item: &item,
                error: &error.message,
                hint: &error.hint,
                location: &location,
                raw,
            })?,
            None => None,
        };
        if let Some(input) = self.report.inputs.get_mut(unit) {
            input.counts.seen += 1;
            input.counts.failed += 1;
            input.errors.push(ErrorEntry {
                item,
                error: with_location(&error.message, &location),
                hint: error.hint.clone(),
                quarantine_id,
            });
        }
        Ok(())
    }

    /// Keeps an item in the quarantine table; its row id, or `None` in a dry run.
    fn quarantine(&self, kept: &Kept<'_>) -> Result<Option<i64>, ImportError> {
        let Some(run_id) = self.run_id else {
            return Ok(None);
        };
        let input = self.report.inputs.get(kept.unit);
        let item = QuarantineItem {
            id: 0,
            run_id: run_id.to_owned(),
            input: input.map(|i| i.path.clone()).unwrap_or_default(),
            item: kept.item.to_owned(),
            error: kept.error.to_owned(),
            hint: Some(kept.hint.to_owned()),
            source: input.and_then(|i| i.source),
            location: (!kept.location.is_empty()).then(|| kept.location.to_owned()),
            raw: Some(kept.raw.to_vec()),
            created_at: chat_model::timestamp::now(),
        };
        Ok(Some(self.store.write(|repo| repo.quarantine_item(&item))?))
    }

    /// Writes one batch and counts it in the report; returns the messages written.
    fn flush(&mut self, bulk: &mut BulkWriter, batch: &Batch) -> Result<u64, ImportError> {
        if batch.items.is_empty() {
            return Ok(0);
        }
        let folders: Vec<Option<FolderPath>> = batch
            .items
            .iter()
            .map(|p| {
                if self.options.subfolders {
                    folder_for(&p.conversation, self.options.folder.as_ref())
                } else {
                    self.options.folder.clone()
                }
            })
            .collect();
        let items: Vec<BulkItem<'_>> = batch
            .items
            .iter()
            .zip(&folders)
            .map(|(p, folder)| BulkItem {
                conversation: &p.conversation,
                folder: folder.as_ref(),
                prepared: p.prepared.as_ref(),
            })
            .collect();
        let outcomes = if self.options.dry_run {
            bulk.preview_batch(&items)?
        } else {
            bulk.write_batch_tokenized(&items, &batch.tokens)?
        };
        let mut written = 0;
        for (pending, outcome) in batch.items.iter().zip(outcomes) {
            written += outcome.messages_written;
            if let Some(observe) = &self.options.observe {
                let c = &pending.conversation;
                observe(&Observed {
                    source: c.source,
                    id: &c.source_id,
                    title: &c.title,
                    messages: c.messages.len(),
                    created_at: c.created_at,
                    status: outcome.status,
                });
            }
            if let Some(input) = self.report.inputs.get_mut(pending.unit) {
                input
                    .counts
                    .add_write(outcome.status, outcome.messages_written);
            }
            self.progress.conversations.fetch_add(1, Ordering::Relaxed);
            self.progress
                .messages
                .fetch_add(outcome.messages_written, Ordering::Relaxed);
        }
        notify(self.options, self.progress);
        Ok(written)
    }
}

fn with_location(message: &str, location: &str) -> String {
    if location.is_empty() {
        message.to_owned()
    } else {
        format!("{message} ({location})")
    }
}
