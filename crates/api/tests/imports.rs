#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Import uploads: streamed to disk, run in the background, polled to the end.

mod common;

use serde_json::{json, Value};

use common::*;
use rstest::rstest;

fn no_server_paths(env: &Env, v: &Value) {
    let text = v.to_string();
    let root = env.dir.path().display().to_string();
    assert!(!text.contains(&root), "a server path leaked: {text}");
}

#[rstest]
#[actix_rt::test]
async fn a_chatgpt_export_imports_into_its_folder(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = common::env();
    let app = service!(env);
    let (s, accepted) = send(
        &app,
        raw_upload(
            "/api/v1/imports",
            "application/json",
            fixture("chatgpt-single/conversations.json"),
        ),
    )
    .await;
    assert_eq!(s, 202, "{accepted}");
    assert_eq!(accepted["status"], "queued");
    let id = accepted["id"].as_str().unwrap().to_owned();
    let job = wait_for(&app, &id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["outcome"], "success", "{job}");
    let imported = job["report"]["totals"]["imported"].as_u64().unwrap();
    assert!(imported >= 1, "{job}");
    no_server_paths(&env, &job);

    let (_, list) = send(&app, get("/api/v1/conversations?folder=imported/chatgpt")).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len() as u64, imported);
    assert!(items
        .iter()
        .all(|c| c["source"] == "chatgpt" && c["folder"] == "imported/chatgpt"));
    let (_, folders) = send(&app, get("/api/v1/folders")).await;
    assert!(folders
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "imported/chatgpt" && f["count"] == imported));

    let (s, runs) = send(&app, get("/api/v1/imports")).await;
    assert_eq!(s, 200);
    assert_eq!(runs[0]["id"], id.as_str());

    // Re-importing the same file changes nothing, through multipart this time.
    let (s, again) = send(
        &app,
        multipart_upload(
            "/api/v1/imports",
            &[(
                "conversations.json",
                fixture("chatgpt-single/conversations.json"),
            )],
            &[("source", "chatgpt")],
        ),
    )
    .await;
    assert_eq!(s, 202, "{again}");
    let job = wait_for(&app, again["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["report"]["totals"]["imported"], 0);
    assert_eq!(
        job["report"]["totals"]["unchanged"].as_u64().unwrap(),
        imported
    );
    assert_eq!(job["files"], json!(["conversations.json"]));

    // A finished job cannot be cancelled.
    let got = send(
        &app,
        post(&format!("/api/v1/imports/{id}/cancel"), json!({})),
    )
    .await;
    assert_error(&got, 409, "conflict");
}

#[rstest]
#[actix_rt::test]
async fn an_html_file_fails_with_a_reason(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = common::env();
    let app = service!(env);
    let (s, accepted) = send(
        &app,
        multipart_upload(
            "/api/v1/imports",
            &[("chat.html", fixture("chatgpt-single/chat.html"))],
            &[],
        ),
    )
    .await;
    assert_eq!(s, 202, "{accepted}");
    let job = wait_for(&app, accepted["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(job["error"].as_str().is_some_and(|e| !e.is_empty()));
    let input = &job["report"]["inputs"][0];
    assert_eq!(input["path"], "chat.html", "{job}");
    let why = input["errors"][0]["error"].as_str().unwrap();
    assert!(!why.is_empty());
    assert!(!input["errors"][0]["hint"].as_str().unwrap().is_empty());
    no_server_paths(&env, &job);
}

#[rstest]
#[actix_rt::test]
async fn a_wrong_forced_source_fails_with_a_reason(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = common::env();
    let app = service!(env);
    let (s, accepted) = send(
        &app,
        raw_upload(
            "/api/v1/imports?source=claude",
            "application/json",
            fixture("chatgpt-single/conversations.json"),
        ),
    )
    .await;
    assert_eq!(s, 202, "{accepted}");
    let job = wait_for(&app, accepted["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["source"], "claude");
    let errors = job["report"]["inputs"][0]["errors"].as_array().unwrap();
    assert!(!errors.is_empty(), "{job}");
    let (_, list) = send(&app, get("/api/v1/conversations?archived=all")).await;
    assert_eq!(list["items"], json!([]));
}

#[rstest]
#[actix_rt::test]
async fn upload_errors(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env_with(|b| b.max_upload(100));
    let app = service!(env);
    // 413 over the limit, declared or not; the spooled bytes are removed.
    let got = send(
        &app,
        raw_upload(
            "/api/v1/imports",
            "application/json",
            fixture("chatgpt-single/conversations.json"),
        ),
    )
    .await;
    assert_error(&got, 413, "payload_too_large");
    let got = send(
        &app,
        multipart_upload("/api/v1/imports", &[("a.json", vec![b' '; 500])], &[]),
    )
    .await;
    assert_error(&got, 413, "payload_too_large");
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path().join("uploads"))
        .unwrap()
        .collect();
    assert!(
        leftovers.is_empty(),
        "upload folders left behind: {leftovers:?}"
    );
    // 400: nothing to import, an unknown source, a broken multipart body.
    let env = common::env();
    let app = service!(env);
    assert_error(
        &send(
            &app,
            raw_upload("/api/v1/imports", "application/json", Vec::new()),
        )
        .await,
        400,
        "empty_upload",
    );
    assert_error(
        &send(
            &app,
            multipart_upload("/api/v1/imports", &[], &[("source", "chatgpt")]),
        )
        .await,
        400,
        "empty_upload",
    );
    assert_error(
        &send(
            &app,
            raw_upload(
                "/api/v1/imports?source=myspace",
                "application/json",
                b"[]".to_vec(),
            ),
        )
        .await,
        400,
        "invalid_query",
    );
    assert_error(
        &send(
            &app,
            raw_upload(
                "/api/v1/imports",
                "multipart/form-data; boundary=x",
                b"garbage".to_vec(),
            ),
        )
        .await,
        400,
        "invalid_multipart",
    );
    // 404s.
    assert_error(
        &send(&app, get("/api/v1/imports/nope")).await,
        404,
        "import_not_found",
    );
    assert_error(
        &send(&app, post("/api/v1/imports/nope/cancel", json!({}))).await,
        404,
        "import_not_found",
    );
    assert_error(
        &send(&app, get("/api/v1/imports?limit=0")).await,
        400,
        "invalid_query",
    );
}

#[rstest]
#[actix_rt::test]
async fn imports_report_progress_on_the_hub(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = common::env();
    let app = service!(env);
    let mut rx = env.state.hub().subscribe();
    let (s, accepted) = send(
        &app,
        raw_upload(
            "/api/v1/imports",
            "application/json",
            fixture("chatgpt-single/conversations.json"),
        ),
    )
    .await;
    assert_eq!(s, 202);
    wait_for(&app, accepted["id"].as_str().unwrap()).await;
    let mut statuses = Vec::new();
    while let Ok(msg) = rx.try_recv() {
        let event = serde_json::to_value(&*msg.event).unwrap();
        if event["type"] == "import.progress" {
            assert_eq!(event["id"], accepted["id"]);
            statuses.push(event["status"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(statuses.first().map(String::as_str), Some("queued"));
    assert_eq!(
        statuses.last().map(String::as_str),
        Some("done"),
        "{statuses:?}"
    );
}
