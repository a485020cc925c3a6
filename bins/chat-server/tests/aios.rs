#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The AI OS frontend's chat page against the real `chat-server` binary: the flows it
//! performs, over real HTTP and a real WebSocket client (`/ws`), then the flags that open
//! the routes to the frontend's origin or turn them off.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use common::server::{command, json_of, sigterm, start, wait_exit, Server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};

/// The frontend's dev server.
const FRONTEND: &str = "http://localhost:5173";

/// A request's status and JSON body.
async fn call(req: awc::ClientRequest, body: Option<Value>) -> (u16, Value) {
    let mut res = match body {
        Some(b) => req.send_json(&b).await.unwrap(),
        None => req.send().await.unwrap(),
    };
    (res.status().as_u16(), json_of(&mut res).await)
}

struct Front {
    client: awc::Client,
    base: String,
}

impl Front {
    fn new(server: &Server) -> Front {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish();
        Front {
            client,
            base: server.base.clone(),
        }
    }

    /// What the frontend's pages send: their own origin.
    fn req(&self, method: awc::http::Method, path: &str) -> awc::ClientRequest {
        self.client
            .request(method, format!("{}{path}", self.base))
            .insert_header(("Origin", FRONTEND))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        call(self.req(awc::http::Method::GET, path), None).await
    }

    async fn post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        call(self.req(awc::http::Method::POST, path), body).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        call(self.req(awc::http::Method::DELETE, path), None).await
    }

    async fn multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> (u16, Value) {
        let boundary = "----aios-e2e";
        let mut body = Vec::new();
        for (name, value) in fields {
            write!(body, "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").unwrap();
        }
        if let Some((name, bytes)) = file {
            write!(
                body,
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/zip\r\n\r\n"
            )
            .unwrap();
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        write!(body, "--{boundary}--\r\n").unwrap();
        let req = self.req(awc::http::Method::POST, path).insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ));
        let mut res = req.send_body(body).await.unwrap();
        (res.status().as_u16(), json_of(&mut res).await)
    }
}

/// The Claude fixture, zipped as claude.ai delivers it.
fn claude_zip() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/import/claude");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for name in ["conversations.json", "projects.json", "users.json"] {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&std::fs::read(dir.join(name)).unwrap())
            .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

type Socket = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

