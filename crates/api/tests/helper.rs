#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Summaries, and the import helper: explain a failed import, retry it from the kept bytes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use actix_web::test;
use chat_llm::{ChatProvider, OfflineProvider};
use rstest::rstest;
use serde_json::{json, Value};

use common::fake_llm::{self, FakeServer, Step};
use common::*;

fn offline() -> Arc<dyn ChatProvider> {
    Arc::new(OfflineProvider::new().with_delay(Duration::ZERO))
}

/// Creates a conversation with a two-message exchange over HTTP; returns its id.
async fn conversation<S, B>(app: &S) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let (s, c) = send(app, post("/api/v1/conversations", json!({"title": "Trip"}))).await;
    assert_eq!(s, 201);
    let id = c["id"].as_str().unwrap().to_owned();
    for (role, content) in [
        (
            "user",
            "How do I pack for a week in Lisbon? It will be warm.",
        ),
        (
            "assistant",
            "Pack light layers and good shoes. Bring sunscreen.",
        ),
    ] {
        let (s, _) = send(
            app,
            post(
                &format!("/api/v1/conversations/{id}/messages"),
                json!({"role": role, "content": content}),
            ),
        )
        .await;
        assert_eq!(s, 201);
    }
    id
}

#[rstest]
#[actix_rt::test]
async fn an_offline_summary_is_extractive_and_stored(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env_with(|b| b.provider(offline()));
    let app = service!(env);
    let id = conversation(&app).await;
    let (s, c) = send(
        &app,
        post(&format!("/api/v1/conversations/{id}/summary"), json!({})),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    let summary = c["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("How do I pack for a week in Lisbon?"),
        "{summary}"
    );
    let (_, stored) = send(&app, get(&format!("/api/v1/conversations/{id}"))).await;
    assert_eq!(stored["summary"], summary);
    // Errors: unknown id, nothing to summarize.
    let got = send(&app, post("/api/v1/conversations/nope/summary", json!({}))).await;
    assert_error(&got, 404, "conversation_not_found");
    let (_, empty) = send(&app, post("/api/v1/conversations", json!({}))).await;
    let got = send(
        &app,
        post(
            &format!(
                "/api/v1/conversations/{}/summary",
                empty["id"].as_str().unwrap()
            ),
            json!({}),
        ),
    )
    .await;
    assert_error(&got, 400, "empty_conversation");
}

#[rstest]
#[actix_rt::test]
async fn a_model_summary_comes_from_the_model_and_its_errors_are_502(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = FakeServer::start(|r| {
        if fake_llm::asks_for_summary(r) {
            fake_llm::sse_reply(&["Packing advice ", "for a warm week\nin Lisbon."])
        } else {
            vec![]
        }
    })
    .await;
    let provider = chat_llm::provider_from_config(Some(fake.config())).unwrap();
    let env = env_with(|b| b.provider(provider));
    let app = service!(env);
    let id = conversation(&app).await;
    let (s, c) = send(
        &app,
        post(&format!("/api/v1/conversations/{id}/summary"), json!({})),
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["summary"], "Packing advice for a warm week in Lisbon.");
    let prompt = String::from_utf8_lossy(&fake.requests()[0].body).into_owned();
    assert!(
        prompt.contains("Pack light layers"),
        "the model saw the conversation"
    );

    let failing = FakeServer::with_steps(vec![Step::Write(fake_llm::response(
        "503 Service Unavailable",
        "text/plain",
        "model is loading",
    ))])
    .await;
    let provider = chat_llm::provider_from_config(Some(failing.config())).unwrap();
    let env = env_with(|b| b.provider(provider));
    let app = service!(env);
    let id = conversation(&app).await;
    let got = send(
        &app,
        post(&format!("/api/v1/conversations/{id}/summary"), json!({})),
    )
    .await;
    assert_error(&got, 502, "model_error");
    assert!(got.1["message"]
        .as_str()
        .unwrap()
        .contains("model is loading"));
}

/// Uploads `fixture` (optionally forcing a source) and waits for the job.
async fn upload<S, B>(app: &S, rel: &str, source: Option<&str>) -> Value
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let uri = match source {
        Some(s) => format!("/api/v1/imports?source={s}"),
        None => "/api/v1/imports".to_owned(),
    };
    let (s, accepted) = send(app, raw_upload(&uri, "application/json", fixture(rel))).await;
    assert_eq!(s, 202, "{accepted}");
    wait_for(app, accepted["id"].as_str().unwrap()).await
}

/// The streamed explanation as text.
async fn explain<S, B>(app: &S, id: &str) -> String
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let (s, headers, body) = send_raw(
        app,
        test::TestRequest::post().uri(&format!("/api/v1/imports/{id}/explain")),
    )
    .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    assert!(headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    String::from_utf8(body.to_vec()).unwrap()
}

