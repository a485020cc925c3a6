//! The broadcast hub: server events every connected client may want to hear about.
//!
//! HTTP handlers publish `conversation.updated` / `conversation.deleted` after every change and
//! import jobs publish `import.progress`; a WebSocket session subscribes and forwards the events
//! as JSON text frames. A slow subscriber lags (and may resynchronise with a `GET`) instead of
//! slowing the publisher down: this is a bounded `tokio::sync::broadcast` channel.
//!
//! Events cross server instances through the store ([`chat_store::Store::publish`] /
//! [`chat_store::Store::subscribe`]: `LISTEN`/`NOTIFY` on PostgreSQL, in-process on SQLite)
//! once [`Hub::bridge`] connected the hub to its store: what this instance publishes is
//! announced (from a thread of its own, never blocking a handler) and what the other instances
//! announce is handed to this instance's subscribers with no origin.
//!
//! Each event is serialised once, into a reference-counted [`ByteString`] that every
//! subscriber's socket shares. Subscribers may coalesce: [`Event::key`] names the thing an
//! event is about, and only the latest event per key matters to a client that fell behind.

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use bytestring::ByteString;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use utoipa::ToSchema;

use crate::dto::ConversationView;
use crate::dto::ProgressView;

/// Events kept for slow subscribers before they lag.
const HUB_CAPACITY: usize = 4096;
/// Events waiting to be announced to other instances before new ones are dropped (logged).
const OUTBOUND_CAPACITY: usize = 4096;
/// How often the thread receiving other instances' events checks that the hub still exists.
const INBOUND_TICK: Duration = Duration::from_secs(1);

/// A server event, serialised with its `type`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum Event {
    /// A conversation was created or changed.
    #[serde(rename = "conversation.updated")]
    ConversationUpdated {
        /// Its new state.
        conversation: ConversationView,
    },
    /// A conversation was deleted.
    #[serde(rename = "conversation.deleted")]
    ConversationDeleted {
        /// Its id.
        id: String,
    },
    /// An import job moved on.
    #[serde(rename = "import.progress")]
    ImportProgress {
        /// The job's id.
        id: String,
        /// `queued`, `running`, `done` or `failed`.
        status: String,
        /// Counters so far.
        progress: ProgressView,
    },
}

/// What an event is about: events with equal keys supersede each other (the later one holds
/// the whole current state), so a subscriber that coalesces keeps only the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKey<'a> {
    /// A conversation (updated or deleted).
    Conversation(&'a str),
    /// An import job.
    Import(&'a str),
}

impl Event {
    /// What this event is about; see [`EventKey`].
    pub fn key(&self) -> EventKey<'_> {
        match self {
            Event::ConversationUpdated { conversation } => EventKey::Conversation(&conversation.id),
            Event::ConversationDeleted { id } => EventKey::Conversation(id),
            Event::ImportProgress { id, .. } => EventKey::Import(id),
        }
    }
}

/// One published event and who caused it.
#[derive(Debug, Clone)]
pub struct HubMessage {
    /// The connection that caused the event, when it came from one (a WebSocket session uses
    /// this to skip echoing its own changes); `None` for HTTP requests and jobs.
    pub origin: Option<u64>,
    /// The event.
    pub event: Arc<Event>,
    /// The event as JSON, serialised once and shared by every subscriber's socket.
    pub json: ByteString,
}

/// A cloneable handle on the broadcast channel.
#[derive(Debug, Clone)]
pub struct Hub {
    tx: broadcast::Sender<HubMessage>,
    /// Where published events go to be announced to other instances, once bridged.
    outbound: Option<SyncSender<ByteString>>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    /// A hub with no subscribers.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(HUB_CAPACITY);
        Hub { tx, outbound: None }
    }

    /// Connects the hub to `store`'s announcements (see the module's documentation); a hub
    /// bridged already stays as it is. Two threads: one announces this hub's events, ending
    /// when the last clone of the hub is gone; one hands other instances' events to the
    /// subscribers, ending when the store is gone.
    pub fn bridge(&mut self, store: &chat_store::Store) {
        if self.outbound.is_some() {
            return;
        }
        let (out_tx, out_rx) = sync_channel::<ByteString>(OUTBOUND_CAPACITY);
        let announcer = store.clone();
        let subscription = store.subscribe();
        let tx = self.tx.clone();
        let outbound = std::thread::Builder::new()
            .name("chat-api-announce".to_owned())
            .spawn(move || {
                while let Ok(json) = out_rx.recv() {
                    announcer.publish(&json);
                }
            });
        let inbound = std::thread::Builder::new()
            .name("chat-api-receive".to_owned())
            .spawn(move || {
                while let Ok(next) = subscription.recv_timeout(INBOUND_TICK) {
                    if let Some(json) = next {
                        forward(&tx, json);
                    }
                }
            });
        match (outbound, inbound) {
            (Ok(_), Ok(_)) => self.outbound = Some(out_tx),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "cannot start the event bridge; other instances' events will not reach this one's clients");
            }
        }
    }

    /// Receives every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<HubMessage> {
        self.tx.subscribe()
    }

    /// Publishes an event with no origin connection.
    pub fn publish(&self, event: Event) {
        self.publish_from(None, event);
    }

    /// Publishes an event caused by connection `origin`.
    pub fn publish_from(&self, origin: Option<u64>, event: Event) {
        // An error only means nobody is listening, which is fine.
        let json = ByteString::from(serde_json::to_string(&event).unwrap_or_default());
        if let Some(out) = &self.outbound {
            if let Err(TrySendError::Full(_)) = out.try_send(json.clone()) {
                tracing::warn!(
                    "too many events waiting to be announced to other instances; one was dropped"
                );
            }
        }
        let _ = self.tx.send(HubMessage {
            origin,
            event: Arc::new(event),
            json,
        });
    }

    /// How many subscribers are listening.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// Hands an event announced by another instance to this hub's subscribers (no origin: no
/// connection of this instance caused it). Something that is not one of our events is
/// ignored (logged).
fn forward(tx: &broadcast::Sender<HubMessage>, json: String) {
    match serde_json::from_str::<Event>(&json) {
        Ok(event) => {
            let _ = tx.send(HubMessage {
                origin: None,
                event: Arc::new(event),
                json: ByteString::from(json),
            });
        }
        Err(e) => tracing::warn!(error = %e, "an announced event could not be read; ignored"),
    }
}
