//! Import options seen from outside: `observe` (each conversation a run writes, or a dry run
//! would write, in input order, with what the store would do with it) and `subfolders`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chat_import::{ImportOptions, Importer};
use chat_model::{Source, Timestamp};
use chat_store::{ListQuery, Store, WriteStatus};

type Seen = (
    Source,
    String,
    String,
    usize,
    Option<Timestamp>,
    WriteStatus,
);

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/import"
    ))
    .join(rel)
}

fn run(store: &Store, dry_run: bool) -> (Vec<Seen>, chat_import::ImportReport) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let options = ImportOptions {
        dry_run,
        observe: Some(Arc::new(move |o| {
            sink.lock().unwrap().push((
                o.source,
                o.id.to_owned(),
                o.title.to_owned(),
                o.messages,
                o.created_at,
                o.status,
            ));
        })),
        ..ImportOptions::default()
    };
    let report = Importer::new(store.clone())
        .run(&[fixture("chatgpt-single")], &options)
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    (seen, report)
}

#[test]
fn a_dry_run_shows_every_conversation_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chat.db")).unwrap();
    let (seen, report) = run(&store, true);
    assert_eq!(seen.len() as u64, report.totals.seen);
    let ids: Vec<&str> = seen.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(ids, ["c0a1-0001", "c0a1-0002", "c0a1-0003"]);
    assert_eq!(seen[0].0, Source::Chatgpt);
    assert_eq!(seen[0].2, "Sourdough starter");
    assert!(seen.iter().all(|s| s.3 > 0 && s.5 == WriteStatus::Inserted));
    assert_eq!(
        seen[0].4.map(|t| t.unix_timestamp()),
        Some(1_700_000_000),
        "the export's own time"
    );
    let listed = store
        .read(|r| r.list_conversations(&ListQuery::default()))
        .unwrap();
    assert!(listed.items.is_empty(), "a dry run wrote something");

    // The real run sees the same conversations; run again, they are unchanged.
    let (written, _) = run(&store, false);
    assert_eq!(written.len(), seen.len());
    let (again, _) = run(&store, true);
    assert!(again.iter().all(|s| s.5 == WriteStatus::Unchanged));
}

/// The folders conversations of the Claude batches fixture (one project) land in.
fn folders_after_import(subfolders: bool) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("chat.db")).unwrap();
    let options = ImportOptions {
        subfolders,
        ..ImportOptions::default()
    };
    let report = Importer::new(store.clone())
        .run(&[fixture("claude-batches")], &options)
        .unwrap();
    assert!(report.totals.imported > 0);
    let mut folders: Vec<String> = store
        .read(|r| r.list_conversations(&ListQuery::default()))
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.folder.as_str().to_owned())
        .collect();
    folders.sort();
    folders.dedup();
    folders
}

#[test]
fn projects_become_subfolders_unless_told_otherwise() {
    assert_eq!(
        folders_after_import(true),
        ["imported/claude", "imported/claude/Travel"]
    );
    assert_eq!(folders_after_import(false), ["imported/claude"]);
}
