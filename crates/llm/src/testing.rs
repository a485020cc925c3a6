//! Test support, behind the `testing` feature: a fake OpenAI-compatible model server on a real
//! loopback socket. A tiny HTTP/1.1 responder that records each request and plays a scripted
//! response (writes split anywhere, pauses, hangs, early close). Used by this crate's tests and
//! by chat-api's, so the model server is faked in one place.
//!
//! Test code: it panics on setup failures rather than returning errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_debug_implementations,
    missing_docs
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::LlmConfig;
use crate::error::Error;
use crate::provider::ChatStream;
use crate::types::ChatEvent;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the fake server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// What the server does, step by step, once it has read a request.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes (and flush).
    Write(Vec<u8>),
    /// Pause.
    Sleep(Duration),
}

pub struct FakeServer {
    pub base_url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// Starts a server that answers every request with `respond(request)`, then closes the
    /// connection.
    pub async fn start<F>(respond: F) -> Self
    where
        F: Fn(&Recorded) -> Vec<Step> + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let respond = Arc::new(respond);
        let recorded = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let respond = Arc::clone(&respond);
                let recorded = Arc::clone(&recorded);
                tokio::spawn(async move {
                    let _ = serve(socket, respond.as_ref(), &recorded).await;
                });
            }
        });
        Self {
            base_url: format!("http://{addr}/v1"),
            requests,
            task,
        }
    }

    /// A server that plays the same steps for every request.
    pub async fn with_steps(steps: Vec<Step>) -> Self {
        Self::start(move |_| steps.clone()).await
    }

    pub fn config(&self) -> LlmConfig {
        LlmConfig::new(
            self.base_url.clone(),
            Some("test-model".to_owned()),
            Some("sk-test".to_owned()),
        )
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve<F>(
    mut socket: TcpStream,
    respond: &F,
    recorded: &Mutex<Vec<Recorded>>,
) -> std::io::Result<()>
where
    F: Fn(&Recorded) -> Vec<Step>,
{
    socket.set_nodelay(true)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let method = request_line.next().unwrap_or("").to_owned();
    let path = request_line.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let request = Recorded {
        method,
        path,
        headers,
        body,
    };
    let steps = respond(&request);
    recorded.lock().unwrap().push(request);
    for step in steps {
        match step {
            Step::Write(bytes) => {
                socket.write_all(&bytes).await?;
                socket.flush().await?;
            }
            Step::Sleep(d) => tokio::time::sleep(d).await,
        }
    }
    socket.shutdown().await
}

/// Response headers for an event stream; the body ends when the connection closes.
pub fn sse_head() -> Vec<u8> {
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n".to_vec()
}

/// A complete response with a body.
pub fn response(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A `data:` event for a chunk carrying `content`.
pub fn delta_event(content: &str) -> String {
    let chunk = serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "served-model",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]
    });
    format!("data: {chunk}\n\n")
}

/// The final chunk with a finish reason.
pub fn finish_event(reason: &str) -> String {
    let chunk = serde_json::json!({
        "model": "served-model",
        "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]
    });
    format!("data: {chunk}\n\n")
}

/// Splits bytes into writes of `size` bytes with a short pause between, so they arrive as
/// separate TCP reads.
pub fn split_writes(bytes: &[u8], size: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    for piece in bytes.chunks(size.max(1)) {
        steps.push(Step::Write(piece.to_vec()));
        steps.push(Step::Sleep(Duration::from_millis(1)));
    }
    steps
}

/// Everything a stream yields until it ends.
pub async fn drain(mut stream: ChatStream) -> Vec<Result<ChatEvent, Error>> {
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        out.push(item);
    }
    out
}

/// The concatenated deltas of a list of events.
pub fn text_of(events: &[Result<ChatEvent, Error>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(ChatEvent::Delta(d)) => Some(d.as_str()),
            _ => None,
        })
        .collect()
}

/// A port on loopback that nothing listens on.
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// An SSE body streaming `pieces` as deltas, then a finish event, usage and `[DONE]`.
pub fn sse_reply(pieces: &[&str]) -> Vec<Step> {
    let mut steps = vec![Step::Write(sse_head())];
    for p in pieces {
        steps.push(Step::Write(delta_event(p).into_bytes()));
        steps.push(Step::Sleep(Duration::from_millis(2)));
    }
    steps.push(Step::Write(finish_event("stop").into_bytes()));
    steps.push(Step::Write(
        b"data: {\"model\":\"served-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}\n\ndata: [DONE]\n\n".to_vec(),
    ));
    steps
}

/// Whether a recorded request asks for a title.
pub fn asks_for_title(r: &Recorded) -> bool {
    String::from_utf8_lossy(&r.body).contains("Write a title")
}

/// Whether a recorded request asks for a summary.
pub fn asks_for_summary(r: &Recorded) -> bool {
    String::from_utf8_lossy(&r.body).contains("Summarize this conversation")
}
