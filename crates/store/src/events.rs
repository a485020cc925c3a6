//! "Something changed" announcements between the handles on one database: the API of every
//! server instance forwards them to its WebSocket clients.
//!
//! * SQLite: one process owns the file, so announcements stay in the process: handles opened
//!   on the same file (by path) share a bus.
//! * PostgreSQL: `NOTIFY` on publish; each handle runs one `LISTEN` connection on its own
//!   thread (started by the first subscriber, reconnecting after an outage) and hands what
//!   arrives to its subscribers. Notifications sent while a listener was reconnecting are
//!   lost, as with any `LISTEN`; clients resynchronise with a `GET`.
//!
//! Every handle (a [`crate::Store::open`] and its clones) has an origin; a subscriber never
//! receives what its own handle published (the API has delivered that locally already).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use crate::bus::Bus;
use crate::pg::PgStore;

/// The longest payload [`crate::Store::publish`] carries (PostgreSQL's `NOTIFY` limit is 8,000
/// bytes, with our origin prefix). Announce a reference (an id to read back) instead of a
/// larger payload.
pub const MAX_EVENT_BYTES: usize = 7_900;

/// The buses of SQLite files opened in this process, by path.
fn file_buses() -> &'static Mutex<HashMap<PathBuf, Weak<Bus>>> {
    static BUSES: OnceLock<Mutex<HashMap<PathBuf, Weak<Bus>>>> = OnceLock::new();
    BUSES.get_or_init(Default::default)
}

/// A handle's side of the announcements.
#[derive(Clone, Debug)]
pub(crate) struct Events {
    origin: u64,
    bus: Arc<Bus>,
    pg: Option<PgStore>,
    listening: Arc<OnceLock<()>>,
}

fn new_origin() -> u64 {
    let id = uuid::Uuid::new_v4().as_u128();
    (id >> 64) as u64 ^ id as u64
}

impl Events {
    /// In-process announcements for the SQLite file at `path` (`None`: in memory, alone).
    pub(crate) fn in_process(path: Option<&Path>) -> Events {
        let bus = match path.map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())) {
            Some(key) => {
                let mut buses = file_buses().lock().unwrap_or_else(|e| e.into_inner());
                buses.retain(|_, bus| bus.strong_count() > 0);
                match buses.get(&key).and_then(Weak::upgrade) {
                    Some(bus) => bus,
                    None => {
                        let bus = Arc::new(Bus::default());
                        buses.insert(key, Arc::downgrade(&bus));
                        bus
                    }
                }
            }
            None => Arc::new(Bus::default()),
        };
        Events {
            origin: new_origin(),
            bus,
            pg: None,
            listening: Arc::new(OnceLock::new()),
        }
    }

    /// Announcements through `LISTEN`/`NOTIFY` on `pg`.
    pub(crate) fn postgres(pg: PgStore) -> Events {
        Events {
            origin: new_origin(),
            bus: Arc::new(Bus::default()),
            pg: Some(pg),
            listening: Arc::new(OnceLock::new()),
        }
    }

    pub(crate) fn publish(&self, payload: &str) {
        if payload.len() > MAX_EVENT_BYTES {
            tracing::warn!(
                bytes = payload.len(),
                "an announcement is too long and was dropped"
            );
            return;
        }
        match &self.pg {
            Some(pg) => pg.notify(self.origin, payload),
            None => self.bus.deliver(self.origin, payload),
        }
    }

    pub(crate) fn subscribe(&self) -> Subscription {
        let rx = self.bus.add(self.origin);
        if let Some(pg) = &self.pg {
            self.listening.get_or_init(|| {
                crate::pg::notify::listen(pg.clone(), Arc::downgrade(&self.bus));
            });
        }
        Subscription { rx }
    }
}

/// Announcements published by other handles on the same database, in order.
#[derive(Debug)]
pub struct Subscription {
    rx: Receiver<String>,
}

impl Subscription {
    /// The next announcement, waiting at most `timeout`: `Ok(None)` when none came in time,
    /// `Err(())` once the store is gone (no announcement can come any more).
    #[allow(clippy::result_unit_err)]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Option<String>, ()> {
        match self.rx.recv_timeout(timeout) {
            Ok(payload) => Ok(Some(payload)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(()),
        }
    }
}
