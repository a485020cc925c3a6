use serde::Serialize;

use crate::{ItemError, ItemRef, ParsedConversation};

/// Whether a parser should go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep pushing.
    Continue,
    /// Stop as soon as possible (cancelled, or the consumer has seen enough).
    Stop,
}

/// An entry that is not a conversation and was passed over on purpose (a ChatGPT project row, a
/// Takeout record of another verb). Counted, not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Which entry.
    pub item: ItemRef,
    /// Why it was passed over.
    pub reason: String,
}

/// Where a parser pushes what it reads. Every method returns whether to go on.
pub trait Sink {
    /// A conversation read whole.
    fn conversation(&mut self, conversation: ParsedConversation) -> Flow;
    /// An item that could not be read; the parser goes on with the next one.
    fn item_error(&mut self, error: ItemError) -> Flow;
    /// An entry passed over on purpose.
    fn skipped(&mut self, skipped: Skipped) -> Flow;
    /// Progress: how many bytes of the input have been consumed. Called now and then.
    fn progress(&mut self, _bytes_read: u64) {}
}

/// A sink that keeps everything in memory: for tests, dry runs and small inputs.
#[derive(Debug, Default)]
pub struct CollectSink {
    /// Conversations, in order.
    pub conversations: Vec<ParsedConversation>,
    /// Item errors, in order.
    pub errors: Vec<ItemError>,
    /// Skipped entries, in order.
    pub skipped: Vec<Skipped>,
    /// The last progress figure reported.
    pub bytes_read: u64,
}

impl CollectSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Total messages over all conversations.
    pub fn message_count(&self) -> usize {
        self.conversations.iter().map(|c| c.messages.len()).sum()
    }
}

impl Sink for CollectSink {
    fn conversation(&mut self, conversation: ParsedConversation) -> Flow {
        self.conversations.push(conversation);
        Flow::Continue
    }
    fn item_error(&mut self, error: ItemError) -> Flow {
        self.errors.push(error);
        Flow::Continue
    }
    fn skipped(&mut self, skipped: Skipped) -> Flow {
        self.skipped.push(skipped);
        Flow::Continue
    }
    fn progress(&mut self, bytes_read: u64) {
        self.bytes_read = bytes_read;
    }
}
