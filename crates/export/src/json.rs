//! The lossless JSON export, which is also an import format.

use std::io::Write;

use chat_model::ConversationDetail;
use serde::{Deserialize, Serialize};

/// The `format` field that identifies an export document.
pub const FORMAT_NAME: &str = "ai-os-chat.conversation";
/// The current version of the document shape.
pub const FORMAT_VERSION: u32 = 1;

/// One conversation, whole: every message of every branch (hidden ones included) with parts,
/// ratings and source ids, plus tags and fork origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportDocument {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// The shape's version, [`FORMAT_VERSION`] when written by this code.
    pub version: u32,
    /// The conversation with its whole message tree.
    pub conversation: ConversationDetail,
    /// What is known about the media the conversation's parts refer to (by their `media`
    /// hash): written by an export with media, whose zip holds their bytes under
    /// `media/<hash>.<ext>`, so an import names and checks them. Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaEntry>,
}

/// One media item of an [`ExportDocument`]: the stored bytes' hash and what is known about
/// them. The type, size and dimensions are those sniffed when the bytes were stored; an
/// import sniffs them again from the bytes and keeps only `name` from here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaEntry {
    /// The BLAKE3 hash of the bytes (64 lower-case hex digits).
    pub hash: String,
    /// The original file name, when one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The MIME type sniffed from the bytes.
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// The path of the bytes inside the export's zip (`media/<hash>.<ext>`).
    pub path: String,
}

impl ExportDocument {
    /// Wraps a conversation (with its whole tree) for export.
    pub fn new(conversation: ConversationDetail) -> Self {
        ExportDocument {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            conversation,
            media: Vec::new(),
        }
    }
}

/// Writes one conversation as a pretty-printed JSON document.
pub fn write_conversation(
    out: &mut impl Write,
    detail: &ConversationDetail,
) -> crate::error::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &ExportDocument::new(detail.clone()))?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Streams many conversations as one JSON array of documents: call [`ArrayWriter::push`] per
/// conversation, then [`ArrayWriter::finish`]. Only one conversation is in memory at a time.
#[derive(Debug)]
pub struct ArrayWriter<W: Write> {
    out: W,
    count: u64,
}

impl<W: Write> ArrayWriter<W> {
    /// Starts the array.
    pub fn new(mut out: W) -> crate::error::Result<Self> {
        out.write_all(b"[")?;
        Ok(ArrayWriter { out, count: 0 })
    }

    /// Appends one conversation.
    pub fn push(&mut self, detail: &ConversationDetail) -> crate::error::Result<()> {
        self.push_document(&ExportDocument::new(detail.clone()))
    }

    /// Appends one document (an export with media fills its [`ExportDocument::media`]).
    pub fn push_document(&mut self, document: &ExportDocument) -> crate::error::Result<()> {
        if self.count > 0 {
            self.out.write_all(b",")?;
        }
        self.out.write_all(b"\n")?;
        serde_json::to_writer(&mut self.out, document)?;
        self.count += 1;
        Ok(())
    }

    /// How many conversations were written.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Closes the array and returns the writer.
    pub fn finish(mut self) -> crate::error::Result<W> {
        self.out.write_all(b"\n]\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}
