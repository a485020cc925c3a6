//! The OpenAI-compatible provider: `POST {base_url}/chat/completions` with `stream: true`.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream};
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::LlmConfig;
use crate::error::{root_cause, Error, Result};
use crate::provider::{ChatProvider, ChatStream};
use crate::sse::SseDecoder;
use crate::text::truncate_chars;
use crate::types::{ChatEvent, ChatMessage, ChatRequest, Usage};
use chat_model::Role;

/// Most bytes of an error body read to explain an HTTP error.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Most bytes of a non-streamed JSON reply read.
const JSON_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Longest snippet of a non-JSON error body shown, in characters.
const ERROR_SNIPPET_CHARS: usize = 300;

/// A provider for any server that speaks OpenAI's chat completions API with server-sent
/// events: Ollama, llama.cpp's server, vLLM, LM Studio, OpenAI.
///
/// The request carries only fields all of them accept: `model`, `messages` (roles `system`,
/// `user`, `assistant`; a `tool` message is sent as `user`, since a bare tool message without
/// a call id is rejected), `stream`, `stream_options.include_usage`, and `temperature` /
/// `max_tokens` only when set. A server that ignores `stream` and answers with one JSON
/// object is accepted too.
#[derive(Debug)]
pub struct OpenAiCompatible {
    config: LlmConfig,
    client: reqwest::Client,
    endpoint: String,
    discovered_model: OnceCell<String>,
}

