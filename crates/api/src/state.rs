//! The application state every handler reads: the store, the security settings, the event hub,
//! the import jobs, and typed extensions for the parts other crates add (a model provider).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use actix_web::web;
use chat_llm::{ChatProvider, OfflineProvider};
use chat_store::{Repo, Store};

use crate::auth;
use crate::chat::{ChatLimits, Runtime};
use crate::error::ApiError;
use crate::hub::Hub;
use crate::imports::Jobs;
use crate::write_queue::WriteQueue;

/// Default largest import upload: 2 GiB.
pub const DEFAULT_MAX_UPLOAD: u64 = 2 * 1024 * 1024 * 1024;
/// Default largest JSON request body: 32 MiB (a full-state `PUT` of a long conversation).
pub const DEFAULT_JSON_LIMIT: usize = 32 * 1024 * 1024;

/// Values other crates attach to the state by type (for example the chat model provider of
/// the WebSocket chat), so this crate does not depend on them.
#[derive(Default, Clone)]
pub struct Extensions(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions")
            .field("len", &self.0.len())
            .finish()
    }
}

/// The shared state of the API. Build it with [`ApiState::builder`] and register the
/// returned [`web::Data`] with `App::app_data`.
#[derive(Debug)]
pub struct ApiState {
    store: Store,
    token: Option<String>,
    max_upload: u64,
    json_limit: usize,
    upload_dir: PathBuf,
    hub: Hub,
    pub(crate) jobs: Jobs,
    extensions: Extensions,
    provider: Arc<dyn ChatProvider>,
    chat_limits: ChatLimits,
    pub(crate) chat: Runtime,
    /// Every write transaction of the API runs on this queue's thread, first come, first
    /// served (see [`WriteQueue`]). Started on the first write.
    writes: std::sync::OnceLock<WriteQueue>,
}

/// Builds an [`ApiState`].
#[derive(Debug)]
pub struct ApiStateBuilder {
    store: Store,
    token: Option<String>,
    max_upload: u64,
    json_limit: usize,
    upload_dir: Option<PathBuf>,
    hub: Option<Hub>,
    extensions: Extensions,
    provider: Option<Arc<dyn ChatProvider>>,
    chat_limits: ChatLimits,
}

impl ApiStateBuilder {
    /// Requires `Authorization: Bearer <token>` on every request but `/api/v1/health`. An
    /// empty token counts as none.
    pub fn token(mut self, token: Option<impl Into<String>>) -> Self {
        self.token = token.map(Into::into).filter(|t: &String| !t.is_empty());
        self
    }

    /// The largest import upload in bytes (default [`DEFAULT_MAX_UPLOAD`]).
    pub fn max_upload(mut self, bytes: u64) -> Self {
        self.max_upload = bytes;
        self
    }

    /// The largest JSON request body in bytes (default [`DEFAULT_JSON_LIMIT`]).
    pub fn json_limit(mut self, bytes: usize) -> Self {
        self.json_limit = bytes;
        self
    }

    /// Where uploads are spooled before an import reads them (default: the system's temporary
    /// folder).
    pub fn upload_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.upload_dir = Some(dir.into());
        self
    }

    /// Shares an existing hub (default: a new one).
    pub fn hub(mut self, hub: Hub) -> Self {
        self.hub = Some(hub);
        self
    }

    /// The model provider that writes chat replies, summaries, titles and import
    /// explanations (default: [`OfflineProvider`], which needs no model).
    pub fn provider(mut self, provider: Arc<dyn ChatProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Limits of the WebSocket chat (default: [`ChatLimits::default`]).
    pub fn chat_limits(mut self, limits: ChatLimits) -> Self {
        self.chat_limits = limits;
        self
    }

    /// Attaches a value reachable with [`ApiState::extension`]; one per type.
    pub fn extension<T: Any + Send + Sync>(mut self, value: T) -> Self {
        self.extensions.0.insert(TypeId::of::<T>(), Arc::new(value));
        self
    }

    /// The state, ready for `App::app_data`.
    pub fn build(self) -> web::Data<ApiState> {
        web::Data::new(ApiState {
            store: self.store,
            token: self.token,
            max_upload: self.max_upload,
            json_limit: self.json_limit,
            upload_dir: self.upload_dir.unwrap_or_else(std::env::temp_dir),
            hub: self.hub.unwrap_or_default(),
            jobs: Jobs::default(),
            extensions: self.extensions,
            provider: self
                .provider
                .unwrap_or_else(|| Arc::new(OfflineProvider::new())),
            chat_limits: self.chat_limits,
            chat: Runtime::default(),
            writes: std::sync::OnceLock::new(),
        })
    }
}

