//! The crate's error type, and how each error reaches an MCP client.
//!
//! A problem with the caller's arguments (an unknown id, a malformed cursor, a limit out of
//! range, a write on a read-only server) is answered as a *tool error*: a normal result with
//! `isError: true` and a message that says what was wrong and what to do, which the model reads
//! and can act on (the MCP specification's advice since 2025-11-25). A failure of the server
//! itself is a JSON-RPC internal error whose message names no internals; the cause goes to the
//! log. Neither ends the session.

use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, ErrorData};

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument cannot be honoured; the message says which and what to do.
    #[error("{0}")]
    InvalidArgument(String),
    /// A conversation or message the caller named does not exist.
    #[error("there is no {what} with id {id:?}; {hint}")]
    NotFound {
        /// `conversation` or `message`.
        what: &'static str,
        /// The id given.
        id: String,
        /// Where to find a valid one.
        hint: &'static str,
    },
    /// A write tool was called on a server started without `--mcp-write`.
    #[error(
        "{tool} changes the user's history, and this server is read-only: ask the user to \
         start it with --mcp-write if they want agents to write"
    )]
    ReadOnly {
        /// The tool called.
        tool: String,
    },
    /// Another program holds the database's write lock longer than the busy timeout.
    #[error("the chat database is busy (another program is writing to it); try again shortly")]
    Busy,
    /// The store failed.
    #[error("the chat database failed: {0}")]
    Store(#[source] chat_store::Error),
    /// Rendering a conversation failed.
    #[error("rendering failed: {0}")]
    Export(#[from] chat_export::Error),
    /// A blocking task could not run to its end.
    #[error("a background task failed: {0}")]
    Task(String),
    /// The connection to the client failed (stdio).
    #[error("the MCP connection failed: {0}")]
    Transport(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<chat_store::Error> for Error {
    fn from(e: chat_store::Error) -> Self {
        match e {
            chat_store::Error::NotFound { entity, id } => Error::NotFound {
                what: if entity == "message" {
                    "message"
                } else {
                    "conversation"
                },
                id,
                hint: "ids come from search_conversations or list_conversations",
            },
            chat_store::Error::InvalidInput(msg) | chat_store::Error::Conflict(msg) => {
                Error::InvalidArgument(msg)
            }
            e if e.is_busy() => Error::Busy,
            e => Error::Store(e),
        }
    }
}

impl Error {
    /// Whether the caller can fix this (a tool error) rather than the server (a protocol
    /// error).
    pub fn is_caller_error(&self) -> bool {
        matches!(
            self,
            Error::InvalidArgument(_)
                | Error::NotFound { .. }
                | Error::ReadOnly { .. }
                | Error::Busy
        )
    }

    /// The JSON-RPC error for this failure. Server failures are logged here and answered
    /// without their cause.
    pub fn into_error_data(self) -> ErrorData {
        match self {
            Error::NotFound { .. } => ErrorData::resource_not_found(self.to_string(), None),
            e if e.is_caller_error() => ErrorData::invalid_params(e.to_string(), None),
            e => {
                tracing::error!(error = %e, "MCP request failed");
                ErrorData::internal_error(
                    "the chat server could not complete this request; its log has the cause",
                    None,
                )
            }
        }
    }
}

/// A failed tool call: the caller's errors become a tool result with `isError: true`, the
/// server's a JSON-RPC error.
#[derive(Debug)]
pub struct ToolFailure(pub Error);

impl From<Error> for ToolFailure {
    fn from(e: Error) -> Self {
        ToolFailure(e)
    }
}

impl IntoCallToolResult for ToolFailure {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        if self.0.is_caller_error() {
            Ok(CallToolResult::error(vec![ContentBlock::text(self.0.to_string())]).into())
        } else {
            Err(self.0.into_error_data())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn caller_errors_are_tool_results_and_server_errors_hide_their_cause() {
        let missing: Error = chat_store::Error::NotFound {
            entity: "conversation",
            id: "nope".into(),
        }
        .into();
        let CallToolResponse::Complete(result) =
            ToolFailure(missing).into_call_tool_result().unwrap()
        else {
            panic!("not a complete result");
        };
        assert_eq!(result.is_error, Some(true));
        let text = serde_json::to_string(&result.content).unwrap();
        assert!(
            text.contains("no conversation with id \\\"nope\\\""),
            "{text}"
        );

        let broken = Error::Store(chat_store::Error::Corrupt("secret detail".into()));
        let err = ToolFailure(broken).into_call_tool_result().unwrap_err();
        assert!(!err.message.contains("secret"), "{}", err.message);
    }
}
