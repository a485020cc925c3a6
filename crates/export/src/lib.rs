//! Renderers from the domain model to files people keep: Markdown, lossless JSON, and
//! fine-tuning JSONL.
//!
//! Every renderer writes to an `io::Write` one conversation at a time, so a bulk export of a
//! whole database streams: the caller walks the store page by page and never holds more than one
//! conversation in memory.
//!
//! * [`markdown`]: YAML front matter (title, source, id, created, updated, tags, folder), then
//!   the active branch with a heading per message (role, model, timestamp). Front-matter values
//!   are written as JSON strings, which YAML reads as double-quoted scalars, so an imported title
//!   can never break out of the front matter. Message text is written verbatim: it is Markdown.
//!   Pictures, recordings and files attached to a message are listed under it ([`markdown::media`]).
//!   The header and each message's section are public ([`markdown::write_header`],
//!   [`markdown::write_message`]) so a reader taking a conversation in pages (the MCP server)
//!   renders each page with this code rather than a second renderer.
//! * [`json`]: a lossless [`ExportDocument`] (the whole message tree, parts, hidden messages,
//!   tags, ratings, fork origin, source ids). It is also an import format: the importer detects
//!   [`FORMAT_NAME`] and restores the conversation with its ids, so export then import
//!   round-trips to an identical conversation.
//! * [`finetune`]: one line per up-rated assistant message in the OpenAI chat fine-tuning
//!   format, holding the visible messages from the root to that message.
//! * [`aios`]: the AI OS frontend's shape (the original AI OS chat module's export: the active
//!   branch as user/assistant turns), for the compatibility routes of chat-api. Not a
//!   [`Format`]: it does not import back and the CLI does not write it.
//!
//! * [`bundle`]: exports with media. [`bundle::write_zip`] writes the conversations (JSON,
//!   which imports back, or Markdown) and the bytes of their media, each once, as one zip;
//!   [`bundle::write_markdown_dir`] writes Markdown files with their media beside them, linked
//!   ([`markdown::write_conversation_linked`]). The bytes stream from the store.
//!
//! [`Format`] is the one switch between them: parsing a format's name, its extension and media
//! type, writing one conversation ([`Format::render`]) or many into one output
//! ([`Format::writer`]). Every caller (the CLI, the API's bulk export and its per-conversation
//! downloads) goes through it, so adding a format is a change here only.

pub mod aios;
pub mod bundle;
pub mod finetune;
pub mod json;
pub mod markdown;

mod error;
mod format;

pub use error::{Error, Result};
pub use format::{file_name, Format, FormatWriter, UnknownFormat, Written};
pub use json::{ExportDocument, MediaEntry, FORMAT_NAME, FORMAT_VERSION};
