//! Shared helpers for the chat-store integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chat_model::timestamp::from_millis;
use chat_model::{ParsedConversation, ParsedMessage, Role, Source};
use chat_store::Store;
use tempfile::TempDir;

/// A store in a fresh file of a fresh temp dir (keep the dir alive).
pub fn temp_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chat.db")).unwrap();
    (dir, store)
}

/// Rows of a table.
pub fn count(store: &Store, table: &str) -> i64 {
    store
        .read(|r| {
            Ok(r.connection()
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                    row.get(0)
                })?)
        })
        .unwrap()
}

/// Every table's row count plus the FTS5 indexes' document counts, for orphan checks.
pub fn all_counts(store: &Store) -> Vec<(String, i64)> {
    let tables = [
        "convos",
        "convo_turns",
        "message_ratings",
        "tags",
        "convo_tags",
        "turns_cjk_fts",
        "turns_fts_docsize",
        "turns_hidden_fts_docsize",
        "convos_fts_docsize",
        "turns_cjk_fts_docsize",
    ];
    tables
        .iter()
        .map(|t| ((*t).to_owned(), count(store, t)))
        .collect()
}

/// A parsed conversation with `n` alternating user/assistant messages in one chain.
pub fn parsed(source_id: &str, n: usize) -> ParsedConversation {
    let messages = (0..n)
        .map(|i| ParsedMessage {
            source_id: format!("m{i}"),
            parent: i.checked_sub(1).map(|p| format!("m{p}")),
            role: if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            },
            content: format!("message {i} of {source_id} about tokio runtimes"),
            parts: Vec::new(),
            model: None,
            created_at: Some(from_millis(1_700_000_000_000 + i as i64 * 1000).unwrap()),
            hidden: false,
            interrupted: false,
        })
        .collect();
    ParsedConversation {
        source: Source::Chatgpt,
        source_id: source_id.to_owned(),
        title: format!("Imported {source_id}"),
        created_at: Some(from_millis(1_700_000_000_000).unwrap()),
        updated_at: None,
        messages,
        active_leaf: None,
        attachments: Vec::new(),
        archived: false,
        model: Some("gpt-4o".into()),
        summary: None,
        extra: serde_json::Value::Null,
        subfolder: None,
    }
}
