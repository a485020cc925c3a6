//! The OpenAI-compatible provider against a fake model server on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use chat_llm::testing::*;
use chat_llm::{
    provider_from_config, ChatEvent, ChatMessage, ChatProvider, ChatRequest, Error, LlmConfig,
    OpenAiCompatible, Usage,
};
use futures_util::StreamExt;
use rstest::rstest;
use tokio_util::sync::CancellationToken;

fn request(text: &str) -> ChatRequest {
    ChatRequest::new(vec![
        ChatMessage::system("You are terse."),
        ChatMessage::user(text),
    ])
}

fn provider(config: LlmConfig) -> OpenAiCompatible {
    OpenAiCompatible::new(config).unwrap()
}

/// Deltas full of things a whitespace re-splitter would break.
const DELTAS: &[&str] = &[
    "Here is",
    " the fix:\n\n```rust\n",
    "fn main() {\n    let x = 1;\n",
    "\tif x > 0 {\n        println!(\"{x}\");\n    }\n",
    "}\n```\n",
    "\n  Indented — é, 😀, and trailing spaces  ",
    "\n",
];

/// A whole stream body: role chunk, a comment, the deltas (alternating `\n` and `\r\n` line
/// endings), the finish chunk, a usage-only chunk and `[DONE]`.
fn full_body() -> Vec<u8> {
    let mut body = String::new();
    body.push_str(
        "data: {\"model\":\"served-model\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
    );
    body.push_str(": keep-alive comment\n\n");
    for (i, d) in DELTAS.iter().enumerate() {
        let event = delta_event(d);
        if i % 2 == 1 {
            body.push_str(&event.replace('\n', "\r\n"));
        } else {
            body.push_str(&event);
        }
    }
    body.push_str(&finish_event("stop"));
    body.push_str(
        "data: {\"model\":\"served-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,\"total_tokens\":46}}\r\n\r\n",
    );
    body.push_str("data: [DONE]\n\n");
    body.into_bytes()
}

#[rstest]
#[case::one_byte_writes(1)]
#[case::seven_byte_writes(7)]
#[case::mid_line_writes(61)]
#[case::one_write(usize::MAX)]
#[tokio::test]
async fn streamed_reply_arrives_byte_exact(#[case] write_size: usize) {
    let mut steps = vec![Step::Write(sse_head())];
    steps.extend(split_writes(&full_body(), write_size.min(1 << 20)));
    let server = FakeServer::with_steps(steps).await;
    let provider = provider(server.config());

    let stream = provider
        .stream_chat(request("fix my code"), CancellationToken::new())
        .await
        .unwrap();
    let events = drain(stream).await;

    assert_eq!(text_of(&events), DELTAS.concat());
    let deltas = events
        .iter()
        .filter(|e| matches!(e, Ok(ChatEvent::Delta(_))))
        .count();
    assert_eq!(
        deltas,
        DELTAS.len(),
        "empty deltas are dropped, others kept whole"
    );
    match events.last() {
        Some(Ok(ChatEvent::Done {
            model,
            usage,
            finish_reason,
        })) => {
            assert_eq!(model, "served-model");
            assert_eq!(
                *usage,
                Some(Usage {
                    prompt_tokens: 12,
                    completion_tokens: 34,
                    total_tokens: 46
                })
            );
            assert_eq!(finish_reason.as_deref(), Some("stop"));
        }
        other => panic!("expected Done last, got {other:?}"),
    }
}

#[tokio::test]
async fn request_carries_key_model_and_only_portable_fields() {
    let mut steps = vec![Step::Write(sse_head())];
    steps.push(Step::Write(delta_event("ok").into_bytes()));
    steps.push(Step::Write(b"data: [DONE]\n\n".to_vec()));
    let server = FakeServer::with_steps(steps).await;
    let provider = provider(server.config());
    let mut req = request("hi");
    req.temperature = Some(0.5);

    let reply = provider
        .complete(req, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(reply, "ok");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(
        r.json(),
        serde_json::json!({
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "hi"}
            ],
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.5
        })
    );
}

