//! The provider trait and what is built on it. The providers (`offline.rs`, `openai.rs`)
//! implement it; choosing one from a configuration is `factory.rs`.

use std::fmt;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::text::{extractive_summary, offline_title, truncate_chars};
use crate::types::{ChatEvent, ChatMessage, ChatRequest};

/// A streamed reply: deltas, then one [`ChatEvent::Done`], or an `Err` as the last item.
pub type ChatStream = BoxStream<'static, Result<ChatEvent>>;

/// The instructions (system prompt) a model summarises a conversation with, unless others are
/// given ([`ChatProvider::summarize_with`]).
pub const DEFAULT_SUMMARY_PROMPT: &str = "You summarize conversations. Reply with the summary \
     only: at most three plain sentences, under 280 characters, no preamble.";

/// Longest summary asked of a model, in characters (the offline one is shorter).
const MODEL_SUMMARY_MAX_CHARS: usize = 600;
/// Longest title, in characters.
const TITLE_MAX_CHARS: usize = chat_model::TITLE_MAX_CHARS;
/// How much of each message goes into a summary or title prompt.
const PROMPT_MESSAGE_MAX_CHARS: usize = 2_000;
/// How much transcript goes into a summary or title prompt in total.
const PROMPT_TRANSCRIPT_MAX_CHARS: usize = 16_000;

/// Something that answers a conversation with a streamed reply.
///
/// Object safe (methods return boxed futures) so the server holds an `Arc<dyn ChatProvider>`
/// chosen at start-up. The returned stream is `'static`: it owns its connection and can be
/// moved into a task. Cancelling `cancel` ends the stream promptly with [`Error::Cancelled`],
/// which carries the text received so far; dropping the stream also stops the request.
pub trait ChatProvider: Send + Sync + fmt::Debug {
    /// A short name for logs and the API (`openai-compatible`, `offline`).
    fn name(&self) -> &str;

    /// The model used when a request names none.
    fn default_model(&self) -> &str;

    /// Whether this is the built-in offline provider (no model configured).
    fn is_offline(&self) -> bool;

    /// Starts a reply. The future resolves once the server accepted the request (status and
    /// headers received), so connection, HTTP and first-token timeout errors surface here;
    /// later failures arrive as the stream's last item.
    fn stream_chat(
        &self,
        request: ChatRequest,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<ChatStream>>;

    /// The whole reply as one string (for summaries, titles and other short jobs).
    fn complete(
        &self,
        request: ChatRequest,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<String>> {
        Box::pin(async move {
            let stream = self.stream_chat(request, cancel).await?;
            collect_text(stream).await
        })
    }

    /// The models this provider can use, for a model picker. The default lists
    /// [`ChatProvider::default_model`]; the OpenAI-compatible provider asks its server.
    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>>> {
        Box::pin(async move {
            let model = self.default_model();
            Ok(if model.is_empty() {
                Vec::new()
            } else {
                vec![model.to_owned()]
            })
        })
    }

    /// A short summary of a conversation, with the default instructions
    /// ([`DEFAULT_SUMMARY_PROMPT`]); see [`ChatProvider::summarize_with`].
    fn summarize<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<String>> {
        self.summarize_with(messages, None, cancel)
    }

    /// A short summary of a conversation, the model following `instructions` (the system
    /// prompt; `None` is [`DEFAULT_SUMMARY_PROMPT`]). The default asks the model; the offline
    /// provider answers with [`extractive_summary`] whatever the instructions.
    fn summarize_with<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        instructions: Option<&'a str>,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            if messages.iter().all(|m| m.content.trim().is_empty()) {
                return Ok(extractive_summary(messages));
            }
            let instructions = instructions
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .unwrap_or(DEFAULT_SUMMARY_PROMPT);
            let request = ChatRequest {
                messages: vec![
                    ChatMessage::system(instructions),
                    ChatMessage::user(format!(
                        "Summarize this conversation:\n\n{}",
                        transcript(messages)
                    )),
                ],
                temperature: Some(0.2),
                max_tokens: Some(200),
                ..ChatRequest::default()
            };
            let text = self.complete(request, cancel).await?;
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if text.is_empty() {
                return Ok(extractive_summary(messages));
            }
            Ok(truncate_chars(&text, MODEL_SUMMARY_MAX_CHARS))
        })
    }

    /// A short title for a conversation (at most 80 characters). The default asks the model;
    /// the offline provider answers with [`offline_title`].
    fn title<'a>(
        &'a self,
        messages: &'a [ChatMessage],
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            if messages.iter().all(|m| m.content.trim().is_empty()) {
                return Ok(offline_title(messages));
            }
            let request = ChatRequest {
                messages: vec![
                    ChatMessage::system(
                        "You write titles for conversations. Reply with the title only: at most \
                         eight words, no quotes, no trailing punctuation.",
                    ),
                    ChatMessage::user(format!(
                        "Write a title for this conversation:\n\n{}",
                        transcript(messages)
                    )),
                ],
                temperature: Some(0.2),
                max_tokens: Some(30),
                ..ChatRequest::default()
            };
            let text = self.complete(request, cancel).await?;
            let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            let line = line
                .trim()
                .trim_matches(|c| matches!(c, '"' | '\'' | '“' | '”' | '*' | '#'))
                .trim();
            let line = line.strip_prefix("Title:").unwrap_or(line).trim();
            if line.is_empty() {
                return Ok(offline_title(messages));
            }
            Ok(truncate_chars(line, TITLE_MAX_CHARS))
        })
    }
}

/// Collects a stream into the reply's text, ignoring reasoning. Fails with the stream's error
/// if it has one, or [`Error::Interrupted`] if it ends without [`ChatEvent::Done`].
pub async fn collect_text(mut stream: ChatStream) -> Result<String> {
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        match event? {
            ChatEvent::Delta(delta) => text.push_str(&delta),
            ChatEvent::Done { .. } => return Ok(text),
            ChatEvent::Reasoning(_) => {}
        }
    }
    Err(Error::Interrupted {
        detail: "the stream ended without a final event".to_owned(),
        partial: text,
    })
}

/// The conversation as plain text for a summary or title prompt, each message and the whole
/// capped so a long conversation does not overflow the model's context.
fn transcript(messages: &[ChatMessage]) -> String {
    let mut out = String::new();
    for m in messages.iter().filter(|m| !m.content.trim().is_empty()) {
        let line = format!(
            "{}: {}\n\n",
            m.role,
            truncate_chars(m.content.trim(), PROMPT_MESSAGE_MAX_CHARS)
        );
        if out.len() + line.len() > PROMPT_TRANSCRIPT_MAX_CHARS {
            out.push_str("[...]\n");
            break;
        }
        out.push_str(&line);
    }
    out
}