impl ApiState {
    /// Starts building a state over `store`.
    pub fn builder(store: Store) -> ApiStateBuilder {
        ApiStateBuilder {
            store,
            token: None,
            max_upload: DEFAULT_MAX_UPLOAD,
            json_limit: DEFAULT_JSON_LIMIT,
            upload_dir: None,
            hub: None,
            extensions: Extensions::default(),
            provider: None,
            chat_limits: ChatLimits::default(),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The event hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Whether requests need a token.
    pub fn token_required(&self) -> bool {
        self.token.is_some()
    }

    /// Whether the request's headers carry the right token (always true without a token).
    pub fn authorized(&self, headers: &HeaderMap) -> bool {
        match &self.token {
            None => true,
            Some(expected) => auth::bearer(headers)
                .is_some_and(|given| auth::constant_time_eq(given.as_bytes(), expected.as_bytes())),
        }
    }

    /// Like [`ApiState::authorized`], for the WebSocket upgrade only: the token may also come
    /// as `?token=` (`query_token`), since browsers cannot set headers on a WebSocket.
    pub fn authorized_ws(&self, headers: &HeaderMap, query_token: Option<&str>) -> bool {
        match &self.token {
            None => true,
            Some(expected) => {
                let header_ok = auth::bearer(headers).is_some_and(|given| {
                    auth::constant_time_eq(given.as_bytes(), expected.as_bytes())
                });
                let query_ok = query_token.is_some_and(|given| {
                    auth::constant_time_eq(given.as_bytes(), expected.as_bytes())
                });
                header_ok | query_ok
            }
        }
    }

    /// The model provider.
    pub fn provider(&self) -> &Arc<dyn ChatProvider> {
        &self.provider
    }

    /// The limits of the WebSocket chat.
    pub fn chat_limits(&self) -> &ChatLimits {
        &self.chat_limits
    }

    /// Open WebSocket connections.
    pub fn live_connections(&self) -> usize {
        self.chat.connections()
    }

    /// Closes every WebSocket session (code 1012, "service restart"): replies being written
    /// stop and store what they have. Call it when a shutdown signal arrives, before the HTTP
    /// server drains its connections, since a WebSocket would otherwise hold the drain open.
    pub fn close_live_connections(&self) {
        self.chat.closing().cancel();
    }

    /// Whether a reply is being written in a conversation.
    pub fn is_generating(&self, conversation_id: &str) -> bool {
        self.chat.is_running(conversation_id)
    }

    /// The largest import upload in bytes.
    pub fn max_upload(&self) -> u64 {
        self.max_upload
    }

    /// The largest JSON body in bytes.
    pub fn json_limit(&self) -> usize {
        self.json_limit
    }

    pub(crate) fn upload_dir(&self) -> &std::path::Path {
        &self.upload_dir
    }

    /// A value attached with [`ApiStateBuilder::extension`].
    pub fn extension<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.extensions
            .0
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
    }

    /// Runs `f` in a read transaction on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Repo<'_>) -> chat_store::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store.clone();
        web::block(move || store.read(f))
            .await?
            .map_err(ApiError::from)
    }

    /// Runs `f` in a write transaction on the API's writer thread, after the writes queued
    /// before it. The transaction runs to its end even if the client goes away.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
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

    /// Stops background work for a graceful shutdown: running and queued imports are cancelled
    /// (what they read so far is committed) and waited for, up to `timeout`. Returns whether
    /// every job ended in time. Call it after the HTTP server has stopped and before
    /// [`Store::checkpoint`].
    pub fn shutdown(&self, timeout: Duration) -> bool {
        self.close_live_connections();
        self.jobs.shutdown(timeout)
    }
}
