//! The two threads of a run and what passes between them.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chat_export::ExportDocument;
use chat_model::{ParsedConversation, Source};
use chat_parse::{
    json::ArrayStream, Flow, Input, ItemError, ParseError, Parser, Probe, Sink, Skipped, PROBE_LEN,
};
use chat_store::{BulkItem, ImportRunRecord, Prepared, Pretokenizer, Store, TokenSet, WriteStatus};
use crossbeam_channel::{bounded, Receiver, Sender};

use crate::detect::{detect, wrong_source_message, Detected};
use crate::plan::{plan, Unit};
use crate::report::{ErrorEntry, ImportReport, InputReport};
use crate::run_context::{folder_for, RunContext};
use crate::source::{Opener, Origin};
use crate::{ImportError, ImportOptions, ProgressState, CHANNEL_CAPACITY};

/// Most bytes of a cut-off tail kept in quarantine.
const MAX_QUARANTINE_TAIL: u64 = 64 * 1024 * 1024;

/// What the parse thread tells the writer.
enum Event {
    /// A new input starts; its report slot is `unit`.
    Begin {
        unit: usize,
        path: String,
    },
    /// The input was recognised as this source.
    Source {
        unit: usize,
        source: Source,
    },
    /// Conversations for one writer transaction (see [`Batcher`]).
    Batch(Batch),
    Native {
        unit: usize,
        document: Box<ExportDocument>,
    },
    ItemError {
        unit: usize,
        error: Box<ItemError>,
    },
    /// Entries of the input that are not conversations.
    Skipped {
        unit: usize,
        count: u64,
    },
    /// The input failed as a whole (or its tail did): one failed item, raw bytes when known.
    Failed {
        unit: usize,
        item: String,
        error: String,
        hint: String,
        raw: Option<Vec<u8>>,
    },
    /// Passed over: not a chat export.
    Ignored {
        what: String,
    },
}

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

    let run_id = if options.dry_run {
        None
    } else {
        let id = options
            .run_id
            .clone()
            .unwrap_or_else(|| chat_model::ConversationId::generate().into_string());
        let inputs: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let record = ImportRunRecord {
            id: id.clone(),
            started_at: chat_model::timestamp::now(),
            finished_at: None,
            status: "running".to_owned(),
            inputs: serde_json::json!(inputs),
            sources: serde_json::json!([]),
            report: None,
            error: None,
        };
        store.write(|repo| repo.create_import_run(&record))?;
        Some((id, record))
    };
    report.run_id = run_id.as_ref().map(|(id, _)| id.clone());

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
        let parse = scope.spawn(move || {
            let mut out = Batcher::new(&tx, &parse_options, state, &parse_progress);
            parse_all(
                &units,
                base,
                &parsers,
                &opener,
                &parse_options,
                &parse_progress,
                &mut out,
            );
            // What was read before the end (or a cancellation) is written too.
            out.flush();
        });
        let run = run_id.as_ref().map(|(id, _)| id.as_str());
        let written = write_all(
            store,
            rx,
            &mut report,
            options,
            &progress,
            run,
            &writer_state,
        );
        let joined = parse.join();
        match (written, joined) {
            (Err(e), _) => Err(e),
            (Ok(()), Err(_)) => Err(ImportError::Internal("the parse thread panicked".into())),
            (Ok(()), Ok(())) => Ok(()),
        }
    });
    report.cancelled = options.cancel.load(Ordering::Relaxed);
    report.recount();
    if let Some((id, mut record)) = run_id {
        let status = match (&result, report.cancelled) {
            (Err(_), _) => "failed",
            (Ok(()), true) => "cancelled",
            (Ok(()), false) => "done",
        };
        let detected: Vec<String> = {
            let mut s: Vec<String> = report
                .inputs
                .iter()
                .filter_map(|i| i.source.map(|s| s.as_str().to_owned()))
                .collect();
            s.sort();
            s.dedup();
            s
        };
        let report_json = serde_json::to_value(&report).unwrap_or_default();
        let error = result.as_ref().err().map(|e| e.to_string());
        // Recording the end of the run must not hide the run's own error.
        record.finished_at = Some(chat_model::timestamp::now());
        record.status = status.to_owned();
        record.sources = serde_json::json!(detected);
        record.report = Some(report_json);
        record.error = error;
        let finished = store.write(|repo| repo.update_import_run(&record));
        if let Err(e) = finished {
            tracing::warn!(run = %id, error = %e, "could not record the end of the import run");
        }
    }
    result.map(|()| report)
}