#[tokio::test]
async fn no_key_means_no_authorization_header_and_usage_is_optional() {
    let mut steps = vec![Step::Write(sse_head())];
    steps.push(Step::Write(delta_event("a\nb").into_bytes()));
    steps.push(Step::Write(b"data: [DONE]".to_vec())); // no trailing blank line
    let server = FakeServer::with_steps(steps).await;
    let provider = provider(LlmConfig::new(
        server.base_url.clone(),
        Some("m".into()),
        None,
    ));
    let events = drain(
        provider
            .stream_chat(request("x"), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text_of(&events), "a\nb");
    assert!(matches!(
        events.last(),
        Some(Ok(ChatEvent::Done { usage: None, .. }))
    ));
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn reasoning_is_kept_apart_from_the_reply() {
    let mut steps = vec![Step::Write(sse_head())];
    steps.push(Step::Write(
        b"data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"thinking...\"}}]}\n\n".to_vec(),
    ));
    steps.push(Step::Write(delta_event("answer").into_bytes()));
    steps.push(Step::Write(b"data: [DONE]\n\n".to_vec()));
    let server = FakeServer::with_steps(steps).await;
    let events = drain(
        provider(server.config())
            .stream_chat(request("x"), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await;
    assert!(matches!(&events[0], Ok(ChatEvent::Reasoning(r)) if r == "thinking..."));
    assert_eq!(text_of(&events), "answer");
}

#[rstest]
#[case::json_error_body(
    "400 Bad Request",
    "application/json",
    r#"{"error":{"message":"max_tokens is too large","type":"invalid_request_error"}}"#,
    "model_error",
    &["HTTP 400", "max_tokens is too large"]
)]
#[case::ollama_style_error(
    "500 Internal Server Error",
    "application/json",
    r#"{"error":"llama runner process has terminated"}"#,
    "model_error",
    &["HTTP 500", "llama runner process has terminated"]
)]
#[case::html_error_body(
    "502 Bad Gateway",
    "text/html",
    "<html>\n  <body>  upstream   down </body>\n</html>",
    "model_error",
    &["HTTP 502", "<html> <body> upstream down </body> </html>"]
)]
#[case::bad_key(
    "401 Unauthorized",
    "application/json",
    r#"{"error":{"message":"Incorrect API key provided"}}"#,
    "model_unauthorized",
    &["rejected the API key (CHAT_LLM_API_KEY)", "Incorrect API key provided"]
)]
#[case::forbidden(
    "403 Forbidden",
    "text/plain",
    "forbidden",
    "model_unauthorized",
    &["CHAT_LLM_API_KEY", "HTTP 403"]
)]
#[case::unknown_model(
    "404 Not Found",
    "application/json",
    r#"{"error":{"message":"model \"test-model\" not found, try pulling it first"}}"#,
    "model_not_found",
    &["`test-model`", "CHAT_LLM_MODEL", "/v1", "try pulling it first"]
)]
#[tokio::test]
async fn http_errors_become_clear_messages(
    #[case] status: &str,
    #[case] content_type: &str,
    #[case] body: &str,
    #[case] code: &str,
    #[case] wanted: &[&str],
) {
    let server =
        FakeServer::with_steps(vec![Step::Write(response(status, content_type, body))]).await;
    let error = provider(server.config())
        .stream_chat(request("x"), CancellationToken::new())
        .await
        .err()
        .expect("an HTTP error");
    let message = error.to_string();
    assert_eq!(error.code(), code, "{message}");
    for w in wanted {
        assert!(message.contains(w), "{message:?} lacks {w:?}");
    }
}