impl OpenAiCompatible {
    /// A provider for the configuration. Fails when the base URL is not `http(s)://` or the
    /// HTTP client cannot be built.
    pub fn new(config: LlmConfig) -> Result<Self> {
        config.validate()?;
        // reqwest is built with `rustls-no-provider`: pick ring once, process-wide, so https
        // works without aws-lc. Failing means a provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("ai-os-chat/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Client {
                detail: root_cause(&e),
            })?;
        let endpoint = format!("{}/chat/completions", config.base_url);
        Ok(Self {
            config,
            client,
            endpoint,
            discovered_model: OnceCell::new(),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    fn authorize(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.config.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// The model for a request: the request's, the configured one, or the first one the server
    /// lists (asked once, then remembered).
    async fn resolve_model(&self, requested: Option<String>) -> Result<String> {
        if let Some(model) = requested.filter(|m| !m.trim().is_empty()) {
            return Ok(model);
        }
        if let Some(model) = &self.config.model {
            return Ok(model.clone());
        }
        let model = self
            .discovered_model
            .get_or_try_init(|| self.discover_model())
            .await?;
        Ok(model.clone())
    }

    async fn discover_model(&self) -> Result<String> {
        let model = self.fetch_models().await?.into_iter().next().ok_or_else(|| {
            Error::InvalidConfig {
                reason: format!(
                    "no model is set (CHAT_LLM_MODEL) and the server at {} lists none; pull or load a model, or set CHAT_LLM_MODEL",
                    self.config.base_url
                ),
            }
        })?;
        tracing::info!(model = %model, "no model configured; using the first one the server lists");
        Ok(model)
    }

    /// The models the server lists (`GET {base_url}/models`), in its order.
    async fn fetch_models(&self) -> Result<Vec<String>> {
        let url = format!("{}/models", self.config.base_url);
        let deadline = Instant::now() + self.config.first_token_timeout;
        let send = self.authorize(self.client.get(&url)).send();
        let response = match tokio::time::timeout_at(deadline, send).await {
            Err(_) => {
                return Err(Error::FirstTokenTimeout {
                    after: self.config.first_token_timeout,
                })
            }
            Ok(Err(e)) => return Err(self.send_error(&e)),
            Ok(Ok(r)) => r,
        };
        if !response.status().is_success() {
            return Err(self.http_error(response, "(none configured)").await);
        }
        let body = read_limited(response, JSON_BODY_LIMIT, self.config.idle_timeout).await?;
        let list: ModelList = serde_json::from_slice(&body).map_err(|e| Error::Protocol {
            reason: format!("cannot read the model list from {url}: {e}"),
        })?;
        Ok(list.data.into_iter().map(|m| m.id).collect())
    }

    async fn start(&self, request: ChatRequest, cancel: CancellationToken) -> Result<ChatStream> {
        let model = self.resolve_model(request.model).await?;
        let body = WireRequest {
            model: &model,
            messages: request.messages.iter().map(WireMessage::from).collect(),
            stream: true,
            stream_options: StreamOptions {
                include_usage: true,
            },
            temperature: request.temperature,
            max_tokens: request.max_tokens,
        };
        tracing::debug!(endpoint = %self.endpoint, model = %model, messages = body.messages.len(), "starting chat completion");
        let send = self
            .authorize(self.client.post(&self.endpoint))
            .header(ACCEPT, "text/event-stream")
            .json(&body)
            .send();
        let deadline = Instant::now() + self.config.first_token_timeout;
        let response = tokio::time::timeout_at(deadline, send).await;
        let response = match response {
            Err(_) => {
                return Err(Error::FirstTokenTimeout {
                    after: self.config.first_token_timeout,
                })
            }
            Ok(Err(e)) => return Err(self.send_error(&e)),
            Ok(Ok(r)) => r,
        };
        if !response.status().is_success() {
            return Err(self.http_error(response, &model).await);
        }
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if is_json {
            let body = read_limited(response, JSON_BODY_LIMIT, self.config.idle_timeout).await?;
            return Ok(Box::pin(stream::iter(whole_reply(&body, model))));
        }
        let state = SseState {
            body: Box::pin(response.bytes_stream()),
            decoder: SseDecoder::default(),
            queue: VecDeque::new(),
            partial: String::new(),
            model,
            usage: None,
            finish_reason: None,
            cancel,
            first_deadline: Some(deadline),
            first_token_timeout: self.config.first_token_timeout,
            idle_timeout: self.config.idle_timeout,
            done: false,
            finished: false,
        };
        Ok(Box::pin(stream::unfold(state, sse_step)))
    }

    /// Maps a failure to send the request (no response) to an error.
    fn send_error(&self, e: &reqwest::Error) -> Error {
        if e.is_connect() || e.is_timeout() {
            Error::Unreachable {
                base_url: self.config.base_url.clone(),
                detail: root_cause(e),
            }
        } else if e.is_builder() {
            Error::Client {
                detail: root_cause(e),
            }
        } else {
            Error::Interrupted {
                detail: format!(
                    "the model server closed the connection before answering: {}",
                    root_cause(e)
                ),
                partial: String::new(),
            }
        }
    }

    /// Turns an unsuccessful response into an error that says what to do.
    async fn http_error(&self, response: Response, model: &str) -> Error {
        let status = response.status();
        let body = read_limited(response, ERROR_BODY_LIMIT, self.config.idle_timeout)
            .await
            .unwrap_or_default();
        let message = error_message(&body, status);
        tracing::debug!(status = status.as_u16(), %message, "model server error");
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Error::Unauthorized {
                status: status.as_u16(),
                message,
                key_set: self.config.api_key.is_some(),
            },
            StatusCode::NOT_FOUND => Error::NotFound {
                base_url: self.config.base_url.clone(),
                model: model.to_owned(),
                message,
            },
            _ => Error::Http {
                status: status.as_u16(),
                message,
            },
        }
    }
}

impl ChatProvider for OpenAiCompatible {
    fn name(&self) -> &str {
        "openai-compatible"
    }

    fn default_model(&self) -> &str {
        match &self.config.model {
            Some(model) => model,
            None => self.discovered_model.get().map_or("", String::as_str),
        }
    }

    fn is_offline(&self) -> bool {
        false
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(self.fetch_models())
    }

    fn stream_chat(
        &self,
        request: ChatRequest,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<ChatStream>> {
        Box::pin(async move {
            let cancelled = || Error::Cancelled {
                partial: String::new(),
            };
            if cancel.is_cancelled() {
                return Err(cancelled());
            }
            tokio::select! {
                biased;
                () = cancel.cancelled() => Err(cancelled()),
                started = self.start(request, cancel.clone()) => started,
            }
        })
    }
}

/// Reads a body up to `limit` bytes, with `idle` allowed between chunks.
async fn read_limited(response: Response, limit: usize, idle: Duration) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    loop {
        match tokio::time::timeout(idle, chunks.next()).await {
            Err(_) => {
                return Err(Error::IdleTimeout {
                    after: idle,
                    partial: String::new(),
                })
            }
            Ok(None) => return Ok(body),
            Ok(Some(Err(e))) => {
                return Err(Error::Interrupted {
                    detail: root_cause(&e),
                    partial: String::new(),
                })
            }
            Ok(Some(Ok(chunk))) => {
                body.extend_from_slice(&chunk);
                if body.len() >= limit {
                    body.truncate(limit);
                    return Ok(body);
                }
            }
        }
    }
}

/// The server's own words from an error body: `error.message` (OpenAI, vLLM, Ollama's `/v1`),
/// `error` as a string (Ollama, llama.cpp), `message` or `detail`; else a trimmed snippet.
fn error_message(body: &[u8], status: StatusCode) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let found = [
            value.pointer("/error/message"),
            value.get("error"),
            value.get("message"),
            value.get("detail"),
        ]
        .into_iter()
        .flatten()
        .find_map(|v| v.as_str().map(str::to_owned));
        if let Some(message) = found {
            return message;
        }
        if let Some(detail) = value.get("detail") {
            return truncate_chars(&detail.to_string(), ERROR_SNIPPET_CHARS);
        }
    }
    let text = String::from_utf8_lossy(body);
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        return status
            .canonical_reason()
            .unwrap_or("no details given")
            .to_owned();
    }
    truncate_chars(&folded, ERROR_SNIPPET_CHARS)
}