fn unit_size(origin: &Origin) -> Option<u64> {
    match origin {
        Origin::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        Origin::ZipEntry { .. } => None,
    }
}

fn notify(options: &ImportOptions, progress: &ProgressState) {
    if let Some(cb) = &options.progress {
        cb(&progress.snapshot());
    }
}

/// The parse thread: every unit in order, each through detection and its parser.
fn parse_all(
    units: &[Unit],
    base: usize,
    parsers: &[Box<dyn Parser>],
    opener: &Opener,
    options: &ImportOptions,
    progress: &ProgressState,
    out: &mut Batcher<'_>,
) {
    let mut bytes_done = 0u64;
    let mut slot = base;
    let mut context = RunContext::default();
    for unit in units {
        if options.cancel.load(Ordering::Relaxed) {
            return;
        }
        let name = unit.origin.display();
        if let Ok(mut current) = progress.current.lock() {
            current.clone_from(&name);
        }
        let head = match opener.head(&unit.origin, PROBE_LEN) {
            Ok(h) => h,
            Err(e) => {
                if !out.send(Event::Begin {
                    unit: slot,
                    path: name.clone(),
                }) {
                    return;
                }
                let hint = match e {
                    crate::source::OpenError::Bomb { .. } => {
                        "the archive is not a genuine export; download it again from the provider"
                    }
                    _ => "check that the file is readable, then import it again",
                };
                if !out.send(Event::Failed {
                    unit: slot,
                    item: "file".into(),
                    error: e.to_string(),
                    hint: hint.into(),
                    raw: None,
                }) {
                    return;
                }
                slot += 1;
                continue;
            }
        };
        let probe = Probe::new(&name, &head);
        let detected = detect(parsers, &probe, options.source);
        let (error, hint) = match detected {
            Detected::Unknown {
                error,
                hint,
                notable,
            } => {
                if unit.explicit || notable {
                    (error, hint)
                } else {
                    if !out.send(Event::Ignored {
                        what: format!("{name}: {error}"),
                    }) {
                        return;
                    }
                    continue;
                }
            }
            Detected::WrongSource {
                forced, looks_like, ..
            } => wrong_source_message(forced, looks_like),
            Detected::Native => {
                if !out.send(Event::Begin {
                    unit: slot,
                    path: name.clone(),
                }) {
                    return;
                }
                if !parse_native(
                    unit, slot, &name, opener, options, progress, bytes_done, out,
                ) {
                    return;
                }
                bytes_done = progress.bytes_read.load(Ordering::Relaxed);
                slot += 1;
                continue;
            }
            Detected::Parser(i) => {
                let parser = &parsers[i];
                if !out.send(Event::Begin {
                    unit: slot,
                    path: name.clone(),
                }) || !out.send(Event::Source {
                    unit: slot,
                    source: parser.source(),
                }) {
                    return;
                }
                let mut sink = ChannelSink {
                    out: &mut *out,
                    unit: slot,
                    cancel: &options.cancel,
                    progress,
                    options,
                    base_bytes: bytes_done,
                    last_notified: 0,
                    alive: true,
                };
                let mut across = context.sink(&mut sink, unit.workspace.as_deref());
                let outcome = opener.with_reader(&unit.origin, |opened| {
                    parser.parse(
                        Input {
                            name: &name,
                            reader: opened.reader,
                            size: opened.size,
                        },
                        &mut across,
                    )
                });
                if !sink.alive {
                    return;
                }
                let failure = match outcome {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(parse_failure(&e, unit, opener)),
                    Err(e) => Some((
                        e.to_string(),
                        "check that the file is readable, then import it again".to_owned(),
                        None,
                    )),
                };
                if let Some((error, hint, raw)) = failure {
                    if !out.send(Event::Failed {
                        unit: slot,
                        item: "file".into(),
                        error,
                        hint,
                        raw,
                    }) {
                        return;
                    }
                }
                bytes_done = progress.bytes_read.load(Ordering::Relaxed);
                slot += 1;
                continue;
            }
        };
        // Unknown or wrong source: the input fails as a whole.
        if !out.send(Event::Begin {
            unit: slot,
            path: name.clone(),
        }) || !out.send(Event::Failed {
            unit: slot,
            item: "file".into(),
            error,
            hint,
            raw: None,
        }) {
            return;
        }
        slot += 1;
    }
}

