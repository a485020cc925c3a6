//! Media over real HTTP: an export with media imported through the real pipeline, then served
//! by the API on a loopback port to a real client (awc): attachments on message objects, bytes
//! byte-identical with the sniffed type, caching, ranges, the unsafe types never inline, and
//! hostile ids refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use actix_web::http::StatusCode;
use chat_import::{ImportOptions, Importer};
use common::live::Live;
use common::{env, env_with, Backend, Env};
use rstest::rstest;
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media/chatgpt-2026")
}

fn bytes_of(name: &str) -> Vec<u8> {
    std::fs::read(fixture().join(name)).unwrap()
}

fn hash_of(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// Imports the 2026 ChatGPT fixture into the environment's store.
fn imported(env: &Env) {
    // On a thread of its own: PostgreSQL's synchronous client must not run on the test's
    // async runtime.
    let store = env.state.store().clone();
    let report = std::thread::spawn(move || {
        Importer::new(store)
            .run(&[fixture()], &ImportOptions::default())
            .unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(report.totals.media.stored, 5, "{report:?}");
}

struct Got {
    status: StatusCode,
    headers: actix_web::http::header::HeaderMap,
    body: Vec<u8>,
}

async fn fetch(live: &Live, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut req = awc::Client::new().get(live.url(path));
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    let mut res = req.send().await.unwrap();
    let body = res.body().limit(64 << 20).await.unwrap().to_vec();
    Got {
        status: res.status(),
        headers: res.headers().clone(),
        body,
    }
}

fn header<'a>(got: &'a Got, name: &str) -> &'a str {
    got.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn first_conversation(live: &Live, title: &str) -> Value {
    let list = live.get("/api/v1/conversations").await;
    let id = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == title)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    live.get(&format!("/api/v1/conversations/{id}")).await
}

#[rstest]
#[actix_rt::test]
async fn messages_list_their_attachments_with_urls_or_missing(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env();
    imported(&env);
    let live = Live::start(env.state.clone());
    let c = first_conversation(&live, "Photos and a voice note").await;
    let first = &c["messages"][0]["attachments"];
    let red = hash_of(&bytes_of("file-Red2026.dat"));
    assert_eq!(first[0]["kind"], "image");
    assert_eq!(first[0]["media_id"], red.as_str());
    assert_eq!(first[0]["url"], format!("/api/v1/media/{red}").as_str());
    assert_eq!(first[0]["mime_type"], "image/png");
    assert_eq!(
        (first[0]["width"].as_u64(), first[0]["height"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(first[0]["missing"], false);
    // The generated image the export lacks stays a reference.
    assert_eq!(first[1]["missing"], true);
    assert_eq!(first[1]["url"], Value::Null);
    assert_eq!(
        first[1]["reference"],
        "sediment://file_00000000missing0000000000000000000"
    );
    let page = &first[3];
    assert_eq!(
        (page["kind"].as_str(), page["name"].as_str()),
        (Some("file"), Some("page.html"))
    );
    assert_eq!(page["size"], 100);
    let voice = &c["messages"][2]["attachments"][0];
    assert_eq!(
        (voice["kind"].as_str(), voice["mime_type"].as_str()),
        (Some("audio"), Some("audio/x-wav"))
    );
    // The same through GET /messages/{id}.
    let mid = c["messages"][0]["id"].as_str().unwrap();
    let m = live.get(&format!("/api/v1/messages/{mid}")).await;
    assert_eq!(m["attachments"], *first);
}

#[rstest]
#[actix_rt::test]
async fn bytes_are_served_identical_with_their_type_and_immutable_caching(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env();
    imported(&env);
    let live = Live::start(env.state.clone());
    let red = bytes_of("file-Red2026.dat");
    let path = format!("/api/v1/media/{}", hash_of(&red));
    let got = fetch(&live, &path, &[]).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, red);
    assert_eq!(header(&got, "content-type"), "image/png");
    assert_eq!(header(&got, "x-content-type-options"), "nosniff");
    assert_eq!(
        header(&got, "content-disposition"),
        "inline; filename=\"red.png\""
    );
    assert!(header(&got, "cache-control").contains("immutable"));
    let etag = header(&got, "etag").to_owned();
    assert_eq!(etag, format!("\"{}\"", hash_of(&red)));
    let again = fetch(&live, &path, &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    // Audio seeks: one range, 206 with Content-Range; past the end, 416.
    let wav = bytes_of("file_00000000bbbb00000000000000000002.dat");
    let path = format!("/api/v1/media/{}", hash_of(&wav));
    let part = fetch(&live, &path, &[("Range", "bytes=100-199")]).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, wav[100..200]);
    assert_eq!(
        header(&part, "content-range"),
        format!("bytes 100-199/{}", wav.len())
    );
    assert_eq!(header(&part, "content-type"), "audio/x-wav");
    let tail = fetch(&live, &path, &[("Range", "bytes=-44")]).await;
    assert_eq!(tail.body, wav[wav.len() - 44..]);
    let past = fetch(
        &live,
        &path,
        &[("Range", &format!("bytes={}-", wav.len() + 10))],
    )
    .await;
    assert_eq!(past.status, StatusCode::RANGE_NOT_SATISFIABLE);
}

#[rstest]
#[actix_rt::test]
async fn html_and_svg_are_never_served_inline(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env();
    imported(&env);
    let live = Live::start(env.state.clone());
    for (file, mime) in [
        ("file-Page2026.dat", "text/html"),
        ("file-Draw2026.dat", "image/svg+xml"),
    ] {
        let bytes = bytes_of(file);
        let got = fetch(&live, &format!("/api/v1/media/{}", hash_of(&bytes)), &[]).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.body, bytes, "{file}");
        assert!(header(&got, "content-type").starts_with(mime), "{file}");
        assert!(
            header(&got, "content-disposition").starts_with("attachment;"),
            "{file}"
        );
        assert!(
            header(&got, "content-security-policy").starts_with("sandbox"),
            "{file}"
        );
        assert_eq!(header(&got, "x-content-type-options"), "nosniff");
    }
}

#[rstest]
#[actix_rt::test]
async fn hostile_media_ids_get_400_and_unknown_ones_404(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env();
    imported(&env);
    let live = Live::start(env.state.clone());
    let valid = hash_of(&bytes_of("file-Red2026.dat"));
    for bad in [
        "abc".to_owned(),
        valid.to_uppercase(),
        format!("{valid}0"),
        valid[..63].to_owned(),
        "..%2F..%2Fchat.db".to_owned(),
        format!("{}%00", &valid[..61]),
        format!("..%2F{}", &valid[..61]),
    ] {
        let got = fetch(&live, &format!("/api/v1/media/{bad}"), &[]).await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(body["error"], "invalid_media_id", "{bad}");
    }
    let unknown = fetch(&live, &format!("/api/v1/media/{}", "0".repeat(64)), &[]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[rstest]
#[actix_rt::test]
async fn media_follow_the_token_rules(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env_with(|b| b.token(Some("s3cret")));
    imported(&env);
    let live = Live::start(env.state.clone());
    let path = format!("/api/v1/media/{}", hash_of(&bytes_of("file-Red2026.dat")));
    assert_eq!(
        fetch(&live, &path, &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let ok = fetch(&live, &path, &[("Authorization", "Bearer s3cret")]).await;
    assert_eq!(ok.status, StatusCode::OK);
}
