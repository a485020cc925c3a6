#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The real `chat-server` binary on an ephemeral port, driven over HTTP.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::server::{command, json_of, sigterm, start, wait_exit};
use serde_json::{json, Value};

#[actix_rt::test]
async fn serves_the_api_and_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let mut server = start(command(&db, "127.0.0.1:0"));
    let client = awc::Client::default();
    let base = server.base.clone();

    let mut res = client
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json_of(&mut res).await["status"], "ok");

    let mut res = client
        .post(format!("{base}/api/v1/conversations"))
        .send_json(&json!({"title": "end to end", "tags": ["e2e"]}))
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let convo = json_of(&mut res).await;
    let id = convo["id"].as_str().unwrap().to_owned();

    let mut res = client
        .post(format!("{base}/api/v1/conversations/{id}/messages"))
        .send_json(
            &json!({"role": "user", "content": "the quick brown fox\n\n```sh\necho hi\n```"}),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let msg = json_of(&mut res).await;

    let mut res = client
        .get(format!("{base}/api/v1/search?q=quick%20fox"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json_of(&mut res).await["hits"][0]["message_id"], msg["id"]);

    let mut res = client
        .get(format!("{base}/api/v1/conversations/{id}"))
        .send()
        .await
        .unwrap();
    let detail = json_of(&mut res).await;
    assert_eq!(detail["messages"][0]["content"], msg["content"]);

    let mut res = client
        .get(format!("{base}/api/v1/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let docs = json_of(&mut res).await;
    assert_eq!(docs.as_array().unwrap().len(), 1);

    let mut res = client
        .post(format!("{base}/api/v1/conversations"))
        .insert_header(("content-type", "text/plain"))
        .send_body("{}")
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(json_of(&mut res).await["error"], "unsupported_media_type");

    // An import upload runs in the background and ends with a status.
    let fixture = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/import/chatgpt-single/conversations.json"),
    )
    .unwrap();
    let mut res = client
        .post(format!("{base}/api/v1/imports"))
        .insert_header(("content-type", "application/json"))
        .send_body(fixture)
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let job_id = json_of(&mut res).await["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut res = client
            .get(format!("{base}/api/v1/imports/{job_id}"))
            .send()
            .await
            .unwrap();
        let job = json_of(&mut res).await;
        if job["status"] == "done" || job["status"] == "failed" {
            assert!(job["report"].is_object(), "{job}");
            break;
        }
        assert!(Instant::now() < deadline, "import stuck: {job}");
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }

    // SIGTERM: a clean exit with the WAL checkpointed into the database file.
    sigterm(&server.child);
    let status = wait_exit(&mut server.child, Duration::from_secs(20));
    assert!(status.success(), "exit status {status:?}");
    let wal = dir.path().join("chat.db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "the WAL was not checkpointed");
    let store = chat_store::Store::open(&db).unwrap();
    let c = store
        .read(|repo| repo.get_conversation(&chat_model::ConversationId::from_string(id.clone())))
        .unwrap();
    assert_eq!(c.title, "end to end");
    assert_eq!(c.message_count, 1);
}

#[actix_rt::test]
async fn refuses_a_public_address_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(&dir.path().join("chat.db"), "0.0.0.0:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("without a token"), "{stderr}");
    assert!(stderr.contains("CHAT_TOKEN"), "{stderr}");
}

#[actix_rt::test]
async fn a_token_from_the_environment_guards_every_route_but_health() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(&dir.path().join("chat.db"), "0.0.0.0:0");
    cmd.env("CHAT_TOKEN", "e2e-secret");
    let server = start(cmd);
    let client = awc::Client::default();
    let base = &server.base;

    let res = client
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut res = client
        .get(format!("{base}/api/v1/conversations"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(json_of(&mut res).await["error"], "unauthorized");
    let res = client
        .get(format!("{base}/api/v1/conversations"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = client
        .get(format!("{base}/api/v1/conversations"))
        .bearer_auth("e2e-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// The next JSON text frame of a WebSocket (pings skipped).
async fn next_json(ws: &mut actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>) -> Value {
    use futures_util::StreamExt;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("the connection is open")
            .unwrap();
        match frame {
            awc::ws::Frame::Text(bytes) => return serde_json::from_slice(&bytes).unwrap(),
            awc::ws::Frame::Ping(_) | awc::ws::Frame::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

#[actix_rt::test]
async fn chats_over_the_websocket_with_no_model_configured() {
    use futures_util::SinkExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let mut cmd = command(&db, "127.0.0.1:0");
    cmd.env("CHAT_OFFLINE_DELAY_MS", "1");
    let mut server = start(cmd);
    let base = server.base.clone();
    let ws_url = format!("{}/api/v1/ws", base.replacen("http", "ws", 1));
    let (_, mut ws) = awc::Client::new()
        .ws(ws_url.as_str())
        .connect()
        .await
        .unwrap();
    let (_, mut other) = awc::Client::new()
        .ws(ws_url.as_str())
        .connect()
        .await
        .unwrap();
    for c in [&mut ws, &mut other] {
        c.send(awc::ws::Message::Text(r#"{"type":"ping"}"#.into()))
            .await
            .unwrap();
        assert_eq!(next_json(c).await["type"], "pong");
    }
    let content = "Hello!\n\n```sh\necho  hi\n```";
    let frame = json!({"type": "chat.send", "request_id": "1", "conversation_id": null, "content": content});
    ws.send(awc::ws::Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let mut streamed = String::new();
    let mut deltas = 0;
    let (id, done) = loop {
        let f = next_json(&mut ws).await;
        match f["type"].as_str().unwrap() {
            "chat.accepted" | "conversation.updated" => {}
            "chat.delta" => {
                deltas += 1;
                streamed.push_str(f["delta"].as_str().unwrap());
            }
            "chat.done" => break (f["conversation_id"].as_str().unwrap().to_owned(), f),
            other => panic!("unexpected {other}: {f}"),
        }
    };
    assert!(deltas >= 2);
    assert_eq!(done["content"], streamed.as_str());
    assert_eq!(done["model"], "offline");
    assert!(streamed.contains("No language model is configured"));
    assert!(
        streamed.contains("> echo  hi"),
        "the offline reply quotes the message"
    );
    // The other tab hears about it.
    loop {
        let f = next_json(&mut other).await;
        if f["type"] == "conversation.updated" && f["conversation"]["id"] == id.as_str() {
            break;
        }
    }
    // Stored, with the offline title.
    let client = awc::Client::default();
    let mut res = client
        .get(format!("{base}/api/v1/conversations/{id}"))
        .send()
        .await
        .unwrap();
    let detail = json_of(&mut res).await;
    let messages = detail["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["content"], content);
    assert_eq!(messages[1]["content"], streamed.as_str());
    assert_eq!(messages[1]["status"], "complete");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut res = client
            .get(format!("{base}/api/v1/conversations/{id}"))
            .send()
            .await
            .unwrap();
        let detail = json_of(&mut res).await;
        if detail["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Hello!"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "no title: {detail}");
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    // A shutdown with a live connection is still quick and clean.
    sigterm(&server.child);
    let status = wait_exit(&mut server.child, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_model_without_a_base_url_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(&dir.path().join("chat.db"), "127.0.0.1:0")
        .env("CHAT_LLM_MODEL", "llama3.2")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CHAT_LLM_BASE_URL"), "{err}");
}
