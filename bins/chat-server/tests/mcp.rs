#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Runs the MCP test suite (`tests/mcp/*.test.mjs`) against the `chat-server` binary cargo just
//! built: the official TypeScript MCP SDK client (`@modelcontextprotocol/sdk`, pinned by
//! package-lock.json) drives the server over stdio (`chat-server mcp`) and streamable HTTP
//! (`/mcp`). Node.js and the SDK are installed when missing (see `common`); a client that
//! cannot be installed or started fails the test, in CI and elsewhere.

mod common;

use std::path::Path;

#[test]
fn mcp_suite_passes_against_the_real_server() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp");
    common::ensure_node(&dir, "@modelcontextprotocol/sdk");
    common::run_node_suite(&dir, &[]);
}
