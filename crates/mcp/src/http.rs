//! The streamable HTTP transport, mounted in an actix-web app.
//!
//! The wire protocol (sessions with `Mcp-Session-Id`, protocol-version negotiation, SSE
//! streams, `DELETE` to end a session, the `Host` check against DNS rebinding, body limits) is
//! rmcp's own `StreamableHttpService`. This module only carries requests to it and its
//! responses back: actix-web speaks `http` 0.2 and rmcp `http` 1.x, so headers are copied
//! across, the body (bounded, [`MAX_BODY`]) is handed over whole, and the response body is
//! streamed back as it comes (server-sent events stay open). The `Authorization` header is not
//! passed on, so the token never reaches the tools.
//!
//! In front of it goes the check the chat API makes, as a middleware on the endpoint:
//!
//! 1. `Origin`: a request from a browser page must come from an allowed origin (the server's
//!    configured CORS origins), else `403`, as the MCP specification asks against DNS
//!    rebinding. Requests without `Origin` (every non-browser client) pass.
//! 2. The token: the embedding app's rule decides (the chat server passes the API's own check:
//!    `Authorization: Bearer <token>` whenever it has a token, which it must off loopback),
//!    else `401` with `WWW-Authenticate: Bearer`.
//!
//! Both answer with the API's error shape, `{"error": "...", "message": "..."}`.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::ErrorBadRequest;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{StatusCode, Version};
use actix_web::middleware::{self, Next};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyDataStream, Full};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::server::ChatMcp;

/// Largest request body, in bytes (a `save_conversation` of many long messages is the
/// largest request; JSON-RPC messages are otherwise small).
pub const MAX_BODY: usize = 4 << 20;

type Rmcp = StreamableHttpService<ChatMcp, LocalSessionManager>;

/// Decides whether a request's headers grant access (the token rule).
pub type Authorize = Arc<dyn Fn(&HeaderMap) -> bool + Send + Sync>;

/// How the HTTP endpoint checks requests.
#[derive(Clone)]
pub struct HttpOptions {
    /// Whether a request may use the endpoint, from its headers.
    pub authorize: Authorize,
    /// Browser origins allowed to call the endpoint (`scheme://host[:port]`); a request with
    /// any other `Origin` header is refused.
    pub allowed_origins: Vec<String>,
    /// `Host` names (or `host:port`) accepted, against DNS rebinding. `None`: loopback names
    /// only (`localhost`, `127.0.0.1`, `::1`), right for a server on loopback. An empty list
    /// accepts any host: only for a server that requires a token.
    pub allowed_hosts: Option<Vec<String>>,
    /// Cancelled at shutdown: ends every session and open stream.
    pub shutdown: CancellationToken,
}

impl fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpOptions")
            .field("allowed_origins", &self.allowed_origins)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish_non_exhaustive()
    }
}

/// The endpoint, built once and registered in each actix worker's app with
/// [`McpHttp::register`]. Sessions are shared by every worker.
#[derive(Clone)]
pub struct McpHttp {
    service: Arc<Rmcp>,
    guard: Arc<Guard>,
}

impl fmt::Debug for McpHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpHttp")
            .field("allowed_origins", &self.guard.origins)
            .finish_non_exhaustive()
    }
}

struct Guard {
    authorize: Authorize,
    origins: Vec<String>,
}

/// An origin as browsers serialise it: lowercase, no trailing slash, no default port.
fn normalise_origin(origin: &str) -> String {
    let o = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    for (scheme, port) in [("http://", ":80"), ("https://", ":443")] {
        if o.starts_with(scheme) {
            if let Some(stripped) = o.strip_suffix(port) {
                return stripped.to_owned();
            }
        }
    }
    o
}

impl Guard {
    fn origin_allowed(&self, origin: &HeaderValue) -> bool {
        origin
            .to_str()
            .is_ok_and(|o| self.origins.contains(&normalise_origin(o)))
    }
}

fn refusal(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"ai-os-chat\""));
    }
    res.json(serde_json::json!({ "error": code, "message": message }))
}

