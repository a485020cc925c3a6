//! Model providers for AI OS Chat: the seam between a conversation and whatever writes the
//! assistant's reply.
//!
//! # Design
//!
//! * One trait, [`ChatProvider`], object safe and `Send + Sync`, so the server picks a provider
//!   at start-up and shares it as `Arc<dyn ChatProvider>`. Its core is
//!   [`ChatProvider::stream_chat`]: a [`ChatRequest`] in, a `'static` stream of [`ChatEvent`]s
//!   out (deltas, then one `Done` with the model, usage and finish reason, or an error as the
//!   last item). Summaries, titles and [`ChatProvider::complete`] are default methods built on
//!   it, so a new provider only has to stream.
//! * Text passes through byte for byte. Deltas are handed out exactly as the model produced
//!   them, never re-split on whitespace, so newlines, indentation and code fences survive;
//!   concatenating the deltas gives the reply.
//! * Cancellation is a [`CancellationToken`](tokio_util::sync::CancellationToken) rather than
//!   only dropping the stream: the WebSocket layer cancels from another task (`chat.cancel`, a
//!   disconnect) and still wants the stream's last word, [`Error::Cancelled`] with the partial
//!   text, so it can store the interrupted message. Dropping the stream also aborts the request.
//! * [`OpenAiCompatible`] speaks the one API that Ollama, llama.cpp's server, vLLM, LM Studio
//!   and OpenAI share: `POST {base_url}/chat/completions` with `stream: true`, read as
//!   server-sent events by a small incremental decoder (any read boundary, `\r\n`, comments,
//!   multi-line data) up to `data: [DONE]`. It sends only fields all of them accept. Three
//!   timeouts, each with its own error: connect, first token (a local server may be loading the
//!   model), and idle between chunks; there is deliberately no total timeout, since a long
//!   answer is not a failure. HTTP errors become messages that say what to fix (the key, the
//!   model name, the base URL, whether the server is running).
//! * [`OfflineProvider`] is what runs when nothing is configured, so `chat-server` works with
//!   one command and no network: a deterministic reply that says no model is configured and
//!   how to configure one, quoting the user's message, streamed in several deltas with a small
//!   delay like a model. Its summary and title are extractive ([`extractive_summary`],
//!   [`offline_title`]).
//! * Configuration: [`LlmConfig::from_env`] (`CHAT_LLM_BASE_URL`, `CHAT_LLM_MODEL`,
//!   `CHAT_LLM_API_KEY`) or [`LlmConfig::new`] for the server's flags, then
//!   [`provider_from_config`].
//!
//! ```no_run
//! # async fn demo() -> chat_llm::Result<()> {
//! use chat_llm::{provider_from_config, ChatMessage, ChatRequest, LlmConfig};
//! use tokio_util::sync::CancellationToken;
//!
//! let provider = provider_from_config(LlmConfig::from_env())?;
//! let request = ChatRequest::new(vec![ChatMessage::user("Hello!")]);
//! let reply = provider.complete(request, CancellationToken::new()).await?;
//! println!("{reply}");
//! # Ok(()) }
//! ```

mod config;
mod error;
mod factory;
mod offline;
mod openai;
mod provider;
mod sse;
mod text;
mod types;

/// A fake OpenAI-compatible model server for tests (feature `testing`).
#[cfg(feature = "testing")]
pub mod testing;

pub use config::{
    LlmConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_TOKEN_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    ENV_API_KEY, ENV_BASE_URL, ENV_MODEL,
};
pub use error::{Error, Result};
pub use factory::provider_from_config;
pub use offline::{OfflineProvider, DEFAULT_OFFLINE_DELAY, OFFLINE_MODEL};
pub use openai::OpenAiCompatible;
pub use provider::{collect_text, ChatProvider, ChatStream, DEFAULT_SUMMARY_PROMPT};
pub use text::{extractive_summary, offline_title, SUMMARY_MAX_CHARS};
pub use types::{ChatEvent, ChatMessage, ChatRequest, Usage};
