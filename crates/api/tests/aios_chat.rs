#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The AI OS frontend's chat contract against a real server on loopback: `/ws` with a real
//! WebSocket client and `/api/chat/*` over real HTTP, with a fake OpenAI-compatible model
//! server (or the offline provider). What streams, what is stored, and the rules the socket
//! shares with `/api/v1/ws` (token, origin, cap, frame size, rate).

mod common;

use common::Backend;
use rstest::rstest;

use std::sync::Arc;
use std::time::Duration;

use awc::ws;
use chat_api::ChatLimits;
use chat_llm::{ChatProvider, OfflineProvider};
use serde_json::{json, Value};

use common::aios::{chat, chunks, connect, get, get_with, post, post_empty, ws_url};
use common::fake_llm::{self, FakeServer, Step};
use common::live::{Live, Ws};

/// A reply with newlines, indentation, a code fence, tabs, trailing spaces and non-ASCII, cut
/// at awkward places: a word-by-word re-sender would lose most of this.
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

/// A live server with `provider`, `limits` and whatever else `tweak` sets.
fn live(
    provider: Arc<dyn ChatProvider>,
    limits: ChatLimits,
    tweak: impl FnOnce(chat_api::ApiStateBuilder) -> chat_api::ApiStateBuilder,
) -> (common::Env, Live) {
    let env = common::env_with(|b| tweak(b.provider(provider).chat_limits(limits)));
    let live = Live::start(env.state.clone());
    (env, live)
}

/// Limits with chunks sent as soon as they come.
fn every_chunk() -> ChatLimits {
    ChatLimits {
        event_interval: Duration::ZERO,
        ..ChatLimits::default()
    }
}

/// A fake model answering `pieces` with `pause` between them (titles get a short answer).
async fn model_with(pieces: &'static [&'static str], pause: Duration) -> FakeServer {
    FakeServer::start(move |r| {
        if fake_llm::asks_for_title(r) {
            return fake_llm::sse_reply(&["A title"]);
        }
        let mut steps = vec![Step::Write(fake_llm::sse_head())];
        for p in pieces {
            steps.push(Step::Write(fake_llm::delta_event(p).into_bytes()));
            steps.push(Step::Sleep(pause));
        }
        steps.push(Step::Write(fake_llm::finish_event("stop").into_bytes()));
        steps.push(Step::Write(b"data: [DONE]\n\n".to_vec()));
        steps
    })
    .await
}

/// The end offsets of the pieces: where a chunk made of whole model deltas may end.
fn boundaries(pieces: &[&str]) -> Vec<usize> {
    pieces
        .iter()
        .scan(0, |at, p| {
            *at += p.len();
            Some(*at)
        })
        .collect()
}

/// Checks the frames of one reply: typing start and stop around chunks that grow by whole
/// model deltas, the last one final and byte-exact. Returns the chunks' message id.
fn check_reply(frames: &[Value], pieces: &[&str]) -> String {
    let expected = pieces.concat();
    assert_eq!(
        frames[0],
        json!({"type": "agent_typing_start"}),
        "{frames:#?}"
    );
    assert_eq!(
        frames.last().unwrap(),
        &json!({"type": "agent_typing_stop"})
    );
    let chunks = chunks(frames);
    let (last, partial) = chunks.split_last().unwrap();
    assert_eq!(last["is_final"], true);
    assert_eq!(
        last["content"],
        expected.as_str(),
        "the final chunk is the reply"
    );
    let ends = boundaries(pieces);
    let mut before = 0;
    for c in partial {
        assert_eq!(c["is_final"], false);
        let content = c["content"].as_str().unwrap();
        assert!(expected.starts_with(content), "{content:?} is not a prefix");
        assert!(content.len() > before, "chunks grow");
        assert!(
            ends.contains(&content.len()),
            "{content:?} does not end where a model delta ends: re-split, not streamed"
        );
        before = content.len();
    }
    let id = last["message_id"].as_str().unwrap().to_owned();
    assert!(chunks.iter().all(|c| c["message_id"] == id.as_str()));
    assert_eq!(
        frames.len(),
        chunks.len() + 2,
        "only chunks between start and stop"
    );
    id
}

