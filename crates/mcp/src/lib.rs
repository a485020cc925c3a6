//! A Model Context Protocol server over the chat store: the history as an agent's memory.
//!
//! Agents (Claude Desktop, VS Code, Cursor, Codex CLI, anyone's own) connect over stdio or
//! streamable HTTP and get:
//!
//! * **tools** to read: `search_conversations` (ranked full-text search across every provider
//!   at once), `get_conversation` (one conversation rendered by chat-export, in pages),
//!   `get_message_context` (the messages around a search hit on its branch),
//!   `list_conversations`, `list_folders`, `list_tags`; and, only when the server is started
//!   with writes enabled (`--mcp-write`), to write: `tag_conversation`, `add_note`,
//!   `save_conversation`;
//! * **resources**: each conversation as `chat://conversations/{id}` (Markdown), listed through
//!   a resource template and, page by page, by `resources/list`.
//!
//! # Design
//!
//! * **The official SDK.** [`rmcp`] does the protocol: JSON-RPC, sessions, the transports, the
//!   tool macros that generate each tool's input schema (from [`args`]) and output schema (from
//!   [`output`]). This crate holds the tools and their rules.
//! * **Two seams to the crates below.** Every call into chat-store is in one module
//!   (`library`), every call into chat-export in another (`render`), so a change of the
//!   store's API, or a second store backend, touches one file. SQL stays in chat-store, and a
//!   conversation is rendered by chat-export's renderers, never by a second one here.
//! * **Answers sized for a model's context.** Every result has a default size, a maximum and
//!   a cursor for more: search hits (10, at most 50, 200 deep), conversation pages (20,000
//!   characters, at most 100,000), list pages. A long conversation comes in pages cut between
//!   messages; a message longer than a page is continued on the next one, with a line saying
//!   so: nothing is cut silently. Cursors are opaque, tied to their conversation or query, and
//!   refused with a clear message when malformed or reused elsewhere.
//! * **Errors the model can act on.** A bad argument (unknown id, malformed cursor, a limit out
//!   of range, a date it cannot read, a write on a read-only server) is a tool result with
//!   `isError: true` saying what was wrong and what to do. A server failure is a JSON-RPC
//!   internal error without internals; the cause goes to the log. Neither ends the session.
//!   Search text is never syntax: the store quotes every word.
//! * **Transports.** [`serve_stdio`] for local clients; [`McpHttp`] mounts the streamable
//!   HTTP endpoint in an actix-web app, behind the same token rule as the HTTP API and an
//!   `Origin` check, with rmcp's session handling and `Host` check.
//! * **The executor never waits on SQLite.** Store calls run on the blocking pool. The store
//!   is opened like any other client's (WAL, busy timeout), so a stdio server runs beside a
//!   chat-server on the same file.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = chat_store::Store::open("chat.db")?;
//! chat_mcp::serve_stdio(chat_mcp::ChatMcp::new(store)).await?;
//! # Ok(()) }
//! ```

pub mod args;
mod cursor;
mod error;
mod http;
mod library;
pub mod output;
mod pages;
mod render;
mod server;
mod stdio;
#[cfg(test)]
mod testing;
mod tools;

pub use error::{Error, Result};
pub use http::{Authorize, HttpOptions, McpHttp};
pub use render::MediaItem;
pub use server::{ChangeHook, ChatMcp, WRITE_TOOLS};
pub use stdio::serve_stdio;
