//! The HTTP API of AI OS Chat as a library: any actix-web app mounts the whole API with one
//! call, and the `chat-server` binary does exactly that.
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer};
//! use chat_api::ApiState;
//!
//! # async fn run() -> anyhow::Result<()> {
//! let store = chat_store::Store::open("chat.db")?;
//! let state = ApiState::builder(store).token(Some("s3cret")).build();
//! HttpServer::new(move || {
//!     App::new()
//!         .app_data(state.clone())
//!         .service(web::scope("/chat").configure(chat_api::configure))
//! })
//! .bind("127.0.0.1:8080")?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```
//!
//! # Design
//!
//! * **Routes are library code.** [`configure`] registers `/api/v1/health` and a scope
//!   `/api/v1` holding every other route, with the bearer-token middleware and the
//!   query/path error handlers attached to that scope, so an embedding app gets the same
//!   security and error shapes without adding middleware of its own. Everything the handlers
//!   need is in one [`ApiState`] (built with [`ApiState::builder`]) that the app registers
//!   with `App::app_data`; there are no globals, so two APIs over two stores can live in one
//!   process.
//! * **One folder per feature, handlers over services.** `conversations/`, `library/`,
//!   `search/`, `export/`, `imports/`, `chat/` and `events/` each hold their handlers; a
//!   handler parses its input, calls one service or repository method and maps the result.
//!   The services own what they need (the store handle, the hub, the upload folder, the model
//!   provider): the conversations service, the import jobs and the chat runtime.
//!   [`ApiState`] is composed from them, one way: no service knows the state, and no SQL or
//!   domain rule lives here (the store has the SQL, `chat-import` the import diagnosis).
//! * **The executor never blocks.** Reads run on actix's blocking pool ([`ApiState::read`]
//!   wraps `web::block`); writes run one at a time, in arrival order, on the API's writer
//!   thread ([`ApiState::write`]), since SQLite has one writer anyway and a fair queue keeps
//!   the slowest writer's wait close to the median's. The store's own r2d2 pool is sized
//!   from the core count. Imports run on their own threads, one at a time, and report
//!   progress in memory and through the [`Hub`]. The full export streams from a blocking task
//!   through a bounded channel, page by page, so memory stays flat however big the store is.
//! * **One error type.** Every failure is an [`ApiError`] answered as
//!   `{"error": "<snake_case_code>", "message": "..."}` with 400/401/404/409/413/415/503; an
//!   internal failure is logged where it is converted and answered as a bare 500. JSON bodies
//!   go through [`JsonBody`], which enforces the content type (415) and the configured size
//!   (413) before parsing.
//! * **Wire shapes are separate from domain types** ([`dto`]): the JSON stays stable when the
//!   model grows, and every shape has an OpenAPI schema (`GET /api/v1/openapi.json`, generated
//!   by utoipa from the handlers' annotations, so it cannot drift from the routes).
//! * **Room to grow.** The [`Hub`] broadcasts `conversation.updated`, `conversation.deleted`
//!   and `import.progress` for a WebSocket layer to forward; the model provider comes in
//!   through [`ApiStateBuilder::provider`]; nothing is registered at `/`, which stays free for
//!   a web UI.
//!
//! * **The AI OS frontend's contract beside ours.** [`configure_aios`] registers the routes
//!   and the WebSocket of the original AI OS chat module (`/api/chat`, `/api/conversations`,
//!   `/api/ratings`, `/api/import`, `/api/models`, `/ws`) as adapters over the same services
//!   (module `aios`; `docs/aios.md` maps each endpoint). An embedding app mounts it or not.
//!
//! Security: when the state has a token, every request but `/api/v1/health` needs
//! `Authorization: Bearer <token>`, compared in constant time. Whether a token is *required*
//! depends on the address the server binds ([`token_required_for`]); that decision belongs to
//! the binary. CORS is left to the embedding app (the server adds it only for configured
//! origins).

mod aios;
mod auth;
mod chat;
mod conversations;
mod db;
pub mod dto;
mod error;
mod events;
mod export;
mod extract;
mod guard;
mod imports;
mod library;
mod media;
mod openapi;
mod params;
mod search;
mod state;
mod sync;
mod write_queue;

