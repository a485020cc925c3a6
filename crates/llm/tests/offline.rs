//! The offline provider: deterministic, streamed, and honest about having no model.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use chat_llm::testing::{drain, text_of};
use chat_llm::{
    extractive_summary, offline_title, provider_from_config, ChatEvent, ChatMessage, ChatProvider,
    ChatRequest, OfflineProvider, OFFLINE_MODEL,
};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

fn conversation() -> Vec<ChatMessage> {
    vec![
        ChatMessage::user("first question"),
        ChatMessage::assistant("an answer"),
        ChatMessage::user("Can you format this?\n```py\n  print('hi')\n```"),
    ]
}

async fn reply(provider: &OfflineProvider) -> Vec<Result<ChatEvent, chat_llm::Error>> {
    let stream = provider
        .stream_chat(ChatRequest::new(conversation()), CancellationToken::new())
        .await
        .unwrap();
    drain(stream).await
}

#[tokio::test]
async fn offline_reply_is_deterministic_streamed_and_explains_configuration() {
    let provider = OfflineProvider::new().with_delay(Duration::ZERO);
    let first = reply(&provider).await;
    let second = reply(&provider).await;
    assert_eq!(first.len(), second.len());
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.as_ref().unwrap(), b.as_ref().unwrap());
    }

    let text = text_of(&first);
    assert_eq!(text, OfflineProvider::reply_text(&conversation()));
    let deltas = first
        .iter()
        .filter(|e| matches!(e, Ok(ChatEvent::Delta(_))))
        .count();
    assert!((3..=40).contains(&deltas), "{deltas} deltas");
    assert!(text.contains("CHAT_LLM_BASE_URL"));
    assert!(text.contains("CHAT_LLM_MODEL"));
    assert!(text.contains("http://localhost:11434/v1"));
    assert!(text.contains("No language model is configured"));
    assert!(
        text.contains("> Can you format this?\n> ```py\n>   print('hi')\n> ```"),
        "quotes the last user message line by line: {text}"
    );
    assert!(matches!(
        first.last(),
        Some(Ok(ChatEvent::Done { model, .. })) if model == OFFLINE_MODEL
    ));
}

#[tokio::test]
async fn offline_reply_streams_with_a_delay_and_cancels() {
    let provider = OfflineProvider::new().with_delay(Duration::from_millis(200));
    let cancel = CancellationToken::new();
    let mut stream = provider
        .stream_chat(ChatRequest::new(conversation()), cancel.clone())
        .await
        .unwrap();
    let started = Instant::now();
    let Some(Ok(ChatEvent::Delta(first))) = stream.next().await else {
        panic!("a first delta");
    };
    assert!(
        started.elapsed() < Duration::from_millis(150),
        "first delta is immediate"
    );
    let Some(Ok(ChatEvent::Delta(second))) = stream.next().await else {
        panic!("a second delta");
    };
    assert!(
        started.elapsed() >= Duration::from_millis(190),
        "later deltas wait"
    );
    cancel.cancel();
    match stream.next().await {
        Some(Err(e)) => {
            assert!(e.is_cancelled());
            assert_eq!(e.partial(), Some(format!("{first}{second}").as_str()));
        }
        other => panic!("expected Cancelled, got {other:?}"),
    }
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn no_configuration_means_offline() {
    let provider = provider_from_config(None).unwrap();
    assert!(provider.is_offline());
    assert_eq!(provider.name(), "offline");
    assert_eq!(provider.default_model(), OFFLINE_MODEL);
    let messages = conversation();
    let summary = provider
        .summarize(&messages, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(summary, extractive_summary(&messages));
    assert_eq!(summary, "first question an answer Can you format this?");
    let title = provider
        .title(&messages, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(title, offline_title(&messages));
    assert_eq!(title, "first question");
}

#[tokio::test]
async fn empty_conversation_still_gets_a_reply() {
    let provider = OfflineProvider::new().with_delay(Duration::ZERO);
    let reply = provider
        .complete(ChatRequest::default(), CancellationToken::new())
        .await
        .unwrap();
    assert!(reply.contains("CHAT_LLM_BASE_URL"));
}
