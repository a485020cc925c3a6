//! Exports with media over real HTTP: `GET /api/v1/export?with_media=true` streams one zip
//! from a loopback server to a real client (awc); uploaded to another server's
//! `POST /api/v1/imports`, it gives back identical conversations, links and bytes. The
//! per-conversation download does the same for one conversation, and in Markdown links the
//! media it holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use chat_import::{ImportOptions, Importer};
use chat_store::Store;
use common::live::Live;
use common::{env, raw_upload, send, wait_for, Backend, Env};
use rstest::rstest;
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media/chatgpt-2026")
}

/// Runs `f` on a thread of its own: the stores are blocking clients (PostgreSQL's may not run
/// inside the test's async runtime).
fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

fn imported(env: &Env) {
    let store = env.state.store().clone();
    let report = blocking(|| {
        Importer::new(store)
            .run(&[fixture()], &ImportOptions::default())
            .unwrap()
    });
    assert_eq!(report.totals.media.stored, 5, "{report:?}");
}

async fn download(live: &Live, path: &str) -> (u16, String, Vec<u8>) {
    let mut res = awc::Client::new().get(live.url(path)).send().await.unwrap();
    let body = res.body().limit(64 << 20).await.unwrap().to_vec();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (res.status().as_u16(), kind, body)
}

fn entries(zip: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut e = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (e.name().unwrap().to_string(), bytes)
        })
        .collect()
}

/// Conversations (whole trees) with the media each message links, and every item's bytes.
fn contents(store: &Store) -> (BTreeMap<String, Value>, BTreeMap<String, Vec<u8>>) {
    blocking(|| read_contents(store))
}

fn read_contents(store: &Store) -> (BTreeMap<String, Value>, BTreeMap<String, Vec<u8>>) {
    let query = chat_store::ListQuery {
        archived: chat_store::ArchivedFilter::All,
        ..chat_store::ListQuery::default()
    };
    let mut conversations = BTreeMap::new();
    let mut bytes = BTreeMap::new();
    for detail in store.conversation_details(query) {
        let detail = detail.unwrap();
        let mut linked = Vec::new();
        for m in &detail.messages {
            for info in store.read(|r| r.message_media(&m.id)).unwrap() {
                let mut b = Vec::new();
                store
                    .media_bytes(&info.hash, 0, u64::MAX)
                    .unwrap()
                    .read_to_end(&mut b)
                    .unwrap();
                bytes.insert(info.hash.to_string(), b);
                linked.push(format!("{} {info:?}", m.id));
            }
        }
        let value = serde_json::json!({"detail": detail, "linked": linked});
        conversations.insert(detail.conversation.id.to_string(), value);
    }
    (conversations, bytes)
}

#[rstest]
#[actix_rt::test]
async fn the_bulk_export_with_media_uploads_back_identical(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let from = env();
    imported(&from);
    let live = Live::start(from.state.clone());
    let (status, kind, zip) = download(&live, "/api/v1/export?with_media=true").await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/zip");
    let files = entries(&zip);
    assert!(files.contains_key("conversations.json"));
    let (original, bytes) = contents(from.state.store());
    assert_eq!(bytes.len(), 5);
    for (hash, b) in &bytes {
        let entry = files
            .iter()
            .find(|(name, _)| name.starts_with(&format!("media/{hash}.")))
            .unwrap_or_else(|| panic!("{hash} in {:?}", files.keys()));
        assert_eq!(entry.1, b);
    }
    assert_eq!(files.len(), bytes.len() + 1, "each item once");

    // Uploaded to another server: first the plain JSON export (no bytes, so no links), then
    // the zip, which brings the bytes and links the restored messages to them.
    let (status, _, plain) = download(&live, "/api/v1/export?format=json").await;
    assert_eq!(status, 200);
    let to = env();
    let app = service!(to);
    let (s, accepted) = send(
        &app,
        raw_upload("/api/v1/imports", "application/json", plain),
    )
    .await;
    assert_eq!(s, 202, "{accepted}");
    let job = wait_for(&app, accepted["id"].as_str().unwrap()).await;
    assert_eq!(job["outcome"], "success", "{job}");
    let (restored, none) = contents(to.state.store());
    assert!(none.is_empty());
    assert_ne!(restored, original, "no links yet");
    let (s, accepted) = send(&app, raw_upload("/api/v1/imports", "application/zip", zip)).await;
    assert_eq!(s, 202, "{accepted}");
    let job = wait_for(&app, accepted["id"].as_str().unwrap()).await;
    assert_eq!(job["outcome"], "success", "{job}");
    assert_eq!(job["report"]["totals"]["media"]["stored"], 5, "{job}");
    assert_eq!(job["report"]["totals"]["media"]["missing"], 0, "{job}");
    assert_eq!(contents(to.state.store()), (original, bytes));

    // Bad combinations are refused with a 400.
    for bad in [
        "/api/v1/export?with_media=true&format=finetune",
        "/api/v1/export?with_media=maybe",
        "/api/v1/export?format=md",
    ] {
        assert_eq!(download(&live, bad).await.0, 400, "{bad}");
    }
}

#[actix_rt::test]
async fn one_conversation_downloads_with_its_media_in_json_and_markdown() {
    let from = env();
    imported(&from);
    let live = Live::start(from.state.clone());
    let list = live.get("/api/v1/conversations").await;
    let (conversations, bytes) = contents(from.state.store());
    // The conversation holding the most linked media.
    let (id, _) = conversations
        .iter()
        .max_by_key(|(_, v)| v["linked"].as_array().unwrap().len())
        .unwrap();
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id.as_str()));

    let (status, kind, zip) = download(
        &live,
        &format!("/api/v1/conversations/{id}/export?format=json&with_media=true"),
    )
    .await;
    assert_eq!((status, kind.as_str()), (200, "application/zip"));
    let files = entries(&zip);
    let docs: Vec<Value> = serde_json::from_slice(&files["conversations.json"]).unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["conversation"]["id"], id.as_str());
    let media: Vec<&String> = files.keys().filter(|k| k.starts_with("media/")).collect();
    assert!(!media.is_empty());
    for name in &media {
        let hash = name[6..].split('.').next().unwrap();
        assert_eq!(Some(&files[*name]), bytes.get(hash));
    }

    let (status, _, zip) = download(
        &live,
        &format!("/api/v1/conversations/{id}/export?format=md&with_media=true"),
    )
    .await;
    assert_eq!(status, 200);
    let files = entries(&zip);
    let md: Vec<&String> = files.keys().filter(|k| k.ends_with(".md")).collect();
    assert_eq!(md.len(), 1);
    let text = String::from_utf8(files[md[0]].clone()).unwrap();
    let mut links = 0;
    for (i, _) in text.match_indices("](media/") {
        let rest = &text[i + 2..];
        let target = &rest[..rest.find(')').unwrap()];
        assert!(files.contains_key(target), "{target} is in the zip");
        links += 1;
    }
    assert!(links >= 1, "{text}");
    assert_eq!(
        download(
            &live,
            &format!("/api/v1/conversations/{id}/export?format=finetune&with_media=true")
        )
        .await
        .0,
        400
    );
}