/// The next JSON text frame (pings skipped).
async fn next_json(ws: &mut Socket) -> Value {
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

/// Sends a chat message over `/ws`; the final reply text and its message id, after checking
/// the frames: typing start, cumulative chunks, the final one, typing stop.
async fn send_over_ws(ws: &mut Socket, content: &str) -> (String, String) {
    let frame =
        json!({"type": "chat_message", "content": content, "provider": "ollama", "model": null});
    ws.send(awc::ws::Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    assert_eq!(next_json(ws).await, json!({"type": "agent_typing_start"}));
    let mut before = String::new();
    let mut chunks = 0;
    loop {
        let f = next_json(ws).await;
        if f["type"] == "agent_typing_stop" {
            break;
        }
        assert_eq!(f["type"], "agent_response_chunk", "{f}");
        let so_far = f["content"].as_str().unwrap().to_owned();
        assert!(so_far.starts_with(&before), "chunks are cumulative");
        before = so_far;
        chunks += 1;
        if f["is_final"] == true {
            assert_eq!(next_json(ws).await, json!({"type": "agent_typing_stop"}));
            assert!(chunks >= 2, "the reply streamed");
            return (before, f["message_id"].as_str().unwrap().to_owned());
        }
    }
    panic!("typing stopped before the final chunk");
}

#[actix_rt::test]
async fn the_chat_page_flows_against_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let mut cmd = command(&db, "127.0.0.1:0");
    cmd.env("CHAT_OFFLINE_DELAY_MS", "1")
        .env("CHAT_CORS_ORIGINS", FRONTEND);
    let mut server = start(cmd);
    let front = Front::new(&server);

    // Start a session and chat over /ws.
    let (status, started) = front.post("/api/chat/start-session", None).await;
    assert_eq!(status, 200);
    let session = started["session_id"].as_str().unwrap().to_owned();
    let ws_url = format!("{}/ws", server.base.replacen("http", "ws", 1));
    let (_, mut ws) = awc::Client::new()
        .ws(ws_url.as_str())
        .origin(FRONTEND)
        .connect()
        .await
        .unwrap();
    ws.send(awc::ws::Message::Text(r#"{"type":"ping"}"#.into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await, json!({"type": "pong"}));
    let question = "Hello!\n\n```sh\necho  hi\n```";
    let (reply, answer_id) = send_over_ws(&mut ws, question).await;
    assert!(reply.contains("> echo  hi"), "{reply}");
    let (_, history) = front.get("/api/chat/history?limit=50").await;
    assert_eq!(history[0]["content"], question);
    assert_eq!(history[1]["content"], reply.as_str());
    assert_eq!(history[1]["id"], answer_id.as_str());

    // The list, the conversation, rename, archive, unarchive.
    let (_, list) = front.get("/api/conversations").await;
    assert_eq!(list[0]["session_id"], session.as_str());
    assert_eq!(list[0]["turn_count"], 1);
    let (_, opened) = front.get(&format!("/api/conversations/{session}")).await;
    assert_eq!(opened["turns"][0]["user"], question);
    assert_eq!(opened["turns"][0]["assistant"], reply.as_str());
    assert_eq!(
        opened["turns"][0]["assistant_message_id"],
        answer_id.as_str()
    );
    let (status, renamed) = front
        .post(
            &format!("/api/conversations/{session}/rename"),
            Some(json!({"name": "Shell"})),
        )
        .await;
    assert_eq!(
        (status, renamed),
        (200, json!({"success": true, "name": "Shell"}))
    );
    assert_eq!(
        front
            .post(&format!("/api/conversations/{session}/archive"), None)
            .await
            .0,
        200
    );
    assert_eq!(front.get("/api/conversations").await.1, json!([]));
    assert_eq!(
        front
            .post(&format!("/api/conversations/{session}/unarchive"), None)
            .await
            .0,
        200
    );
    assert_eq!(front.get("/api/conversations").await.1[0]["name"], "Shell");

    // Rate the answer.
    let rating = json!({"message_id": answer_id, "conversation_id": session, "rating": "up",
                        "user_message": question, "assistant_message": reply});
    let (status, rated) = front.post("/api/ratings/rate", Some(rating)).await;
    assert_eq!((status, &rated["finetune_saved"]), (200, &json!(true)));
    assert_eq!(front.get("/api/ratings/stats").await.1["total_approved"], 1);

    // Import a zip through the dialog: upload, parse, commit.
    let (status, up) = front
        .multipart(
            "/api/import/upload",
            &[("platform", "claude")],
            Some(("claude.zip", &claude_zip())),
        )
        .await;
    assert_eq!(status, 200, "{up}");
    let upload_id = up["upload_id"].as_str().unwrap().to_owned();
    let (status, preview) = front
        .multipart("/api/import/parse", &[("upload_id", &upload_id)], None)
        .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["platform"], "claude");
    let found = preview["total_conversations"].as_u64().unwrap();
    assert!(found > 0);
    let (status, job) = front
        .multipart("/api/import/commit", &[("upload_id", &upload_id)], None)
        .await;
    assert_eq!((status, &job["status"]), (200, &json!("done")), "{job}");
    let (_, list) = front.get("/api/conversations").await;
    let claude = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == "claude")
        .count();
    assert_eq!(claude as u64, found);

    // Export, then delete.
    let res = front
        .req(
            awc::http::Method::GET,
            &format!("/api/conversations/{session}/export"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("access-control-allow-origin").unwrap(),
        FRONTEND
    );
    let disposition = res
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.contains(".json"), "{disposition}");
    let (_, all) = front.get("/api/conversations/export/all").await;
    assert_eq!(all["platform"], "AI_OS");
    assert_eq!(
        all["conversations"].as_array().unwrap().len() as u64,
        found + 1
    );
    let (status, deleted) = front.delete(&format!("/api/conversations/{session}")).await;
    assert_eq!((status, &deleted["success"]), (200, &json!(true)));
    let (_, gone) = front.delete("/api/conversations/source/claude").await;
    assert_eq!(gone["deleted_count"].as_u64(), Some(found));
    assert_eq!(front.get("/api/conversations").await.1, json!([]));

    // Another site's page is refused.
    let (status, body) = call(
        front
            .client
            .get(format!("{}/api/conversations", server.base))
            .insert_header(("Origin", "https://evil.example")),
        None,
    )
    .await;
    assert_eq!((status, &body["error"]), (403, &json!("forbidden_origin")));

    sigterm(&server.child);
    let status = wait_exit(&mut server.child, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
}

#[actix_rt::test]
async fn a_flag_turns_the_routes_off_and_origins_are_closed_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(command(&dir.path().join("chat.db"), "127.0.0.1:0"));
    let client = awc::Client::default();
    // No origin configured: the frontend's page is refused, and CORS grants nothing.
    let (status, _) = call(
        client
            .get(format!("{}/api/chat/history", server.base))
            .insert_header(("Origin", FRONTEND)),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let res = client
        .request(
            awc::http::Method::OPTIONS,
            format!("{}/api/chat/history", server.base),
        )
        .insert_header(("Origin", FRONTEND))
        .insert_header(("Access-Control-Request-Method", "GET"))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    assert_eq!(
        call(
            client.get(format!("{}/api/chat/history", server.base)),
            None
        )
        .await,
        (200, json!([]))
    );
    drop(server);

    let mut cmd = command(&dir.path().join("chat.db"), "127.0.0.1:0");
    cmd.env("CHAT_NO_AIOS", "true");
    let server = start(cmd);
    // `/ws` is then the web UI's page like any unknown path, not a WebSocket.
    let ws_url = format!("{}/ws", server.base.replacen("http", "ws", 1));
    let ws = awc::Client::new().ws(ws_url).connect().await;
    assert!(ws.is_err(), "/ws still upgrades");
    for path in ["/api/chat/history", "/api/conversations", "/api/models"] {
        let res = client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    let res = client
        .get(format!("{}/api/v1/health", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let out = command(&dir.path().join("chat.db"), "127.0.0.1:0")
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--no-aios"), "{help}");
}
