//! The upgrade handler and the per-connection session task.

use std::collections::HashSet;
use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use bytestring::ByteString;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};

use crate::chat::generate::{self, Request};
use crate::chat::protocol::{error_text, ClientFrame, ServerFrame};
use crate::chat::{ChatLimits, ChatRuntime, Claim, Connection};
use crate::error::ApiError;
use crate::events::HubMessage;
use crate::state::ApiState;

/// Frames waiting for the socket, per connection. Generation tasks wait (back-pressure) when
/// a client reads slower than the model writes.
const OUTBOUND_CAPACITY: usize = 256;

/// The query string of the upgrade request.
#[derive(Debug, Deserialize)]
pub(crate) struct WsParams {
    /// The API token, for clients that cannot set an `Authorization` header (browsers).
    token: Option<String>,
    /// `false`: do not forward the hub's library events (`conversation.*`,
    /// `import.progress`) to this connection; for clients that only chat (bots, load tests).
    events: Option<bool>,
}

/// The real-time chat: a WebSocket of JSON text frames (see docs/api.md for the protocol). The
/// token may be sent as `Authorization: Bearer` or, for browsers, as `?token=`.
///
/// Checks the token and the connection cap before upgrading, then spawns the session task.
#[utoipa::path(get, path = "/api/v1/ws", tag = "chat",
    params(("token" = Option<String>, Query, description = "The API token, for clients that cannot set headers")),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request"),
        (status = 401, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody, description = "Too many live connections")))]
pub(crate) async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<ApiState>,
    query: web::Query<WsParams>,
) -> Result<HttpResponse, actix_web::Error> {
    let opened = open(&req, body, &state, query.token.as_deref())?;
    let events = query.events.unwrap_or(true);
    actix_web::rt::spawn(run(
        opened.chat,
        opened.conn,
        opened.session,
        opened.stream,
        events,
    ));
    Ok(opened.response)
}

/// An accepted WebSocket upgrade: the response to send, the session and its frames, and the
/// connection's slot.
pub(crate) struct Opened {
    pub(crate) response: HttpResponse,
    pub(crate) session: Session,
    pub(crate) stream: AggregatedMessageStream,
    pub(crate) chat: ChatRuntime,
    pub(crate) conn: Connection,
}

/// Checks an upgrade request against the token rules (header, or `query_token`) and the
/// connection cap, then upgrades it with the chat's frame limits. Every WebSocket of the API
/// opens this way.
pub(crate) fn open(
    req: &HttpRequest,
    body: web::Payload,
    state: &ApiState,
    query_token: Option<&str>,
) -> Result<Opened, actix_web::Error> {
    if !state.token().authorizes_ws(req.headers(), query_token) {
        return Err(ApiError::Unauthorized.into());
    }
    let chat = state.chat().clone();
    let limits = chat.limits().clone();
    let Some(conn) = chat.open_connection() else {
        tracing::warn!(
            max = limits.max_connections,
            "WebSocket connection refused: at the cap"
        );
        return Err(ApiError::Unavailable(format!(
            "too many live connections (at most {}); retry shortly",
            limits.max_connections
        ))
        .into());
    };
    let (response, session, stream) = actix_ws::handle(req, body)?;
    let stream = stream
        .max_frame_size(limits.max_frame_size)
        .aggregate_continuations()
        .max_continuation_size(limits.max_frame_size);
    Ok(Opened {
        response,
        session,
        stream,
        chat,
        conn,
    })
}

/// A token bucket: `burst` frames at once, refilled at `per_second`.
#[derive(Debug)]
pub(crate) struct RateLimit {
    tokens: f64,
    burst: f64,
    per_second: f64,
    last: Instant,
}

impl RateLimit {
    pub(crate) fn new(burst: u32, per_second: u32) -> Self {
        RateLimit {
            tokens: f64::from(burst.max(1)),
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_second),
            last: Instant::now(),
        }
    }

    /// Takes one token; false when the client is over its rate.
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What one connection's loop needs.
struct Ctx {
    chat: ChatRuntime,
    conn: u64,
    /// Generation tasks write here; the loop forwards to the socket.
    outbound: mpsc::Sender<String>,
}

/// A WebSocket protocol, as the handling of client frames common to every socket sees it.
pub(crate) trait Protocol {
    /// Answers a text frame that is within the rate limit; a frame to send back at once, if
    /// any.
    fn on_text(&mut self, text: &str) -> Option<String>;

    /// The protocol's error frame for `code` and `message`; `frame` is the offending client
    /// frame, when it was text.
    fn error_frame(&self, frame: Option<&str>, code: &str, message: &str) -> String;
}

impl Protocol for Ctx {
    fn on_text(&mut self, text: &str) -> Option<String> {
        handle_text(self, text)
    }

