//! Real-time chat over a WebSocket (`GET /api/v1/ws`).
//!
//! The shape follows actix/examples `websockets/chat-actorless`: the upgrade handler
//! ([`session::upgrade`]) checks the token and the connection cap, calls `actix_ws::handle` and
//! spawns one session task per connection. The session task is a `select!` loop over the
//! client's frames, an outbound channel, the [`crate::Hub`]'s events and a heartbeat tick.
//!
//! Every `chat.send` / `chat.regenerate` runs in its own generation task ([`generate`]), which
//! owns the persistence of that reply: it stores the user's message and an empty assistant
//! message (status `interrupted`) before the model is called, streams the model's deltas to
//! the session's outbound channel, and finishes the assistant message as `complete`, or keeps
//! the partial text as `interrupted` on cancel, disconnect or a model error. The session never
//! waits for a generation, so the same connection can `chat.cancel` while a reply streams; a
//! disconnect cancels the connection's generations, which still store what they received.
//!
//! The chat runtime is a service of its own, [`ChatRuntime`]: it holds what a reply needs (the
//! store, the event hub, the model provider, the limits) and the bookkeeping shared by every
//! connection: the number of open connections (for the cap), connection ids, and which
//! conversation is generating (one reply at a time per conversation, cancellable from any
//! connection). The application state holds one; any route module can start a reply through
//! it ([`generate::run`]) without going through the WebSocket session.

pub(crate) mod generate;
pub(crate) mod protocol;
pub(crate) mod session;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_llm::ChatProvider;
use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::events::Hub;
use crate::sync::lock;

/// Default most WebSocket connections open at once; the next upgrade is answered 503.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// Default largest client frame (and largest message assembled from continuations), in bytes.
pub const DEFAULT_MAX_FRAME: usize = 1024 * 1024;
/// Default frames a client may send in a burst before the rate limit applies.
pub const DEFAULT_RATE_BURST: u32 = 30;
/// Default frames per second a client may send on average.
pub const DEFAULT_RATE_PER_SECOND: u32 = 10;
/// Default time between two server pings.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);
/// Default silence after which a client is considered gone (no frame, not even a pong).
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(45);
/// Default shortest time between two deliveries of library events to one connection.
pub const DEFAULT_EVENT_INTERVAL: Duration = Duration::from_millis(100);

/// Limits of the WebSocket chat. [`ChatLimits::default`] gives the `DEFAULT_*` values.
#[derive(Debug, Clone)]
pub struct ChatLimits {
    /// Most connections open at once (upgrades beyond it are answered 503).
    pub max_connections: usize,
    /// Largest frame or continued message a client may send, in bytes; a larger one closes
    /// the connection with code 1009 (message too big).
    pub max_frame_size: usize,
    /// Frames a client may send in a burst.
    pub rate_burst: u32,
    /// Frames per second a client may send on average; beyond it a frame is answered with
    /// `chat.error` `rate_limited` and otherwise ignored (the connection stays open).
    pub rate_per_second: u32,
    /// Time between two server pings.
    pub heartbeat_interval: Duration,
    /// Silence after which the server closes the connection.
    pub client_timeout: Duration,
    /// Library events (`conversation.*`, `import.progress`) reach a connection at once when
    /// it has had none for this long; the ones that arrive sooner are held until the interval
    /// has passed and then sent together, keeping only the latest event per conversation and
    /// per import. This bounds what a connection costs when many others are busy. Zero sends
    /// every event as it comes.
    pub event_interval: Duration,
}

impl Default for ChatLimits {
    fn default() -> Self {
        ChatLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_frame_size: DEFAULT_MAX_FRAME,
            rate_burst: DEFAULT_RATE_BURST,
            rate_per_second: DEFAULT_RATE_PER_SECOND,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            client_timeout: DEFAULT_CLIENT_TIMEOUT,
            event_interval: DEFAULT_EVENT_INTERVAL,
        }
    }
}

/// One running reply.
#[derive(Debug)]
struct Running {
    /// The connection that started it.
    conn: u64,
    /// Tells this generation apart from a later one of the same conversation.
    generation: u64,
    cancel: CancellationToken,
}

/// The chat service: what replies need, and the connection and generation bookkeeping. Cheap
/// to clone; every clone is the same runtime.
#[derive(Debug, Clone)]
pub(crate) struct ChatRuntime {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    hub: Hub,
    provider: Arc<dyn ChatProvider>,
    limits: ChatLimits,
    book: Bookkeeping,
}