/// The words and the kept bytes for a parse error that ended an input.
fn parse_failure(
    e: &ParseError,
    unit: &Unit,
    opener: &Opener,
) -> (String, String, Option<Vec<u8>>) {
    let raw = match e {
        ParseError::Truncated { offset, .. } => read_tail(opener, &unit.origin, *offset),
        _ => None,
    };
    (e.to_string(), e.hint(), raw)
}

/// The bytes from `offset` to the end (at most [`MAX_QUARANTINE_TAIL`]).
fn read_tail(opener: &Opener, origin: &Origin, offset: u64) -> Option<Vec<u8>> {
    opener
        .with_reader(origin, |opened| {
            let mut skip = opened.reader.take(offset);
            std::io::copy(&mut skip, &mut std::io::sink()).ok()?;
            let mut tail = Vec::new();
            opened
                .reader
                .take(MAX_QUARANTINE_TAIL)
                .read_to_end(&mut tail)
                .ok()?;
            Some(tail)
        })
        .ok()
        .flatten()
}

#[allow(clippy::too_many_arguments)]
fn parse_native(
    unit: &Unit,
    slot: usize,
    name: &str,
    opener: &Opener,
    options: &ImportOptions,
    progress: &ProgressState,
    base_bytes: u64,
    out: &mut Batcher<'_>,
) -> bool {
    let outcome = opener.with_reader(&unit.origin, |opened| -> Result<bool, ParseError> {
        let mut stream = ArrayStream::new(opened.reader, name);
        while let Some(el) = stream.next_element()? {
            if options.cancel.load(Ordering::Relaxed) {
                return Ok(true);
            }
            let event = match el.parse::<ExportDocument>() {
                Ok(document) => Event::Native {
                    unit: slot,
                    document: Box::new(document),
                },
                Err(error) => Event::ItemError {
                    unit: slot,
                    error: Box::new(error),
                },
            };
            if !out.send(event) {
                return Ok(false);
            }
            progress
                .bytes_read
                .store(base_bytes + stream.bytes_read(), Ordering::Relaxed);
        }
        Ok(true)
    });
    let failure = match outcome {
        Ok(Ok(alive)) => return alive,
        Ok(Err(e)) => parse_failure(&e, unit, opener),
        Err(e) => (
            e.to_string(),
            "check that the file is readable".to_owned(),
            None,
        ),
    };
    out.send(Event::Failed {
        unit: slot,
        item: "file".into(),
        error: failure.0,
        hint: failure.1,
        raw: failure.2,
    })
}

/// The parse thread's end of the channel. It gathers conversations into batches (one writer
/// transaction each, within [`ImportOptions`]' limits) and sends whole batches, so the parser
/// fills the next batch while the writer commits the last one: the two threads overlap. Sent
/// one by one, conversations stopped the parser as soon as the channel's few slots were full,
/// and the writer then waited for most of its next batch: they took turns on the two cores.
/// Skipped entries are counted here too; other events go through at once.
///
/// The batcher also tokenizes the batch's texts for the full-text index ahead of the writer
/// (`chat_store::Pretokenizer`) unless the writer is waiting for it, so the two threads
/// balance their work. It stops while the writer reports batches that wrote nothing (a
/// re-import of an unchanged export, where the tokens would go unused), and resumes when one
/// writes again.
struct Batcher<'a> {
    tx: &'a Sender<Event>,
    options: &'a ImportOptions,
    batch: Vec<Pending>,
    messages: usize,
    bytes: usize,
    skipped: Option<(usize, u64)>,
    tokens: TokenSet,
    tokenizer: Option<Pretokenizer>,
    /// What the writer reports, for tokenizing ahead.
    writer: &'a WriterState,
    /// Input bytes read and expected, for the size of the last batches.
    progress: &'a ProgressState,
    /// Message text seen so far, in bytes.
    text_seen: u64,
    /// Batches sent so far (see [`RAMP`]).
    sent: u32,
}

/// The first batches hold less text: 1/8, 1/4 and 1/2 of [`ImportOptions::batch_bytes`], then
/// all of it. The writer has nothing to do until the first batch arrives, so a whole first
/// batch kept it idle for a tenth of a 100 MB import.
const RAMP: u32 = 3;

