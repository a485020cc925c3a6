//! Domain types for AI OS Chat, shared by every other crate.
//!
//! This crate does no I/O. It holds the vocabulary the rest of the workspace speaks:
//!
//! * [`Conversation`] and [`Message`]: what the store persists and the API serves. Messages form a
//!   tree through [`Message::parent_id`]: an edit or a regeneration is a sibling of the message it
//!   replaces, so no branch is ever lost. A conversation's [`Conversation::current_message_id`]
//!   is the leaf of its active branch.
//! * [`Part`]: the structured pieces of a message that are not its visible Markdown text (code,
//!   images, tool calls and results, reasoning, attachments) plus provider fields kept raw, so an
//!   import never loses data it does not model.
//! * [`ParsedConversation`]: what a provider parser produces and the import pipeline hands to the
//!   store's bulk writer. It carries the provider's own ids; the store maps them to ours.
//! * [`MediaHash`]: the id of media bytes in the store (their BLAKE3 hash); images, audio and
//!   attachment parts carry it in `media` once the import has stored their bytes
//!   ([`Part::media_slot`]).
//! * Small validated values: [`Source`], [`Role`], [`Tag`], [`FolderPath`], [`RatingValue`],
//!   typed ids, and [`Timestamp`] helpers for unix milliseconds.
//!
//! Validation lives in constructors (`Tag::new`, `FolderPath::new`, `str::parse`) and returns
//! [`ModelError`], so a value of one of these types is always well formed.

mod conversation;
mod error;
mod ids;
mod media;
mod parsed;
mod part;
mod values;

pub use conversation::{
    Conversation, ConversationDetail, ForkOrigin, Message, MessageStatus, Rating, RatingValue,
};
pub use error::ModelError;
pub use ids::{ConversationId, MessageId};
pub use media::{MediaHash, MediaKind, MediaSlot, MEDIA_HASH_LEN};
pub use parsed::{derive_title, Attachment, ParsedConversation, ParsedMessage, TITLE_MAX_CHARS};
pub use part::{Part, NOTE_KIND};
pub use values::{timestamp, FolderPath, Role, Source, Tag, Timestamp, FOLDER_SEGMENT_MAX_CHARS};
