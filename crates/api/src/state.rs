//! The application state every handler reads, composed one way from the API's services: the
//! store handle ([`Db`]), the token, the event hub, and the services that own what they need:
//! conversations ([`Conversations`]), import jobs ([`ImportJobs`]), the chat runtime
//! ([`ChatRuntime`]) and what the AI OS routes keep ([`AiosService`]). No service knows the
//! state.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::HeaderMap;
use actix_web::web;
use chat_llm::{ChatProvider, OfflineProvider};
use chat_store::{Repo, Store};

use crate::aios::service::AiosService;
use crate::auth::Token;
use crate::chat::{ChatLimits, ChatRuntime};
use crate::conversations::service::Conversations;
use crate::db::Db;
use crate::error::ApiError;
use crate::events::Hub;
use crate::imports::jobs::ImportJobs;

/// Default largest import upload: 2 GiB.
pub const DEFAULT_MAX_UPLOAD: u64 = 2 * 1024 * 1024 * 1024;
/// Default largest JSON request body: 32 MiB (a full-state `PUT` of a long conversation).
pub const DEFAULT_JSON_LIMIT: usize = 32 * 1024 * 1024;

/// The shared state of the API. Build it with [`ApiState::builder`] and register the
/// returned [`web::Data`] with `App::app_data`.
#[derive(Debug)]
pub struct ApiState {
    db: Db,
    token: Token,
    json_limit: usize,
    hub: Hub,
    allowed_origins: Vec<String>,
    conversations: Conversations,
    imports: ImportJobs,
    chat: ChatRuntime,
    aios: AiosService,
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
    provider: Option<Arc<dyn ChatProvider>>,
    chat_limits: ChatLimits,
    allowed_origins: Vec<String>,
}

impl ApiStateBuilder {
    /// Requires `Authorization: Bearer <token>` on every request but `/api/v1/health`. An
    /// empty token counts as none.
    pub fn token(mut self, token: Option<impl Into<String>>) -> Self {
        self.token = token.map(Into::into);
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

    /// Browser origins (`scheme://host[:port]`) whose pages may call the AI OS routes
    /// ([`crate::configure_aios`]); a request from any other page (one with another `Origin`
    /// header) is refused with 403, so a web page cannot drive a server it was not allowed
    /// to. Give the same list as the app's CORS configuration. Default: none (requests
    /// without an `Origin` header, and same-origin pages, are always served).
    pub fn allowed_origins(mut self, origins: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// The state, ready for `App::app_data`: the services, each given what it needs.
    pub fn build(self) -> web::Data<ApiState> {
        let mut hub = self.hub.unwrap_or_default();
        hub.bridge(&self.store);
        let db = Db::new(self.store);
        let provider = self
            .provider
            .unwrap_or_else(|| Arc::new(OfflineProvider::new()));
        let upload_dir = self.upload_dir.unwrap_or_else(std::env::temp_dir);
        let conversations = Conversations::new(db.clone(), hub.clone(), Arc::clone(&provider));
        web::Data::new(ApiState {
            aios: AiosService::new(db.clone(), conversations.clone()),
            conversations,
            imports: ImportJobs::new(
                db.clone(),
                hub.clone(),
                upload_dir,
                self.max_upload,
                Arc::clone(&provider),
            ),
            chat: ChatRuntime::new(db.clone(), hub.clone(), provider, self.chat_limits),
            db,
            token: Token::new(self.token),
            json_limit: self.json_limit,
            hub,
            allowed_origins: self.allowed_origins,
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
            provider: None,
            chat_limits: ChatLimits::default(),
            allowed_origins: Vec::new(),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        self.db.store()
    }

    /// The event hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Whether requests need a token.
    pub fn token_required(&self) -> bool {
        self.token.required()
    }

    /// Whether the request's headers carry the right token (always true without a token).
    pub fn authorized(&self, headers: &HeaderMap) -> bool {
        self.token.authorizes(headers)
    }

    /// Like [`ApiState::authorized`], for the WebSocket upgrade only: the token may also come
    /// as `?token=` (`query_token`), since browsers cannot set headers on a WebSocket.
    pub fn authorized_ws(&self, headers: &HeaderMap, query_token: Option<&str>) -> bool {
        self.token.authorizes_ws(headers, query_token)
    }

    /// The model provider.
    pub fn provider(&self) -> &Arc<dyn ChatProvider> {
        self.chat.provider()
    }

    /// The limits of the WebSocket chat.
    pub fn chat_limits(&self) -> &ChatLimits {
        self.chat.limits()
    }

    /// Open WebSocket connections.
    pub fn live_connections(&self) -> usize {
        self.chat.connections()
    }

    /// Closes every WebSocket session (code 1012, "service restart"): replies being written
    /// stop and store what they have. Call it when a shutdown signal arrives, before the HTTP
    /// server drains its connections, since a WebSocket would otherwise hold the drain open.
    pub fn close_live_connections(&self) {
        self.chat.close_all();
    }

    /// Whether a reply is being written in a conversation.
    pub fn is_generating(&self, conversation_id: &str) -> bool {
        self.chat.is_running(conversation_id)
    }

    /// The largest import upload in bytes.
    pub fn max_upload(&self) -> u64 {
        self.imports.max_upload()
    }

    /// The largest JSON body in bytes.
    pub fn json_limit(&self) -> usize {
        self.json_limit
    }

    /// Runs `f` in a read transaction on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Repo<'_>) -> chat_store::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.db.read(f).await
    }

    /// Runs `f` in a write transaction on the API's writer thread, after the writes queued
    /// before it. The transaction runs to its end even if the client goes away.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Repo<'_>) -> chat_store::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.db.write(f).await
    }

    /// Stops background work for a graceful shutdown: running and queued imports are cancelled
    /// (what they read so far is committed) and waited for, up to `timeout`. Returns whether
    /// every job ended in time. Call it after the HTTP server has stopped and before
    /// [`Store::checkpoint`].
    pub fn shutdown(&self, timeout: Duration) -> bool {
        self.close_live_connections();
        self.imports.shutdown(timeout)
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn token(&self) -> &Token {
        &self.token
    }

    pub(crate) fn conversations(&self) -> &Conversations {
        &self.conversations
    }

    pub(crate) fn imports(&self) -> &ImportJobs {
        &self.imports
    }

    pub(crate) fn chat(&self) -> &ChatRuntime {
        &self.chat
    }

    pub(crate) fn aios(&self) -> &AiosService {
        &self.aios
    }

    /// Browser origins allowed to call the AI OS routes.
    pub(crate) fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }
}
