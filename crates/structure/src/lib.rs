//! Checks of the workspace's shape, so that the rules in `docs/architecture.md` hold without
//! anyone having to remember them. `tests/workspace.rs` runs every check over this repository
//! as part of `cargo test --workspace`; this crate's own unit tests give each check an input
//! that breaks its rule, so a check that could never fail would be caught.
//!
//! * [`sizes`]: no source file over [`MAX_FILE_LINES`] lines, no Rust function over
//!   [`MAX_FN_LINES`] lines. Function lengths come from the parsed syntax tree (`syn`, with
//!   `proc-macro2`'s span locations), from the `fn` keyword to the closing brace of the body,
//!   so braces in strings, comments or macros cannot confuse them.
//! * [`sql`]: no SQL statement in a crate other than chat-store: string literals (in code and
//!   inside macro calls) that read as a statement (`SELECT … FROM`, `INSERT INTO`,
//!   `UPDATE … SET`, `DELETE FROM`, `CREATE TABLE|INDEX|TRIGGER|VIEW`, `PRAGMA`, …).
//! * [`modules`]: no cycle between the modules (files) of a crate: a file never imports a
//!   module that imports it back, directly or through others. The crate root counts as a
//!   module too, so code inside a crate imports the module that defines an item, never the
//!   root's re-export of it.
//!
//! Everything here reads files and reports; nothing is written.

pub mod files;
pub mod modules;
pub mod report;
pub mod sizes;
pub mod sql;
mod syntax;

pub use report::{CheckError, Finding};
pub use sizes::{MAX_FILE_LINES, MAX_FN_LINES};
