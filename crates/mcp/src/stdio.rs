//! The stdio transport: one session over the process's stdin and stdout, as MCP clients
//! (Claude Desktop, VS Code, Cursor, Codex) launch local servers. Nothing else may write to
//! stdout; logs go to stderr.

use rmcp::ServiceExt as _;

use crate::error::{Error, Result};
use crate::server::ChatMcp;

/// Serves `server` on stdin/stdout until the client closes stdin (or the session fails).
pub async fn serve_stdio(server: ChatMcp) -> Result<()> {
    let running = server
        .serve(rmcp::transport::stdio_pipes())
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    Ok(())
}
