//! The API on a real loopback port (an `HttpServer` over `configure` and `configure_aios`) and
//! a WebSocket client (awc) that reads JSON frames.

use std::time::Duration;

use actix_web::{web, App, HttpServer};
use awc::ws;
use chat_api::ApiState;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;

/// A running server; stopped on drop.
pub struct Live {
    /// `127.0.0.1:PORT`
    pub addr: String,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Live {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_rt::spawn(async move { handle.stop(false).await });
    }
}

impl Live {
    /// Serves `state` on an ephemeral loopback port.
    pub fn start(state: web::Data<ApiState>) -> Live {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .configure(chat_api::configure)
                .configure(chat_api::configure_aios)
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0].to_string();
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Live { addr, handle }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/ws", self.addr)
    }

    /// Opens a WebSocket without credentials.
    pub async fn connect(&self) -> Ws {
        Ws::connect(awc::Client::new().ws(self.ws_url())).await
    }

    /// GETs an API path and returns the JSON.
    pub async fn get(&self, path: &str) -> Value {
        let mut res = awc::Client::new().get(self.url(path)).send().await.unwrap();
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json::<Value>().limit(64 << 20).await.unwrap()
    }
}

/// A WebSocket client speaking JSON text frames.
pub struct Ws {
    framed: actix_codec::Framed<awc::BoxedSocket, ws::Codec>,
}

/// How long to wait for one frame before failing.
const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

impl Ws {
    pub async fn connect(request: awc::ws::WebsocketsRequest) -> Ws {
        let (_res, framed) = request.connect().await.unwrap();
        Ws { framed }
    }

    pub async fn send(&mut self, frame: Value) {
        self.framed
            .send(ws::Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_text(&mut self, text: &str) {
        self.framed
            .send(ws::Message::Text(text.to_owned().into()))
            .await
            .unwrap();
    }

    pub async fn send_raw(&mut self, message: ws::Message) {
        self.framed.send(message).await.unwrap();
    }

    /// The next raw frame (pings included), or `None` when the stream ended.
    pub async fn next_raw(&mut self) -> Option<ws::Frame> {
        match tokio::time::timeout(FRAME_TIMEOUT, self.framed.next()).await {
            Ok(Some(Ok(frame))) => Some(frame),
            Ok(Some(Err(e))) => panic!("WebSocket error: {e}"),
            Ok(None) => None,
            Err(_) => panic!("no frame within {FRAME_TIMEOUT:?}"),
        }
    }

    /// The next JSON text frame (pings are answered, pongs skipped).
    pub async fn recv(&mut self) -> Value {
        loop {
            match self.next_raw().await {
                Some(ws::Frame::Text(bytes)) => return serde_json::from_slice(&bytes).unwrap(),
                Some(ws::Frame::Ping(p)) => {
                    let _ = self.framed.send(ws::Message::Pong(p)).await;
                }
                Some(ws::Frame::Pong(_)) => {}
                Some(other) => panic!("unexpected frame {other:?}"),
                None => panic!("the connection closed"),
            }
        }
    }

    /// Frames up to and including the first of type `ty`.
    pub async fn until(&mut self, ty: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let frame = self.recv().await;
            let done = frame["type"] == ty;
            out.push(frame);
            if done {
                return out;
            }
        }
    }

    /// Frames up to and including the first `chat.done` or `chat.error`.
    pub async fn until_end(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let frame = self.recv().await;
            let done = frame["type"] == "chat.done" || frame["type"] == "chat.error";
            out.push(frame);
            if done {
                return out;
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.framed.send(ws::Message::Close(None)).await;
    }
}

/// Frames of one type.
pub fn of_type<'a>(frames: &'a [Value], ty: &str) -> Vec<&'a Value> {
    frames.iter().filter(|f| f["type"] == ty).collect()
}

/// The concatenated deltas.
pub fn deltas(frames: &[Value]) -> String {
    of_type(frames, "chat.delta")
        .iter()
        .map(|f| f["delta"].as_str().unwrap())
        .collect()
}
