//! `/ws`: the AI OS frontend's chat WebSocket, on the same runtime as `/api/v1/ws` (token
//! rules, connection cap, frame and rate limits, heartbeat, what is stored) with the
//! original module's frames.
//!
//! * `chat_message` continues the current session (one started when there is none): the
//!   server answers `agent_typing_start`, then `agent_response_chunk`s whose `content` is the
//!   reply so far, byte for byte as the model streamed it, then the last chunk with
//!   `is_final: true` and the whole reply as stored, then `agent_typing_stop`. On failure:
//!   `agent_typing_stop` and `{type: "error", content}`.
//! * Chunks are the model's real deltas, coalesced like our library events: the first goes at
//!   once, later ones at most once per [`crate::ChatLimits::event_interval`], each carrying
//!   everything received so far (so skipping one loses nothing). A reply of thousands of
//!   deltas does not cost thousands of ever longer frames.
//! * One reply at a time per connection; `typing_start` / `typing_stop` reach the other `/ws`
//!   clients as `user_typing` / `user_typing_stop`; `ping` is answered with `pong`.

use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Session};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant as Deadline;

use super::origin;
use super::reply;
use super::service::Typing;
use crate::chat::generate::ReplyEvent;
use crate::chat::session::{self, on_client_frame, Next, Protocol, RateLimit};
use crate::state::ApiState;

/// The query string of the upgrade request.
#[derive(Debug, Deserialize)]
pub(crate) struct WsParams {
    /// The API token, for clients that cannot set an `Authorization` header (browsers).
    token: Option<String>,
}

/// What the client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    /// A message for the current session.
    ChatMessage {
        content: String,
        /// The model to ask (default: the configured one).
        #[serde(default)]
        model: Option<String>,
        /// Accepted for compatibility; the server's configured model server answers.
        #[serde(default)]
        #[allow(dead_code)]
        provider: Option<String>,
        /// Accepted for compatibility; the server's configured model server answers.
        #[serde(default)]
        #[allow(dead_code)]
        endpoint: Option<String>,
    },
    TypingStart {},
    TypingStop {},
    Ping {},
}

/// What the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerFrame<'a> {
    AgentTypingStart,
    AgentResponseChunk {
        /// The reply so far.
        content: &'a str,
        message_id: &'a str,
        is_final: bool,
    },
    AgentTypingStop,
    Error {
        content: &'a str,
    },
    Pong,
    UserTyping {
        client_id: String,
    },
    UserTypingStop {
        client_id: String,
    },
}

impl ServerFrame<'_> {
    fn text(&self) -> String {
        // Serialising these plain values cannot fail; an empty object keeps the socket sane.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// The WebSocket of the AI OS frontend. The token may be sent as `Authorization: Bearer` or
/// as `?token=`; a page of an origin that is not allowed is refused (403).
pub(crate) async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<ApiState>,
    query: web::Query<WsParams>,
) -> Result<HttpResponse, actix_web::Error> {
    if let Some(refused) = origin::verdict(req.headers(), state.allowed_origins()) {
        return Err(refused.into());
    }
    let opened = session::open(&req, body, &state, query.token.as_deref())?;
    let conn = Conn {
        state: state.clone(),
        id: opened.conn.id,
        asked: None,
        replying: false,
        typing: false,
    };
    let response = opened.response;
    let (session, stream, slot) = (opened.session, opened.stream, opened.conn);
    actix_web::rt::spawn(async move {
        let _slot = slot;
        run(conn, session, stream).await;
    });
    Ok(response)
}

/// One connection's protocol state.
struct Conn {
    state: web::Data<ApiState>,
    id: u64,
    /// A `chat_message` read from the last client frame, to start once the frame is answered.
    asked: Option<(String, Option<String>)>,
    /// Whether a reply of this connection is being written.
    replying: bool,
    /// Whether the client said it is typing.
    typing: bool,
}

fn error_text(content: &str) -> String {
    ServerFrame::Error { content }.text()
}

impl Protocol for Conn {
    fn on_text(&mut self, text: &str) -> Option<String> {
        let frame: ClientFrame = match serde_json::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                return Some(error_text(&format!(
                    "{e}; frames are JSON objects with a type: chat_message, typing_start, \
                     typing_stop or ping"
                )))
            }
        };
        match frame {
            ClientFrame::Ping {} => Some(ServerFrame::Pong.text()),
            ClientFrame::TypingStart {} | ClientFrame::TypingStop {} => {
                self.typing = matches!(frame, ClientFrame::TypingStart {});
                self.state.aios().typing(self.id, self.typing);
                None
            }
            ClientFrame::ChatMessage { content, model, .. } => {
                if self.replying || self.asked.is_some() {
                    Some(error_text(
                        "a reply is still being written on this connection; wait for \
                         agent_typing_stop",
                    ))
                } else if content.trim().is_empty() {
                    Some(error_text("the message is empty"))
                } else {
                    self.asked = Some((content, model));
                    None
                }
            }
        }
    }

    fn error_frame(&self, _frame: Option<&str>, _code: &str, message: &str) -> String {
        error_text(message)
    }
}

/// The reply being written for this connection.
struct Reply {
    events: mpsc::Receiver<ReplyEvent>,
    message_id: String,
    /// The reply so far.
    text: String,
    /// Whether `text` has grown since the last chunk.
    dirty: bool,
}

async fn next_event(reply: &mut Option<Reply>) -> Option<ReplyEvent> {
    match reply {
        Some(r) => r.events.recv().await,
        None => std::future::pending().await,
    }
}