/// Towards the end of the input the batches shrink again: each holds at most half the text
/// still expected (from the bytes left to read and the text per byte so far), and no less
/// than 1/8 of [`ImportOptions::batch_bytes`]. The last batch is written after the parser has
/// finished, while its core idles; a whole one made that tail a tenth of a 100 MB import.
/// (Shrinking from further back, a quarter of what is left, cost more in commits than it
/// saved.)
const TAIL_SHARE: u64 = 2;

impl<'a> Batcher<'a> {
    fn new(
        tx: &'a Sender<Event>,
        options: &'a ImportOptions,
        writer: &'a WriterState,
        progress: &'a ProgressState,
    ) -> Self {
        Batcher {
            tx,
            options,
            batch: Vec::new(),
            messages: 0,
            bytes: 0,
            skipped: None,
            tokens: TokenSet::default(),
            tokenizer: Pretokenizer::new(),
            writer,
            progress,
            text_seen: 0,
            sent: 0,
        }
    }

    /// Sends `event` (in order with the batches sent before it); false when the writer has gone.
    fn send(&mut self, event: Event) -> bool {
        self.tx.send(event).is_ok()
    }

    fn conversation(&mut self, unit: usize, conversation: ParsedConversation) -> bool {
        if let Some(tokenizer) = &mut self.tokenizer {
            // Not while the writer waits for us: tokenizing here would then delay it further,
            // so it tokenizes those texts itself.
            if self.writer.wants_tokens() {
                tokenizer.add(&mut self.tokens, &conversation.title);
                for m in &conversation.messages {
                    tokenizer.add(&mut self.tokens, &m.content);
                }
            }
        }
        self.messages += conversation.messages.len();
        let text: usize = conversation.messages.iter().map(|m| m.content.len()).sum();
        self.bytes += text;
        self.text_seen += text as u64;
        // Derived here, off the writer's thread; if it fails, the writer derives it again and
        // reports the error against the conversation.
        let prepared = Prepared::new(&conversation).ok();
        self.batch.push(Pending {
            unit,
            conversation: Box::new(conversation),
            prepared,
        });
        let o = self.options;
        if self.batch.len() >= o.batch_conversations
            || self.messages >= o.batch_messages
            || self.bytes >= self.byte_limit()
        {
            return self.flush();
        }
        true
    }

    /// The text bytes that fill the current batch (see [`RAMP`] and [`TAIL_SHARE`]).
    fn byte_limit(&self) -> usize {
        let full = self.options.batch_bytes;
        let mut limit = full >> RAMP.saturating_sub(self.sent);
        let read = self.progress.bytes_read.load(Ordering::Relaxed);
        let total = self.progress.bytes_total.load(Ordering::Relaxed);
        if read > 0 && total > read {
            let expected = u128::from(total - read) * u128::from(self.text_seen) / u128::from(read);
            let tail = usize::try_from(expected / u128::from(TAIL_SHARE)).unwrap_or(usize::MAX);
            limit = limit.min(tail.max(full / 8));
        }
        limit.max(1)
    }

    fn skipped(&mut self, unit: usize) -> bool {
        match &mut self.skipped {
            Some((u, n)) if *u == unit => {
                *n += 1;
                true
            }
            _ => {
                let earlier = self.skipped.replace((unit, 1));
                earlier.is_none_or(|(unit, count)| self.send(Event::Skipped { unit, count }))
            }
        }
    }

    /// Sends the batch gathered so far.
    fn flush(&mut self) -> bool {
        if let Some((unit, count)) = self.skipped.take() {
            if !self.send(Event::Skipped { unit, count }) {
                return false;
            }
        }
        self.messages = 0;
        self.bytes = 0;
        if self.batch.is_empty() {
            return true;
        }
        let batch = Batch {
            items: std::mem::take(&mut self.batch),
            tokens: std::mem::take(&mut self.tokens),
        };
        self.sent = self.sent.saturating_add(1);
        self.send(Event::Batch(batch))
    }
}

/// Forwards what a parser pushes to the writer, and turns cancellation into [`Flow::Stop`].
struct ChannelSink<'a, 'b> {
    out: &'a mut Batcher<'b>,
    unit: usize,
    cancel: &'a std::sync::atomic::AtomicBool,
    progress: &'a ProgressState,
    options: &'a ImportOptions,
    base_bytes: u64,
    last_notified: u64,
    alive: bool,
}

