#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The WebSocket chat against a real server on loopback, with a fake OpenAI-compatible model
//! server (or the offline provider), checking what streams and what is stored.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use awc::ws;
use chat_api::ChatLimits;
use chat_llm::{ChatProvider, OfflineProvider};
use serde_json::{json, Value};

use common::fake_llm::{self, FakeServer, Step};
use common::live::{deltas, of_type, Live, Ws};
use common::Backend;
use rstest::rstest;

/// A reply with newlines, indentation, a code fence, tabs, trailing spaces and non-ASCII, cut
/// into pieces at awkward places.
const PIECES: &[&str] = &[
    "Here is the code:\n\n``",
    "`rust\nfn main() {\n    let x = 1;\n",
    "    if x > 0 {\n\t\tprintln!(\"{x}  \");\n    }\n}\n```",
    "\n\n  - indented *item*  \n",
    "Grüße — 你好 🙂\n",
];

fn provider_for(fake: &FakeServer) -> Arc<dyn ChatProvider> {
    chat_llm::provider_from_config(Some(fake.config())).unwrap()
}

fn offline() -> Arc<dyn ChatProvider> {
    Arc::new(OfflineProvider::new().with_delay(Duration::ZERO))
}

fn live_with(provider: Arc<dyn ChatProvider>) -> (common::Env, Live) {
    live_with_limits(provider, ChatLimits::default())
}

fn live_with_limits(provider: Arc<dyn ChatProvider>, limits: ChatLimits) -> (common::Env, Live) {
    let env = common::env_with(|b| b.provider(provider).chat_limits(limits));
    let live = Live::start(env.state.clone());
    (env, live)
}

fn send_frame(conversation: Value, content: &str) -> Value {
    json!({"type": "chat.send", "request_id": "r1", "conversation_id": conversation, "content": content})
}

/// The `chat.accepted` frame among `frames`.
fn acc(frames: &[Value]) -> &Value {
    of_type(frames, "chat.accepted")
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no chat.accepted in {frames:#?}"))
}

/// The messages of a conversation (`branch=all` when `all`).
async fn messages(live: &Live, id: &str, all: bool) -> Vec<Value> {
    let q = if all { "?branch=all" } else { "" };
    live.get(&format!("/api/v1/conversations/{id}{q}")).await["messages"]
        .as_array()
        .unwrap()
        .clone()
}

/// Polls until `check` holds for the conversation's messages (all branches).
async fn eventually(live: &Live, id: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ms = messages(live, id, true).await;
        if check(&ms) {
            return ms;
        }
        assert!(Instant::now() < deadline, "never held; messages: {ms:#?}");
        actix_rt::time::sleep(Duration::from_millis(30)).await;
    }
}