#[tokio::test]
async fn error_event_mid_stream_is_reported_with_partial_text() {
    let mut steps = vec![Step::Write(sse_head())];
    steps.push(Step::Write(delta_event("partial ").into_bytes()));
    steps.push(Step::Write(
        b"data: {\"error\":{\"message\":\"out of memory\"}}\n\n".to_vec(),
    ));
    let server = FakeServer::with_steps(steps).await;
    let events = drain(
        provider(server.config())
            .stream_chat(request("x"), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await;
    match events.last() {
        Some(Err(e @ Error::Stream { partial, .. })) => {
            assert_eq!(partial, "partial ");
            assert!(e.to_string().contains("out of memory"));
        }
        other => panic!("expected a stream error, got {other:?}"),
    }
}

#[tokio::test]
async fn server_that_never_answers_hits_the_first_token_timeout() {
    let server = FakeServer::with_steps(vec![Step::Sleep(Duration::from_secs(30))]).await;
    let config = server
        .config()
        .with_first_token_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = provider(config)
        .stream_chat(request("x"), CancellationToken::new())
        .await
        .err()
        .expect("a timeout");
    let elapsed = started.elapsed();
    assert!(
        matches!(error, Error::FirstTokenTimeout { .. }),
        "{error:?}"
    );
    assert!(elapsed >= Duration::from_millis(290), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert!(error.to_string().contains("first-token timeout"));
}

#[tokio::test]
async fn headers_without_a_body_also_hit_the_first_token_timeout() {
    let server = FakeServer::with_steps(vec![
        Step::Write(sse_head()),
        Step::Sleep(Duration::from_secs(30)),
    ])
    .await;
    let config = server
        .config()
        .with_first_token_timeout(Duration::from_millis(300));
    let stream = provider(config)
        .stream_chat(request("x"), CancellationToken::new())
        .await
        .unwrap();
    let events = drain(stream).await;
    assert!(
        matches!(events.as_slice(), [Err(Error::FirstTokenTimeout { .. })]),
        "{events:?}"
    );
}

#[tokio::test]
async fn silence_mid_stream_hits_the_idle_timeout() {
    let server = FakeServer::with_steps(vec![
        Step::Write(sse_head()),
        Step::Write(delta_event("so far").into_bytes()),
        Step::Sleep(Duration::from_secs(30)),
    ])
    .await;
    let config = server
        .config()
        .with_idle_timeout(Duration::from_millis(300));
    let stream = provider(config)
        .stream_chat(request("x"), CancellationToken::new())
        .await
        .unwrap();
    let started = Instant::now();
    let events = drain(stream).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(matches!(&events[0], Ok(ChatEvent::Delta(d)) if d == "so far"));
    match &events[1..] {
        [Err(e @ Error::IdleTimeout { .. })] => {
            assert_eq!(e.partial(), Some("so far"));
            assert_eq!(e.code(), "model_timeout");
        }
        other => panic!("expected an idle timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn connection_refused_says_whether_the_server_runs() {
    let base_url = format!("http://127.0.0.1:{}/v1", closed_port().await);
    let provider = provider(LlmConfig::new(base_url.clone(), Some("m".into()), None));
    let error = provider
        .stream_chat(request("x"), CancellationToken::new())
        .await
        .err()
        .expect("refused");
    assert!(matches!(error, Error::Unreachable { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "cannot reach the model server at {base_url}: is it running?"
        )),
        "{message}"
    );
}

#[tokio::test]
async fn cancel_mid_stream_ends_promptly_with_the_partial_text() {
    let server = FakeServer::with_steps(vec![
        Step::Write(sse_head()),
        Step::Write(delta_event("one ").into_bytes()),
        Step::Write(delta_event("two\n").into_bytes()),
        Step::Sleep(Duration::from_secs(30)),
    ])
    .await;
    let cancel = CancellationToken::new();
    let mut stream = provider(server.config())
        .stream_chat(request("x"), cancel.clone())
        .await
        .unwrap();
    let mut text = String::new();
    while text != "one two\n" {
        match stream.next().await {
            Some(Ok(ChatEvent::Delta(d))) => text.push_str(&d),
            other => panic!("unexpected {other:?}"),
        }
    }
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        canceller.cancel();
    });
    let started = Instant::now();
    let last = tokio::time::timeout(Duration::from_secs(2), stream.next())
        .await
        .expect("the stream ends promptly");
    assert!(started.elapsed() < Duration::from_secs(1));
    match last {
        Some(Err(e)) => {
            assert!(e.is_cancelled(), "{e:?}");
            assert_eq!(e.partial(), Some("one two\n"));
        }
        other => panic!("expected Cancelled, got {other:?}"),
    }
    assert!(stream.next().await.is_none(), "nothing after the error");
}

#[tokio::test]
async fn cancel_before_the_server_answers() {
    let server = FakeServer::with_steps(vec![Step::Sleep(Duration::from_secs(30))]).await;
    let cancel = CancellationToken::new();
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        canceller.cancel();
    });
    let started = Instant::now();
    let error = provider(server.config())
        .stream_chat(request("x"), cancel)
        .await
        .err()
        .expect("cancelled");
    assert!(error.is_cancelled());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn stream_cut_without_done_is_interrupted() {
    let server = FakeServer::with_steps(vec![
        Step::Write(sse_head()),
        Step::Write(delta_event("half an ans").into_bytes()),
    ])
    .await;
    let events = drain(
        provider(server.config())
            .stream_chat(request("x"), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await;
    match events.last() {
        Some(Err(e @ Error::Interrupted { .. })) => {
            assert_eq!(e.partial(), Some("half an ans"));
            assert!(e.to_string().contains("[DONE]"));
        }
        other => panic!("expected Interrupted, got {other:?}"),
    }
    let err = provider(server.config())
        .complete(request("x"), CancellationToken::new())
        .await
        .expect_err("complete fails too");
    assert_eq!(err.code(), "model_interrupted");
}

#[tokio::test]
async fn finish_reason_without_done_marker_is_accepted() {
    let mut body = delta_event("complete");
    body.push_str(&finish_event("length"));
    let server =
        FakeServer::with_steps(vec![Step::Write(sse_head()), Step::Write(body.into())]).await;
    let events = drain(
        provider(server.config())
            .stream_chat(request("x"), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text_of(&events), "complete");
    assert!(matches!(
        events.last(),
        Some(Ok(ChatEvent::Done { finish_reason: Some(r), .. })) if r == "length"
    ));
}

#[tokio::test]
async fn a_non_streamed_json_reply_is_accepted() {
    let body = r#"{"model":"m2","choices":[{"index":0,"message":{"role":"assistant","content":"line 1\n  line 2"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#;
    let server = FakeServer::with_steps(vec![Step::Write(response(
        "200 OK",
        "application/json",
        body,
    ))])
    .await;
    let events = drain(
        provider(server.config())
            .stream_chat(request("x"), CancellationToken::new())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(text_of(&events), "line 1\n  line 2");
    assert!(matches!(
        events.last(),
        Some(Ok(ChatEvent::Done { model, usage: Some(u), .. })) if model == "m2" && u.total_tokens == 3
    ));
}

#[tokio::test]
async fn without_a_model_the_first_listed_one_is_used() {
    let server = FakeServer::start(|r| {
        if r.path == "/v1/models" {
            vec![Step::Write(response(
                "200 OK",
                "application/json",
                r#"{"object":"list","data":[{"id":"llama3.2:latest","object":"model"},{"id":"other"}]}"#,
            ))]
        } else {
            let mut body = String::from_utf8(sse_head()).unwrap();
            body.push_str(&delta_event("hi"));
            body.push_str("data: [DONE]\n\n");
            vec![Step::Write(body.into_bytes())]
        }
    })
    .await;
    let provider = provider(LlmConfig::new(server.base_url.clone(), None, None));
    assert_eq!(provider.default_model(), "");
    for _ in 0..2 {
        let reply = provider
            .complete(request("x"), CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(reply, "hi");
    }
    assert_eq!(provider.default_model(), "llama3.2:latest");
    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/v1/models", "/v1/chat/completions", "/v1/chat/completions"],
        "the model list is asked once"
    );
    assert_eq!(requests[1].json()["model"], "llama3.2:latest");
}

#[tokio::test]
async fn summary_and_title_ask_the_model() {
    let server = FakeServer::start(|_| {
        let mut body = String::from_utf8(sse_head()).unwrap();
        body.push_str(&delta_event("\"Reversing lists\"\n"));
        body.push_str("data: [DONE]\n\n");
        vec![Step::Write(body.into_bytes())]
    })
    .await;
    let provider = provider_from_config(Some(server.config())).unwrap();
    assert!(!provider.is_offline());
    assert_eq!(provider.name(), "openai-compatible");
    let messages = vec![
        ChatMessage::user("How do I reverse a list?"),
        ChatMessage::assistant("Use slicing."),
    ];
    let title = provider
        .title(&messages, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(title, "Reversing lists");
    let summary = provider
        .summarize(&messages, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(summary, "\"Reversing lists\"");
    let prompt = server.requests()[0].json();
    let text = prompt["messages"][1]["content"].as_str().unwrap();
    assert!(text.contains("How do I reverse a list?"), "{text}");
}

#[tokio::test]
async fn a_summary_follows_the_instructions_given_or_the_default_ones() {
    let server = FakeServer::start(|_| {
        let mut body = String::from_utf8(sse_head()).unwrap();
        body.push_str(&delta_event("Lists reversed."));
        body.push_str("data: [DONE]\n\n");
        vec![Step::Write(body.into_bytes())]
    })
    .await;
    let provider = provider_from_config(Some(server.config())).unwrap();
    let messages = vec![ChatMessage::user("How do I reverse a list?")];
    let custom = "Summarise in French, one line.";
    for instructions in [Some(custom), None, Some("   ")] {
        let summary = provider
            .summarize_with(&messages, instructions, CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(summary, "Lists reversed.");
    }
    let systems: Vec<String> = server
        .requests()
        .iter()
        .map(|r| {
            r.json()["messages"][0]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        systems,
        [
            custom,
            chat_llm::DEFAULT_SUMMARY_PROMPT,
            chat_llm::DEFAULT_SUMMARY_PROMPT
        ]
    );
}

#[tokio::test]
async fn the_model_list_is_the_servers_and_its_errors_are_clear() {
    let server = FakeServer::start(|r| {
        if r.header("authorization") == Some("Bearer sk-test") {
            vec![Step::Write(response(
                "200 OK",
                "application/json",
                r#"{"object":"list","data":[{"id":"qwen2.5:7b"},{"id":"llama3.2"}]}"#,
            ))]
        } else {
            vec![Step::Write(response(
                "401 Unauthorized",
                "application/json",
                r#"{"error":{"message":"bad key"}}"#,
            ))]
        }
    })
    .await;
    let provider = provider_from_config(Some(server.config())).unwrap();
    assert_eq!(
        provider.list_models().await.unwrap(),
        ["qwen2.5:7b", "llama3.2"]
    );
    assert_eq!(server.requests()[0].path, "/v1/models");
    let unauthorized = provider_from_config(Some(LlmConfig::new(
        server.base_url.clone(),
        Some("m".into()),
        Some("wrong".into()),
    )))
    .unwrap();
    let err = unauthorized.list_models().await.unwrap_err();
    assert_eq!(err.code(), "model_unauthorized", "{err}");
    let offline = chat_llm::OfflineProvider::new();
    assert_eq!(
        offline.list_models().await.unwrap(),
        [chat_llm::OFFLINE_MODEL]
    );
}

#[test]
fn config_from_lookup_and_validation() {
    let env = |name: &str| match name {
        "CHAT_LLM_BASE_URL" => Some("http://localhost:11434/v1/".to_owned()),
        "CHAT_LLM_MODEL" => Some("llama3.2".to_owned()),
        "CHAT_LLM_API_KEY" => Some("  ".to_owned()),
        _ => None,
    };
    let config = LlmConfig::from_lookup(env).unwrap();
    assert_eq!(config.base_url, "http://localhost:11434/v1");
    assert_eq!(config.model.as_deref(), Some("llama3.2"));
    assert_eq!(config.api_key, None, "a blank key counts as unset");
    assert!(LlmConfig::from_lookup(|_| None).is_none());
    assert!(LlmConfig::from_lookup(|n| (n == "CHAT_LLM_BASE_URL").then(String::new)).is_none());

    let secret = LlmConfig::new("https://api.openai.com/v1", None, Some("sk-secret".into()));
    assert!(!format!("{secret:?}").contains("sk-secret"));

    let bad = provider_from_config(Some(LlmConfig::new("localhost:11434", None, None)));
    let error = bad.map(|_| ()).expect_err("invalid");
    assert!(error.to_string().contains("http://"), "{error}");
}
