#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every endpoint over a real SQLite file, through `configure` and `test::init_service`.

mod common;

use std::collections::HashSet;

use actix_web::http::header;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

use common::*;
use rstest::rstest;

async fn create_convo<S, B>(app: &S, title: &str) -> Value
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let (s, c) = send(
        app,
        post("/api/v1/conversations", json!({ "title": title })),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    c
}

async fn add_msg<S, B>(
    app: &S,
    convo: &str,
    role: &str,
    content: &str,
    parent: Option<&str>,
) -> Value
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let mut body = json!({ "role": role, "content": content });
    if let Some(p) = parent {
        body["parent_id"] = json!(p);
    }
    let (s, m) = send(
        app,
        post(&format!("/api/v1/conversations/{convo}/messages"), body),
    )
    .await;
    assert_eq!(s, 201, "{m}");
    m
}

#[rstest]
#[actix_rt::test]
async fn health_answers_without_a_token(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env_with(|b| b.token(Some("s3cret")));
    let app = service!(env);
    let (s, body) = send(&app, get("/api/v1/health")).await;
    assert_eq!(s, 200);
    assert_eq!(body["status"], "ok");
}

#[rstest]
#[actix_rt::test]
async fn token_rules(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    // Without a token configured (a loopback server), no header is needed.
    let open = env();
    let app = service!(open);
    assert_eq!(send(&app, get("/api/v1/conversations")).await.0, 200);

    // With a token, a missing or wrong one is 401; the right one passes.
    let locked = env_with(|b| b.token(Some("s3cret")));
    let app = service!(locked);
    let missing = send(&app, get("/api/v1/conversations")).await;
    assert_error(&missing, 401, "unauthorized");
    let wrong = send(
        &app,
        get("/api/v1/conversations").insert_header((header::AUTHORIZATION, "Bearer s3creT")),
    )
    .await;
    assert_error(&wrong, 401, "unauthorized");
    let basic = send(
        &app,
        get("/api/v1/conversations").insert_header((header::AUTHORIZATION, "Basic s3cret")),
    )
    .await;
    assert_error(&basic, 401, "unauthorized");
    let (s, _, _) = send_raw(
        &app,
        get("/api/v1/conversations").insert_header((header::AUTHORIZATION, "Bearer s3cret")),
    )
    .await;
    assert_eq!(s, 200);
    // Unknown routes and writes are protected too.
    assert_error(&send(&app, get("/api/v1/nope")).await, 401, "unauthorized");
    assert_error(
        &send(&app, post("/api/v1/conversations", json!({}))).await,
        401,
        "unauthorized",
    );
    // The bind rule.
    assert!(!chat_api::token_required_for(
        &"127.0.0.1:8080".parse().unwrap()
    ));
    assert!(chat_api::token_required_for(
        &"0.0.0.0:8080".parse().unwrap()
    ));
}