#[rstest]
#[case::detected(json!({}))]
#[case::named(json!({"source": "claude"}))]
#[actix_rt::test]
async fn retry_after_a_wrong_forced_source(
    #[case] body: Value,
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env_with(|b| b.provider(offline()));
    let app = service!(env);
    let job = upload(&app, "claude/conversations.json", Some("chatgpt")).await;
    assert_eq!(job["status"], "failed", "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    let first_error = job["report"]["inputs"][0]["errors"][0]["error"]
        .as_str()
        .unwrap();
    assert!(
        first_error.contains("looks like a Claude export"),
        "{first_error}"
    );

    // The explanation names the problem and the one-call fix.
    let text = explain(&app, &id).await;
    assert!(text.contains("## What went wrong"), "{text}");
    assert!(text.contains("looks like a Claude export"), "{text}");
    assert!(text.contains("**Fix:**"), "{text}");
    let fix = text.split("## The fix").nth(1).expect("a fix section");
    assert!(
        fix.contains("claude") && fix.contains(&format!("/api/v1/imports/{id}/retry")),
        "{fix}"
    );
    assert!(!text.contains("## Explanation"), "no model section offline");

    // Retry from the kept upload.
    let (s, accepted) = send(&app, post(&format!("/api/v1/imports/{id}/retry"), body)).await;
    assert_eq!(s, 202, "{accepted}");
    let new_id = accepted["id"].as_str().unwrap();
    assert_ne!(new_id, id);
    let retried = wait_for(&app, new_id).await;
    assert_eq!(retried["status"], "done", "{retried}");
    assert_eq!(retried["report"]["totals"]["imported"], 2, "{retried}");
    assert_eq!(retried["retry_of"]["id"], id.as_str());
    assert_eq!(retried["retry_of"]["previous"]["status"], "failed");
    assert_eq!(retried["retry_of"]["previous"]["source"], "chatgpt");
    let changes = retried["retry_of"]["changes"].as_str().unwrap();
    assert!(
        changes.contains("2 imported") && changes.contains("is gone"),
        "{changes}"
    );
    let (_, list) = send(&app, get("/api/v1/conversations?source=claude")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[rstest]
#[actix_rt::test]
async fn retry_errors(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env_with(|b| b.provider(offline()));
    let app = service!(env);
    let got = send(&app, post("/api/v1/imports/nope/retry", json!({}))).await;
    assert_error(&got, 404, "import_not_found");
    let job = upload(&app, "claude/conversations.json", Some("chatgpt")).await;
    let id = job["id"].as_str().unwrap();
    let got = send(
        &app,
        post(
            &format!("/api/v1/imports/{id}/retry"),
            json!({"source": "msn"}),
        ),
    )
    .await;
    assert_error(&got, 400, "invalid_query");
    // A successful import keeps no upload: nothing to retry from.
    let ok = upload(&app, "chatgpt-single/conversations.json", None).await;
    assert_eq!(ok["status"], "done");
    let got = send(
        &app,
        post(
            &format!("/api/v1/imports/{}/retry", ok["id"].as_str().unwrap()),
            json!({}),
        ),
    )
    .await;
    assert_error(&got, 409, "conflict");
    let got = send(&app, post("/api/v1/imports/nope/explain", json!({}))).await;
    assert_error(&got, 404, "import_not_found");
}

#[rstest]
#[actix_rt::test]
async fn a_truncated_file_is_explained_with_the_model_and_an_excerpt(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = FakeServer::start(|_| {
        fake_llm::sse_reply(&["The file ends ", "in the middle of a conversation."])
    })
    .await;
    let provider = chat_llm::provider_from_config(Some(fake.config())).unwrap();
    let env = env_with(|b| b.provider(provider));
    let app = service!(env);
    let job = upload(&app, "truncated-conversations.json", None).await;
    let id = job["id"].as_str().unwrap().to_owned();
    assert!(
        job["status"] == "failed" || job["outcome"] == "partial",
        "{job}"
    );
    let text = explain(&app, &id).await;
    assert!(text.contains("## What went wrong"), "{text}");
    let model_part = text
        .split("## Explanation")
        .nth(1)
        .expect("a model section");
    assert!(
        model_part.contains("The file ends in the middle of a conversation."),
        "{text}"
    );
    assert!(text.trim_end().rsplit("## The fix").next().is_some());
    assert!(
        text.find("## Explanation").unwrap() < text.find("## The fix").unwrap(),
        "the fix comes last"
    );
    // The model was given the diagnosis and at most 2 KB of the input.
    let request = fake.requests().pop().unwrap().json();
    let prompt = request["messages"][1]["content"].as_str().unwrap();
    assert!(prompt.contains("What went wrong"));
    let fence = prompt.split("```\n").nth(1).expect("an excerpt");
    assert!(
        !fence.is_empty() && fence.len() <= 2048 + 4,
        "{}",
        fence.len()
    );
    // It is part of the input (the quarantined cut-off tail, else the file's start).
    let raw = String::from_utf8_lossy(&fixture("truncated-conversations.json")).into_owned();
    let excerpt = fence.split("\n```").next().unwrap();
    assert!(raw.contains(excerpt.trim()), "{excerpt}");
}