impl ChannelSink<'_, '_> {
    fn forward(&mut self, send: impl FnOnce(&mut Batcher<'_>) -> bool) -> Flow {
        if !self.alive || self.cancel.load(Ordering::Relaxed) {
            return Flow::Stop;
        }
        if !send(self.out) {
            self.alive = false;
            return Flow::Stop;
        }
        Flow::Continue
    }
}

impl Sink for ChannelSink<'_, '_> {
    fn conversation(&mut self, conversation: ParsedConversation) -> Flow {
        let unit = self.unit;
        self.forward(|out| out.conversation(unit, conversation))
    }

    fn item_error(&mut self, error: ItemError) -> Flow {
        let unit = self.unit;
        self.forward(|out| {
            out.send(Event::ItemError {
                unit,
                error: Box::new(error),
            })
        })
    }

    fn skipped(&mut self, _skipped: Skipped) -> Flow {
        let unit = self.unit;
        self.forward(|out| out.skipped(unit))
    }

    fn progress(&mut self, bytes_read: u64) {
        let total = self.base_bytes + bytes_read;
        self.progress.bytes_read.store(total, Ordering::Relaxed);
        // Notify at most every 4 MiB of input.
        if total.saturating_sub(self.last_notified) >= 4 * 1024 * 1024 {
            self.last_notified = total;
            notify(self.options, self.progress);
        }
    }
}

/// What the writer writes in one transaction.
struct Batch {
    items: Vec<Pending>,
    /// The items' texts, tokenized ahead (may be empty or partial).
    tokens: TokenSet,
}

/// What the writer tells the parse thread, for tokenizing ahead (see [`Batcher`]).
#[derive(Debug)]
struct WriterState {
    /// Whether the last batch wrote messages (or none was written yet).
    wrote: AtomicBool,
    /// Whether the writer is blocked waiting for the next event.
    waiting: AtomicBool,
}

impl WriterState {
    fn new(tokenize: bool) -> Self {
        WriterState {
            wrote: AtomicBool::new(tokenize),
            waiting: AtomicBool::new(false),
        }
    }

    fn wants_tokens(&self) -> bool {
        self.wrote.load(Ordering::Relaxed) && !self.waiting.load(Ordering::Relaxed)
    }