/// The events of a reply the server sent as one JSON object instead of a stream.
fn whole_reply(body: &[u8], model: String) -> Vec<Result<ChatEvent>> {
    let chunk: WireChunk = match serde_json::from_slice(body) {
        Ok(chunk) => chunk,
        Err(e) => {
            return vec![Err(Error::Protocol {
                reason: format!("the reply is not a chat completion: {e}"),
            })]
        }
    };
    if let Some(error) = chunk.error {
        return vec![Err(Error::Stream {
            message: error_message(error.to_string().as_bytes(), StatusCode::OK),
            partial: String::new(),
        })];
    }
    let choice = chunk.choices.into_iter().next();
    let finish_reason = choice.as_ref().and_then(|c| c.finish_reason.clone());
    let content = choice
        .and_then(|c| c.message.or(c.delta))
        .and_then(|m| m.content)
        .unwrap_or_default();
    let mut events = Vec::new();
    if !content.is_empty() {
        events.push(Ok(ChatEvent::Delta(content)));
    }
    events.push(Ok(ChatEvent::Done {
        model: chunk.model.filter(|m| !m.is_empty()).unwrap_or(model),
        usage: chunk.usage.map(WireUsage::into_usage),
        finish_reason,
    }));
    events
}

/// The state of one streamed reply.
struct SseState {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: SseDecoder,
    /// Events parsed but not yet handed out.
    queue: VecDeque<Result<ChatEvent>>,
    /// Every delta parsed so far.
    partial: String,
    model: String,
    usage: Option<Usage>,
    finish_reason: Option<String>,
    cancel: CancellationToken,
    /// Until the first body bytes arrive, the first-token deadline; then `None` (idle applies).
    first_deadline: Option<Instant>,
    first_token_timeout: Duration,
    idle_timeout: Duration,
    /// `[DONE]` (or an error) was queued: later data is ignored.
    done: bool,
    /// The last item was handed out.
    finished: bool,
}

impl SseState {
    fn fail(&mut self, error: Error) {
        self.queue.push_back(Err(error));
        self.done = true;
    }

    fn finish_ok(&mut self) {
        self.queue.push_back(Ok(ChatEvent::Done {
            model: self.model.clone(),
            usage: self.usage,
            finish_reason: self.finish_reason.clone(),
        }));
        self.done = true;
    }

    /// Handles the data of one event.
    fn on_data(&mut self, data: &str) {
        if self.done {
            return;
        }
        if data.trim() == "[DONE]" {
            self.finish_ok();
            return;
        }
        if data.trim().is_empty() {
            return;
        }
        let chunk: WireChunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(e) => {
                let partial = self.partial.clone();
                self.fail(Error::Interrupted {
                    detail: format!(
                        "unreadable event from the model server ({e}): {}",
                        truncate_chars(data, ERROR_SNIPPET_CHARS)
                    ),
                    partial,
                });
                return;
            }
        };
        if let Some(error) = chunk.error {
            let partial = self.partial.clone();
            self.fail(Error::Stream {
                message: error_message(error.to_string().as_bytes(), StatusCode::OK),
                partial,
            });
            return;
        }
        if let Some(model) = chunk.model.filter(|m| !m.is_empty()) {
            self.model = model;
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.into_usage());
        }
        if let Some(choice) = chunk.choices.into_iter().next() {
            if let Some(delta) = choice.delta.or(choice.message) {
                if let Some(reasoning) = delta
                    .reasoning_content
                    .or(delta.reasoning)
                    .filter(|r| !r.is_empty())
                {
                    self.queue.push_back(Ok(ChatEvent::Reasoning(reasoning)));
                }
                if let Some(content) = delta.content.filter(|c| !c.is_empty()) {
                    self.partial.push_str(&content);
                    self.queue.push_back(Ok(ChatEvent::Delta(content)));
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
            }
        }
    }

    /// The connection ended.
    fn on_eof(&mut self) {
        for data in self.decoder.finish() {
            self.on_data(&data);
        }
        if self.done {
            return;
        }
        if self.finish_reason.is_some() {
            // The model said why it stopped; only the `[DONE]` marker is missing.
            self.finish_ok();
        } else {
            let partial = self.partial.clone();
            self.fail(Error::Interrupted {
                detail: "the connection closed before [DONE]".to_owned(),
                partial,
            });
        }
    }
}