#[rstest]
#[actix_rt::test]
async fn a_streamed_reply_arrives_and_is_stored_byte_exact(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = FakeServer::start(|r| {
        if fake_llm::asks_for_title(r) {
            fake_llm::sse_reply(&["Rust ", "main function"])
        } else {
            fake_llm::sse_reply(PIECES)
        }
    })
    .await;
    let (_env, live) = live_with(provider_for(&fake));
    let mut a = live.connect().await;
    let question = "  Show me\n\n```rust\nfn main() {}\n```\n\twith a tab  ";
    a.send(send_frame(Value::Null, question)).await;
    let frames = a.until_end().await;
    let accepted = of_type(&frames, "chat.accepted")[0];
    assert_eq!(accepted["request_id"], "r1");
    let cid = accepted["conversation_id"].as_str().unwrap().to_owned();
    let aid = accepted["assistant_message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let uid = accepted["user_message_id"].as_str().unwrap().to_owned();
    let expected: String = PIECES.concat();
    assert!(of_type(&frames, "chat.delta").len() >= PIECES.len() - 1);
    assert_eq!(deltas(&frames), expected, "the deltas add up to the reply");
    let done = frames.last().unwrap();
    assert_eq!(done["type"], "chat.done", "{frames:#?}");
    assert_eq!(done["content"], expected.as_str());
    assert_eq!(done["message_id"], aid.as_str());
    assert_eq!(done["model"], "served-model");
    assert_eq!(done["status"], "complete");
    assert_eq!(done["usage"]["total_tokens"], 12);

    let stored = messages(&live, &cid, false).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["id"], uid.as_str());
    assert_eq!(
        stored[0]["content"], question,
        "the user's text is stored exactly"
    );
    assert_eq!(stored[1]["id"], aid.as_str());
    assert_eq!(stored[1]["content"], expected.as_str());
    assert_eq!(stored[1]["status"], "complete");
    assert_eq!(stored[1]["parent_id"], uid.as_str());

    // The model saw the user's message, byte for byte.
    let chat_request = fake
        .requests()
        .into_iter()
        .find(|r| !fake_llm::asks_for_title(r))
        .unwrap();
    let sent = chat_request.json();
    assert_eq!(sent["stream"], true);
    assert_eq!(
        sent["messages"],
        json!([{"role": "user", "content": question}])
    );

    // The new native conversation gets a title after its first exchange, announced to all
    // (possibly before chat.done reached this client).
    let updated = match of_type(&frames, "conversation.updated").pop() {
        Some(u) => u.clone(),
        None => a.until("conversation.updated").await.pop().unwrap(),
    };
    let title = &updated["conversation"]["title"];
    assert_eq!(title, "Rust main function");
    let c = live.get(&format!("/api/v1/conversations/{cid}")).await;
    assert_eq!(c["title"], "Rust main function");
    assert_eq!(c["source"], "native");
}

#[rstest]
#[actix_rt::test]
async fn the_model_sees_the_active_branch_as_context(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = FakeServer::start(|r| {
        if fake_llm::asks_for_title(r) {
            fake_llm::sse_reply(&["T"])
        } else {
            fake_llm::sse_reply(&["answer"])
        }
    })
    .await;
    let (_env, live) = live_with(provider_for(&fake));
    let mut a = live.connect().await;
    a.send(send_frame(Value::Null, "one")).await;
    let frames = a.until_end().await;
    let cid = acc(&frames)["conversation_id"].as_str().unwrap().to_owned();
    a.send(send_frame(json!(cid), "two")).await;
    let frames = a.until_end().await;
    assert_eq!(frames.last().unwrap()["type"], "chat.done");
    let last = fake
        .requests()
        .into_iter()
        .rfind(|r| !fake_llm::asks_for_title(r))
        .unwrap();
    assert_eq!(
        last.json()["messages"],
        json!([
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "answer"},
            {"role": "user", "content": "two"},
        ])
    );
}

#[rstest]
#[actix_rt::test]
async fn an_http_error_from_the_model_is_reported_and_the_message_kept(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = FakeServer::with_steps(vec![Step::Write(fake_llm::response(
        "500 Internal Server Error",
        "application/json",
        r#"{"error":{"message":"CUDA out of memory"}}"#,
    ))])
    .await;
    let (_env, live) = live_with(provider_for(&fake));
    let mut a = live.connect().await;
    a.send(send_frame(Value::Null, "hello")).await;
    let frames = a.until_end().await;
    let accepted = of_type(&frames, "chat.accepted")[0];
    let cid = accepted["conversation_id"].as_str().unwrap().to_owned();
    let error = frames.last().unwrap();
    assert_eq!(error["type"], "chat.error");
    assert_eq!(error["error"], "model_error");
    assert_eq!(error["request_id"], "r1");
    assert_eq!(error["conversation_id"], cid.as_str());
    assert_eq!(error["message_id"], accepted["assistant_message_id"]);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("HTTP 500") && message.contains("CUDA out of memory"),
        "{message}"
    );

    let stored = messages(&live, &cid, true).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["content"], "hello");
    assert_eq!(stored[0]["status"], "complete");
    assert_eq!(stored[1]["role"], "assistant");
    assert_eq!(stored[1]["content"], "");
    assert_eq!(stored[1]["status"], "interrupted");

    // The connection is still usable.
    a.send(json!({"type": "ping"})).await;
    assert_eq!(a.until("pong").await.last().unwrap()["type"], "pong");
}