#[rstest]
#[actix_rt::test]
async fn conversation_lifecycle(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let (s, c) = send(
        &app,
        post(
            "/api/v1/conversations",
            json!({"title": "  Plans  ", "folder": "work/q3", "tags": ["rust", "ideas"]}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    for field in [
        "id",
        "title",
        "source",
        "source_id",
        "folder",
        "created_at",
        "updated_at",
        "archived",
        "archived_at",
        "tags",
        "summary",
        "message_count",
        "forked_from",
    ] {
        assert!(c.get(field).is_some(), "missing {field} in {c}");
    }
    assert_eq!(c["title"], "Plans");
    assert_eq!(c["source"], "native");
    assert_eq!(c["folder"], "work/q3");
    assert_eq!(c["tags"], json!(["ideas", "rust"]));
    assert_eq!(c["archived"], false);
    assert!(c["created_at"].as_str().unwrap().ends_with('Z'));
    let id = c["id"].as_str().unwrap().to_owned();
    let url = format!("/api/v1/conversations/{id}");

    let (s, got) = send(&app, get(&url)).await;
    assert_eq!(s, 200);
    assert_eq!(got["messages"], json!([]));

    let (s, p) = send(
        &app,
        patch(
            &url,
            json!({"title": "Plans 2", "folder": "", "summary": "short", "archived": true}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["title"], "Plans 2");
    assert_eq!(p["folder"], "");
    assert_eq!(p["summary"], "short");
    assert_eq!(p["archived"], true);
    assert!(p["archived_at"].is_string());

    // Archived conversations leave the default list.
    let (_, list) = send(&app, get("/api/v1/conversations")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let (_, list) = send(&app, get("/api/v1/conversations?archived=true")).await;
    assert_eq!(list["items"][0]["id"], id.as_str());
    let (_, list) = send(&app, get("/api/v1/conversations?archived=all")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // null clears the summary; absent fields stay.
    let (s, p) = send(
        &app,
        patch(&url, json!({"summary": null, "archived": false})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(p["summary"], Value::Null);
    assert_eq!(p["title"], "Plans 2");
    assert_eq!(p["archived"], false);

    let (s, _, body) = send_raw(&app, delete(&url)).await;
    assert_eq!(s, 204);
    assert!(body.is_empty());
    assert_error(&send(&app, get(&url)).await, 404, "conversation_not_found");
    assert_error(
        &send(&app, delete(&url)).await,
        404,
        "conversation_not_found",
    );
}

#[rstest]
#[actix_rt::test]
async fn error_statuses(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env_with(|b| b.json_limit(1024));
    let app = service!(env);
    let c = create_convo(&app, "x").await;
    let id = c["id"].as_str().unwrap();

    // 400
    for uri in [
        "/api/v1/conversations?archived=maybe",
        "/api/v1/conversations?limit=0",
        "/api/v1/conversations?limit=abc",
        "/api/v1/conversations?source=openai",
        "/api/v1/conversations?updated_after=yesterday",
        "/api/v1/search?q=x&limit=100000",
        "/api/v1/export?format=pdf",
    ] {
        let got = send(&app, get(uri)).await;
        assert_eq!(got.0, 400, "{uri}: {}", got.1);
        assert_eq!(got.1["error"], "invalid_query", "{uri}");
    }
    assert_error(
        &send(&app, get("/api/v1/conversations?cursor=garbage")).await,
        400,
        "invalid_cursor",
    );
    assert_error(
        &send(
            &app,
            get(&format!("/api/v1/conversations/{id}?branch=sideways")),
        )
        .await,
        400,
        "invalid_query",
    );
    let bad_json = TestRequest::post()
        .uri("/api/v1/conversations")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload("{\"title\": ");
    assert_error(&send(&app, bad_json).await, 400, "invalid_json");
    assert_error(
        &send(
            &app,
            post("/api/v1/conversations", json!({"titel": "typo"})),
        )
        .await,
        400,
        "invalid_json",
    );
    assert_error(
        &send(
            &app,
            post("/api/v1/conversations", json!({"folder": "a/../b"})),
        )
        .await,
        400,
        "invalid_input",
    );
    assert_error(
        &send(
            &app,
            post(
                &format!("/api/v1/conversations/{id}/messages"),
                json!({"role": "robot", "content": "x"}),
            ),
        )
        .await,
        400,
        "invalid_json",
    );
    assert_error(
        &send(
            &app,
            post(
                &format!("/api/v1/conversations/{id}/messages"),
                json!({"role": "user", "content": "  "}),
            ),
        )
        .await,
        400,
        "invalid_input",
    );
    // 404
    assert_error(
        &send(&app, get("/api/v1/conversations/does-not-exist")).await,
        404,
        "conversation_not_found",
    );
    assert_error(
        &send(&app, get("/api/v1/no/such/route")).await,
        404,
        "route_not_found",
    );
    assert_error(
        &send(
            &app,
            post(
                "/api/v1/conversations/nope/messages",
                json!({"role": "user", "content": "x"}),
            ),
        )
        .await,
        404,
        "conversation_not_found",
    );
    // 409: a message id that belongs to another conversation.
    let other = create_convo(&app, "other").await;
    let m = add_msg(&app, other["id"].as_str().unwrap(), "user", "hi", None).await;
    let clash =
        json!({"title": "x", "messages": [{"id": m["id"], "role": "user", "content": "stolen"}]});
    assert_error(
        &send(&app, put(&format!("/api/v1/conversations/{id}"), clash)).await,
        409,
        "conflict",
    );
    // 413: over the JSON limit (1 KiB here).
    let big = json!({"title": "x".repeat(2000)});
    assert_error(
        &send(&app, post("/api/v1/conversations", big)).await,
        413,
        "payload_too_large",
    );
    // 415: not JSON.
    let text = TestRequest::post()
        .uri("/api/v1/conversations")
        .insert_header((header::CONTENT_TYPE, "text/plain"))
        .set_payload("{}");
    assert_error(&send(&app, text).await, 415, "unsupported_media_type");
    let none = TestRequest::post()
        .uri("/api/v1/conversations")
        .set_payload("{}");
    assert_error(&send(&app, none).await, 415, "unsupported_media_type");
}

#[rstest]
#[actix_rt::test]
async fn list_pages_to_the_end_without_repeats(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let mut made = HashSet::new();
    for i in 0..23 {
        let c = create_convo(&app, &format!("c{i}")).await;
        made.insert(c["id"].as_str().unwrap().to_owned());
    }
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/api/v1/conversations?limit=5&cursor={}", enc(c)),
            None => "/api/v1/conversations?limit=5".to_owned(),
        };
        let (s, page) = send(&app, get(&uri)).await;
        assert_eq!(s, 200, "{page}");
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 5);
        let mut last: Option<time::OffsetDateTime> = None;
        for it in items {
            let updated = time::OffsetDateTime::parse(
                it["updated_at"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            if let Some(prev) = &last {
                assert!(prev >= &updated, "newest first");
            }
            last = Some(updated);
            assert!(
                seen.insert(it["id"].as_str().unwrap().to_owned()),
                "repeated item"
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, made);
}

#[rstest]
#[actix_rt::test]
async fn list_filters(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let a = create_convo(&app, "a").await;
    let (_, b) = send(
        &app,
        post(
            "/api/v1/conversations",
            json!({"title": "b", "folder": "work/rust", "tags": ["t1"]}),
        ),
    )
    .await;
    let imported = json!({"title": "imp", "source": "chatgpt", "source_id": "x1",
        "messages": [{"role": "user", "content": "hello"}]});
    let (s, imp) = send(&app, put("/api/v1/conversations/imp-1", imported)).await;
    assert_eq!(s, 201, "{imp}");
    assert_eq!(imp["folder"], "imported/chatgpt");

    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, l) = send(&app, get("/api/v1/conversations?source=chatgpt")).await;
    assert_eq!(ids(&l), vec!["imp-1"]);
    let (_, l) = send(&app, get("/api/v1/conversations?folder=work")).await;
    assert_eq!(ids(&l), vec![b["id"].as_str().unwrap()]);
    let (_, l) = send(&app, get("/api/v1/conversations?tag=t1")).await;
    assert_eq!(ids(&l), vec![b["id"].as_str().unwrap()]);
    let (_, l) = send(
        &app,
        get("/api/v1/conversations?source=&folder=&tag=&cursor="),
    )
    .await;
    assert_eq!(ids(&l).len(), 3);
    assert!(ids(&l).contains(&a["id"].as_str().unwrap().to_owned()));
    let (_, l) = send(
        &app,
        get("/api/v1/conversations?updated_after=2999-01-01T00:00:00Z"),
    )
    .await;
    assert!(ids(&l).is_empty());
}

#[rstest]
#[actix_rt::test]
async fn messages_branches_and_hidden(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let c = create_convo(&app, "branches").await;
    let id = c["id"].as_str().unwrap();
    let u1 = add_msg(&app, id, "user", "question", None).await;
    for field in [
        "id",
        "conversation_id",
        "parent_id",
        "role",
        "content",
        "parts",
        "model",
        "created_at",
        "hidden",
        "rating",
        "status",
    ] {
        assert!(u1.get(field).is_some(), "missing {field} in {u1}");
    }
    assert_eq!(u1["status"], "complete");
    assert_eq!(u1["rating"], Value::Null);
    let a1 = add_msg(&app, id, "assistant", "answer one", None).await;
    assert_eq!(a1["parent_id"], u1["id"]);
    // A regeneration: a sibling of a1.
    let a2 = add_msg(
        &app,
        id,
        "assistant",
        "answer two\n```rust\nfn main() {}\n```",
        u1["id"].as_str(),
    )
    .await;
    assert_eq!(a2["parent_id"], u1["id"]);
    // A hidden message.
    let (s, h) = send(
        &app,
        post(
            &format!("/api/v1/conversations/{id}/messages"),
            json!({"role": "tool", "content": "tool output", "hidden": true}),
        ),
    )
    .await;
    assert_eq!(s, 201);

    let url = format!("/api/v1/conversations/{id}");
    let (_, active) = send(&app, get(&url)).await;
    let contents: Vec<&str> = active["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        vec!["question", "answer two\n```rust\nfn main() {}\n```"]
    );
    let (_, with_hidden) = send(&app, get(&format!("{url}?hidden=true"))).await;
    assert_eq!(with_hidden["messages"].as_array().unwrap().len(), 3);
    assert_eq!(with_hidden["messages"][2]["id"], h["id"]);
    let (_, all) = send(&app, get(&format!("{url}?branch=all&hidden=false"))).await;
    assert_eq!(all["messages"].as_array().unwrap().len(), 3);
    assert_eq!(all["message_count"], 4);

    // Switch the active branch back to the first answer.
    let (s, p) = send(&app, patch(&url, json!({"current_message_id": a1["id"]}))).await;
    assert_eq!(s, 200, "{p}");
    let (_, active) = send(&app, get(&url)).await;
    assert_eq!(active["messages"][1]["id"], a1["id"]);

    // A parent of another conversation, or none at all, is a bad request.
    let other = create_convo(&app, "other").await;
    let o1 = add_msg(&app, other["id"].as_str().unwrap(), "user", "x", None).await;
    let got = send(
        &app,
        post(
            &format!("{url}/messages"),
            json!({"role": "user", "content": "x", "parent_id": o1["id"]}),
        ),
    )
    .await;
    assert_error(&got, 400, "invalid_input");
    let got = send(
        &app,
        post(
            &format!("{url}/messages"),
            json!({"role": "user", "content": "x", "parent_id": "ghost"}),
        ),
    )
    .await;
    assert_error(&got, 400, "invalid_parent");

    // A single message.
    let (s, m) = send(
        &app,
        get(&format!("/api/v1/messages/{}", a2["id"].as_str().unwrap())),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(m["content"], a2["content"]);
    assert_error(
        &send(&app, get("/api/v1/messages/ghost")).await,
        404,
        "message_not_found",
    );
}

#[rstest]
#[actix_rt::test]
async fn fork_copies_the_path(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let c = create_convo(&app, "to fork").await;
    let id = c["id"].as_str().unwrap();
    let u = add_msg(&app, id, "user", "q", None).await;
    let a = add_msg(&app, id, "assistant", "a", None).await;
    add_msg(&app, id, "user", "q2", None).await;
    let (s, f) = send(
        &app,
        post(
            &format!("/api/v1/conversations/{id}/fork"),
            json!({"message_id": a["id"]}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{f}");
    assert_eq!(f["forked_from"]["conversation_id"], id);
    assert_eq!(f["forked_from"]["message_id"], a["id"]);
    assert_eq!(f["message_count"], 2);
    assert_ne!(f["id"], c["id"]);
    let (_, fd) = send(
        &app,
        get(&format!(
            "/api/v1/conversations/{}",
            f["id"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(fd["messages"][0]["content"], u["content"]);
    assert_error(
        &send(
            &app,
            post(
                &format!("/api/v1/conversations/{id}/fork"),
                json!({"message_id": "ghost"}),
            ),
        )
        .await,
        404,
        "message_not_found",
    );
    assert_error(
        &send(
            &app,
            post(
                "/api/v1/conversations/ghost/fork",
                json!({"message_id": a["id"]}),
            ),
        )
        .await,
        404,
        "conversation_not_found",
    );
}

#[rstest]
#[actix_rt::test]
async fn tags_and_folders(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let c = create_convo(&app, "tagged").await;
    let id = c["id"].as_str().unwrap();
    let (s, t) = send(
        &app,
        TestRequest::put().uri(&format!("/api/v1/conversations/{id}/tags/deep%20work")),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["tags"], json!(["deep work"]));
    send(
        &app,
        TestRequest::put().uri(&format!("/api/v1/conversations/{id}/tags/rust")),
    )
    .await;
    let (s, tags) = send(&app, get("/api/v1/tags")).await;
    assert_eq!(s, 200);
    assert_eq!(
        tags,
        json!([{"name": "deep work", "count": 1}, {"name": "rust", "count": 1}])
    );
    let (s, t) = send(
        &app,
        delete(&format!("/api/v1/conversations/{id}/tags/rust")),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(t["tags"], json!(["deep work"]));
    let long = "x".repeat(65);
    assert_error(
        &send(
            &app,
            TestRequest::put().uri(&format!("/api/v1/conversations/{id}/tags/{long}")),
        )
        .await,
        400,
        "invalid_input",
    );
    assert_error(
        &send(
            &app,
            TestRequest::put().uri("/api/v1/conversations/ghost/tags/x"),
        )
        .await,
        404,
        "conversation_not_found",
    );

    let imported = json!({"title": "imp", "source": "claude", "source_id": "c1", "archived": true});
    send(&app, put("/api/v1/conversations/imp-claude", imported)).await;
    let (s, folders) = send(&app, get("/api/v1/folders")).await;
    assert_eq!(s, 200);
    assert!(
        folders
            .as_array()
            .unwrap()
            .contains(&json!({"path": "", "source": "native", "count": 1, "archived_count": 0})),
        "{folders}"
    );
    assert!(
        folders.as_array().unwrap().contains(
            &json!({"path": "imported/claude", "source": "claude", "count": 0, "archived_count": 1})
        ),
        "{folders}"
    );
}

#[rstest]
#[actix_rt::test]
async fn ratings(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let c = create_convo(&app, "rated").await;
    let id = c["id"].as_str().unwrap();
    add_msg(&app, id, "user", "q", None).await;
    let a = add_msg(&app, id, "assistant", "a", None).await;
    let mid = a["id"].as_str().unwrap();
    let url = format!("/api/v1/messages/{mid}/rating");
    let (s, r) = send(&app, put(&url, json!({"rating": "up", "reason": "clear"}))).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["value"], "up");
    assert_eq!(r["reason"], "clear");
    let (_, m) = send(&app, get(&format!("/api/v1/messages/{mid}"))).await;
    assert_eq!(m["rating"]["value"], "up");
    let (_, d) = send(&app, get(&format!("/api/v1/conversations/{id}"))).await;
    assert_eq!(d["messages"][1]["rating"]["reason"], "clear");
    let (s, rated) = send(&app, get("/api/v1/ratings?value=up")).await;
    assert_eq!(s, 200);
    assert_eq!(rated[0]["message"]["id"], mid);
    let (_, rated) = send(&app, get("/api/v1/ratings?value=down")).await;
    assert_eq!(rated, json!([]));
    assert_error(
        &send(&app, get("/api/v1/ratings?value=sideways")).await,
        400,
        "invalid_query",
    );
    assert_error(
        &send(&app, put(&url, json!({"rating": "meh"}))).await,
        400,
        "invalid_json",
    );
    assert_error(
        &send(
            &app,
            put("/api/v1/messages/ghost/rating", json!({"rating": "down"})),
        )
        .await,
        404,
        "message_not_found",
    );
    let (s, _, _) = send_raw(&app, delete(&url)).await;
    assert_eq!(s, 204);
    let (_, m) = send(&app, get(&format!("/api/v1/messages/{mid}"))).await;
    assert_eq!(m["rating"], Value::Null);
    assert_error(
        &send(&app, delete("/api/v1/messages/ghost/rating")).await,
        404,
        "message_not_found",
    );
}

#[rstest]
#[actix_rt::test]
async fn search_finds_messages_and_survives_hostile_queries(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let c = create_convo(&app, "Crustacean notes").await;
    let id = c["id"].as_str().unwrap();
    let m = add_msg(
        &app,
        id,
        "user",
        "Tell me about ferris the crab and the borrow checker",
        None,
    )
    .await;
    add_msg(
        &app,
        id,
        "assistant",
        "Ferris is the unofficial mascot of Rust.",
        None,
    )
    .await;

    let (s, r) = send(&app, get("/api/v1/search?q=borrow%20checker")).await;
    assert_eq!(s, 200, "{r}");
    let hit = &r["hits"][0];
    assert_eq!(hit["conversation_id"], id);
    assert_eq!(hit["message_id"], m["id"]);
    assert_eq!(hit["role"], "user");
    assert!(hit["snippet"].as_str().unwrap().contains("<mark>"));
    assert!(hit["score"].is_number());
    assert!(hit["created_at"].is_string());
    assert_eq!(hit["title"], "Crustacean notes");
    let (_, r) = send(&app, get("/api/v1/search?q=ferris&role=assistant")).await;
    assert_eq!(r["hits"].as_array().unwrap().len(), 1);
    let (_, r) = send(&app, get("/api/v1/search?q=crustacean")).await;
    assert_eq!(r["hits"][0]["message_id"], Value::Null, "a title hit");
    let (_, r) = send(&app, get("/api/v1/search?q=ferris&source=chatgpt")).await;
    assert_eq!(r["hits"], json!([]));

    let long = "ferris ".repeat(1500);
    let hostile = [
        "\"unbalanced",
        "AND OR",
        "*",
        "NEAR(",
        "title:",
        "",
        "   ",
        "\"\"",
        "ferris AND",
        "(ferris",
        "ferris)",
        "-ferris",
        "^ferris",
        "ferris*",
        "NOT",
        "a:b:c",
        "'; DROP TABLE convos; --",
        "%",
        "\\",
        "\u{0}",
        "日本語",
        "💥",
        "{col}:x",
        "NEAR(ferris crab, 2)",
        &long,
    ];
    for q in hostile {
        let (s, r) = send(&app, get(&format!("/api/v1/search?q={}", enc(q)))).await;
        assert!(s == 200 || s == 400, "query {q:?} gave {s}: {r}");
        if s == 200 {
            assert!(r["hits"].is_array(), "query {q:?}: {r}");
        } else {
            assert!(r["error"].is_string());
        }
    }
    let (s, r) = send(&app, get("/api/v1/search")).await;
    assert_eq!(s, 200);
    assert_eq!(r["hits"], json!([]));
    // The store still works after all that.
    let (_, r) = send(&app, get("/api/v1/search?q=ferris")).await;
    assert!(!r["hits"].as_array().unwrap().is_empty());
}

#[rstest]
#[actix_rt::test]
async fn export_one_conversation(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let c = create_convo(&app, "Export: me/../now").await;
    let id = c["id"].as_str().unwrap();
    add_msg(&app, id, "user", "hello **there**", None).await;
    let (s, h, body) = send_raw(
        &app,
        get(&format!("/api/v1/conversations/{id}/export?format=md")),
    )
    .await;
    assert_eq!(s, 200);
    let cd = h
        .get(header::CONTENT_DISPOSITION)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cd.starts_with("attachment"), "{cd}");
    assert!(cd.contains("filename=\"export-me-now-"), "{cd}");
    assert!(cd.contains(".md\""), "{cd}");
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains("hello **there**"));
    assert!(text.starts_with("---\n"));

    let (s, h, body) = send_raw(
        &app,
        get(&format!("/api/v1/conversations/{id}/export?format=json")),
    )
    .await;
    assert_eq!(s, 200);
    assert!(h
        .get(header::CONTENT_DISPOSITION)
        .unwrap()
        .to_str()
        .unwrap()
        .contains(".json"));
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["format"], "ai-os-chat.conversation");
    assert_eq!(
        doc["conversation"]["messages"][0]["content"],
        "hello **there**"
    );

    assert_error(
        &send(
            &app,
            get(&format!("/api/v1/conversations/{id}/export?format=pdf")),
        )
        .await,
        400,
        "invalid_query",
    );
    assert_error(
        &send(&app, get("/api/v1/conversations/ghost/export")).await,
        404,
        "conversation_not_found",
    );
}

#[rstest]
#[actix_rt::test]
async fn export_everything_streams(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env();
    let app = service!(env);
    // Enough text to need many body chunks.
    let big = "lorem ipsum ".repeat(20_000);
    let mut ids = HashSet::new();
    for i in 0..5 {
        let c = create_convo(&app, &format!("c{i}")).await;
        let id = c["id"].as_str().unwrap().to_owned();
        add_msg(&app, &id, "user", &big, None).await;
        let a = add_msg(&app, &id, "assistant", &format!("answer {i}"), None).await;
        if i == 0 {
            send(
                &app,
                put(
                    &format!("/api/v1/messages/{}/rating", a["id"].as_str().unwrap()),
                    json!({"rating": "up"}),
                ),
            )
            .await;
            send(
                &app,
                patch(
                    &format!("/api/v1/conversations/{id}"),
                    json!({"archived": true}),
                ),
            )
            .await;
        }
        ids.insert(id);
    }
    let (s, h, body) = send_raw(&app, get("/api/v1/export")).await;
    assert_eq!(s, 200);
    assert!(h
        .get(header::CONTENT_DISPOSITION)
        .unwrap()
        .to_str()
        .unwrap()
        .contains(".json"));
    assert!(
        h.get(header::CONTENT_LENGTH).is_none(),
        "streamed, not sized up front"
    );
    let docs: Vec<Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(docs.len(), 5, "archived included");
    let got: HashSet<String> = docs
        .iter()
        .map(|d| d["conversation"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, ids);

    let (s, _, body) = send_raw(&app, get("/api/v1/export?format=finetune")).await;
    assert_eq!(s, 200);
    let text = String::from_utf8(body.to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one up-rated answer");
    let line: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(line["messages"][1]["content"], "answer 0");

    let (_, _, body) = send_raw(&app, get("/api/v1/export?archived=false")).await;
    let docs: Vec<Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(docs.len(), 4);
}

#[rstest]
#[actix_rt::test]
async fn bulk_archive_by_age(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env();
    let app = service!(env);
    create_convo(&app, "a").await;
    create_convo(&app, "b").await;
    send(
        &app,
        put(
            "/api/v1/conversations/imp",
            json!({"title": "i", "source": "gemini", "source_id": "g"}),
        ),
    )
    .await;
    let (s, r) = send(
        &app,
        post(
            "/api/v1/conversations/archive",
            json!({"before": "2999-01-01T00:00:00Z", "source": "gemini"}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["archived"], 1);
    let (_, r) = send(
        &app,
        post(
            "/api/v1/conversations/archive",
            json!({"before": "2000-01-01T00:00:00Z"}),
        ),
    )
    .await;
    assert_eq!(r["archived"], 0);
    let (_, r) = send(
        &app,
        post(
            "/api/v1/conversations/archive",
            json!({"before": "2999-01-01T00:00:00Z"}),
        ),
    )
    .await;
    assert_eq!(r["archived"], 2);
    assert_error(
        &send(
            &app,
            post(
                "/api/v1/conversations/archive",
                json!({"before": "last week"}),
            ),
        )
        .await,
        400,
        "invalid_json",
    );
}

#[rstest]
#[actix_rt::test]
async fn put_saves_the_full_state(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let c = create_convo(&app, "full").await;
    let id = c["id"].as_str().unwrap();
    add_msg(&app, id, "user", "one", None).await;
    let a = add_msg(&app, id, "assistant", "two", None).await;
    send(
        &app,
        TestRequest::put().uri(&format!("/api/v1/conversations/{id}/tags/keep")),
    )
    .await;
    let url = format!("/api/v1/conversations/{id}");
    // What GET returns can be PUT back, edited.
    let (_, mut doc) = send(&app, get(&format!("{url}?branch=all&hidden=true"))).await;
    doc["title"] = json!("renamed");
    doc["messages"][1]["content"] = json!("two, edited");
    doc["messages"][1]["rating"] = json!({"value": "down", "reason": "too short"});
    doc["tags"] = json!(["new"]);
    let (s, saved) = send(&app, put(&url, doc)).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["title"], "renamed");
    assert_eq!(saved["tags"], json!(["new"]));
    assert_eq!(saved["created_at"], c["created_at"]);
    let (_, d) = send(&app, get(&url)).await;
    assert_eq!(d["messages"][1]["content"], "two, edited");
    assert_eq!(d["messages"][1]["id"], a["id"]);
    assert_eq!(d["messages"][1]["rating"]["value"], "down");

    // Dropping a message deletes it.
    let (_, mut doc) = send(&app, get(&format!("{url}?branch=all&hidden=true"))).await;
    doc["messages"].as_array_mut().unwrap().pop();
    // The leaf is gone, so it must be named again (or left out: the last message).
    let got = send(&app, put(&url, doc.clone())).await;
    assert_error(&got, 400, "invalid_input");
    doc["current_message_id"] = Value::Null;
    let (s, saved) = send(&app, put(&url, doc)).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["message_count"], 1);

    // A new id creates.
    let (s, created) = send(&app, put("/api/v1/conversations/brand-new", json!({"title": "new", "messages": [
        {"id": "m1", "role": "user", "content": "hi", "created_at": "2024-01-02T03:04:05Z"},
        {"id": "m2", "parent_id": "m1", "role": "assistant", "content": "hello", "status": "interrupted"}
    ]}))).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["current_message_id"], "m2");
    let (_, d) = send(&app, get("/api/v1/conversations/brand-new")).await;
    assert_eq!(d["messages"][0]["created_at"], "2024-01-02T03:04:05Z");
    assert_eq!(d["messages"][1]["status"], "interrupted");

    // Validation.
    assert_error(
        &send(&app, put(&url, json!({"id": "other"}))).await,
        400,
        "invalid_input",
    );
    assert_error(
        &send(&app, put(&url, json!({"messages": [{"id": "x", "parent_id": "nowhere", "role": "user", "content": "a"}]}))).await,
        400,
        "invalid_input",
    );
    assert_error(
        &send(
            &app,
            put(
                &url,
                json!({"messages": [{"id": "x", "role": "user"}, {"id": "x", "role": "user"}]}),
            ),
        )
        .await,
        400,
        "invalid_input",
    );
    assert_error(
        &send(&app, put(&url, json!({"current_message_id": "ghost"}))).await,
        400,
        "invalid_input",
    );
}

#[rstest]
#[actix_rt::test]
async fn stats_count_by_month_and_source(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env();
    let app = service!(env);
    send(
        &app,
        put(
            "/api/v1/conversations/s1",
            json!({"title": "s", "source": "chatgpt", "source_id": "s1",
        "created_at": "2024-03-05T00:00:00Z",
        "messages": [{"role": "user", "content": "a", "created_at": "2024-03-05T00:00:00Z"},
                     {"role": "user", "content": "b", "created_at": "2024-04-05T00:00:00Z"}]}),
        ),
    )
    .await;
    let (s, st) = send(&app, get("/api/v1/stats")).await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["conversations"], 1);
    assert_eq!(st["messages"], 2);
    assert_eq!(
        st["months"],
        json!([
            {"month": "2024-03", "source": "chatgpt", "conversations": 1, "messages": 1},
            {"month": "2024-04", "source": "chatgpt", "conversations": 0, "messages": 1},
        ])
    );
}

#[rstest]
#[actix_rt::test]
async fn openapi_covers_every_endpoint(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let (s, doc) = send(&app, get("/api/v1/openapi.json")).await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/api/v1/health", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/conversations", "get"),
        ("/api/v1/conversations", "post"),
        ("/api/v1/conversations/archive", "post"),
        ("/api/v1/conversations/{id}", "get"),
        ("/api/v1/conversations/{id}", "put"),
        ("/api/v1/conversations/{id}", "patch"),
        ("/api/v1/conversations/{id}", "delete"),
        ("/api/v1/conversations/{id}/messages", "post"),
        ("/api/v1/conversations/{id}/fork", "post"),
        ("/api/v1/conversations/{id}/export", "get"),
        ("/api/v1/conversations/{id}/tags/{tag}", "put"),
        ("/api/v1/conversations/{id}/tags/{tag}", "delete"),
        ("/api/v1/tags", "get"),
        ("/api/v1/folders", "get"),
        ("/api/v1/messages/{id}", "get"),
        ("/api/v1/messages/{id}/rating", "put"),
        ("/api/v1/messages/{id}/rating", "delete"),
        ("/api/v1/ratings", "get"),
        ("/api/v1/search", "get"),
        ("/api/v1/media/{id}", "get"),
        ("/api/v1/stats", "get"),
        ("/api/v1/export", "get"),
        ("/api/v1/imports", "get"),
        ("/api/v1/imports", "post"),
        ("/api/v1/imports/{id}", "get"),
        ("/api/v1/imports/{id}/cancel", "post"),
        ("/api/v1/imports/{id}/explain", "post"),
        ("/api/v1/imports/{id}/retry", "post"),
        ("/api/v1/conversations/{id}/summary", "post"),
        ("/api/v1/ws", "get"),
    ];
    for (path, method) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "an endpoint is documented but not in this list"
    );
    assert!(doc["components"]["schemas"]["ConversationView"].is_object());
}

#[rstest]
#[actix_rt::test]
async fn mounts_under_a_prefix(#[values(Backend::Sqlite, Backend::Postgres)] backend: Backend) {
    backend.enter();
    let env = env();
    let app = actix_web::test::init_service(
        actix_web::App::new()
            .app_data(env.state.clone())
            .service(actix_web::web::scope("/chat").configure(chat_api::configure)),
    )
    .await;
    assert_eq!(send(&app, get("/chat/api/v1/health")).await.0, 200);
    let (s, c) = send(
        &app,
        post("/chat/api/v1/conversations", json!({"title": "x"})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = send(
        &app,
        get(&format!(
            "/chat/api/v1/conversations/{}",
            c["id"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(s, 200);
}

#[rstest]
#[actix_rt::test]
async fn changes_are_broadcast_on_the_hub(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = env();
    let app = service!(env);
    let mut rx = env.state.hub().subscribe();
    let c = create_convo(&app, "live").await;
    let msg = rx.recv().await.unwrap();
    let event = serde_json::to_value(&*msg.event).unwrap();
    assert_eq!(event["type"], "conversation.updated");
    assert_eq!(event["conversation"]["id"], c["id"]);
    send(
        &app,
        delete(&format!(
            "/api/v1/conversations/{}",
            c["id"].as_str().unwrap()
        )),
    )
    .await;
    let event = serde_json::to_value(&*rx.recv().await.unwrap().event).unwrap();
    assert_eq!(event["type"], "conversation.deleted");
}
