#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `chat-import --copy-to`: SQLite -> PostgreSQL -> SQLite gives identical data, checked by
//! per-conversation hashes; a copy killed midway and run again gives the same result. The
//! real binary, real SQLite files, a real PostgreSQL server.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use chat_import::copy::{media_hashes, store_hashes};
use chat_model::{FolderPath, RatingValue, Role, Tag};
use chat_store::test_server::PgServer;
use chat_store::{NewConversation, NewMessage, Store};
use common::{bin, fixtures, import};

/// A library with everything a copy carries: imports of several sources (import runs,
/// content hashes), a renamed, re-filed, tagged, archived conversation, ratings, a fork.
fn library(db: &Path, generated: usize) -> Store {
    for dir in [
        "chatgpt-single",
        "claude",
        "aistudio",
        "copilot-cli",
        "../media/chatgpt-2026",
    ] {
        let run = import(db, &[], &[&fixtures().join(dir)]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let store = Store::open(db).unwrap();
    let c = store
        .write(|r| {
            r.create_conversation(NewConversation {
                title: Some("Native".into()),
                tags: vec![Tag::new("keep").unwrap()],
                ..NewConversation::default()
            })
        })
        .unwrap();
    let first = store
        .write(|r| r.add_message(&c.id, NewMessage::new(Role::User, "Hello <b>there</b>")))
        .unwrap();
    let second = store
        .write(|r| r.add_message(&c.id, NewMessage::new(Role::Assistant, "Hi, café ☕")))
        .unwrap();
    store
        .write(|r| {
            r.rate_message(&second.id, RatingValue::Up, Some("good"))?;
            r.rename(&c.id, "Renamed")?;
            r.move_to_folder(&c.id, &FolderPath::new("work/notes").unwrap())?;
            r.fork(&c.id, &first.id)?;
            r.set_setting("summary.prompt", Some("Summarise in one line, café."))?;
            r.archive(&c.id)
        })
        .unwrap();
    let imported = store
        .read(|r| r.list_conversations(&chat_store::ListQuery::default()))
        .unwrap();
    let some = &imported.items[0];
    store
        .write(|r| r.rename(&some.id, "A title the user chose"))
        .unwrap();
    for i in 0..generated {
        let id = store
            .write(|r| {
                r.create_conversation(NewConversation {
                    title: Some(format!("Generated {i}")),
                    ..NewConversation::default()
                })
            })
            .unwrap()
            .id;
        store
            .write(|r| {
                r.add_message(&id, NewMessage::new(Role::User, format!("question {i}")))?;
                r.add_message(&id, NewMessage::new(Role::Assistant, format!("answer {i}")))
            })
            .unwrap();
    }
    store
}

fn copy(from: &str, to: &str) -> String {
    let out = bin()
        .arg("--db")
        .arg(from)
        .arg("--copy-to")
        .arg(to)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

#[test]
fn sqlite_to_postgres_and_back_gives_identical_data() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let original = store_hashes(&library(&a, 5)).unwrap();
    assert!(original.len() > 8, "{}", original.len());
    let pg = PgServer::shared().unwrap().database().unwrap();
    let stderr = copy(a.to_str().unwrap(), &pg.url());
    assert!(stderr.contains("copied and verified"), "{stderr}");
    let b = dir.path().join("b.db");
    copy(&pg.url(), b.to_str().unwrap());
    let on_pg = store_hashes(&Store::open(pg.url()).unwrap()).unwrap();
    let back = store_hashes(&Store::open(&b).unwrap()).unwrap();
    assert_eq!(on_pg, original);
    assert_eq!(back, original);
    // Media: the same items, bytes hashing to their ids, linked to the same messages.
    let media = media_hashes(&Store::open(&a).unwrap()).unwrap();
    // Five from the ChatGPT 2026 fixture (image, audio, HTML, SVG), one inlined by AI Studio.
    assert_eq!(media.len(), 6, "{media:?}");
    assert!(media.iter().all(|(id, (bytes, _, _))| id == bytes));
    for store in [Store::open(pg.url()).unwrap(), Store::open(&b).unwrap()] {
        assert_eq!(media_hashes(&store).unwrap(), media);
        let source = Store::open(&a).unwrap();
        for id in media.keys() {
            let hash: chat_model::MediaHash = id.parse().unwrap();
            let refs = |s: &Store| s.read(|r| r.media_references(&hash)).unwrap();
            assert_eq!(refs(&store), refs(&source), "{id}");
            assert!(refs(&source) > 0, "{id}");
        }
    }
    // Import runs and their reports made the trip too.
    let runs = |s: &Store| s.read(|r| r.list_import_runs(100)).unwrap();
    assert_eq!(
        runs(&Store::open(&b).unwrap()),
        runs(&Store::open(&a).unwrap())
    );
    // So did the settings.
    let settings = |s: &Store| s.read(|r| r.list_settings()).unwrap();
    let held = settings(&Store::open(&a).unwrap());
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(settings(&Store::open(pg.url()).unwrap()), held);
    assert_eq!(settings(&Store::open(&b).unwrap()), held);
    // A re-import into the copy skips what it already holds, as in the original.
    let again = import(&b, &[], &[&fixtures().join("chatgpt-single")]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let totals = &again.report["totals"];
    assert!(totals["seen"].as_u64().unwrap() > 0, "{totals}");
    assert_eq!(totals["unchanged"], totals["seen"], "{totals}");
    assert_eq!(totals["imported"], 0, "{totals}");
    // Copying again changes nothing (no duplicates).
    copy(a.to_str().unwrap(), &pg.url());
    assert_eq!(
        store_hashes(&Store::open(pg.url()).unwrap()).unwrap(),
        original
    );
    assert_eq!(
        media_hashes(&Store::open(pg.url()).unwrap()).unwrap(),
        media_hashes(&Store::open(&a).unwrap()).unwrap()
    );
}

#[test]
fn a_copy_killed_midway_completes_when_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let original = store_hashes(&library(&a, 1500)).unwrap();
    let pg = PgServer::shared().unwrap().database().unwrap();
    let mut child = bin()
        .arg("--db")
        .arg(&a)
        .arg("--copy-to")
        .arg(pg.url())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.starts_with("copying: ") && !line.starts_with("copying: 100 ") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = store_hashes(&Store::open(pg.url()).unwrap()).unwrap();
    assert!(
        !partial.is_empty() && partial.len() < original.len(),
        "killed midway: {} of {}",
        partial.len(),
        original.len()
    );
    copy(a.to_str().unwrap(), &pg.url());
    assert_eq!(
        store_hashes(&Store::open(pg.url()).unwrap()).unwrap(),
        original
    );
    assert_eq!(
        media_hashes(&Store::open(pg.url()).unwrap()).unwrap(),
        media_hashes(&Store::open(&a).unwrap()).unwrap()
    );
}

/// A ChatGPT export of `n` conversations: the fixture's first one with new ids.
fn big_export(dir: &Path, n: usize) -> std::path::PathBuf {
    let text =
        std::fs::read_to_string(fixtures().join("chatgpt-single/conversations.json")).unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    let one = all[0].to_string();
    let id = all[0]["id"].as_str().unwrap().to_owned();
    let mut out = String::from("[");
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&one.replace(&id, &format!("gen-{i:06}")));
    }
    out.push(']');
    let path = dir.join("conversations.json");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn an_import_through_a_database_outage_fails_clearly_and_a_rerun_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let export = big_export(dir.path(), n);
    let pg = PgServer::start().unwrap();
    pg.admin("CREATE DATABASE chat").unwrap();
    let url = pg.url("chat");
    let store = Store::open(&url).unwrap();
    let child = bin()
        .arg("--db")
        .arg(&url)
        .arg("--json")
        .arg(&export)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Stop the server once the import has written something.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while store.read(|r| r.stats()).unwrap().conversations == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the import wrote nothing"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    pg.pg_stop().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("unavailable"),
        "the report says the database went away: {stdout}\n{stderr}"
    );
    pg.pg_start().unwrap();
    let partial = store.read(|r| r.stats()).unwrap().conversations;
    assert!(partial < n as u64, "{partial}");
    let again = import(Path::new(&url), &[], &[&export]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let stats = store.read(|r| r.stats()).unwrap();
    assert_eq!(stats.conversations, n as u64);
    assert_eq!(again.report["totals"]["seen"], n as u64, "{}", again.report);
    assert_eq!(
        again.report["totals"]["unchanged"], partial,
        "what the first run committed is kept and skipped: {}",
        again.report
    );
}
