//! The built-in provider used when no model is configured.

use std::time::Duration;

use chat_model::Role;
use futures_util::future::BoxFuture;
use futures_util::stream;
use tokio_util::sync::CancellationToken;

use crate::config::{ENV_API_KEY, ENV_BASE_URL, ENV_MODEL};
use crate::error::{Error, Result};
use crate::provider::{ChatProvider, ChatStream};
use crate::text::{extractive_summary, offline_title, truncate_chars};
use crate::types::{ChatEvent, ChatMessage, ChatRequest};

/// The model name the offline provider reports.
pub const OFFLINE_MODEL: &str = "offline";
/// Default pause between two offline deltas, so the reply streams visibly like a model's.
pub const DEFAULT_OFFLINE_DELAY: Duration = Duration::from_millis(15);
/// Longest part of the user's message the offline reply quotes, in characters.
const QUOTE_MAX_CHARS: usize = 200;
/// How many deltas the offline reply is cut into (about).
const TARGET_DELTAS: usize = 16;

/// Answers without a model: deterministically (same conversation, same reply), saying that no
/// model is configured and how to configure one, quoting the user's last message so a chat
/// visibly works, and streaming the answer in several deltas with a short pause between them.
#[derive(Debug, Clone)]
pub struct OfflineProvider {
    delay: Duration,
}

impl Default for OfflineProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl OfflineProvider {
    /// An offline provider with [`DEFAULT_OFFLINE_DELAY`] between deltas.
    pub fn new() -> Self {
        Self {
            delay: DEFAULT_OFFLINE_DELAY,
        }
    }

    /// Sets the pause between deltas (`Duration::ZERO` for tests and benchmarks).
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The full reply this provider streams for a conversation.
    pub fn reply_text(messages: &[ChatMessage]) -> String {
        let last_user = messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User && !m.content.trim().is_empty());
        let quote = match last_user {
            Some(m) => truncate_chars(m.content.trim(), QUOTE_MAX_CHARS)
                .lines()
                .map(|l| {
                    if l.is_empty() {
                        ">".to_owned()
                    } else {
                        format!("> {l}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
            None => "> (an empty message)".to_owned(),
        };
        format!(
            "No language model is configured, so this is the built-in offline assistant \
             answering. Your message was saved:\n\
             \n\
             {quote}\n\
             \n\
             To chat with a real model, point AI OS Chat at any OpenAI-compatible server \
             (Ollama, llama.cpp, vLLM, LM Studio or OpenAI). For example, with Ollama:\n\
             \n\
             ```sh\n\
             ollama pull llama3.2\n\
             {ENV_BASE_URL}=http://localhost:11434/v1 {ENV_MODEL}=llama3.2 chat-server\n\
             ```\n\
             \n\
             Set `{ENV_API_KEY}` as well when the server needs a key (OpenAI does), or pass \
             `--llm-base-url`, `--llm-model` and `--llm-api-key` to the server instead.\n"
        )
    }
}

impl ChatProvider for OfflineProvider {
    fn name(&self) -> &str {
        "offline"
    }

    fn default_model(&self) -> &str {
        OFFLINE_MODEL
    }

    fn is_offline(&self) -> bool {
        true
    }

    fn stream_chat(
        &self,
        request: ChatRequest,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<ChatStream>> {
        let deltas = split_into_deltas(&Self::reply_text(&request.messages));
        let delay = self.delay;
        Box::pin(async move {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled {
                    partial: String::new(),
                });
            }
            let state = OfflineState {
                deltas: deltas.into_iter(),
                partial: String::new(),
                cancel,
                delay,
                started: false,
                finished: false,
            };
            let stream: ChatStream = Box::pin(stream::unfold(state, offline_step));
            Ok(stream)
        })
    }

    fn summarize_with<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        _instructions: Option<&'a str>,
        _cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move { Ok(extractive_summary(messages)) })
    }

    fn title<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        _cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move { Ok(offline_title(messages)) })
    }
}

struct OfflineState {
    deltas: std::vec::IntoIter<String>,
    partial: String,
    cancel: CancellationToken,
    delay: Duration,
    started: bool,
    finished: bool,
}

async fn offline_step(mut s: OfflineState) -> Option<(Result<ChatEvent>, OfflineState)> {
    if s.finished {
        return None;
    }
    let cancelled = |s: &mut OfflineState| {
        s.finished = true;
        Err(Error::Cancelled {
            partial: std::mem::take(&mut s.partial),
        })
    };
    if s.cancel.is_cancelled() {
        let item = cancelled(&mut s);
        return Some((item, s));
    }
    let Some(delta) = s.deltas.next() else {
        s.finished = true;
        let done = ChatEvent::Done {
            model: OFFLINE_MODEL.to_owned(),
            usage: None,
            finish_reason: Some("stop".to_owned()),
        };
        return Some((Ok(done), s));
    };
    if s.started && !s.delay.is_zero() {
        tokio::select! {
            biased;
            () = s.cancel.cancelled() => {
                let item = cancelled(&mut s);
                return Some((item, s));
            }
            () = tokio::time::sleep(s.delay) => {}
        }
    }
    s.started = true;
    s.partial.push_str(&delta);
    Some((Ok(ChatEvent::Delta(delta)), s))
}

/// Cuts a text into about [`TARGET_DELTAS`] pieces on character boundaries, preferring to cut
/// just after whitespace. Concatenating the pieces gives the text back exactly.
fn split_into_deltas(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let size = chars.len().div_ceil(TARGET_DELTAS).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut end = (start + size).min(chars.len());
        let stretch = (end + size / 2).min(chars.len());
        if let Some(ws) = (end..stretch).find(|&i| chars[i - 1].is_whitespace()) {
            end = ws;
        }
        out.push(chars[start..end].iter().collect());
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_rebuild_the_text() {
        for text in [
            "",
            "a",
            "héllo wörld\n```rs\n  fn x() {}\n```\n",
            &"x".repeat(1000),
        ] {
            let deltas = split_into_deltas(text);
            assert_eq!(deltas.concat(), text);
            assert!(deltas.len() <= 2 * TARGET_DELTAS);
        }
    }
}
