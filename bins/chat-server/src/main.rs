//! `chat-server`: serves the AI OS Chat API (`chat-api`) and its MCP endpoint (`chat-mcp`, at
//! `/mcp`) over one SQLite database; `chat-server mcp` serves MCP over stdio instead.
//!
//! The binary only does configuration, logging, CORS and the process lifecycle; every route is
//! `chat_api::configure` or `chat_mcp::McpHttp`. It refuses to listen on a non-loopback address without a token, and on
//! SIGINT/SIGTERM it stops accepting connections, lets in-flight requests (and their database
//! writes) finish, cancels running imports (keeping what they wrote), and checkpoints the WAL
//! into the database file before exiting.

mod assets;
mod mcp;
mod seed;

/// Request handling allocates many small values on several threads; mimalloc measurably beats
/// the system allocator there (see docs/benchmarks.md, "HTTP API").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{self, Next};
use actix_web::{App, HttpServer};
use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};

/// How long in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How long running imports get to stop after the server has stopped.
const IMPORT_GRACE: Duration = Duration::from_secs(30);

/// Serves the AI OS Chat HTTP API, the web UI and the MCP endpoint (/mcp).
#[derive(Debug, Parser)]
#[command(name = "chat-server", version, about)]
struct Args {
    /// The database: a SQLite file (created if missing, except by `chat-server mcp`) or a
    /// PostgreSQL URL (`postgres://user:password@host:5432/chat?sslmode=require`).
    #[arg(long, env = "CHAT_DB", default_value = "./chat.db", global = true)]
    db: PathBuf,

    /// Serve the MCP write tools (tag_conversation, add_note, save_conversation) at /mcp and
    /// in `chat-server mcp`. Off by default: agents only read.
    #[arg(long, env = "CHAT_MCP_WRITE", global = true)]
    mcp_write: bool,

    /// Host names the /mcp endpoint answers to, besides the loopback ones (comma-separated),
    /// against DNS rebinding. On a non-loopback address without this list, any host name is
    /// accepted (the token guards the endpoint).
    #[arg(
        long = "mcp-allowed-host",
        env = "CHAT_MCP_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    mcp_allowed_hosts: Vec<String>,

    #[command(subcommand)]
    command: Option<Command>,

    /// Address to listen on. Any address other than loopback requires a token.
    #[arg(long, env = "CHAT_BIND", default_value = "127.0.0.1:8080")]
    bind: String,

    /// Require `Authorization: Bearer <TOKEN>` on every request (but /api/v1/health).
    #[arg(long, env = "CHAT_TOKEN", hide_env_values = true)]
    token: Option<String>,

    /// Largest import upload, in bytes or with a unit (e.g. 500MiB, 2GiB).
    #[arg(long, env = "CHAT_MAX_UPLOAD", default_value = "2GiB", value_parser = parse_size)]
    max_upload: u64,

    /// Origins allowed to call the API from a browser (comma-separated). CORS is off when
    /// none are given.
    #[arg(long = "cors-origin", env = "CHAT_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,

    /// Do not serve the AI OS frontend's routes (`/api/chat`, `/api/conversations`,
    /// `/api/ratings`, `/api/import`, `/api/models` and the WebSocket `/ws`; see docs/aios.md).
    #[arg(long, env = "CHAT_NO_AIOS")]
    no_aios: bool,

    /// Folder where uploads are spooled before import (default: the system's temp folder).
    #[arg(long, env = "CHAT_UPLOAD_DIR")]
    upload_dir: Option<PathBuf>,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "CHAT_WORKERS")]
    workers: Option<usize>,

    /// The model server's API root (any OpenAI-compatible server: Ollama, llama.cpp, vLLM,
    /// LM Studio, OpenAI), e.g. http://localhost:11434/v1. Without it the built-in offline
    /// assistant answers.
    #[arg(long, env = "CHAT_LLM_BASE_URL")]
    llm_base_url: Option<String>,

    /// The model to ask (default: the first one the server lists).
    #[arg(long, env = "CHAT_LLM_MODEL")]
    llm_model: Option<String>,

    /// API key sent to the model server as `Authorization: Bearer`.
    #[arg(long, env = "CHAT_LLM_API_KEY", hide_env_values = true)]
    llm_api_key: Option<String>,

    /// Pause between the offline assistant's deltas, in milliseconds (0 for benchmarks).
    #[arg(long, env = "CHAT_OFFLINE_DELAY_MS")]
    offline_delay_ms: Option<u64>,

    /// Most WebSocket connections open at once; more are answered 503.
    #[arg(long, env = "CHAT_WS_MAX_CONNECTIONS", default_value_t = chat_api::DEFAULT_MAX_CONNECTIONS)]
    ws_max_connections: usize,

    /// Shortest time between two deliveries of library events (`conversation.updated`, ...)
    /// to one WebSocket connection, in milliseconds; events in between are coalesced. 0 sends
    /// every event as it comes.
    #[arg(long, env = "CHAT_WS_EVENT_INTERVAL_MS", default_value_t = chat_api::DEFAULT_EVENT_INTERVAL.as_millis() as u64)]
    ws_event_interval_ms: u64,

    /// Fill the database with N generated messages for benchmarks, then exit.
    #[arg(long, hide = true, value_name = "N")]
    seed_demo: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve MCP over stdin/stdout for a local agent (Claude Desktop, VS Code, Cursor, Codex
    /// CLI). It can run while a chat-server uses the same database. See docs/mcp.md.
    Mcp,
}

