#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `chat-server` on PostgreSQL: two instances on one database, a database restart under a
//! running server, a database that cannot be reached at start. A real PostgreSQL server
//! (`chat_store::test_server`), real `chat-server` processes, real HTTP and WebSocket clients.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chat_store::test_server::PgServer;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};

/// A running server, killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-server"));
    cmd.arg("--db")
        .arg(db)
        .arg("--bind")
        .arg("127.0.0.1:0")
        .env_remove("CHAT_TOKEN")
        .env_remove("CHAT_BIND")
        .env_remove("CHAT_DB")
        .env_remove("CHAT_LLM_BASE_URL")
        .env_remove("CHAT_LLM_MODEL")
        .env_remove("CHAT_LLM_API_KEY")
        .env("CHAT_LOG", "warn")
        .env("CHAT_OFFLINE_DELAY_MS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd
}

/// Starts a server on `db` and reads its `listening on http://ADDR` line.
fn start(db: &str) -> Server {
    let mut child = command(db).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let port = addr.rsplit(':').next().unwrap();
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

async fn get(url: &str) -> (u16, Value) {
    let mut res = awc::Client::default().get(url).send().await.unwrap();
    let body = res.body().limit(64 << 20).await.unwrap();
    (
        res.status().as_u16(),
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

type Ws = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

async fn ws(server: &Server) -> Ws {
    let url = format!("{}/api/v1/ws", server.base.replacen("http", "ws", 1));
    let (_, mut ws) = awc::Client::new().ws(url.as_str()).connect().await.unwrap();
    ws.send(awc::ws::Message::Text(r#"{"type":"ping"}"#.into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    ws
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(15), ws.next())
            .await
            .expect("a frame within 15 s")
            .expect("the connection is open")
            .unwrap();
        match frame {
            awc::ws::Frame::Text(bytes) => return serde_json::from_slice(&bytes).unwrap(),
            awc::ws::Frame::Ping(_) | awc::ws::Frame::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/import")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[actix_rt::test]
async fn two_instances_share_messages_events_and_imports() {
    let db = PgServer::shared().unwrap().database().unwrap();
    let a = start(&db.url());
    let b = start(&db.url());
    let mut on_a = ws(&a).await;
    let mut on_b = ws(&b).await;

    // A message sent over A's WebSocket reaches B's WebSocket client live.
    let frame = json!({"type": "chat.send", "request_id": "1", "conversation_id": null,
                       "content": "hello from instance A"});
    on_a.send(awc::ws::Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let id = loop {
        let f = next_json(&mut on_a).await;
        if f["type"] == "chat.done" {
            break f["conversation_id"].as_str().unwrap().to_owned();
        }
    };
    loop {
        let f = next_json(&mut on_b).await;
        if f["type"] == "conversation.updated" && f["conversation"]["id"] == id.as_str() {
            break;
        }
    }
    // B lists it and serves its messages.
    let (s, list) = get(&format!("{}/api/v1/conversations", b.base)).await;
    assert_eq!(s, 200, "{list}");
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id.as_str()));
    let (s, detail) = get(&format!("{}/api/v1/conversations/{id}", b.base)).await;
    assert_eq!(s, 200);
    assert_eq!(detail["messages"][0]["content"], "hello from instance A");

    // An import uploaded to A: B answers for its status and lists its conversations, and B's
    // WebSocket client hears its progress.
    let mut res = awc::Client::default()
        .post(format!("{}/api/v1/imports", a.base))
        .insert_header(("content-type", "application/json"))
        .send_body(fixture("chatgpt-single/conversations.json"))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    let accepted: Value = serde_json::from_slice(&res.body().await.unwrap()).unwrap();
    let job = accepted["id"].as_str().unwrap().to_owned();
    let status = wait_done(&b, &job).await;
    assert_eq!(status["status"], "done", "{status}");
    assert_eq!(status["outcome"], "success", "{status}");
    let heard = loop {
        let f = next_json(&mut on_b).await;
        if f["type"] == "import.progress" && f["id"] == job.as_str() {
            break f;
        }
    };
    assert!(heard["status"].is_string(), "{heard}");
    let (_, list) = get(&format!("{}/api/v1/conversations?source=chatgpt", b.base)).await;
    assert!(
        !list["items"].as_array().unwrap().is_empty(),
        "the imported conversation is listed on B: {list}"
    );
    let (_, jobs) = get(&format!("{}/api/v1/imports", b.base)).await;
    assert!(jobs.to_string().contains(&job), "{jobs}");

    // An export with media uploaded to B: both instances serve every item, byte-identical
    // (the bytes are in the database, not on B's disk).
    let job = upload_zip(&b, &media_zip()).await;
    let done = wait_done(&a, &job).await;
    assert_eq!(done["outcome"], "success", "{done}");
    let media_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/media/chatgpt-2026");
    let mut served = 0;
    for entry in std::fs::read_dir(&media_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("dat") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let id = blake3::hash(&bytes).to_hex().to_string();
        for server in [&a, &b] {
            let mut res = awc::Client::default()
                .get(format!("{}/api/v1/media/{id}", server.base))
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status().as_u16(),
                200,
                "{} from {}",
                path.display(),
                server.base
            );
            let body = res.body().limit(16 << 20).await.unwrap();
            assert_eq!(&body[..], &bytes[..], "{}", path.display());
            served += 1;
        }
    }
    assert_eq!(served, 10);
}

/// The media fixture (a ChatGPT 2026 export with image, audio, HTML and SVG files) as a zip.
fn media_zip() -> Vec<u8> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/media/chatgpt-2026");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, &std::fs::read(&path).unwrap()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Uploads a zip to `server`'s import endpoint; returns the job id.
async fn upload_zip(server: &Server, body: &[u8]) -> String {
    let mut res = awc::Client::default()
        .post(format!(
            "{}/api/v1/imports?filename=export.zip",
            server.base
        ))
        .insert_header(("content-type", "application/zip"))
        .send_body(body.to_vec())
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    let accepted: Value = serde_json::from_slice(&res.body().await.unwrap()).unwrap();
    accepted["id"].as_str().unwrap().to_owned()
}

/// Polls `server` until the import job ends; returns its final view.
async fn wait_done(server: &Server, job: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, view) = get(&format!("{}/api/v1/imports/{job}", server.base)).await;
        assert_eq!(s, 200, "{view}");
        if view["status"] == "done" || view["status"] == "failed" {
            return view;
        }
        assert!(Instant::now() < deadline, "the import did not end: {view}");
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_rt::test]
async fn a_database_restart_gives_503_then_recovers_without_a_restart() {
    let pg = PgServer::start().unwrap();
    pg.admin("CREATE DATABASE chat").unwrap();
    let server = start(&pg.url("chat"));
    let list = format!("{}/api/v1/conversations", server.base);
    assert_eq!(get(&list).await.0, 200);
    pg.pg_stop().unwrap();
    let (s, body) = get(&list).await;
    assert_eq!(s, 503, "{body}");
    assert_eq!(body["error"], "database_unavailable", "{body}");
    assert!(!body.to_string().contains("postgres"), "{body}");
    pg.pg_start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (s, body) = get(&list).await;
        if s == 200 {
            break;
        }
        assert_eq!(s, 503, "{body}");
        assert!(
            Instant::now() < deadline,
            "not back after the restart: {body}"
        );
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    }
    // Writes work again too.
    let mut res = awc::Client::default()
        .post(&list)
        .send_json(&json!({"title": "after the restart"}))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201, "{:?}", res.body().await);
}

#[test]
fn an_unreachable_database_at_start_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://chat:s3cret@127.0.0.1:{port}/chat");
    let out = command(&url).stderr(Stdio::piped()).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1"), "{stderr}");
    assert!(stderr.contains(&port.to_string()), "{stderr}");
    assert!(
        !stderr.contains("s3cret"),
        "the password is never shown: {stderr}"
    );
}
