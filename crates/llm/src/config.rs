//! Configuration of the OpenAI-compatible provider.

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};

/// Environment variable naming the server's API root, e.g. `http://localhost:11434/v1`.
pub const ENV_BASE_URL: &str = "CHAT_LLM_BASE_URL";
/// Environment variable naming the model, e.g. `llama3.2`.
pub const ENV_MODEL: &str = "CHAT_LLM_MODEL";
/// Environment variable holding the API key sent as `Authorization: Bearer`.
pub const ENV_API_KEY: &str = "CHAT_LLM_API_KEY";

/// Default time allowed to open the TCP (and TLS) connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed from sending the request to the first bytes of the reply (a local
/// server may have to load the model first).
pub const DEFAULT_FIRST_TOKEN_TIMEOUT: Duration = Duration::from_secs(120);
/// Default longest silence allowed between two chunks of a reply.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the model server is and how long to wait for it.
///
/// The API key is never printed by `Debug`.
#[derive(Clone)]
pub struct LlmConfig {
    /// The API root, without the trailing `/chat/completions` (a trailing `/` is ignored).
    pub base_url: String,
    /// The model to ask for; `None` asks the server (`GET {base_url}/models`) and uses the
    /// first model it lists.
    pub model: Option<String>,
    /// Sent as `Authorization: Bearer <key>` when set.
    pub api_key: Option<String>,
    /// See [`DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Duration,
    /// See [`DEFAULT_FIRST_TOKEN_TIMEOUT`].
    pub first_token_timeout: Duration,
    /// See [`DEFAULT_IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("first_token_timeout", &self.first_token_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .finish()
    }
}

impl LlmConfig {
    /// A configuration from explicit values (for example the server's `--llm-base-url`,
    /// `--llm-model` and `--llm-api-key` flags), with the default timeouts. Empty strings count
    /// as unset.
    pub fn new(
        base_url: impl Into<String>,
        model: Option<String>,
        api_key: Option<String>,
    ) -> Self {
        let base_url: String = base_url.into();
        Self {
            base_url: base_url.trim().trim_end_matches('/').to_owned(),
            model: non_empty(model),
            api_key: non_empty(api_key),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            first_token_timeout: DEFAULT_FIRST_TOKEN_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }

    /// Reads [`ENV_BASE_URL`], [`ENV_MODEL`] and [`ENV_API_KEY`]. Returns `None` when no base
    /// URL is set (or it is empty): the caller then uses the offline provider.
    pub fn from_env() -> Option<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`LlmConfig::from_env`] with a custom lookup (flags over env, or tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let base_url = non_empty(lookup(ENV_BASE_URL))?;
        Some(Self::new(base_url, lookup(ENV_MODEL), lookup(ENV_API_KEY)))
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the first-token timeout.
    pub fn with_first_token_timeout(mut self, timeout: Duration) -> Self {
        self.first_token_timeout = timeout;
        self
    }

    /// Sets the idle timeout.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Checks the base URL's shape.
    pub fn validate(&self) -> Result<()> {
        let lower = self.base_url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(Error::InvalidConfig {
                reason: format!(
                    "{ENV_BASE_URL} must start with http:// or https:// (got `{}`); for Ollama use http://localhost:11434/v1",
                    self.base_url
                ),
            });
        }
        Ok(())
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}
