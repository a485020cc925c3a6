//! `LISTEN`/`NOTIFY` for [`crate::events`]: the channel, the payload's origin prefix, and the
//! listening thread.

use std::sync::Weak;

use postgres::fallible_iterator::FallibleIterator;
use std::time::Duration;

use super::PgStore;
use crate::bus::Bus;
use crate::error::error_text;

/// The notification channel.
const CHANNEL: &str = "chat_events";
/// How often the listener checks that its handle still exists, and waits before reconnecting.
const TICK: Duration = Duration::from_secs(1);

impl PgStore {
    /// `NOTIFY` with `origin` prefixed to the payload; failures are logged (best effort).
    pub(crate) fn notify(&self, origin: u64, payload: &str) {
        let message = format!("{origin:016x} {payload}");
        let sent = self.conn().and_then(|conn| {
            let mut c = conn.0.borrow_mut();
            c.client
                .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &message])
                .map(|_| ())
                .map_err(|e| crate::error::pg_error(self.target_name(), "announcing a change", e))
        });
        if let Err(e) = sent {
            tracing::warn!(error = %e, "a change could not be announced to other instances");
        }
    }
}

/// Reads `<origin hex> <payload>`.
fn split(message: &str) -> Option<(u64, &str)> {
    let (origin, payload) = message.split_once(' ')?;
    Some((u64::from_str_radix(origin, 16).ok()?, payload))
}

/// Starts the thread that listens on its own connection and hands notifications to `bus`
/// until the bus is gone; it reconnects after an outage.
pub(crate) fn listen(store: PgStore, bus: Weak<Bus>) {
    let spawned = std::thread::Builder::new()
        .name("chat-store-listen".to_owned())
        .spawn(move || {
            let mut warned = false;
            while bus.strong_count() > 0 {
                let mut client = match store.target().connect() {
                    Ok(c) => c,
                    Err(e) => {
                        if !warned {
                            tracing::warn!(error = %error_text(&e), "cannot listen for other instances' changes; retrying");
                            warned = true;
                        }
                        std::thread::sleep(TICK);
                        continue;
                    }
                };
                if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")) {
                    tracing::warn!(error = %error_text(&e), "LISTEN failed; retrying");
                    std::thread::sleep(TICK);
                    continue;
                }
                if warned {
                    tracing::info!("listening for other instances' changes again");
                    warned = false;
                }
                'conn: while let Some(target) = bus.upgrade() {
                    drop(target);
                    let mut notes = client.notifications();
                    let mut it = notes.timeout_iter(TICK);
                    loop {
                        match it.next() {
                            Ok(None) => break,
                            Ok(Some(n)) => {
                                if let (Some((origin, payload)), Some(bus)) =
                                    (split(n.payload()), bus.upgrade())
                                {
                                    bus.deliver(origin, payload);
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %error_text(&e), "the listening connection dropped; reconnecting");
                                warned = true;
                                break 'conn;
                            }
                        }
                    }
                    drop(it);
                    drop(notes);
                    // A server that went away quietly shows up here.
                    if client.is_closed() || client.batch_execute("").is_err() {
                        warned = true;
                        break 'conn;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the listening thread; other instances' changes will not be announced here");
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn payloads_carry_their_origin() {
        assert_eq!(
            split("00000000000000ff {\"a\":1}"),
            Some((255, "{\"a\":1}"))
        );
        assert_eq!(split("nothex payload"), None);
    }
}
