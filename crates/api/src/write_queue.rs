//! The API's write queue: one thread runs every write transaction of the API, first come,
//! first served.
//!
//! SQLite has one writer per database. Letting every request take a connection from the pool
//! and wait for the write lock on a blocking-pool thread (behind SQLite's busy handler, or
//! behind a mutex) made waiting writers race for the lock at each release: with hundreds of
//! them (1,000 WebSocket clients chatting), some lost again and again and waited over a second
//! while the median stayed under a millisecond. An async FIFO mutex taken before entering the
//! blocking pool removed that, but then each hand-over waited for a busy async worker to poll
//! the next writer, and write throughput collapsed under heavy event fan-out. A queue drained
//! by one thread hands over at once, in arrival order, and a waiting writer holds no thread.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

use chat_store::Store;

type Job = Box<dyn FnOnce(&Store) + Send>;

/// A handle on the writer thread; the thread ends when every handle is dropped.
#[derive(Clone)]
pub(crate) struct WriteQueue {
    jobs: mpsc::Sender<Job>,
}

impl WriteQueue {
    /// Starts the writer thread over `store`.
    pub(crate) fn start(store: Store) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("chat-api-writer".to_owned())
            .spawn(move || {
                for job in queue {
                    // A panic rolls its transaction back (the transaction is dropped); the
                    // caller sees its result channel closed. The thread goes on.
                    if std::panic::catch_unwind(AssertUnwindSafe(|| job(&store))).is_err() {
                        tracing::error!("a write transaction panicked and was rolled back");
                    }
                }
            })?;
        Ok(WriteQueue { jobs })
    }

    /// Runs `f` on the writer thread after the writes queued before it; `None` if the thread
    /// is gone or `f` panicked. `f` runs to its end even if the caller stops waiting.
    pub(crate) async fn run<T, F>(&self, f: F) -> Option<T>
    where
        F: FnOnce(&Store) -> T + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |store| {
            // The caller may have gone; the write stands anyway.
            let _ = done.send(f(store));
        });
        self.jobs.send(job).ok()?;
        result.await.ok()
    }
}

impl std::fmt::Debug for WriteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteQueue").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn writes_run_in_arrival_order_and_survive_a_panicking_one() {
        let store = Store::open_in_memory().unwrap_or_else(|e| panic!("store: {e}"));
        let queue = WriteQueue::start(store).unwrap_or_else(|e| panic!("thread: {e}"));
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let waits: Vec<_> = (0..50)
            .map(|i| {
                let order = std::sync::Arc::clone(&order);
                let queue = queue.clone();
                // Each job is queued when its future is first polled, in this order.
                async move {
                    queue
                        .run(move |_| order.lock().map(|mut o| o.push(i)).is_ok())
                        .await
                }
            })
            .collect();
        // Polled together: every job is queued before the writer has run them all.
        let results = futures_util::future::join_all(waits).await;
        assert!(results.iter().all(|r| *r == Some(true)));
        let seen = order.lock().map(|o| o.clone()).unwrap_or_default();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());

        let panicked: Option<()> = queue.run(|_| panic!("a bug in a write")).await;
        assert_eq!(panicked, None, "the caller learns that its write failed");
        assert_eq!(queue.run(|_| 7).await, Some(7), "the queue still runs");
    }
}
