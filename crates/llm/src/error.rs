//! The crate's one error type.

use std::time::Duration;

/// A `Result` whose error defaults to this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while talking to a model.
///
/// Messages are written for the person running the server: they say what failed and, where
/// there is one, what to change. Variants that can happen after part of a reply arrived carry
/// that `partial` text, so a caller that did not keep the deltas can still store what the user
/// saw. [`Error::code`] gives a stable snake_case code for API error bodies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration cannot work (for example a base URL that is not `http(s)://`).
    #[error("invalid model configuration: {reason}")]
    InvalidConfig {
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// The model server could not be reached (connection refused, DNS failure, TLS failure,
    /// connect timeout).
    #[error("cannot reach the model server at {base_url}: is it running? ({detail})")]
    Unreachable {
        /// The configured base URL.
        base_url: String,
        /// The underlying cause, in words.
        detail: String,
    },

    /// The server answered 401 or 403.
    #[error("the model server rejected the API key (CHAT_LLM_API_KEY){hint}: HTTP {status}: {message}", hint = if *.key_set { "" } else { "; no key is set" })]
    Unauthorized {
        /// The HTTP status code.
        status: u16,
        /// The server's own message.
        message: String,
        /// Whether a key was sent at all.
        key_set: bool,
    },

    /// The server answered 404: usually an unknown model, or a base URL missing its API root
    /// (`/v1`).
    #[error("the model server at {base_url} answered HTTP 404 for model `{model}`: {message} (check CHAT_LLM_MODEL, and that CHAT_LLM_BASE_URL is the API root, e.g. http://localhost:11434/v1)")]
    NotFound {
        /// The configured base URL.
        base_url: String,
        /// The model that was asked for.
        model: String,
        /// The server's own message.
        message: String,
    },

    /// Any other unsuccessful HTTP status.
    #[error("the model server answered HTTP {status}: {message}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The server's `error.message` when the body is JSON, else a trimmed snippet of it.
        message: String,
    },

    /// The server reported an error inside the event stream, after a successful status.
    #[error("the model server reported an error mid-reply: {message}")]
    Stream {
        /// The server's message.
        message: String,
        /// The text received before the error.
        partial: String,
    },

    /// Nothing came back (not even response headers or a first chunk) within the first-token
    /// timeout.
    #[error("the model server sent nothing for {}s (first-token timeout)", .after.as_secs_f32())]
    FirstTokenTimeout {
        /// The configured timeout.
        after: Duration,
    },

    /// The reply started, then the server went silent for longer than the idle timeout.
    #[error("the model server went silent for {}s mid-reply (idle timeout)", .after.as_secs_f32())]
    IdleTimeout {
        /// The configured timeout.
        after: Duration,
        /// The text received before the silence.
        partial: String,
    },

    /// The connection ended (or failed) before the server said `[DONE]`.
    #[error("the reply was cut off before the model finished ({detail})")]
    Interrupted {
        /// What happened.
        detail: String,
        /// The text received before the cut.
        partial: String,
    },

    /// The caller cancelled the request.
    #[error("the reply was cancelled")]
    Cancelled {
        /// The text received before cancellation.
        partial: String,
    },

    /// The server sent something that is not an OpenAI-compatible reply.
    #[error("the model server sent an unexpected reply: {reason}")]
    Protocol {
        /// What was wrong with it.
        reason: String,
    },

    /// The HTTP client could not be built or the request could not be sent for a reason that
    /// is not the server's fault.
    #[error("HTTP client error: {detail}")]
    Client {
        /// The underlying cause, in words.
        detail: String,
    },
}

impl Error {
    /// A stable snake_case code for API error bodies (`model_unreachable`, `model_timeout`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidConfig { .. } => "model_config",
            Error::Unreachable { .. } => "model_unreachable",
            Error::Unauthorized { .. } => "model_unauthorized",
            Error::NotFound { .. } => "model_not_found",
            Error::Http { .. } | Error::Stream { .. } => "model_error",
            Error::FirstTokenTimeout { .. } | Error::IdleTimeout { .. } => "model_timeout",
            Error::Interrupted { .. } => "model_interrupted",
            Error::Cancelled { .. } => "cancelled",
            Error::Protocol { .. } => "model_protocol",
            Error::Client { .. } => "model_client",
        }
    }

    /// The text received before the failure, for the variants that can happen mid-reply.
    pub fn partial(&self) -> Option<&str> {
        match self {
            Error::Stream { partial, .. }
            | Error::IdleTimeout { partial, .. }
            | Error::Interrupted { partial, .. }
            | Error::Cancelled { partial } => Some(partial),
            _ => None,
        }
    }

    /// Whether this is [`Error::Cancelled`].
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled { .. })
    }
}

/// The innermost cause of an error chain, in words (reqwest's own message is generic).
pub(crate) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