/// Starts the reply a `chat_message` asked for; the frames to send.
async fn start(conn: &Conn, content: String, model: Option<String>) -> Result<Reply, String> {
    let state = &conn.state;
    let session = state
        .aios()
        .current_or_start()
        .await
        .map_err(|e| e.to_string())?;
    let events =
        reply::start(state, conn.id, &session.id, content, model).map_err(|e| e.to_string())?;
    Ok(Reply {
        events,
        message_id: String::new(),
        text: String::new(),
        dirty: false,
    })
}

fn chunk(reply: &Reply, is_final: bool) -> String {
    ServerFrame::AgentResponseChunk {
        content: &reply.text,
        message_id: &reply.message_id,
        is_final,
    }
    .text()
}

/// What a reply event makes the session send; `true` when the reply has ended.
fn on_event(
    reply: &mut Reply,
    event: Option<ReplyEvent>,
    chunk_due: &mut Deadline,
    interval: std::time::Duration,
    out: &mut Vec<String>,
) -> bool {
    match event {
        Some(ReplyEvent::Accepted {
            assistant_message_id,
            ..
        }) => {
            reply.message_id = assistant_message_id;
            false
        }
        Some(ReplyEvent::Delta(delta)) => {
            reply.text.push_str(&delta);
            let now = Deadline::now();
            if now >= *chunk_due {
                out.push(chunk(reply, false));
                reply.dirty = false;
                *chunk_due = now + interval;
            } else {
                reply.dirty = true;
            }
            false
        }
        Some(ReplyEvent::Done { content, .. }) => {
            reply.text = content;
            out.push(chunk(reply, true));
            out.push(ServerFrame::AgentTypingStop.text());
            true
        }
        Some(ReplyEvent::Error { message, .. }) => {
            out.push(ServerFrame::AgentTypingStop.text());
            out.push(error_text(&message));
            true
        }
        None => {
            out.push(ServerFrame::AgentTypingStop.text());
            true
        }
    }
}

/// The session task: client frames, the reply's events, the other clients' typing and the
/// heartbeat, until the client leaves, times out or the server shuts down.
async fn run(mut conn: Conn, mut session: Session, mut stream: actix_ws::AggregatedMessageStream) {
    let chat = conn.state.chat().clone();
    let limits = chat.limits().clone();
    let mut rate = RateLimit::new(limits.rate_burst, limits.rate_per_second);
    let mut typing = conn.state.aios().typing_notices();
    let mut heartbeat = tokio::time::interval_at(
        Deadline::now() + limits.heartbeat_interval,
        limits.heartbeat_interval,
    );
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let closing = chat.closing().clone();
    let mut reply: Option<Reply> = None;
    let mut chunk_due = Deadline::now();
    let mut out: Vec<String> = Vec::new();
    let mut typing_open = true;
    let id = conn.id;

    let reason: Option<CloseReason> = 'session: loop {
        let dirty = reply.as_ref().is_some_and(|r| r.dirty);
        tokio::select! {
            biased;
            () = closing.cancelled() => {
                break Some(CloseReason {
                    code: CloseCode::Restart,
                    description: Some("the server is shutting down".to_owned()),
                });
            }
            event = next_event(&mut reply) => {
                if let Some(r) = reply.as_mut() {
                    if on_event(r, event, &mut chunk_due, limits.event_interval, &mut out) {
                        reply = None;
                        conn.replying = false;
                    }
                }
            }
            () = tokio::time::sleep_until(chunk_due), if dirty => {
                if let Some(r) = reply.as_mut() {
                    out.push(chunk(r, false));
                    r.dirty = false;
                    chunk_due = Deadline::now() + limits.event_interval;
                }
            }
            msg = stream.next() => {
                let Some(msg) = msg else { break None };
                last_heard = Instant::now();
                if let Next::Close(reason) = on_client_frame(&mut conn, &mut session, &mut rate, &limits, id, msg).await {
                    break reason;
                }
                if let Some((content, model)) = conn.asked.take() {
                    out.push(ServerFrame::AgentTypingStart.text());
                    match start(&conn, content, model).await {
                        Ok(r) => {
                            reply = Some(r);
                            conn.replying = true;
                            chunk_due = Deadline::now();
                        }
                        Err(message) => {
                            out.push(ServerFrame::AgentTypingStop.text());
                            out.push(error_text(&message));
                        }
                    }
                }
            }
            notice = typing.recv(), if typing_open => {
                match notice {
                    Ok(Typing { conn: from, started }) if from != id => {
                        let client_id = from.to_string();
                        out.push(if started {
                            ServerFrame::UserTyping { client_id }.text()
                        } else {
                            ServerFrame::UserTypingStop { client_id }.text()
                        });
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => typing_open = false,
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > limits.client_timeout {
                    break Some(CloseReason {
                        code: CloseCode::Away,
                        description: Some("no frame from the client within the timeout".to_owned()),
                    });
                }
                if session.ping(b"").await.is_err() {
                    break None;
                }
            }
        }
        for text in out.drain(..) {
            if session.text(text).await.is_err() {
                break 'session None;
            }
        }
    };
    // The reply this connection started stops and stores what it has.
    chat.cancel_connection(conn.id);
    if conn.typing {
        conn.state.aios().typing(conn.id, false);
    }
    let _ = session.close(reason).await;
    tracing::debug!(conn = conn.id, "AI OS WebSocket closed");
}
