//! The MCP server (`chat-mcp`) in this binary: over stdio (`chat-server mcp`) and at `/mcp`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use chat_mcp::{ChatMcp, HttpOptions, McpHttp};
use tokio_util::sync::CancellationToken;

use crate::Args;

/// The loopback host names the endpoint always answers to.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// `chat-server mcp`: one MCP session over stdin/stdout, on an existing database (a path that
/// holds none is a mistake worth saying, not a new empty library).
pub fn stdio(args: &Args) -> anyhow::Result<()> {
    if !chat_store::is_database_url(&args.db) && !args.db.exists() {
        bail!(
            "there is no database at {}: pass --db (or set CHAT_DB) to the file chat-server and \
             chat-import use",
            args.db.display()
        );
    }
    let store = chat_store::Store::open(&args.db).with_context(|| {
        format!(
            "could not open the database {}",
            chat_store::display_location(&args.db)
        )
    })?;
    let server = ChatMcp::new(store).writable(args.mcp_write);
    tracing::info!(db = %chat_store::display_location(&args.db), write = args.mcp_write, "serving MCP on stdio");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?
        .block_on(chat_mcp::serve_stdio(server))
        .context("the MCP session failed")
}

/// The `/mcp` endpoint: the API's token rule, the configured CORS origins, the loopback host
/// names (plus `--mcp-allowed-host`; any host off loopback without that list, where a token is
/// required), and library events for the web UI after each write.
pub fn http(
    args: &Args,
    addrs: &[SocketAddr],
    state: &actix_web::web::Data<chat_api::ApiState>,
    store: chat_store::Store,
    shutdown: CancellationToken,
) -> McpHttp {
    let hub = state.hub().clone();
    let server = ChatMcp::new(store)
        .writable(args.mcp_write)
        .on_change(Arc::new(move |c| {
            hub.publish(chat_api::Event::ConversationUpdated {
                conversation: c.clone().into(),
            });
        }));
    let allowed_hosts = if !args.mcp_allowed_hosts.is_empty() {
        let mut hosts = args.mcp_allowed_hosts.clone();
        hosts.extend(LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()));
        Some(hosts)
    } else if addrs.iter().all(|a| a.ip().is_loopback()) {
        None
    } else {
        Some(Vec::new())
    };
    let auth = state.clone();
    McpHttp::new(
        server,
        HttpOptions {
            authorize: Arc::new(move |headers| auth.authorized(headers)),
            allowed_origins: args.cors_origins.clone(),
            allowed_hosts,
            shutdown,
        },
    )
}