#[rstest]
#[actix_rt::test]
async fn chunks_carry_the_streamed_reply_byte_exact_and_it_is_stored_so(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = model_with(PIECES, Duration::from_millis(5)).await;
    let (_env, live) = live(provider_for(&fake), every_chunk(), |b| b);
    let mut ws = connect(&live).await;
    let question = "  Show me\n\n```rust\nfn main() {}\n```\n\twith a tab  ";
    let frames = chat(&mut ws, question).await;
    let aid = check_reply(&frames, PIECES);
    assert!(
        chunks(&frames).len() >= PIECES.len(),
        "each delta was sent as it came: {frames:#?}"
    );

    // Stored exactly as our own protocol stores it, in the current session.
    let (status, history) = get(&live, "/api/chat/history").await;
    assert_eq!(status, 200);
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["role"], "user");
    assert_eq!(history[0]["content"], question);
    assert_eq!(history[1]["id"], aid.as_str());
    assert_eq!(history[1]["role"], "assistant");
    assert_eq!(history[1]["content"], PIECES.concat().as_str());
    assert!(history[1]["timestamp"].as_str().unwrap().ends_with('Z'));
    let (_, status) = get(&live, "/api/chat/agent-status").await;
    let session = status["last_interaction"].as_str().unwrap().to_owned();
    assert!(!session.is_empty());
    let (_, message) = get(&live, &format!("/api/v1/messages/{aid}")).await;
    assert_eq!(message["status"], "complete");
    assert_eq!(message["content"], PIECES.concat().as_str());

    // A second message continues the same session, with the first exchange as context.
    let frames = chat(&mut ws, "and again").await;
    check_reply(&frames, PIECES);
    let (_, history) = get(&live, "/api/chat/history").await;
    assert_eq!(history.as_array().unwrap().len(), 4);
    let asked = fake
        .requests()
        .into_iter()
        .rfind(|r| !fake_llm::asks_for_title(r))
        .unwrap()
        .json();
    assert_eq!(asked["messages"][0]["content"], question);
    assert_eq!(asked["messages"][2]["content"], "and again");
    ws.close().await;
}

#[rstest]
#[actix_rt::test]
async fn chunks_are_coalesced_within_the_event_interval_without_losing_a_byte(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    const MANY: &[&str] = &[
        "a\n", "bb\n", "```\n", "ccc ", "dd\t", "e\n", "ff", "```\n", "g", "hh ", "ii\n", "j", "k",
        "ll\n", "mm", "n", "oo ", "p", "qq\n", "rr",
    ];
    let fake = model_with(MANY, Duration::from_millis(15)).await;
    let limits = ChatLimits {
        event_interval: Duration::from_millis(120),
        ..ChatLimits::default()
    };
    let (_env, live) = live(provider_for(&fake), limits, |b| b);
    let mut ws = connect(&live).await;
    let frames = chat(&mut ws, "many small deltas").await;
    check_reply(&frames, MANY);
    let partial = chunks(&frames).len() - 1;
    assert!(
        (1..MANY.len() / 2).contains(&partial),
        "{partial} partial chunks for {} deltas over ~300 ms",
        MANY.len()
    );
}

