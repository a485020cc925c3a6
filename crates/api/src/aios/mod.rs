//! The AI OS frontend's contract: the routes and the WebSocket of the original AI OS chat
//! module (`/api/chat`, `/api/conversations`, `/api/ratings`, `/api/import`, `/api/models`,
//! `/ws`), so the frontend works against this server unchanged. See `docs/aios.md` for each
//! endpoint, what it maps to and where it behaves differently on purpose.
//!
//! Every route is an adapter: it reads the original's request shape, calls one of our
//! services (the conversations service, the import jobs, the chat runtime, the store's
//! repository) and writes the original's answer shape (`wire.rs`; the turns of the export
//! shape are chat-export's `aios` module). No SQL and no domain rule live here. What this
//! layer keeps of its own is small (`service.rs`): which conversation is the current session,
//! and the typing notices passed between `/ws` clients.
//!
//! The routes follow the API's rules: the bearer token when one is configured (`?token=` too
//! for `/ws`), the same limits, our error shape (`{"error", "message"}`). On top, a request
//! from a browser page whose origin is not allowed is refused (`origin.rs`).

mod chat;
mod conversations;
mod imports;
mod models;
mod origin;
mod ratings;
mod reply;
pub(crate) mod service;
mod wire;
mod ws;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{self, Next};
use actix_web::web;

use crate::error::ApiError;
use crate::extract::{path_config, query_config};
use crate::guard;
use crate::state::ApiState;

/// Registers the AI OS routes: `/ws` (checks its token and origin itself) and the scopes
/// `/api/chat`, `/api/conversations`, `/api/ratings`, `/api/import`, `/api/models`, each
/// behind the token and origin checks. It takes no path of `/api/v1`, so it mounts beside
/// [`crate::configure`] in any order.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/ws").route(web::get().to(ws::upgrade)))
        .service(
            scope("/api/chat")
                .route("/history", web::get().to(chat::history))
                .route("/message", web::post().to(chat::message))
                .route("/agent-status", web::get().to(chat::agent_status))
                .route("/start-session", web::post().to(chat::start_session))
                .route("/set-session/{id}", web::post().to(chat::set_session))
                .route("/clear", web::post().to(chat::clear)),
        )
        .service(
            scope("/api/conversations")
                .route("", web::get().to(conversations::list))
                .route("/new", web::post().to(conversations::create))
                .service(
                    web::resource("/summary/prompt")
                        .route(web::get().to(conversations::summary_prompt))
                        .route(web::put().to(conversations::set_summary_prompt)),
                )
                .route("/export/all", web::get().to(conversations::export_all))
                .route(
                    "/source/{source}",
                    web::delete().to(conversations::delete_source),
                )
                .service(
                    web::resource("/{id}")
                        .route(web::get().to(conversations::get))
                        .route(web::delete().to(conversations::delete)),
                )
                .route("/{id}/rename", web::post().to(conversations::rename))
                .route("/{id}/archive", web::post().to(conversations::archive))
                .route("/{id}/unarchive", web::post().to(conversations::unarchive))
                .route("/{id}/summarize", web::post().to(conversations::summarize))
                .route("/{id}/export", web::get().to(conversations::export_one)),
        )
        .service(
            scope("/api/ratings")
                .route("/rate", web::post().to(ratings::rate))
                .route("/stats", web::get().to(ratings::stats)),
        )
        .service(
            scope("/api/import")
                .route("/upload", web::post().to(imports::upload))
                .route("/parse", web::post().to(imports::parse))
                .route("/commit", web::post().to(imports::commit)),
        )
        .service(
            scope("/api/models")
                .route("", web::get().to(models::list))
                .route("/current", web::get().to(models::current)),
        );
}

/// A scope of the AI OS routes: the checks, the API's query and path error shapes, and a 404
/// in the API's shape for what it does not hold.
fn scope(
    path: &str,
) -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<EitherBody<impl MessageBody>>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope(path)
        .wrap(middleware::from_fn(checks))
        .app_data(query_config())
        .app_data(path_config())
        .default_service(web::to(not_found))
}

/// Middleware of the AI OS scopes: the page's origin, then the token.
async fn checks(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let verdict = match req.app_data::<web::Data<ApiState>>() {
        Some(state) => origin::verdict(req.headers(), state.allowed_origins()),
        None => None,
    }
    .or_else(|| guard::token_verdict(&req));
    guard::apply(req, next, verdict).await
}

/// Paths under the AI OS scopes that name no endpoint.
async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "route_not_found",
        "no such endpoint of the AI OS routes; see docs/aios.md",
    ))
}