async fn check(
    guard: Arc<Guard>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refused = match req.headers().get(header::ORIGIN) {
        Some(origin) if !guard.origin_allowed(origin) => Some(refusal(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            "requests from this web origin are not allowed (a page may be trying to reach your \
             local server); add the origin to the server's --cors-origin list to allow it",
        )),
        _ if !(guard.authorize)(req.headers()) => Some(refusal(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this server requires a token: send Authorization: Bearer <token> (the server's \
             --token)",
        )),
        _ => None,
    };
    match refused {
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Some(res) => {
            let (req, _) = req.into_parts();
            Ok(ServiceResponse::new(req, res).map_into_right_body())
        }
    }
}

/// The request as rmcp takes it: `http` 1.x, the whole body, no `Authorization` header.
fn to_rmcp(req: &HttpRequest, body: Bytes) -> Result<http::Request<Full<Bytes>>, actix_web::Error> {
    let method = http::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(|_| ErrorBadRequest("unsupported HTTP method"))?;
    let version = match req.version() {
        Version::HTTP_10 => http::Version::HTTP_10,
        Version::HTTP_2 => http::Version::HTTP_2,
        _ => http::Version::HTTP_11,
    };
    let mut request = http::Request::builder()
        .method(method)
        .uri(req.uri().to_string())
        .version(version);
    if let Some(headers) = request.headers_mut() {
        for (name, value) in req.headers() {
            if name == header::AUTHORIZATION {
                continue;
            }
            // A name `http` 1.x refuses (it is stricter) cannot be one rmcp reads: skip it.
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_str().as_bytes()),
                http::HeaderValue::from_bytes(value.as_bytes()),
            ) {
                headers.append(n, v);
            }
        }
    }
    request
        .body(Full::new(body))
        .map_err(|_| ErrorBadRequest("malformed request"))
}

/// rmcp's response as actix sends it: same status and headers (but the framing ones, which
/// actix sets itself), the body streamed as rmcp produces it.
fn from_rmcp(response: http::Response<BoxBody<Bytes, Infallible>>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let status =
        StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = HttpResponse::build(status);
    for (name, value) in &parts.headers {
        if name == http::header::CONTENT_LENGTH || name == http::header::TRANSFER_ENCODING {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append_header((n, v));
        }
    }
    out.streaming(BodyDataStream::new(body))
}

async fn handle(
    service: Arc<Rmcp>,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse, actix_web::Error> {
    let request = to_rmcp(&req, body)?;
    Ok(from_rmcp(service.handle(request).await))
}

impl McpHttp {
    /// The endpoint for `server` (one clone per session) with `options`.
    pub fn new(server: ChatMcp, options: HttpOptions) -> Self {
        let mut config = StreamableHttpServerConfig::default()
            .with_cancellation_token(options.shutdown)
            .with_max_request_body_bytes(MAX_BODY);
        config = match options.allowed_hosts {
            None => config,
            Some(hosts) if hosts.is_empty() => config.disable_allowed_hosts(),
            Some(hosts) => config.with_allowed_hosts(hosts),
        };
        let service = StreamableHttpService::new(
            move || Ok(server.clone()),
            Arc::new(LocalSessionManager::default()),
            config,
        );
        McpHttp {
            service: Arc::new(service),
            guard: Arc::new(Guard {
                authorize: options.authorize,
                origins: options
                    .allowed_origins
                    .iter()
                    .map(|o| normalise_origin(o))
                    .collect(),
            }),
        }
    }

    /// Registers the endpoint at `path` (e.g. `/mcp`, with or without a trailing slash) with
    /// its origin and token checks.
    pub fn register(&self, cfg: &mut web::ServiceConfig, path: &str) {
        let guard = Arc::clone(&self.guard);
        let service = Arc::clone(&self.service);
        cfg.service(
            web::resource([path.to_owned(), format!("{path}/")])
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .wrap(middleware::from_fn(move |req, next| {
                    check(Arc::clone(&guard), req, next)
                }))
                .route(web::route().to(move |req: HttpRequest, body: Bytes| {
                    handle(Arc::clone(&service), req, body)
                })),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_origin;

    #[test]
    fn origins_compare_as_browsers_send_them() {
        assert_eq!(normalise_origin("HTTP://LocalHost:80/"), "http://localhost");
        assert_eq!(
            normalise_origin("https://app.example:443"),
            "https://app.example"
        );
        assert_eq!(
            normalise_origin("http://localhost:5173"),
            "http://localhost:5173"
        );
        assert_eq!(normalise_origin("null"), "null");
    }
}