/// Parses `123`, `10k`, `500MiB`, `2G`, ... (binary units).
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size such as 500MiB or 2GiB"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => return Err(format!("unknown size unit {other:?}; use KiB, MiB or GiB")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CHAT_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if matches!(args.command, Some(Command::Mcp)) {
        return match mcp::stdio(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("chat-server mcp: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    match actix_web::rt::System::new().block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat-server: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Logs each request at debug level, and server errors at warn.
async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    let status = res.status();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if status.is_server_error() {
        tracing::warn!(%method, %path, status = status.as_u16(), ms, "request failed");
    } else {
        tracing::debug!(%method, %path, status = status.as_u16(), ms, "request");
    }
    Ok(res)
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("mcp-session-id"),
            header::HeaderName::from_static("mcp-protocol-version"),
            header::HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            header::CONTENT_DISPOSITION,
            header::LOCATION,
            header::HeaderName::from_static("mcp-session-id"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// The addresses `--bind` names; refused when one is reachable from other machines and no
/// token is set.
fn addresses(args: &Args, token: Option<&str>) -> anyhow::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = args
        .bind
        .to_socket_addrs()
        .with_context(|| {
            format!(
                "--bind {:?} is not an address such as 127.0.0.1:8080",
                args.bind
            )
        })?
        .collect();
    if addrs.is_empty() {
        bail!("--bind {:?} resolves to no address", args.bind);
    }
    if token.is_none() && addrs.iter().any(chat_api::token_required_for) {
        bail!(
            "refusing to listen on {} without a token: other machines could read and change every \
             conversation. Set --token or CHAT_TOKEN, or bind a loopback address such as 127.0.0.1:8080",
            args.bind
        );
    }
    Ok(addrs)
}

/// `--seed-demo N`: fills the database with `n` generated conversations and says how it went.
fn seed_demo(store: &chat_store::Store, n: u64, db: &std::path::Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let (convos, messages) = seed::seed(store, n)?;
    store.checkpoint().context("checkpointing the database")?;
    println!(
        "seeded {convos} conversations with {messages} messages into {} in {:.1}s",
        chat_store::display_location(db),
        started.elapsed().as_secs_f64()
    );
    println!(
        "search terms by frequency rank: common {:?}, medium {:?}, rare {:?}",
        seed::word_at(10),
        seed::word_at(300),
        seed::word_at(5000)
    );
    Ok(())
}

/// The API's state from the flags: token, limits, model provider, upload folder.
fn api_state(
    args: &Args,
    store: &chat_store::Store,
    token: Option<String>,
) -> anyhow::Result<actix_web::web::Data<chat_api::ApiState>> {
    let provider = model_provider(args)?;
    tracing::info!(
        provider = provider.name(),
        model = provider.default_model(),
        "chat model"
    );
    let mut builder = chat_api::ApiState::builder(store.clone())
        .token(token)
        .allowed_origins(args.cors_origins.iter().cloned())
        .max_upload(args.max_upload)
        .provider(provider)
        .chat_limits(chat_api::ChatLimits {
            max_connections: args.ws_max_connections.max(1),
            event_interval: Duration::from_millis(args.ws_event_interval_ms),
            ..chat_api::ChatLimits::default()
        });
    if let Some(dir) = &args.upload_dir {
        builder = builder.upload_dir(dir);
    }
    Ok(builder.build())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let token = args.token.clone().filter(|t| !t.is_empty());
    let addrs = addresses(&args, token.as_deref())?;
    let store = chat_store::Store::open(&args.db).with_context(|| {
        format!(
            "could not open the database {}",
            chat_store::display_location(&args.db)
        )
    })?;
    if let Some(n) = args.seed_demo {
        // Off the async executor: the store is synchronous (and PostgreSQL's client must not
        // block an executor thread).
        let (seeding, db) = (store.clone(), args.db.clone());
        return actix_web::rt::task::spawn_blocking(move || seed_demo(&seeding, n, &db))
            .await
            .context("seeding stopped unexpectedly")?;
    }
    let state = api_state(&args, &store, token.clone())?;

    let mcp_shutdown = tokio_util::sync::CancellationToken::new();
    let mcp_http = mcp::http(&args, &addrs, &state, store.clone(), mcp_shutdown.clone());

    let cors_origins = args.cors_origins.clone();
    let aios = !args.no_aios;
    let app_state = state.clone();
    let mut server = HttpServer::new(move || {
        let mcp_http = mcp_http.clone();
        App::new()
            .app_data(app_state.clone())
            .wrap(middleware::from_fn(log_request))
            .wrap(middleware::Condition::new(
                !cors_origins.is_empty(),
                cors(&cors_origins),
            ))
            .configure(chat_api::configure)
            .configure(|cfg| {
                if aios {
                    chat_api::configure_aios(cfg);
                }
            })
            .configure(move |cfg| mcp_http.register(cfg, "/mcp"))
            .configure(assets::configure)
    })
    .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
    // Streamed chat deltas are small writes: without TCP_NODELAY, Nagle's algorithm holds each
    // one until the previous is acknowledged, and a client's delayed ACK makes that ~40 ms.
    .on_connect(|conn, _| {
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        }
    });
    if let Some(workers) = args.workers {
        server = server.workers(workers.max(1));
    }
    let server = server
        .bind(&addrs[..])
        .with_context(|| format!("could not listen on {}", args.bind))?;

    {
        let mut out = std::io::stdout().lock();
        for addr in server.addrs() {
            writeln!(out, "listening on http://{addr}")?;
        }
        out.flush()?;
    }
    tracing::info!(
        db = %chat_store::display_location(&args.db),
        token = token.is_some(),
        cors = !args.cors_origins.is_empty(),
        aios = !args.no_aios,
        mcp_write = args.mcp_write,
        "chat-server started"
    );

    // actix installs the SIGINT/SIGTERM handlers and drains in-flight requests on either. A
    // WebSocket would hold that drain open for the whole grace period, so on the same signals
    // the live sessions close first (replies being written store what they have).
    let signal_state = state.clone();
    actix_web::rt::spawn(async move {
        shutdown_signal().await;
        tracing::info!("closing live connections");
        signal_state.close_live_connections();
        mcp_shutdown.cancel();
    });
    server.run().await.context("the HTTP server failed")?;

    tracing::info!("stopping: waiting for imports");
    let stop_state = state.clone();
    let stopped = actix_web::rt::task::spawn_blocking(move || stop_state.shutdown(IMPORT_GRACE))
        .await
        .unwrap_or(false);
    if !stopped {
        tracing::warn!("an import did not stop in time; its last batch may be rolled back");
    }
    let checkpoint_store = store.clone();
    actix_web::rt::task::spawn_blocking(move || checkpoint_store.checkpoint())
        .await
        .context("checkpointing the database")?
        .context("checkpointing the database")?;
    tracing::info!("stopped; the database is checkpointed");
    Ok(())
}

/// The chat model: the OpenAI-compatible server when a base URL is configured, else the
/// offline assistant.
fn model_provider(args: &Args) -> anyhow::Result<std::sync::Arc<dyn chat_llm::ChatProvider>> {
    let base_url = args
        .llm_base_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    match base_url {
        Some(url) => {
            let config =
                chat_llm::LlmConfig::new(url, args.llm_model.clone(), args.llm_api_key.clone());
            chat_llm::provider_from_config(Some(config))
                .context("the model configuration (--llm-base-url / CHAT_LLM_BASE_URL) cannot work")
        }
        None => {
            if args
                .llm_model
                .as_deref()
                .is_some_and(|m| !m.trim().is_empty())
            {
                bail!(
                    "--llm-model (CHAT_LLM_MODEL) is set but --llm-base-url (CHAT_LLM_BASE_URL) is not;                      set the model server's address too, e.g. http://localhost:11434/v1 for Ollama"
                );
            }
            let mut offline = chat_llm::OfflineProvider::new();
            if let Some(ms) = args.offline_delay_ms {
                offline = offline.with_delay(Duration::from_millis(ms));
            }
            Ok(std::sync::Arc::new(offline))
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("123").unwrap(), 123);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("500 MiB").unwrap(), 500 << 20);
        assert_eq!(parse_size("10k").unwrap(), 10 << 10);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }
}
