//! The parse thread: every unit of the plan in order, each through detection and its parser,
//! with what comes out sent to the writer through the [`Batcher`].

use std::io::Read;
use std::sync::atomic::Ordering;

use chat_export::ExportDocument;
use chat_model::ParsedConversation;
use chat_parse::json::ArrayStream;
use chat_parse::{
    Flow, Input, ItemError, ItemRef, ParseError, Parser, Probe, Sink, Skipped, PROBE_LEN,
};

use super::batch::{Batcher, Event};
use crate::detect::{detect, wrong_source_message, Detected};
use crate::media::MediaResolver;
use crate::plan::Unit;
use crate::run_context::RunContext;
use crate::source::{OpenError, Opener, Origin};
use crate::{ImportOptions, ProgressState};

/// Most bytes of a cut-off tail kept in quarantine.
const MAX_QUARANTINE_TAIL: u64 = 64 * 1024 * 1024;

/// What the parse thread works with.
pub(super) struct ParseThread<'a> {
    pub(super) parsers: &'a [Box<dyn Parser>],
    pub(super) opener: &'a Opener,
    pub(super) options: &'a ImportOptions,
    pub(super) progress: &'a ProgressState,
}

/// What became of one unit.
enum Next {
    /// It took a report slot (read, or failed as a whole).
    Counted,
    /// It was passed over (not a chat export, found inside a folder or archive).
    Passed,
    /// The writer has gone: stop.
    Stop,
}