use actix_web::middleware;
use actix_web::web;

pub use aios::configure as configure_aios;
pub use auth::{constant_time_eq, token_required_for};
pub use chat::{
    ChatLimits, DEFAULT_CLIENT_TIMEOUT, DEFAULT_EVENT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_FRAME, DEFAULT_RATE_BURST, DEFAULT_RATE_PER_SECOND,
};
pub use error::{ApiError, ErrorBody};
pub use events::{Event, EventKey, Hub, HubMessage};
pub use extract::JsonBody;
pub use imports::view::{ImportJobView, RetryView, RunSummary};
pub use openapi::ApiDoc;
pub use state::{ApiState, ApiStateBuilder, DEFAULT_JSON_LIMIT, DEFAULT_MAX_UPLOAD};

use conversations::routes as conversations_routes;
use imports::routes as import_routes;

/// Registers the whole API: `/api/v1/health` (open) and every other route under `/api/v1`
/// (token-checked). Mount it at the root or under a prefix with `web::scope(..).configure(..)`;
/// the app must register the [`ApiState`] (as returned by [`ApiStateBuilder::build`]) with
/// `app_data`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/health").route(web::get().to(library::health)))
        // Outside the token middleware: the upgrade checks the token itself, from the header
        // or `?token=` (browsers cannot set headers on a WebSocket).
        .service(web::resource("/api/v1/ws").route(web::get().to(chat::session::upgrade)))
        .service(
            web::scope("/api/v1")
                .wrap(middleware::from_fn(guard::require_token))
                .app_data(extract::query_config())
                .app_data(extract::path_config())
                .configure(routes)
                .default_service(web::to(library::not_found)),
        );
}

/// The routes inside the `/api/v1` scope.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(openapi::openapi_json))
        .service(
            web::resource("/conversations")
                .route(web::get().to(conversations_routes::list))
                .route(web::post().to(conversations_routes::create)),
        )
        // Before `/conversations/{id}`, which would otherwise match it.
        .route(
            "/conversations/archive",
            web::post().to(conversations_routes::bulk_archive),
        )
        .service(
            web::resource("/conversations/{id}")
                .route(web::get().to(conversations_routes::get))
                .route(web::put().to(conversations_routes::put))
                .route(web::patch().to(conversations_routes::patch))
                .route(web::delete().to(conversations_routes::delete)),
        )
        .route(
            "/conversations/{id}/messages",
            web::post().to(conversations_routes::add_message),
        )
        .route(
            "/conversations/{id}/summary",
            web::post().to(conversations_routes::summarize),
        )
        .route(
            "/conversations/{id}/fork",
            web::post().to(conversations_routes::fork),
        )
        .route(
            "/conversations/{id}/export",
            web::get().to(export::export_one),
        )
        .service(
            web::resource("/conversations/{id}/tags/{tag}")
                .route(web::put().to(conversations_routes::put_tag))
                .route(web::delete().to(conversations_routes::delete_tag)),
        )
        .route("/tags", web::get().to(library::tags))
        .route("/folders", web::get().to(library::folders))
        .route("/messages/{id}", web::get().to(library::message))
        .service(
            web::resource("/messages/{id}/rating")
                .route(web::put().to(library::rate))
                .route(web::delete().to(library::unrate)),
        )
        .route("/ratings", web::get().to(library::ratings))
        .route("/media/{id}", web::get().to(media::get))
        .route("/search", web::get().to(search::search))
        .route("/stats", web::get().to(library::stats))
        .route("/export", web::get().to(export::export_all))
        .service(
            web::resource("/imports")
                .route(web::get().to(import_routes::list))
                .route(web::post().to(import_routes::create)),
        )
        .route("/imports/{id}", web::get().to(import_routes::get))
        .route(
            "/imports/{id}/cancel",
            web::post().to(import_routes::cancel),
        )
        .route(
            "/imports/{id}/explain",
            web::post().to(import_routes::explain),
        )
        .route("/imports/{id}/retry", web::post().to(import_routes::retry));
}
