//! Shared helpers for the chat-store integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chat_model::timestamp::from_millis;
use chat_model::{ParsedConversation, ParsedMessage, Role, Source};

use chat_store::test_server::{test_store, TestDatabase};
use chat_store::Store;
use tempfile::TempDir;

#[allow(unused_imports)] // not every test binary runs on both backends
pub use chat_store::test_server::Backend;

/// What keeps a test's database alive: its temp dir, and its database on PostgreSQL.
#[derive(Debug)]
pub struct TestGuard {
    dir: TempDir,
    _db: Option<TestDatabase>,
}

impl TestGuard {
    /// Where the store lives, for opening it again: the SQLite file, or the PostgreSQL URL.
    pub fn location(&self) -> String {
        match &self._db {
            Some(db) => db.url(),
            None => self
                .dir
                .path()
                .join("chat.db")
                .to_string_lossy()
                .into_owned(),
        }
    }

    /// The temp dir (a SQLite store's file is `chat.db` in it).
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// A fresh store on the test's backend (SQLite file in a temp dir unless the test entered
/// another): keep the guard alive.
pub fn temp_store() -> (TestGuard, Store) {
    let dir = tempfile::tempdir().unwrap();
    let (db, store) = test_store(dir.path());
    (TestGuard { dir, _db: db }, store)
}

/// Rows of a table.
pub fn count(store: &Store, table: &str) -> i64 {
    store.read(|r| r.count_rows(table)).unwrap()
}

/// Every table's row count plus (SQLite) the FTS5 indexes' document counts, for orphan
/// checks. PostgreSQL's search columns and indexes live in the rows themselves.
pub fn all_counts(store: &Store) -> Vec<(String, i64)> {
    let mut tables = vec![
        "convos",
        "convo_turns",
        "message_ratings",
        "tags",
        "convo_tags",
    ];
    if store.backend_name() == "sqlite" {
        tables.extend([
            "turns_cjk_fts",
            "turns_fts_docsize",
            "turns_hidden_fts_docsize",
            "convos_fts_docsize",
            "turns_cjk_fts_docsize",
        ]);
    }
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