    /// The next event, noting while the writer waits for it.
    fn next(&self, rx: &Receiver<Event>) -> Option<Event> {
        if let Ok(event) = rx.try_recv() {
            return Some(event);
        }
        self.waiting.store(true, Ordering::Relaxed);
        let event = rx.recv().ok();
        self.waiting.store(false, Ordering::Relaxed);
        event
    }
}

/// A conversation waiting for the next batch.
struct Pending {
    unit: usize,
    conversation: Box<ParsedConversation>,
    prepared: Option<Prepared>,
}

/// The writer: receives events, batches conversations into transactions, keeps the report.
fn write_all(
    store: &Store,
    rx: Receiver<Event>,
    report: &mut ImportReport,
    options: &ImportOptions,
    progress: &ProgressState,
    run_id: Option<&str>,
    state: &WriterState,
) -> Result<(), ImportError> {
    let mut writer = store.bulk_writer()?;
    while let Some(event) = state.next(&rx) {
        match event {
            Event::Begin { unit, path } => {
                while report.inputs.len() <= unit {
                    report.inputs.push(InputReport::new(""));
                }
                report.inputs[unit] = InputReport::new(path);
            }
            Event::Source { unit, source } => {
                if let Some(input) = report.inputs.get_mut(unit) {
                    input.source = Some(source);
                }
            }
            Event::Batch(batch) => {
                let written = flush(&mut writer, &batch, report, options, progress)?;
                if !options.dry_run {
                    state.wrote.store(written > 0, Ordering::Relaxed);
                }
            }
            Event::Native { unit, document } => {
                let detail = &document.conversation;
                let outcome = if options.dry_run {
                    store.read(|repo| native_status(repo, detail))
                } else {
                    store.write(|repo| {
                        let status = native_status(repo, detail)?;
                        if status != WriteStatus::Unchanged {
                            repo.save_conversation(detail)?;
                        }
                        Ok(status)
                    })
                };
                if let Some(input) = report.inputs.get_mut(unit) {
                    if input.source.is_none() {
                        input.source = Some(detail.conversation.source);
                    }
                    input.counts.seen += 1;
                    match outcome {
                        Ok(status) => count_status(input, status, detail.messages.len() as u64),
                        Err(
                            e @ (chat_store::Error::Conflict(_)
                            | chat_store::Error::InvalidInput(_)),
                        ) => {
                            input.counts.failed += 1;
                            input.errors.push(ErrorEntry {
                                item: format!(
                                    "\"{}\" (id {})",
                                    detail.conversation.title, detail.conversation.id
                                ),
                                error: e.to_string(),
                                hint:
                                    "this conversation clashes with one already in the database; \
                                       delete one of them, then import again"
                                        .to_owned(),
                                quarantine_id: None,
                            });
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                progress.conversations.fetch_add(1, Ordering::Relaxed);
            }
            Event::ItemError { unit, error } => {
                let quarantine_id = match (run_id, &error.raw) {
                    (Some(run), Some(raw)) => Some(quarantine(
                        store,
                        run,
                        report,
                        unit,
                        &error.item.to_string(),
                        &error.message,
                        &error.hint,
                        &error.location.to_string(),
                        raw,
                    )?),
                    _ => None,
                };
                if let Some(input) = report.inputs.get_mut(unit) {
                    input.counts.seen += 1;
                    input.counts.failed += 1;
                    input.errors.push(ErrorEntry {
                        item: error.item.to_string(),
                        error: with_location(&error.message, &error.location.to_string()),
                        hint: error.hint.clone(),
                        quarantine_id,
                    });
                }
            }
            Event::Skipped { unit, count } => {
                if let Some(input) = report.inputs.get_mut(unit) {
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
                let quarantine_id = match (run_id, &raw) {
                    (Some(run), Some(raw)) => Some(quarantine(
                        store, run, report, unit, &item, &error, &hint, "", raw,
                    )?),
                    _ => None,
                };
                if let Some(input) = report.inputs.get_mut(unit) {
                    input.counts.failed += 1;
                    input.errors.push(ErrorEntry {
                        item,
                        error,
                        hint,
                        quarantine_id,
                    });
                }
            }
            Event::Ignored { what } => report.ignored.push(what),
        }
    }
    notify(options, progress);
    Ok(())
}

fn with_location(message: &str, location: &str) -> String {
    if location.is_empty() {
        message.to_owned()
    } else {
        format!("{message} ({location})")
    }
}

#[allow(clippy::too_many_arguments)]
fn quarantine(
    store: &Store,
    run_id: &str,
    report: &ImportReport,
    unit: usize,
    item: &str,
    error: &str,
    hint: &str,
    location: &str,
    raw: &[u8],
) -> Result<i64, ImportError> {
    let input = report.inputs.get(unit);
    let item = chat_store::QuarantineItem {
        id: 0,
        run_id: run_id.to_owned(),
        input: input.map(|i| i.path.clone()).unwrap_or_default(),
        item: item.to_owned(),
        error: error.to_owned(),
        hint: Some(hint.to_owned()),
        source: input.and_then(|i| i.source),
        location: (!location.is_empty()).then(|| location.to_owned()),
        raw: Some(raw.to_vec()),
        created_at: chat_model::timestamp::now(),
    };
    Ok(store.write(|repo| repo.quarantine_item(&item))?)
}

fn count_status(input: &mut InputReport, status: WriteStatus, messages: u64) {
    match status {
        WriteStatus::Inserted => {
            input.counts.imported += 1;
            input.counts.messages += messages;
        }
        WriteStatus::Updated => {
            input.counts.updated += 1;
            input.counts.messages += messages;
        }
        WriteStatus::Unchanged => input.counts.unchanged += 1,
    }
}

/// Writes one batch and counts it in the report; returns the messages written.
fn flush(
    writer: &mut chat_store::BulkWriter,
    batch: &Batch,
    report: &mut ImportReport,
    options: &ImportOptions,
    progress: &ProgressState,
) -> Result<u64, ImportError> {
    if batch.items.is_empty() {
        return Ok(0);
    }
    let folders: Vec<Option<chat_model::FolderPath>> = batch
        .items
        .iter()
        .map(|p| folder_for(&p.conversation, options.folder.as_ref()))
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
    let outcomes = if options.dry_run {
        writer.preview_batch(&items)?
    } else {
        writer.write_batch_tokenized(&items, &batch.tokens)?
    };
    let mut written = 0;
    for (pending, outcome) in batch.items.iter().zip(outcomes) {
        written += outcome.messages_written;
        if let Some(input) = report.inputs.get_mut(pending.unit) {
            input.counts.seen += 1;
            match outcome.status {
                WriteStatus::Inserted => input.counts.imported += 1,
                WriteStatus::Updated => input.counts.updated += 1,
                WriteStatus::Unchanged => input.counts.unchanged += 1,
            }
            input.counts.messages += outcome.messages_written;
        }
        progress.conversations.fetch_add(1, Ordering::Relaxed);
        progress
            .messages
            .fetch_add(outcome.messages_written, Ordering::Relaxed);
    }
    notify(options, progress);
    Ok(written)
}

/// Whether restoring an AI OS Chat export document would insert, update or change nothing:
/// equal to what is stored (conversation, whole tree, tags, ratings) means unchanged.
fn native_status(
    repo: &chat_store::Repo<'_>,
    detail: &chat_model::ConversationDetail,
) -> chat_store::Result<WriteStatus> {
    match repo.get_conversation(&detail.conversation.id) {
        Ok(mut stored) => {
            let messages = repo.message_tree(&stored.id, true)?;
            stored.message_count = detail.conversation.message_count;
            let same = stored == detail.conversation && messages == detail.messages;
            Ok(if same {
                WriteStatus::Unchanged
            } else {
                WriteStatus::Updated
            })
        }
        Err(chat_store::Error::NotFound { .. }) => Ok(WriteStatus::Inserted),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(id: &str) -> ParsedConversation {
        serde_json::from_value(serde_json::json!({
            "source": "chatgpt", "source_id": id, "title": id, "messages": [], "active_leaf": null
        }))
        .unwrap_or_else(|e| panic!("a test conversation: {e}"))
    }

    /// What the writer receives: (unit, conversation ids) per batch and skipped counts.
    #[derive(Debug, PartialEq)]
    enum Seen {
        Batch(Vec<(usize, String)>),
        Skipped(usize, u64),
        Begin(usize),
    }

    static AHEAD: std::sync::LazyLock<WriterState> =
        std::sync::LazyLock::new(|| WriterState::new(true));
    /// Input sizes unknown: no shrinking towards the end.
    static NO_PROGRESS: std::sync::LazyLock<ProgressState> =
        std::sync::LazyLock::new(ProgressState::default);

    fn options(conversations: usize, bytes: usize) -> ImportOptions {
        ImportOptions {
            batch_conversations: conversations,
            batch_bytes: bytes,
            ..ImportOptions::default()
        }
    }

    fn drain(rx: &Receiver<Event>) -> Vec<Seen> {
        rx.try_iter()
            .map(|e| match e {
                Event::Batch(b) => Seen::Batch(
                    b.items
                        .into_iter()
                        .map(|p| (p.unit, p.conversation.source_id))
                        .collect(),
                ),
                Event::Skipped { unit, count } => Seen::Skipped(unit, count),
                Event::Begin { unit, .. } => Seen::Begin(unit),
                _ => panic!("unexpected event"),
            })
            .collect()
    }

    #[test]
    fn batcher_sends_whole_batches_across_units_and_counts_skipped_entries() {
        let options = options(2, usize::MAX);
        let (tx, rx) = bounded(64);
        let mut out = Batcher::new(&tx, &options, &AHEAD, &NO_PROGRESS);
        assert!(out.conversation(0, conversation("a")));
        assert!(out.skipped(0));
        assert!(out.skipped(0));
        assert!(
            drain(&rx).is_empty(),
            "nothing is sent before a batch is full"
        );
        assert!(out.conversation(0, conversation("b")));
        assert!(out.send(Event::Begin {
            unit: 1,
            path: "second".into()
        }));
        assert!(out.conversation(1, conversation("c")));
        assert!(out.skipped(1));
        assert!(out.flush());
        assert!(out.flush(), "flushing nothing sends nothing");
        assert_eq!(
            drain(&rx),
            vec![
                Seen::Skipped(0, 2),
                Seen::Batch(vec![(0, "a".into()), (0, "b".into())]),
                Seen::Begin(1),
                Seen::Skipped(1, 1),
                Seen::Batch(vec![(1, "c".into())]),
            ]
        );
    }

    /// A conversation holding one message of `bytes` bytes of text.
    fn with_text(id: &str, bytes: usize) -> ParsedConversation {
        let mut c = conversation(id);
        c.messages = serde_json::from_value(serde_json::json!([
            {"source_id": "m1", "role": "user", "content": "x".repeat(bytes)}
        ]))
        .unwrap_or_else(|e| panic!("a test message: {e}"));
        c
    }

    fn batches(rx: &Receiver<Event>) -> Vec<Batch> {
        rx.try_iter()
            .filter_map(|e| match e {
                Event::Batch(b) => Some(b),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_first_batches_ramp_up_to_the_byte_limit() {
        let options = options(usize::MAX, 80);
        let (tx, rx) = bounded(64);
        let mut out = Batcher::new(&tx, &options, &AHEAD, &NO_PROGRESS);
        for i in 0..24 {
            assert!(out.conversation(0, with_text(&format!("c{i}"), 10)));
        }
        assert!(out.flush());
        let sizes: Vec<usize> = batches(&rx).iter().map(|b| b.items.len()).collect();
        assert_eq!(sizes, [1, 2, 4, 8, 8, 1]);
    }

    #[test]
    fn the_last_batches_shrink_towards_the_end_of_the_input() {
        let options = options(usize::MAX, 80);
        let progress = ProgressState::default();
        progress.bytes_total.store(240, Ordering::Relaxed);
        let (tx, rx) = bounded(64);
        let mut out = Batcher::new(&tx, &options, &AHEAD, &progress);
        // 24 conversations of 10 bytes of text, one per 10 bytes of input.
        for i in 0..24u64 {
            progress.bytes_read.store(10 * (i + 1), Ordering::Relaxed);
            assert!(out.conversation(0, with_text(&format!("c{i}"), 10)));
        }
        assert!(out.flush());
        let sizes: Vec<usize> = batches(&rx).iter().map(|b| b.items.len()).collect();
        // Ramping up (1, 2, 4), then at most half of the text still expected, at least 10
        // bytes (80 / 8); the last conversation is read with nothing left to expect.
        assert_eq!(sizes, [1, 2, 4, 6, 4, 3, 2, 1, 1]);
    }

    #[test]
    fn texts_are_tokenized_ahead_unless_the_writer_waits() {
        let options = options(1, usize::MAX);
        let (tx, rx) = bounded(8);
        let writer = WriterState::new(true);
        let mut out = Batcher::new(&tx, &options, &writer, &NO_PROGRESS);
        assert!(out.conversation(0, with_text("a", 10)));
        // A writer blocked on the channel: we do not make it wait longer.
        let (idle_tx, idle_rx) = bounded::<Event>(1);
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| writer.next(&idle_rx));
            while !writer.waiting.load(Ordering::Relaxed) {
                std::thread::yield_now();
            }
            assert!(out.conversation(0, with_text("b", 10)));
            drop(idle_tx);
            assert!(waiting.join().is_ok_and(|e| e.is_none()));
        });
        assert!(!writer.waiting.load(Ordering::Relaxed));
        let sent = batches(&rx);
        assert_eq!(sent[0].tokens.len(), 2, "the title and the message");
        assert_eq!(sent[1].tokens.len(), 0);

        // Re-importing an unchanged export: the writer says its batches write nothing.
        let unchanged = WriterState::new(false);
        let mut out = Batcher::new(&tx, &options, &unchanged, &NO_PROGRESS);
        assert!(out.conversation(0, with_text("c", 10)));
        assert!(batches(&rx).iter().all(|b| b.tokens.is_empty()));
    }

    #[test]
    fn batcher_reports_a_writer_that_has_gone() {
        let options = options(1, usize::MAX);
        let (tx, rx) = bounded(1);
        drop(rx);
        let mut out = Batcher::new(&tx, &options, &AHEAD, &NO_PROGRESS);
        assert!(!out.conversation(0, conversation("a")));
    }

    #[test]
    fn batches_are_bounded_by_text_bytes() {
        let options = options(usize::MAX, 10);
        let mut big = conversation("big");
        big.messages = serde_json::from_value(serde_json::json!([
            {"source_id": "m1", "role": "user", "content": "more than ten bytes"}
        ]))
        .unwrap_or_else(|e| panic!("a test message: {e}"));
        let (tx, rx) = bounded(8);
        let mut out = Batcher::new(&tx, &options, &AHEAD, &NO_PROGRESS);
        assert!(out.conversation(0, conversation("small")));
        assert!(drain(&rx).is_empty());
        assert!(out.conversation(0, big));
        assert_eq!(
            drain(&rx),
            vec![Seen::Batch(vec![(0, "small".into()), (0, "big".into())])]
        );
    }
}
