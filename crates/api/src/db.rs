//! The store as the API's services use it: reads on actix's blocking pool, writes one at a
//! time on the API's writer thread ([`WriteQueue`]). Every service holds a clone; they share
//! one writer thread.

use std::sync::{Arc, OnceLock};

use actix_web::web;
use chat_store::{Repo, Store};

use crate::error::ApiError;
use crate::write_queue::WriteQueue;

/// A cloneable handle on the store and the API's writer thread.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    store: Store,
    /// Every write transaction of the API runs on this queue's thread, first come, first
    /// served (see [`WriteQueue`]). Started on the first write.
    writes: Arc<OnceLock<WriteQueue>>,
}

impl Db {
    pub(crate) fn new(store: Store) -> Self {
        Db {
            store,
            writes: Arc::new(OnceLock::new()),
        }
    }

    /// The store.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Runs `f` in a read transaction on the blocking pool.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Repo<'_>) -> chat_store::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store.clone();
        web::block(move || store.read(f))
            .await?
            .map_err(ApiError::from)
    }

    /// Runs `f` with the store on the blocking pool, for the store's own reads that need no
    /// transaction from the caller ([`Store::list_conversations`]).
    pub(crate) async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Store) -> chat_store::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store.clone();
        web::block(move || f(&store)).await?.map_err(ApiError::from)
    }

    /// Runs `f` in a write transaction on the API's writer thread, after the writes queued
    /// before it. The transaction runs to its end even if the caller goes away.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Repo<'_>) -> chat_store::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let queue = match self.writes.get() {
            Some(queue) => queue,
            None => {
                let started = WriteQueue::start(self.store.clone())
                    .map_err(|e| ApiError::internal(format!("cannot start the writer: {e}")))?;
                // Two first writers may both start one; the loser's thread ends with its handle.
                self.writes.get_or_init(|| started)
            }
        };
        queue
            .run(move |store| store.write(f))
            .await
            .ok_or_else(|| ApiError::internal("a write transaction failed unexpectedly"))?
            .map_err(ApiError::from)
    }
}
