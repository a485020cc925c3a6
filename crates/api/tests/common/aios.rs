//! Talking to the AI OS routes of a live server: JSON over real HTTP, and the `/ws` socket.

use std::time::Duration;

use awc::http::StatusCode;
use serde_json::Value;

use super::live::{Live, Ws};

/// A response: status and JSON body (`Null` when empty or not JSON).
pub type Reply = (StatusCode, Value);

async fn finish(
    mut res: awc::ClientResponse<
        impl futures_util::Stream<Item = Result<bytes::Bytes, awc::error::PayloadError>> + Unpin,
    >,
) -> Reply {
    let status = res.status();
    let body = res.body().limit(64 << 20).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish()
}

/// `GET path`.
pub async fn get(live: &Live, path: &str) -> Reply {
    finish(client().get(live.url(path)).send().await.unwrap()).await
}

/// `GET path` with headers.
pub async fn get_with(live: &Live, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = client().get(live.url(path));
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    finish(req.send().await.unwrap()).await
}

/// `POST path` with a JSON body.
pub async fn post(live: &Live, path: &str, body: Value) -> Reply {
    finish(
        client()
            .post(live.url(path))
            .send_json(&body)
            .await
            .unwrap(),
    )
    .await
}

/// `POST path` without a body.
pub async fn post_empty(live: &Live, path: &str) -> Reply {
    finish(client().post(live.url(path)).send().await.unwrap()).await
}

/// `PUT path` with a JSON body.
pub async fn put(live: &Live, path: &str, body: Value) -> Reply {
    finish(client().put(live.url(path)).send_json(&body).await.unwrap()).await
}

/// `DELETE path`.
pub async fn delete(live: &Live, path: &str) -> Reply {
    finish(client().delete(live.url(path)).send().await.unwrap()).await
}

/// `POST path` with a raw body of `content_type`.
pub async fn post_raw(live: &Live, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
    let res = client()
        .post(live.url(path))
        .insert_header(("Content-Type", content_type))
        .send_body(body)
        .await
        .unwrap();
    finish(res).await
}

/// A multipart body with `files` (field `file`) and text `fields`; its content type and bytes.
pub fn multipart(files: &[(&str, &[u8])], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "----aios-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (file, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The `/ws` URL of a live server.
pub fn ws_url(live: &Live) -> String {
    format!("ws://{}/ws", live.addr)
}

/// Opens `/ws` without credentials.
pub async fn connect(live: &Live) -> Ws {
    Ws::connect(awc::Client::new().ws(ws_url(live))).await
}

/// Sends a `chat_message` and reads the frames up to and including `agent_typing_stop`.
pub async fn chat(ws: &mut Ws, content: &str) -> Vec<Value> {
    ws.send(serde_json::json!({"type": "chat_message", "content": content}))
        .await;
    ws.until("agent_typing_stop").await
}

/// The `agent_response_chunk` frames.
pub fn chunks(frames: &[Value]) -> Vec<&Value> {
    frames
        .iter()
        .filter(|f| f["type"] == "agent_response_chunk")
        .collect()
}
