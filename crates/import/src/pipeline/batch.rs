//! What passes between the parse thread and the writer: the events, and the batcher that
//! gathers conversations into one writer transaction each.

use std::sync::atomic::{AtomicBool, Ordering};

use chat_export::ExportDocument;
use chat_model::{ParsedConversation, Source};
use chat_parse::ItemError;
use chat_store::{MediaMark, Prepared, Pretokenizer, TokenSet};
use crossbeam_channel::{Receiver, Sender};

use crate::media::{MediaCounts, MediaResolver};
use crate::{ImportOptions, ProgressState};

/// What the parse thread tells the writer.
pub(super) enum Event {
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
    /// An AI OS Chat export document, restored with its ids. `relink`: the store holds media
    /// it refers to, so an unchanged conversation's messages are linked to them if they are not.
    Native {
        unit: usize,
        document: Box<ExportDocument>,
        relink: bool,
        /// The media stored for it, waited for before it is written.
        media: Option<MediaMark>,
    },
    ItemError {
        unit: usize,
        error: Box<ItemError>,
    },
    /// What the media of a conversation of the input came to.
    Media {
        unit: usize,
        counts: MediaCounts,
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
pub(super) struct Batcher<'a> {
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
    /// Stores the media of conversations before they are batched (`None` in a dry run).
    pub(super) media: Option<MediaResolver>,
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
    pub(super) fn new(
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
            media: None,
        }
    }

    /// Sends `event` (in order with the batches sent before it); false when the writer has gone.
    pub(super) fn send(&mut self, event: Event) -> bool {
        self.tx.send(event).is_ok()
    }

    pub(super) fn conversation(&mut self, unit: usize, conversation: ParsedConversation) -> bool {
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

    pub(super) fn skipped(&mut self, unit: usize) -> bool {
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
    pub(super) fn flush(&mut self) -> bool {
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
            media: self.media.as_ref().and_then(MediaResolver::mark),
        };
        self.sent = self.sent.saturating_add(1);
        self.send(Event::Batch(batch))
    }
}

/// What the writer writes in one transaction.
pub(super) struct Batch {
    pub(super) items: Vec<Pending>,
    /// The items' texts, tokenized ahead (may be empty or partial).
    pub(super) tokens: TokenSet,
    /// The media the items refer to are stored (durable and recorded) once this mark is
    /// waited for: the writer waits before writing the batch.
    pub(super) media: Option<MediaMark>,
}

/// What the writer tells the parse thread, for tokenizing ahead (see [`Batcher`]).
#[derive(Debug)]
pub(super) struct WriterState {
    /// Whether the last batch wrote messages (or none was written yet).
    pub(super) wrote: AtomicBool,
    /// Whether the writer is blocked waiting for the next event.
    waiting: AtomicBool,
}

impl WriterState {
    pub(super) fn new(tokenize: bool) -> Self {
        WriterState {
            wrote: AtomicBool::new(tokenize),
            waiting: AtomicBool::new(false),
        }
    }

    fn wants_tokens(&self) -> bool {
        self.wrote.load(Ordering::Relaxed) && !self.waiting.load(Ordering::Relaxed)
    }

    /// The next event, noting while the writer waits for it.
    pub(super) fn next(&self, rx: &Receiver<Event>) -> Option<Event> {
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
pub(super) struct Pending {
    pub(super) unit: usize,
    pub(super) conversation: Box<ParsedConversation>,
    pub(super) prepared: Option<Prepared>,
}

#[cfg(test)]
mod tests {
    use crossbeam_channel::bounded;

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