#[rstest]
#[actix_rt::test]
async fn a_model_that_never_answers_times_out(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = FakeServer::with_steps(vec![Step::Sleep(Duration::from_secs(30))]).await;
    let config = fake
        .config()
        .with_first_token_timeout(Duration::from_millis(300));
    let provider = chat_llm::provider_from_config(Some(config)).unwrap();
    let (_env, live) = live_with(provider);
    let mut a = live.connect().await;
    a.send(send_frame(Value::Null, "anyone there?")).await;
    let frames = a.until_end().await;
    let cid = acc(&frames)["conversation_id"].as_str().unwrap().to_owned();
    let error = frames.last().unwrap();
    assert_eq!(error["type"], "chat.error");
    assert_eq!(error["error"], "model_timeout");
    assert!(error["message"].as_str().unwrap().contains("timeout"));
    let stored = messages(&live, &cid, true).await;
    assert_eq!(stored[0]["content"], "anyone there?");
    assert_eq!(stored[1]["status"], "interrupted");
}

/// A model that streams two pieces, then hangs.
async fn hanging_model() -> FakeServer {
    FakeServer::with_steps(vec![
        Step::Write(fake_llm::sse_head()),
        Step::Write(fake_llm::delta_event("Once upon\n").into_bytes()),
        Step::Write(fake_llm::delta_event("  a time").into_bytes()),
        Step::Sleep(Duration::from_secs(30)),
    ])
    .await
}

#[rstest]
#[actix_rt::test]
async fn cancel_mid_stream_keeps_the_partial_text_as_interrupted(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = hanging_model().await;
    let (_env, live) = live_with(provider_for(&fake));
    let mut a = live.connect().await;
    a.send(send_frame(Value::Null, "tell me a story")).await;
    let mut frames = Vec::new();
    while deltas(&frames) != "Once upon\n  a time" {
        frames.push(a.recv().await);
    }
    let cid = acc(&frames)["conversation_id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    a.send(json!({"type": "chat.cancel", "conversation_id": cid}))
        .await;
    let done = a.until("chat.done").await.pop().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(done["status"], "interrupted");
    assert_eq!(done["content"], "Once upon\n  a time");
    let stored = messages(&live, &cid, true).await;
    assert_eq!(stored[1]["content"], "Once upon\n  a time");
    assert_eq!(stored[1]["status"], "interrupted");
    // The conversation is free again.
    a.send(json!({"type": "ping"})).await;
    a.until("pong").await;
}

#[rstest]
#[actix_rt::test]
async fn a_client_disconnecting_mid_stream_still_stores_the_partial_text(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = hanging_model().await;
    let (_env, live) = live_with(provider_for(&fake));
    let mut a = live.connect().await;
    a.send(send_frame(Value::Null, "tell me a story")).await;
    let mut frames = Vec::new();
    while deltas(&frames) != "Once upon\n  a time" {
        frames.push(a.recv().await);
    }
    let cid = acc(&frames)["conversation_id"].as_str().unwrap().to_owned();
    drop(a);
    let stored = eventually(&live, &cid, |ms| {
        ms.len() == 2 && ms[1]["content"] == "Once upon\n  a time"
    })
    .await;
    assert_eq!(stored[1]["status"], "interrupted");
    assert_eq!(stored[0]["content"], "tell me a story");
}

#[rstest]
#[actix_rt::test]
async fn a_malformed_frame_gets_an_error_and_the_connection_stays_open(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let mut a = live.connect().await;
    a.send_text("this is not JSON").await;
    let e = a.recv().await;
    assert_eq!(e["type"], "chat.error");
    assert_eq!(e["error"], "invalid_json");
    a.send(json!({"type": "chat.fly", "request_id": "x"})).await;
    let e = a.recv().await;
    assert_eq!(e["error"], "invalid_frame");
    assert_eq!(e["request_id"], "x");
    assert!(e["message"].as_str().unwrap().contains("chat.fly"));
    a.send(json!({"type": "chat.send", "request_id": "y"}))
        .await;
    let e = a.recv().await;
    assert_eq!(e["error"], "invalid_frame");
    assert_eq!(e["request_id"], "y");
    a.send(json!({"type": "chat.send", "conversation_id": null, "content": "   "}))
        .await;
    assert_eq!(a.recv().await["error"], "invalid_input");
    a.send(json!({"type": "chat.send", "conversation_id": "nope", "content": "hi"}))
        .await;
    let e = a.recv().await;
    assert_eq!(e["error"], "conversation_not_found");
    a.send_raw(ws::Message::Binary(bytes::Bytes::from_static(b"\x00\x01")))
        .await;
    assert_eq!(a.recv().await["error"], "invalid_frame");
    a.send(json!({"type": "ping"})).await;
    assert_eq!(a.recv().await, json!({"type": "pong"}));
    // And it still chats.
    a.send(send_frame(Value::Null, "still here?")).await;
    assert_eq!(a.until_end().await.last().unwrap()["type"], "chat.done");
}

#[rstest]
#[actix_rt::test]
async fn too_many_frames_are_rate_limited_without_closing(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let limits = ChatLimits {
        rate_burst: 3,
        rate_per_second: 5,
        ..ChatLimits::default()
    };
    let (_env, live) = live_with_limits(offline(), limits);
    let mut a = live.connect().await;
    for _ in 0..6 {
        a.send(json!({"type": "ping"})).await;
    }
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(a.recv().await);
    }
    let limited = answers
        .iter()
        .filter(|f| f["error"] == "rate_limited")
        .count();
    assert!(limited >= 2, "{answers:#?}");
    assert_eq!(of_type(&answers, "pong").len() + limited, 6);
    actix_rt::time::sleep(Duration::from_millis(400)).await;
    a.send(json!({"type": "ping"})).await;
    assert_eq!(a.recv().await["type"], "pong");
}

