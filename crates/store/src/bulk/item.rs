//! What the bulk writer takes and what it reports.

use chat_model::{ConversationId, FolderPath, ParsedConversation};

use super::prepare::Prepared;

/// One conversation to write.
#[derive(Debug, Clone, Copy)]
pub struct BulkItem<'a> {
    /// The parsed conversation.
    pub conversation: &'a ParsedConversation,
    /// Where a newly inserted conversation is filed; `None` is the source's default folder.
    /// Ignored for a conversation that already exists (the user's filing wins).
    pub folder: Option<&'a FolderPath>,
    /// What the writer derives from `conversation`, if the caller computed it already
    /// ([`Prepared::new`]; an importer does so on its parse thread, off the writer's). It must
    /// have been made from this same conversation. `None`: the writer derives it itself.
    pub prepared: Option<&'a Prepared>,
}

impl<'a> BulkItem<'a> {
    /// What a conversation is keyed on: `(source, provider id)`.
    pub(crate) fn key(&self) -> (&'a str, &'a str) {
        (
            self.conversation.source.as_str(),
            self.conversation.source_id.as_str(),
        )
    }
}

/// What happened to one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteStatus {
    /// It was new.
    Inserted,
    /// It existed and changed: new messages added, changed ones updated.
    Updated,
    /// It existed with the same content hash; nothing was written.
    Unchanged,
}

/// The outcome for one [`BulkItem`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Our id for the conversation.
    pub conversation_id: ConversationId,
    /// Inserted, updated or unchanged.
    pub status: WriteStatus,
    /// Messages inserted or updated.
    pub messages_written: u64,
}
