//! The subscribers of one database in this process: what [`crate::events`] and the
//! PostgreSQL listener (`crate::pg::notify`) hand announcements to.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Mutex;

/// Subscribers of one database in this process.
#[derive(Debug, Default)]
pub(crate) struct Bus {
    subscribers: Mutex<Vec<(u64, Sender<String>)>>,
}

impl Bus {
    /// Hands `payload` from `origin` to every subscriber of another origin; forgets the ones
    /// that went away.
    pub(crate) fn deliver(&self, origin: u64, payload: &str) {
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.retain(|(o, tx)| *o == origin || tx.send(payload.to_owned()).is_ok());
        }
    }

    pub(crate) fn add(&self, origin: u64) -> Receiver<String> {
        let (tx, rx) = mpsc::channel();
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.push((origin, tx));
        }
        rx
    }
}