#[rstest]
#[actix_rt::test]
async fn ping_typing_and_malformed_frames(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live(offline(), every_chunk(), |b| b);
    let mut a = connect(&live).await;
    let mut b = connect(&live).await;
    a.send(json!({"type": "ping"})).await;
    assert_eq!(a.recv().await, json!({"type": "pong"}));

    a.send(json!({"type": "typing_start"})).await;
    let seen = b.recv().await;
    assert_eq!(seen["type"], "user_typing");
    let client = seen["client_id"].as_str().unwrap().to_owned();
    a.send(json!({"type": "typing_stop"})).await;
    assert_eq!(
        b.recv().await,
        json!({"type": "user_typing_stop", "client_id": client})
    );
    // Nobody hears their own typing: the next frame A gets is its pong.
    a.send(json!({"type": "ping"})).await;
    assert_eq!(a.recv().await, json!({"type": "pong"}));

    for (frame, words) in [
        ("not json", "expected"),
        (r#"{"type":"chat.send","content":"x"}"#, "unknown variant"),
        (r#"{"type":"chat_message"}"#, "missing field `content`"),
        (r#"{"type":"chat_message","content":"  \n "}"#, "empty"),
    ] {
        a.send_text(frame).await;
        let error = a.recv().await;
        assert_eq!(error["type"], "error", "{frame}: {error}");
        assert!(
            error["content"].as_str().unwrap().contains(words),
            "{frame}: {error}"
        );
        assert_eq!(error.as_object().unwrap().len(), 2, "{error}");
    }
    a.send_raw(ws::Message::Binary(bytes::Bytes::from_static(b"\x00")))
        .await;
    assert_eq!(a.recv().await["type"], "error");
    // Still open.
    a.send(json!({"type": "ping"})).await;
    assert_eq!(a.recv().await, json!({"type": "pong"}));

    // When a typing client leaves, the others hear it stopped.
    a.send(json!({"type": "typing_start"})).await;
    assert_eq!(b.recv().await["type"], "user_typing");
    a.close().await;
    assert_eq!(b.recv().await["type"], "user_typing_stop");
}

#[rstest]
#[actix_rt::test]
async fn a_model_failure_ends_typing_with_an_error_and_keeps_the_question(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = FakeServer::with_steps(vec![Step::Write(fake_llm::response(
        "500 Internal Server Error",
        "application/json",
        r#"{"error":{"message":"the GPU caught fire"}}"#,
    ))])
    .await;
    let (_env, live) = live(provider_for(&fake), every_chunk(), |b| b);
    let mut ws = connect(&live).await;
    let frames = chat(&mut ws, "will this work?").await;
    assert_eq!(
        frames,
        [
            json!({"type": "agent_typing_start"}),
            json!({"type": "agent_typing_stop"})
        ]
    );
    let error = ws.recv().await;
    assert_eq!(error["type"], "error");
    let words = error["content"].as_str().unwrap();
    assert!(words.contains("GPU caught fire"), "{words}");
    assert!(!words.to_lowercase().contains("sqlite"), "{words}");
    let (_, history) = get(&live, "/api/chat/history").await;
    assert_eq!(history[0]["content"], "will this work?", "{history}");
}

#[rstest]
#[actix_rt::test]
async fn one_reply_at_a_time_per_conversation_and_connection(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = model_with(PIECES, Duration::from_millis(150)).await;
    let (_env, live) = live(provider_for(&fake), every_chunk(), |b| b);
    let mut ws = connect(&live).await;
    ws.send(json!({"type": "chat_message", "content": "slow one"}))
        .await;
    assert_eq!(ws.recv().await["type"], "agent_typing_start");
    assert_eq!(ws.recv().await["type"], "agent_response_chunk");

    let (_, status) = get(&live, "/api/chat/agent-status").await;
    assert_eq!(status["status"], "thinking");
    // The same connection waits for its reply; HTTP into the same session is refused.
    ws.send(json!({"type": "chat_message", "content": "too soon"}))
        .await;
    let busy = ws.until("error").await;
    assert!(busy.last().unwrap()["content"]
        .as_str()
        .unwrap()
        .contains("still being written"));
    let (status, body) = post(&live, "/api/chat/message", json!({"content": "me too"})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "conflict");

    let rest = ws.until("agent_typing_stop").await;
    assert_eq!(
        chunks(&rest).last().unwrap()["content"],
        PIECES.concat().as_str()
    );
    let (_, status) = get(&live, "/api/chat/agent-status").await;
    assert_eq!(status["status"], "ready");
    assert_eq!(status["name"], "test-model");
}

#[rstest]
#[actix_rt::test]
async fn http_chat_follows_the_current_session(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live(offline(), every_chunk(), |b| b);
    let (status, body) = get(&live, "/api/chat/history").await;
    assert_eq!((status.as_u16(), body), (200, json!([])));
    let (_, status) = get(&live, "/api/chat/agent-status").await;
    assert_eq!(
        status,
        json!({"status": "offline", "name": "offline", "last_interaction": null})
    );

    let (status, started) = post_empty(&live, "/api/chat/start-session").await;
    assert_eq!(status, 200);
    assert_eq!(started["status"], "ok");
    let first = started["session_id"].as_str().unwrap().to_owned();
    assert_eq!(started.as_object().unwrap().len(), 2);

    let (status, sent) = post(
        &live,
        "/api/chat/message",
        json!({"content": "Hello\nthere", "model_id": "offline", "provider": "ollama", "endpoint": null}),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["session_id"], first.as_str());
    assert_eq!(sent["agent_status"], "offline");
    let message = &sent["message"];
    assert_eq!(message["role"], "assistant");
    assert!(
        message["content"]
            .as_str()
            .unwrap()
            .contains("> Hello\n> there"),
        "{message}"
    );
    let keys: Vec<&str> = message
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["content", "id", "role", "timestamp"]);

    let (_, history) = get(&live, "/api/chat/history?limit=50").await;
    let history = history.as_array().unwrap().clone();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["content"], "Hello\nthere");
    assert_eq!(history[1]["id"], message["id"]);
    let (_, last) = get(&live, "/api/chat/history?limit=1").await;
    assert_eq!(last, json!([history[1].clone()]));

    // Another session, then back; unknown ids are 404.
    let (_, second) = post_empty(&live, "/api/chat/start-session").await;
    let second = second["session_id"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(get(&live, "/api/chat/history").await.1, json!([]));
    let (status, body) = post_empty(&live, "/api/chat/set-session/no-such-id").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "conversation_not_found");
    let (status, body) = post_empty(&live, &format!("/api/chat/set-session/{first}")).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"session_id": first, "status": "ok"}));
    assert_eq!(get(&live, "/api/chat/history").await.1, json!(history));

    // `clear` starts afresh without deleting: the next message opens a new session.
    let (status, body) = post_empty(&live, "/api/chat/clear").await;
    assert_eq!(
        (status.as_u16(), body),
        (200, json!({"message": "Chat history cleared"}))
    );
    assert_eq!(get(&live, "/api/chat/history").await.1, json!([]));
    let (_, sent) = post(&live, "/api/chat/message", json!({"content": "fresh"})).await;
    let third = sent["session_id"].as_str().unwrap();
    assert!(third != first && third != second);
    let (status, _) = get(&live, &format!("/api/v1/conversations/{first}")).await;
    assert_eq!(status, 200, "nothing was deleted");

    // A message for a named session makes it current.
    let (_, sent) = post(
        &live,
        "/api/chat/message",
        json!({"content": "back to the first", "session_id": first}),
    )
    .await;
    assert_eq!(sent["session_id"], first.as_str());
    assert_eq!(
        get(&live, "/api/chat/history")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        4
    );

    let (status, body) = post(&live, "/api/chat/message", json!({"content": " "})).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = post(
        &live,
        "/api/chat/message",
        json!({"content": "x", "session_id": "missing"}),
    )
    .await;
    assert_eq!(status, 404);
    // A known path with another method names no endpoint either (as under /api/v1).
    let (status, body) = post(&live, "/api/chat/history", json!({})).await;
    assert_eq!(
        (status.as_u16(), &body["error"]),
        (404, &json!("route_not_found"))
    );
    let (status, body) = get(&live, "/api/chat/nothing-here").await;
    assert_eq!(
        (status.as_u16(), &body["error"]),
        (404, &json!("route_not_found"))
    );
}