    fn error_frame(&self, frame: Option<&str>, code: &str, message: &str) -> String {
        let request_id = frame.and_then(request_id_of);
        error_text(request_id.as_deref(), None, code, message)
    }
}

/// What the loop does after a client frame.
pub(crate) enum Next {
    Continue,
    /// Close the session, with this reason.
    Close(Option<CloseReason>),
}

/// The session task: a `select!` over the client's frames, the outbound channel, the hub and
/// the heartbeat, until the client leaves, times out or the server shuts down.
async fn run(
    chat: ChatRuntime,
    conn: Connection,
    mut session: Session,
    mut stream: AggregatedMessageStream,
    forward_events: bool,
) {
    let limits = chat.limits().clone();
    let (tx, mut rx) = mpsc::channel::<String>(OUTBOUND_CAPACITY);
    let mut ctx = Ctx {
        chat: chat.clone(),
        conn: conn.id,
        outbound: tx,
    };
    let mut events = chat.hub().subscribe();
    // The first ping goes out one interval after connecting, not at once.
    let mut heartbeat = tokio::time::interval_at(
        tokio::time::Instant::now() + limits.heartbeat_interval,
        limits.heartbeat_interval,
    );
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut rate = RateLimit::new(limits.rate_burst, limits.rate_per_second);
    let closing = chat.closing().clone();
    tracing::debug!(conn = conn.id, "WebSocket connected");

    // Library events are delivered at most once per `event_interval`: while `held`, the hub
    // is not polled (its channel keeps the events) and the loop sleeps until `events_due`.
    let mut events_due = tokio::time::Instant::now();

    let reason: Option<CloseReason> = 'session: loop {
        let held = forward_events && tokio::time::Instant::now() < events_due;
        tokio::select! {
            // Order matters under load: a reply's frames first, then the client, then the
            // library events, which are coalesced and can wait.
            biased;
            () = closing.cancelled() => {
                break Some(CloseReason {
                    code: CloseCode::Restart,
                    description: Some("the server is shutting down".to_owned()),
                });
            }
            Some(text) = rx.recv() => {
                if session.text(text).await.is_err() {
                    break None;
                }
            }
            msg = stream.next() => {
                let Some(msg) = msg else { break None };
                last_heard = Instant::now();
                if let Next::Close(reason) = on_client_frame(&mut ctx, &mut session, &mut rate, &limits, conn.id, msg).await {
                    break reason;
                }
            }
            event = events.recv(), if forward_events && !held => {
                let batch = coalesce(conn.id, event, &mut events);
                for json in batch {
                    if session.text(json).await.is_err() {
                        break 'session None;
                    }
                }
                events_due = tokio::time::Instant::now() + limits.event_interval;
            }
            () = tokio::time::sleep_until(events_due), if forward_events && held => {}
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > limits.client_timeout {
                    tracing::debug!(conn = conn.id, "WebSocket client timed out");
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
    };
    // The generations this connection started stop and store what they have.
    chat.cancel_connection(conn.id);
    let _ = session.close(reason).await;
    tracing::debug!(conn = conn.id, "WebSocket closed");
    drop(conn);
}

/// Answers one frame from the client: text within the rate limit goes to the protocol, a
/// frame over the rate or a binary frame gets the protocol's error frame, pings are answered,
/// and a close, an oversized frame or a protocol error ends the session.
pub(crate) async fn on_client_frame(
    proto: &mut impl Protocol,
    session: &mut Session,
    rate: &mut RateLimit,
    limits: &ChatLimits,
    conn: u64,
    msg: Result<AggregatedMessage, actix_ws::ProtocolError>,
) -> Next {
    let reply = match msg {
        Ok(AggregatedMessage::Text(text)) => {
            if rate.take() {
                proto.on_text(&text)
            } else {
                Some(proto.error_frame(
                    Some(&text),
                    "rate_limited",
                    &format!(
                        "too many frames: at most {} per second (bursts of {}); this one was ignored",
                        limits.rate_per_second, limits.rate_burst
                    ),
                ))
            }
        }
        Ok(AggregatedMessage::Binary(_)) => Some(proto.error_frame(
            None,
            "invalid_frame",
            "binary frames are not supported; send JSON text frames",
        )),
        Ok(AggregatedMessage::Ping(bytes)) => {
            if session.pong(&bytes).await.is_err() {
                return Next::Close(None);
            }
            None
        }
        Ok(AggregatedMessage::Pong(_)) => None,
        Ok(AggregatedMessage::Close(reason)) => return Next::Close(reason),
        Err(actix_ws::ProtocolError::Overflow) => {
            return Next::Close(Some(CloseReason {
                code: CloseCode::Size,
                description: Some(format!(
                    "frames are limited to {} bytes",
                    limits.max_frame_size
                )),
            }));
        }
        Err(e) => {
            tracing::debug!(conn, error = %e, "WebSocket protocol error");
            return Next::Close(Some(CloseCode::Protocol.into()));
        }
    };
    if let Some(reply) = reply {
        if session.text(reply).await.is_err() {
            return Next::Close(None);
        }
    }
    Next::Continue
}

/// The hub's events for one connection: the one just received and all others already waiting,
/// minus those this connection caused, keeping only the latest per [`crate::EventKey`] (in
/// the order of those latest events).
fn coalesce(
    conn: u64,
    first: Result<HubMessage, broadcast::error::RecvError>,
    events: &mut broadcast::Receiver<HubMessage>,
) -> Vec<ByteString> {
    let mut pending: Vec<HubMessage> = Vec::new();
    let mut next = Some(first);
    while let Some(received) = next.take() {
        match received {
            Ok(m) if m.origin == Some(conn) || m.json.is_empty() => {}
            Ok(m) => pending.push(m),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::debug!(conn, missed, "WebSocket client lagged behind the hub");
            }
            Err(broadcast::error::RecvError::Closed) => break,
        }
        next = match events.try_recv() {
            Ok(m) => Some(Ok(m)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => {
                Some(Err(broadcast::error::RecvError::Lagged(n)))
            }
            Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed) => {
                None
            }
        };
    }
    if pending.len() < 2 {
        return pending.into_iter().map(|m| m.json).collect();
    }
    // Walk backwards so the first occurrence of a key is its latest event.
    let mut seen = HashSet::with_capacity(pending.len());
    let mut latest: Vec<ByteString> = pending
        .iter()
        .rev()
        .filter(|m| seen.insert(m.event.key()))
        .map(|m| m.json.clone())
        .collect();
    latest.reverse();
    latest
}