/// What the runtime keeps track of.
#[derive(Debug, Default)]
struct Bookkeeping {
    connections: AtomicUsize,
    next_id: AtomicU64,
    /// Conversation id → its running reply.
    running: Mutex<HashMap<String, Running>>,
    /// Cancelled when the server shuts down: sessions close, generations stop and store
    /// what they have.
    closing: CancellationToken,
}

impl ChatRuntime {
    pub(crate) fn new(
        db: Db,
        hub: Hub,
        provider: Arc<dyn ChatProvider>,
        limits: ChatLimits,
    ) -> Self {
        let inner = Inner {
            db,
            hub,
            provider,
            limits,
            book: Bookkeeping::default(),
        };
        ChatRuntime {
            inner: Arc::new(inner),
        }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    pub(crate) fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    pub(crate) fn provider(&self) -> &Arc<dyn ChatProvider> {
        &self.inner.provider
    }

    pub(crate) fn limits(&self) -> &ChatLimits {
        &self.inner.limits
    }

    /// A fresh id for a connection or a generation.
    pub(crate) fn next_id(&self) -> u64 {
        self.inner.book.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Open connections.
    pub(crate) fn connections(&self) -> usize {
        self.inner.book.connections.load(Ordering::Relaxed)
    }

    /// Cancelled when the server shuts down.
    pub(crate) fn closing(&self) -> &CancellationToken {
        &self.inner.book.closing
    }

    /// Closes every session and stops every reply (each stores what it has).
    pub(crate) fn close_all(&self) {
        self.inner.book.closing.cancel();
    }

    /// Marks `conversation` as generating for connection `conn`; `None` when a reply is
    /// already running there. The mark goes when the [`Claim`] is dropped.
    pub(crate) fn claim(&self, conversation: &str, conn: u64) -> Option<Claim> {
        let mut running = lock(&self.inner.book.running);
        if running.contains_key(conversation) {
            return None;
        }
        let generation = self.next_id();
        let cancel = self.inner.book.closing.child_token();
        running.insert(
            conversation.to_owned(),
            Running {
                conn,
                generation,
                cancel: cancel.clone(),
            },
        );
        Some(Claim {
            runtime: self.clone(),
            conversation: conversation.to_owned(),
            generation,
            cancel,
        })
    }

    fn release(&self, conversation: &str, generation: u64) {
        let mut running = lock(&self.inner.book.running);
        if running
            .get(conversation)
            .is_some_and(|r| r.generation == generation)
        {
            running.remove(conversation);
        }
    }

    /// Cancels the reply running in a conversation; whether there was one.
    pub(crate) fn cancel(&self, conversation: &str) -> bool {
        match lock(&self.inner.book.running).get(conversation) {
            Some(r) => {
                r.cancel.cancel();
                true
            }
            None => false,
        }
    }

    /// Cancels every reply a connection started (it went away).
    pub(crate) fn cancel_connection(&self, conn: u64) {
        for r in lock(&self.inner.book.running)
            .values()
            .filter(|r| r.conn == conn)
        {
            r.cancel.cancel();
        }
    }

    /// Whether a conversation is generating.
    pub(crate) fn is_running(&self, conversation: &str) -> bool {
        lock(&self.inner.book.running).contains_key(conversation)
    }

    /// Opens a connection slot; `None` when [`ChatLimits::max_connections`] are open.
    pub(crate) fn open_connection(&self) -> Option<Connection> {
        let max = self.inner.limits.max_connections;
        let counter = &self.inner.book.connections;
        let mut current = counter.load(Ordering::Relaxed);
        loop {
            if current >= max {
                return None;
            }
            match counter.compare_exchange_weak(
                current,
                current + 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(seen) => current = seen,
            }
        }
        Some(Connection {
            runtime: self.clone(),
            id: self.next_id(),
        })
    }
}

/// A conversation marked as generating; released on drop.
#[derive(Debug)]
pub(crate) struct Claim {
    runtime: ChatRuntime,
    conversation: String,
    generation: u64,
    pub(crate) cancel: CancellationToken,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.runtime.release(&self.conversation, self.generation);
    }
}

/// One open connection, counted against the cap until dropped.
#[derive(Debug)]
pub(crate) struct Connection {
    runtime: ChatRuntime,
    pub(crate) id: u64,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.runtime
            .inner
            .book
            .connections
            .fetch_sub(1, Ordering::AcqRel);
    }
}