impl ParseThread<'_> {
    /// Reads every unit in order; report slots start at `base`.
    pub(super) fn parse_all(&self, units: &[Unit], base: usize, out: &mut Batcher<'_>) {
        let mut bytes_done = 0u64;
        let mut slot = base;
        let mut context = RunContext::default();
        for unit in units {
            if self.options.cancel.load(Ordering::Relaxed) {
                return;
            }
            if let Ok(mut current) = self.progress.current.lock() {
                current.clone_from(&unit.origin.display());
            }
            match self.parse_unit(unit, slot, &mut bytes_done, &mut context, out) {
                Next::Counted => slot += 1,
                Next::Passed => {}
                Next::Stop => return,
            }
        }
    }

    fn parse_unit(
        &self,
        unit: &Unit,
        slot: usize,
        bytes_done: &mut u64,
        context: &mut RunContext,
        out: &mut Batcher<'_>,
    ) -> Next {
        let name = unit.origin.display();
        let head = match self.opener.head(&unit.origin, PROBE_LEN) {
            Ok(h) => h,
            Err(e) => {
                let hint = match e {
                    OpenError::Bomb { .. } => {
                        "the archive is not a genuine export; download it again from the provider"
                    }
                    _ => "check that the file is readable, then import it again",
                };
                return fail_whole(out, slot, &name, e.to_string(), hint.into());
            }
        };
        let probe = Probe::new(&name, &head);
        match detect(self.parsers, &probe, self.options.source) {
            Detected::Unknown {
                error,
                hint,
                notable,
            } => {
                if unit.explicit || notable {
                    fail_whole(out, slot, &name, error, hint)
                } else if out.send(Event::Ignored {
                    what: format!("{name}: {error}"),
                }) {
                    Next::Passed
                } else {
                    Next::Stop
                }
            }
            Detected::WrongSource {
                forced, looks_like, ..
            } => {
                let (error, hint) = wrong_source_message(forced, looks_like);
                fail_whole(out, slot, &name, error, hint)
            }
            Detected::Native => {
                if !out.send(Event::Begin {
                    unit: slot,
                    path: name.clone(),
                }) || !self.parse_native(unit, slot, &name, *bytes_done, out)
                {
                    return Next::Stop;
                }
                *bytes_done = self.progress.bytes_read.load(Ordering::Relaxed);
                Next::Counted
            }
            Detected::Parser(i) => {
                let parser = &*self.parsers[i];
                self.parse_with(parser, unit, slot, bytes_done, context, out)
            }
        }
    }

    /// Reads a unit with the parser detection chose.
    fn parse_with(
        &self,
        parser: &dyn Parser,
        unit: &Unit,
        slot: usize,
        bytes_done: &mut u64,
        context: &mut RunContext,
        out: &mut Batcher<'_>,
    ) -> Next {
        let name = &unit.origin.display();
        if !out.send(Event::Begin {
            unit: slot,
            path: name.to_owned(),
        }) || !out.send(Event::Source {
            unit: slot,
            source: parser.source(),
        }) {
            return Next::Stop;
        }
        let mut sink = ChannelSink {
            out: &mut *out,
            parser,
            origin: &unit.origin,
            unit: slot,
            options: self.options,
            progress: self.progress,
            base_bytes: *bytes_done,
            last_notified: 0,
            alive: true,
        };
        let mut across = context.sink(&mut sink, unit.workspace.as_deref());
        let outcome = self.opener.with_reader(&unit.origin, |opened| {
            parser.parse(
                Input {
                    name,
                    reader: opened.reader,
                    size: opened.size,
                },
                &mut across,
            )
        });
        if !sink.alive {
            return Next::Stop;
        }
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(self.parse_failure(&e, unit)),
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
                return Next::Stop;
            }
        }
        *bytes_done = self.progress.bytes_read.load(Ordering::Relaxed);
        Next::Counted
    }

    /// Reads an AI OS Chat export (a JSON array of documents), sending each document to the
    /// writer to restore; false when the writer has gone.
    fn parse_native(
        &self,
        unit: &Unit,
        slot: usize,
        name: &str,
        base_bytes: u64,
        out: &mut Batcher<'_>,
    ) -> bool {
        let outcome = self
            .opener
            .with_reader(&unit.origin, |opened| -> Result<bool, ParseError> {
                let mut stream = ArrayStream::new(opened.reader, name);
                while let Some(el) = stream.next_element()? {
                    if self.options.cancel.load(Ordering::Relaxed) {
                        return Ok(true);
                    }
                    let event = match el.parse::<ExportDocument>() {
                        Ok(document) => {
                            let Some(relink) = native_media(out, slot, &unit.origin, &document)
                            else {
                                return Ok(false);
                            };
                            Event::Native {
                                unit: slot,
                                document: Box::new(document),
                                relink,
                                media: out.media.as_ref().and_then(MediaResolver::mark),
                            }
                        }
                        Err(error) => Event::ItemError {
                            unit: slot,
                            error: Box::new(error),
                        },
                    };
                    if !out.send(event) {
                        return Ok(false);
                    }
                    self.progress
                        .bytes_read
                        .store(base_bytes + stream.bytes_read(), Ordering::Relaxed);
                }
                Ok(true)
            });
        let failure = match outcome {
            Ok(Ok(alive)) => return alive,
            Ok(Err(e)) => self.parse_failure(&e, unit),
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

    /// The words and the kept bytes for a parse error that ended an input.
    fn parse_failure(&self, e: &ParseError, unit: &Unit) -> (String, String, Option<Vec<u8>>) {
        let raw = match e {
            ParseError::Truncated { offset, .. } => read_tail(self.opener, &unit.origin, *offset),
            _ => None,
        };
        (e.to_string(), e.hint(), raw)
    }
}

/// Stores the media of a native document before it is restored (so its messages link them)
/// and reports the counts, and each file whose bytes do not match their hash as a failed
/// item. Returns whether the store holds media the document refers to (an unchanged
/// conversation restored before the bytes came must then be linked to them); `None` when the
/// writer has gone.
fn native_media(
    out: &mut Batcher<'_>,
    unit: usize,
    origin: &Origin,
    document: &ExportDocument,
) -> Option<bool> {
    let Some(media) = out.media.as_mut() else {
        return Some(false);
    };
    let (counts, errors) = media.resolve_native(origin, document);
    if !counts.is_empty() && !out.send(Event::Media { unit, counts }) {
        return None;
    }
    let c = &document.conversation.conversation;
    let sent = errors.into_iter().all(|message| {
        out.send(Event::ItemError {
            unit,
            error: Box::new(ItemError {
                item: ItemRef {
                    index: None,
                    id: Some(c.id.to_string()),
                    title: Some(c.title.clone()),
                },
                message,
                location: Default::default(),
                hint: "export the conversations again with --with-media (or from the API), or \
                       import the zip as it was downloaded; the conversation is imported \
                       without these bytes"
                    .to_owned(),
                raw: None,
            }),
        })
    });
    sent.then_some(counts.stored + counts.deduplicated > 0)
}

/// An input that fails as a whole: its report slot, and one failed item.
fn fail_whole(out: &mut Batcher<'_>, slot: usize, name: &str, error: String, hint: String) -> Next {
    let sent = out.send(Event::Begin {
        unit: slot,
        path: name.to_owned(),
    }) && out.send(Event::Failed {
        unit: slot,
        item: "file".into(),
        error,
        hint,
        raw: None,
    });
    if sent {
        Next::Counted
    } else {
        Next::Stop
    }
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

/// Calls the progress callback with a snapshot.
pub(super) fn notify(options: &ImportOptions, progress: &ProgressState) {
    if let Some(cb) = &options.progress {
        cb(&progress.snapshot());
    }
}

/// Forwards what a parser pushes to the writer, and turns cancellation into [`Flow::Stop`].
struct ChannelSink<'a, 'b> {
    out: &'a mut Batcher<'b>,
    /// The parser reading the input and where the input is, for finding media.
    parser: &'a dyn Parser,
    origin: &'a Origin,
    unit: usize,
    options: &'a ImportOptions,
    progress: &'a ProgressState,
    base_bytes: u64,
    last_notified: u64,
    alive: bool,
}

impl ChannelSink<'_, '_> {
    fn forward(&mut self, send: impl FnOnce(&mut Batcher<'_>) -> bool) -> Flow {
        if !self.alive || self.options.cancel.load(Ordering::Relaxed) {
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
    fn conversation(&mut self, mut conversation: ParsedConversation) -> Flow {
        let unit = self.unit;
        let (parser, origin) = (self.parser, self.origin);
        self.forward(|out| {
            if let Some(media) = out.media.as_mut() {
                let counts = media.resolve(parser, origin, &mut conversation);
                if !counts.is_empty() && !out.send(Event::Media { unit, counts }) {
                    return false;
                }
            }
            out.conversation(unit, conversation)
        })
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