#[rstest]
#[actix_rt::test]
async fn the_current_session_survives_a_restart_and_forgets_a_deleted_one(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let dir = tempfile::tempdir().unwrap();
    let (db, first) = chat_store::test_server::test_store(dir.path());
    let location = db.as_ref().map_or_else(
        || dir.path().join("chat.db").to_string_lossy().into_owned(),
        chat_store::test_server::TestDatabase::url,
    );
    let open = |store: chat_store::Store| {
        let state = chat_api::ApiState::builder(store)
            .provider(offline())
            .build();
        Live::start(state)
    };
    let live1 = open(first);
    let (_, sent) = post(
        &live1,
        "/api/chat/message",
        json!({"content": "remember me"}),
    )
    .await;
    let session = sent["session_id"].as_str().unwrap().to_owned();
    drop(live1);
    let live2 = open(chat_store::Store::open(&location).unwrap());
    let (_, history) = get(&live2, "/api/chat/history").await;
    assert_eq!(history[0]["content"], "remember me");
    let (status, _) = common::aios::delete(&live2, &format!("/api/conversations/{session}")).await;
    assert_eq!(status, 200);
    assert_eq!(get(&live2, "/api/chat/history").await.1, json!([]));
}

#[rstest]
#[actix_rt::test]
async fn the_token_rules_of_the_api_apply(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live(offline(), every_chunk(), |b| b.token(Some("s3cret")));
    let (status, body) = get(&live, "/api/chat/history").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized");
    let (status, _) = get_with(
        &live,
        "/api/conversations",
        &[("Authorization", "Bearer wrong")],
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = get_with(
        &live,
        "/api/chat/history",
        &[("Authorization", "Bearer s3cret")],
    )
    .await;
    assert_eq!(status, 200);
    for path in [
        "/api/models",
        "/api/ratings/stats",
        "/api/conversations/summary/prompt",
    ] {
        assert_eq!(get(&live, path).await.0, 401, "{path}");
    }

    let refused = awc::Client::new().ws(ws_url(&live)).connect().await;
    assert!(
        matches!(&refused, Err(awc::error::WsClientError::InvalidResponseStatus(s)) if s.as_u16() == 401),
        "{:?}",
        refused.map(|_| ())
    );
    let mut by_query =
        Ws::connect(awc::Client::new().ws(format!("{}?token=s3cret", ws_url(&live)))).await;
    by_query.send(json!({"type": "ping"})).await;
    assert_eq!(by_query.recv().await["type"], "pong");
    let mut by_header =
        Ws::connect(awc::Client::new().ws(ws_url(&live)).bearer_auth("s3cret")).await;
    by_header.send(json!({"type": "ping"})).await;
    assert_eq!(by_header.recv().await["type"], "pong");
}

#[rstest]
#[actix_rt::test]
async fn pages_of_other_origins_are_refused_unless_allowed(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live(offline(), every_chunk(), |b| {
        b.allowed_origins(["http://localhost:5173"])
    });
    let from = |origin: &'static str| [("Origin", origin)];
    let (status, body) = get_with(&live, "/api/chat/history", &from("https://evil.example")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "forbidden_origin");
    assert!(body["message"].as_str().unwrap().contains("--cors-origin"));
    let (status, _) = get_with(&live, "/api/chat/history", &from("http://localhost:5173")).await;
    assert_eq!(status, 200);
    // The server's own pages, and programs that send no Origin, are served.
    let own = format!("http://{}", live.addr);
    let (status, _) = get_with(&live, "/api/chat/history", &[("Origin", own.as_str())]).await;
    assert_eq!(status, 200);

    let refused = awc::Client::new()
        .ws(ws_url(&live))
        .origin("https://evil.example")
        .connect()
        .await;
    assert!(
        matches!(&refused, Err(awc::error::WsClientError::InvalidResponseStatus(s)) if s.as_u16() == 403),
        "{:?}",
        refused.map(|_| ())
    );
    let mut allowed = Ws::connect(
        awc::Client::new()
            .ws(ws_url(&live))
            .origin("http://localhost:5173"),
    )
    .await;
    allowed.send(json!({"type": "ping"})).await;
    assert_eq!(allowed.recv().await["type"], "pong");
}

#[rstest]
#[actix_rt::test]
async fn the_socket_limits_of_the_api_apply(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let limits = ChatLimits {
        max_connections: 1,
        max_frame_size: 1024,
        rate_burst: 2,
        rate_per_second: 1,
        ..ChatLimits::default()
    };
    let (_env, live) = live(offline(), limits, |b| b);
    let mut ws = connect(&live).await;
    let refused = awc::Client::new().ws(ws_url(&live)).connect().await;
    assert!(
        matches!(&refused, Err(awc::error::WsClientError::InvalidResponseStatus(s)) if s.as_u16() == 503),
        "{:?}",
        refused.map(|_| ())
    );
    ws.send(json!({"type": "ping"})).await;
    ws.send(json!({"type": "ping"})).await;
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.recv().await["type"], "pong");
    assert_eq!(ws.recv().await["type"], "pong");
    let limited = ws.recv().await;
    assert_eq!(limited["type"], "error");
    assert!(limited["content"]
        .as_str()
        .unwrap()
        .contains("too many frames"));

    ws.send_text(&"x".repeat(2000)).await;
    close_code(&mut ws, ws::CloseCode::Size).await;
}

/// Reads frames (pings counted) up to the close frame, which must carry `code`; the pings.
async fn close_code(ws: &mut Ws, code: ws::CloseCode) -> usize {
    let mut pings = 0;
    loop {
        match ws.next_raw().await {
            Some(ws::Frame::Close(reason)) => {
                assert_eq!(reason.unwrap().code, code);
                return pings;
            }
            Some(ws::Frame::Ping(_)) => pings += 1,
            Some(_) => {}
            None => panic!("closed without a close frame"),
        }
    }
}

#[rstest]
#[actix_rt::test]
async fn the_heartbeat_of_the_api_applies(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let limits = ChatLimits {
        heartbeat_interval: Duration::from_millis(100),
        client_timeout: Duration::from_millis(350),
        ..ChatLimits::default()
    };
    let (_env, live) = live(offline(), limits, |b| b);
    let mut ws = connect(&live).await;
    let started = std::time::Instant::now();
    // Never answers: neither the pings nor anything else.
    let pings = close_code(&mut ws, ws::CloseCode::Away).await;
    assert!(pings >= 2, "pinged {pings} times before closing");
    assert!(started.elapsed() >= Duration::from_millis(350));
}
