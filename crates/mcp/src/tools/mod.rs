//! The tools. Each one checks its arguments, runs one [`crate::library`] call on the blocking
//! pool, and shapes the answer; the descriptions are written for a model to read.
//!
//! * [`read`]: search_conversations, get_conversation, get_message_context,
//!   list_conversations, list_folders, list_tags.
//! * [`write`]: tag_conversation, add_note, save_conversation (served only when writes are
//!   enabled).

mod context;
mod read;
mod write;

use crate::error::{Error, Result};

/// Runs store work on the blocking pool, so the async executor never waits on SQLite.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Task(e.to_string()))?
}

/// Pages a list already in memory: the `limit` entries after `offset`, and whether more follow.
pub(crate) fn slice<T>(items: Vec<T>, offset: u32, limit: u32) -> (Vec<T>, bool) {
    let total = items.len();
    let start = (offset as usize).min(total);
    let end = start.saturating_add(limit as usize).min(total);
    let page = items.into_iter().skip(start).take(end - start).collect();
    (page, end < total)
}