/// The `request_id` of a frame, when it is JSON and has one.
fn request_id_of(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value.get("request_id")?.as_str().map(str::to_owned)
}

/// Handles one text frame; returns a frame to answer with right away, if any.
fn handle_text(ctx: &Ctx, text: &str) -> Option<String> {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Some(error_text(
                None,
                None,
                "invalid_json",
                &format!("the frame is not valid JSON: {e}"),
            ))
        }
    };
    let request_id = value
        .get("request_id")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let frame: ClientFrame = match serde_json::from_value(value) {
        Ok(f) => f,
        Err(e) => {
            return Some(error_text(
                request_id.as_deref(),
                None,
                "invalid_frame",
                &format!(
                    "{e}; frames are JSON objects with a type: chat.send, chat.regenerate, \
                     chat.cancel or ping"
                ),
            ))
        }
    };
    match frame {
        ClientFrame::Ping {} => Some(ServerFrame::Pong.to_text()),
        ClientFrame::Cancel { conversation_id } => {
            // Cancelling a conversation that is not generating is a no-op: the reply may
            // just have finished.
            ctx.chat.cancel(&conversation_id);
            None
        }
        ClientFrame::Send {
            request_id,
            conversation_id,
            content,
            parent_id,
            model,
        } => {
            if content.trim().is_empty() {
                return Some(error_text(
                    request_id.as_deref(),
                    conversation_id.as_deref(),
                    "invalid_input",
                    "the message is empty",
                ));
            }
            let claim = match &conversation_id {
                Some(id) => match claim(ctx, id, request_id.as_deref()) {
                    Ok(c) => Some(c),
                    Err(reply) => return Some(reply),
                },
                None => None,
            };
            spawn(
                ctx,
                Request::Send {
                    conversation_id,
                    content,
                    parent_id,
                },
                request_id,
                model,
                claim,
            );
            None
        }
        ClientFrame::Regenerate {
            request_id,
            conversation_id,
            message_id,
            model,
        } => {
            let claim = match claim(ctx, &conversation_id, request_id.as_deref()) {
                Ok(c) => c,
                Err(reply) => return Some(reply),
            };
            spawn(
                ctx,
                Request::Regenerate {
                    conversation_id,
                    message_id,
                },
                request_id,
                model,
                Some(claim),
            );
            None
        }
    }
}

fn claim(ctx: &Ctx, conversation_id: &str, request_id: Option<&str>) -> Result<Claim, String> {
    ctx.chat.claim(conversation_id, ctx.conn).ok_or_else(|| {
        error_text(
            request_id,
            Some(conversation_id),
            "conversation_busy",
            "a reply is already being written in this conversation; wait for it or send chat.cancel",
        )
    })
}

fn spawn(
    ctx: &Ctx,
    request: Request,
    request_id: Option<String>,
    model: Option<String>,
    claim: Option<Claim>,
) {
    let job = generate::Job {
        chat: ctx.chat.clone(),
        conn: ctx.conn,
        outbound: generate::Outlet::Frames(ctx.outbound.clone()),
        request_id,
        model: model.filter(|m| !m.trim().is_empty()),
        request,
        claim,
    };
    actix_web::rt::spawn(generate::run(job));
}