#[rstest]
#[actix_rt::test]
async fn a_frame_over_the_limit_closes_the_connection_with_1009(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let limits = ChatLimits {
        max_frame_size: 1024,
        ..ChatLimits::default()
    };
    let (_env, live) = live_with_limits(offline(), limits);
    let mut a = live.connect().await;
    a.send(send_frame(Value::Null, &"x".repeat(4096))).await;
    loop {
        match a.next_raw().await {
            // A heartbeat may come first on a slow machine.
            Some(ws::Frame::Ping(_)) => continue,
            Some(ws::Frame::Close(Some(reason))) => {
                assert_eq!(reason.code, ws::CloseCode::Size);
                break;
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[rstest]
#[actix_rt::test]
async fn a_silent_client_is_pinged_then_closed_after_the_timeout(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let limits = ChatLimits {
        heartbeat_interval: Duration::from_millis(100),
        client_timeout: Duration::from_millis(350),
        ..ChatLimits::default()
    };
    let (_env, live) = live_with_limits(offline(), limits);
    let mut a = live.connect().await;
    let started = std::time::Instant::now();
    let mut pings = 0;
    // Never answers: neither the pings nor anything else.
    loop {
        match a.next_raw().await {
            Some(ws::Frame::Ping(_)) => pings += 1,
            Some(ws::Frame::Close(Some(reason))) => {
                assert_eq!(reason.code, ws::CloseCode::Away);
                break;
            }
            other => panic!("expected pings then a close frame, got {other:?}"),
        }
    }
    assert!(pings >= 2, "pinged {pings} times before closing");
    assert!(started.elapsed() >= Duration::from_millis(350));
}

#[rstest]
#[actix_rt::test]
async fn the_connection_cap_answers_503_before_upgrading(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let limits = ChatLimits {
        max_connections: 1,
        ..ChatLimits::default()
    };
    let (env, live) = live_with_limits(offline(), limits);
    let first = live.connect().await;
    match awc::Client::new().ws(live.ws_url()).connect().await {
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => assert_eq!(s, 503),
        Err(e) => panic!("expected 503, got {e}"),
        Ok(_) => panic!("a second connection was accepted over the cap"),
    }
    first.close().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while env.state.live_connections() > 0 {
        assert!(Instant::now() < deadline, "the slot was never freed");
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    let mut again = live.connect().await;
    again.send(json!({"type": "ping"})).await;
    assert_eq!(again.recv().await["type"], "pong");
}

#[rstest]
#[actix_rt::test]
async fn a_second_client_receives_conversation_updated(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let mut a = live.connect().await;
    let mut b = live.connect().await;
    // Both are subscribed once they answer a ping.
    for c in [&mut a, &mut b] {
        c.send(json!({"type": "ping"})).await;
        c.until("pong").await;
    }
    a.send(send_frame(Value::Null, "hello from tab A")).await;
    let frames = a.until_end().await;
    let cid = acc(&frames)["conversation_id"].as_str().unwrap().to_owned();
    let updated = b.until("conversation.updated").await.pop().unwrap();
    assert_eq!(updated["conversation"]["id"], cid.as_str());
    assert_eq!(updated["conversation"]["source"], "native");
    // B never saw A's chat frames.
    b.send(json!({"type": "ping"})).await;
    let rest = b.until("pong").await;
    assert!(of_type(&rest, "chat.delta").is_empty());
    // A does not get its own message echoed as an update; it does get the title, which
    // concerns every tab and may arrive before or after its chat.done.
    for u in of_type(&frames, "conversation.updated") {
        assert_eq!(
            u["conversation"]["title"], "hello from tab A",
            "only the title update reaches the sender: {u}"
        );
    }
}

/// POSTs or PATCHes JSON over HTTP and returns the JSON answer.
async fn http_json(live: &Live, method: &str, path: &str, body: Value) -> Value {
    let req = match method {
        "POST" => awc::Client::new().post(live.url(path)),
        _ => awc::Client::new().patch(live.url(path)),
    };
    let mut res = req.send_json(&body).await.unwrap();
    assert!(
        res.status().is_success(),
        "{method} {path}: {}",
        res.status()
    );
    res.json::<Value>().await.unwrap()
}

#[rstest]
#[actix_rt::test]
async fn library_events_are_coalesced_to_the_latest_state_per_conversation(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let interval = Duration::from_secs(2);
    let limits = ChatLimits {
        event_interval: interval,
        ..ChatLimits::default()
    };
    let (_env, live) = live_with_limits(offline(), limits);
    let mut b = live.connect().await;
    b.send(json!({"type": "ping"})).await;
    b.until("pong").await;

    // The first event after a quiet spell is delivered at once.
    let created = Instant::now();
    let c = http_json(
        &live,
        "POST",
        "/api/v1/conversations",
        json!({"title": "t0"}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_owned();
    let first = b.until("conversation.updated").await.pop().unwrap();
    assert_eq!(first["conversation"]["title"], "t0");
    assert!(
        created.elapsed() < interval - Duration::from_millis(500),
        "the first event waited for the interval: {:?}",
        created.elapsed()
    );

    // Five renames inside the interval reach the client as one frame with the last title,
    // sent when the interval has passed.
    let path = format!("/api/v1/conversations/{id}");
    for n in 1..=5 {
        http_json(&live, "PATCH", &path, json!({"title": format!("t{n}")})).await;
    }
    let mut updates = Vec::new();
    loop {
        let f = b.recv().await;
        if f["type"] == "conversation.updated" {
            let title = f["conversation"]["title"].clone();
            updates.push(title.clone());
            if title == "t5" {
                break;
            }
        }
    }
    assert!(created.elapsed() >= interval, "held events came early");
    assert_eq!(updates, vec![json!("t5")], "renames were not coalesced");
}

#[rstest]
#[actix_rt::test]
async fn edit_and_regenerate_make_branches(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let mut a = live.connect().await;
    a.send(send_frame(Value::Null, "first")).await;
    let f = a.until_end().await;
    let cid = acc(&f)["conversation_id"].as_str().unwrap().to_owned();
    let u1 = acc(&f)["user_message_id"].as_str().unwrap().to_owned();
    let a1 = acc(&f)["assistant_message_id"].as_str().unwrap().to_owned();
    a.send(send_frame(json!(cid), "second")).await;
    let f = a.until_end().await;
    let u2 = acc(&f)["user_message_id"].as_str().unwrap().to_owned();
    let a2 = acc(&f)["assistant_message_id"].as_str().unwrap().to_owned();

    // Regenerate the second reply: a sibling with the same parent.
    a.send(json!({"type": "chat.regenerate", "request_id": "g", "conversation_id": cid, "message_id": a2}))
        .await;
    let f = a.until_end().await;
    assert_eq!(acc(&f)["request_id"], "g");
    assert_eq!(acc(&f)["user_message_id"], u2.as_str());
    let a2b = acc(&f)["assistant_message_id"].as_str().unwrap().to_owned();
    assert_eq!(f.last().unwrap()["type"], "chat.done");

    // Regenerating a user message is refused.
    a.send(json!({"type": "chat.regenerate", "request_id": "h", "conversation_id": cid, "message_id": u2}))
        .await;
    assert_eq!(
        a.until("chat.error").await.pop().unwrap()["error"],
        "invalid_input"
    );

    // Edit the second question: a sibling of u2 under a1.
    a.send(json!({"type": "chat.send", "request_id": "e", "conversation_id": cid, "content": "second, edited", "parent_id": a1}))
        .await;
    let f = a.until_end().await;
    let u2b = acc(&f)["user_message_id"].as_str().unwrap().to_owned();

    // Edit the first question: `parent_id: null` makes a new root.
    a.send(json!({"type": "chat.send", "request_id": "r", "conversation_id": cid, "content": "first, edited", "parent_id": null}))
        .await;
    let f = a.until_end().await;
    let u1b = acc(&f)["user_message_id"].as_str().unwrap().to_owned();
    let a1b = acc(&f)["assistant_message_id"].as_str().unwrap().to_owned();

    let all = messages(&live, &cid, true).await;
    let parent = |id: &str| {
        all.iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))["parent_id"]
            .clone()
    };
    assert_eq!(all.len(), 9);
    assert_eq!(parent(&u1), Value::Null);
    assert_eq!(
        parent(&u1b),
        Value::Null,
        "editing the first message makes a new root"
    );
    assert_eq!(parent(&a2), json!(u2));
    assert_eq!(
        parent(&a2b),
        json!(u2),
        "the regenerated reply is a sibling"
    );
    assert_eq!(parent(&u2), json!(a1));
    assert_eq!(
        parent(&u2b),
        json!(a1),
        "the edit is a sibling of the original"
    );
    assert_eq!(parent(&a1b), json!(u1b));
    assert!(all.iter().all(|m| m["status"] == "complete"));

    // The active branch is the last one written.
    let active: Vec<Value> = messages(&live, &cid, false)
        .await
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(active, vec![json!(u1b), json!(a1b)]);
}

#[rstest]
#[actix_rt::test]
async fn a_second_send_while_replying_is_refused_as_busy(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = hanging_model().await;
    let (_env, live) = live_with(provider_for(&fake));
    let mut a = live.connect().await;
    a.send(send_frame(Value::Null, "one")).await;
    let accepted = a.until("chat.accepted").await.pop().unwrap();
    let cid = accepted["conversation_id"].as_str().unwrap().to_owned();
    a.send(
        json!({"type": "chat.send", "request_id": "two", "conversation_id": cid, "content": "two"}),
    )
    .await;
    let e = a.until("chat.error").await.pop().unwrap();
    assert_eq!(e["error"], "conversation_busy");
    assert_eq!(e["request_id"], "two");
    a.send(json!({"type": "chat.cancel", "conversation_id": cid}))
        .await;
    a.until("chat.done").await;
}

#[rstest]
#[actix_rt::test]
async fn after_reconnecting_a_get_shows_everything(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let mut a = live.connect().await;
    a.send(send_frame(Value::Null, "before the drop")).await;
    let f = a.until_end().await;
    let cid = acc(&f)["conversation_id"].as_str().unwrap().to_owned();
    let first_reply = f.last().unwrap()["content"].as_str().unwrap().to_owned();
    a.close().await;

    let mut b = live.connect().await;
    b.send(send_frame(json!(cid), "after the reconnect")).await;
    let f = b.until_end().await;
    let second_reply = f.last().unwrap()["content"].as_str().unwrap().to_owned();
    assert_eq!(deltas(&f), second_reply);

    let ms = messages(&live, &cid, false).await;
    let contents: Vec<&str> = ms.iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(
        contents,
        vec![
            "before the drop",
            first_reply.as_str(),
            "after the reconnect",
            second_reply.as_str()
        ]
    );
    assert!(second_reply.contains("after the reconnect"));
}

#[rstest]
#[actix_rt::test]
async fn the_offline_provider_chats_end_to_end(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let mut a = live.connect().await;
    a.send(send_frame(Value::Null, "Hello there.\nHow are you?"))
        .await;
    let f = a.until_end().await;
    let done = f.last().unwrap();
    assert_eq!(done["type"], "chat.done");
    assert_eq!(done["model"], "offline");
    assert!(
        of_type(&f, "chat.delta").len() >= 2,
        "streamed in several deltas"
    );
    assert_eq!(deltas(&f), done["content"].as_str().unwrap());
    assert!(done["content"]
        .as_str()
        .unwrap()
        .contains("No language model is configured"));
    let cid = acc(&f)["conversation_id"].as_str().unwrap().to_owned();
    // The title update may come before or after chat.done.
    let updated = match of_type(&f, "conversation.updated").pop() {
        Some(u) => u.clone(),
        None => a.until("conversation.updated").await.pop().unwrap(),
    };
    assert_eq!(
        updated["conversation"]["title"],
        "Hello there. How are you?"
    );
    let ms = messages(&live, &cid, false).await;
    assert_eq!(ms[1]["model"], "offline");
}

#[rstest]
#[actix_rt::test]
async fn the_upgrade_follows_the_token_rules(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = common::env_with(|b| b.token(Some("s3cret")).provider(offline()));
    let live = Live::start(env.state.clone());
    let status = |r: Result<_, awc::error::WsClientError>| match r {
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => s.as_u16(),
        Err(e) => panic!("{e}"),
        Ok(_) => 101,
    };
    let client = awc::Client::new();
    assert_eq!(status(client.ws(live.ws_url()).connect().await), 401);
    assert_eq!(
        status(
            client
                .ws(format!("{}?token=wrong", live.ws_url()))
                .connect()
                .await
        ),
        401
    );
    assert_eq!(
        status(
            client
                .ws(live.ws_url())
                .bearer_auth("wrong")
                .connect()
                .await
        ),
        401
    );
    let mut by_query = Ws::connect(client.ws(format!("{}?token=s3cret", live.ws_url()))).await;
    by_query.send(json!({"type": "ping"})).await;
    assert_eq!(by_query.recv().await["type"], "pong");
    let mut by_header = Ws::connect(client.ws(live.ws_url()).bearer_auth("s3cret")).await;
    by_header.send(json!({"type": "ping"})).await;
    assert_eq!(by_header.recv().await["type"], "pong");
    // `?token=` is for the upgrade only: other routes still need the header.
    let res = client
        .get(live.url("/api/v1/conversations?token=s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[rstest]
#[actix_rt::test]
async fn import_progress_is_forwarded(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (env, live) = live_with(offline());
    let mut a = live.connect().await;
    a.send(json!({"type": "ping"})).await;
    a.until("pong").await;
    let mut res = awc::Client::new()
        .post(live.url("/api/v1/imports"))
        .content_type("application/json")
        .send_body(common::fixture("claude/conversations.json"))
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    loop {
        let f = a.until("import.progress").await.pop().unwrap();
        assert_eq!(f["id"], id.as_str());
        assert!(f["progress"].is_object());
        if f["status"] == "done" {
            break;
        }
    }
    drop(env);
}