async fn sse_step(mut s: SseState) -> Option<(Result<ChatEvent>, SseState)> {
    loop {
        if let Some(item) = s.queue.pop_front() {
            if matches!(item, Err(_) | Ok(ChatEvent::Done { .. })) {
                s.queue.clear();
                s.finished = true;
            }
            return Some((item, s));
        }
        if s.finished {
            return None;
        }
        if s.done {
            // Only reachable if the queue was emptied without a final item; end cleanly.
            return None;
        }
        let wait = match s.first_deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => s.idle_timeout,
        };
        let next = tokio::select! {
            biased;
            () = s.cancel.cancelled() => {
                let partial = s.partial.clone();
                s.fail(Error::Cancelled { partial });
                continue;
            }
            next = tokio::time::timeout(wait, s.body.next()) => next,
        };
        match next {
            Err(_) => {
                let error = if s.first_deadline.is_some() {
                    Error::FirstTokenTimeout {
                        after: s.first_token_timeout,
                    }
                } else {
                    Error::IdleTimeout {
                        after: s.idle_timeout,
                        partial: s.partial.clone(),
                    }
                };
                s.fail(error);
            }
            Ok(None) => s.on_eof(),
            Ok(Some(Err(e))) => {
                let partial = s.partial.clone();
                s.fail(Error::Interrupted {
                    detail: root_cause(&e),
                    partial,
                });
            }
            Ok(Some(Ok(bytes))) => {
                s.first_deadline = None;
                for data in s.decoder.push(&bytes) {
                    s.on_data(&data);
                }
            }
        }
    }
}

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    stream: bool,
    stream_options: StreamOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

impl<'a> From<&'a ChatMessage> for WireMessage<'a> {
    fn from(m: &'a ChatMessage) -> Self {
        let role = match m.role {
            Role::System => "system",
            Role::Assistant => "assistant",
            Role::User | Role::Tool => "user",
        };
        Self {
            role,
            content: &m.content,
        }
    }
}

#[derive(Deserialize)]
struct WireChunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<WireChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct WireChoice {
    #[serde(default)]
    delta: Option<WireDelta>,
    #[serde(default)]
    message: Option<WireDelta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireDelta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
}

impl WireUsage {
    fn into_usage(self) -> Usage {
        let prompt_tokens = self.prompt_tokens.unwrap_or(0);
        let completion_tokens = self.completion_tokens.unwrap_or(0);
        Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: self
                .total_tokens
                .unwrap_or(prompt_tokens + completion_tokens),
        }
    }
}

#[derive(Deserialize)]
struct ModelList {
    #[serde(default)]
    data: Vec<ModelEntry>,
}

#[derive(Deserialize)]
struct ModelEntry {
    id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_take_the_servers_words() {
        let s = StatusCode::BAD_REQUEST;
        assert_eq!(
            error_message(br#"{"error":{"message":"bad model","type":"x"}}"#, s),
            "bad model"
        );
        assert_eq!(
            error_message(br#"{"error":"model 'x' not found"}"#, s),
            "model 'x' not found"
        );
        assert_eq!(error_message(br#"{"detail":"nope"}"#, s), "nope");
        assert_eq!(
            error_message(b"  <html>\n  Bad   gateway </html>", s),
            "<html> Bad gateway </html>"
        );
        assert_eq!(error_message(b"", StatusCode::BAD_GATEWAY), "Bad Gateway");
        assert!(
            error_message("x ".repeat(1000).as_bytes(), s)
                .chars()
                .count()
                <= ERROR_SNIPPET_CHARS
        );
    }

    #[test]
    fn request_body_has_only_portable_fields() {
        let messages = [ChatMessage::user("hi"), ChatMessage::new(Role::Tool, "out")];
        let body = WireRequest {
            model: "m",
            messages: messages.iter().map(WireMessage::from).collect(),
            stream: true,
            stream_options: StreamOptions {
                include_usage: true,
            },
            temperature: None,
            max_tokens: Some(5),
        };
        let json = serde_json::to_value(&body).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "model": "m",
                "messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "out"}],
                "stream": true,
                "stream_options": {"include_usage": true},
                "max_tokens": 5
            })
        );
    }
}
