#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The AI OS frontend's library contract against a real server on loopback, over real HTTP:
//! `/api/conversations/*` (list, turns of the active branch, changes, summaries, exports),
//! `/api/ratings/*`, `/api/import/*` (upload, parse, commit with one of our fixtures) and
//! `/api/models*`, with their exact shapes and error statuses.

mod common;

use common::Backend;
use rstest::rstest;

use std::sync::Arc;
use std::time::Duration;

use chat_llm::{ChatProvider, OfflineProvider};
use serde_json::{json, Value};

use common::aios::{delete, get, multipart, post, post_empty, post_raw, put, Reply};
use common::fake_llm::{self, FakeServer, Step};
use common::live::Live;

fn offline() -> Arc<dyn ChatProvider> {
    Arc::new(OfflineProvider::new().with_delay(Duration::ZERO))
}

fn live_with(provider: Arc<dyn ChatProvider>) -> (common::Env, Live) {
    let env = common::env_with(|b| b.provider(provider));
    let live = Live::start(env.state.clone());
    (env, live)
}

/// The sorted keys of a JSON object.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

/// Adds a message through our own API; returns its id.
async fn add(
    live: &Live,
    conversation: &str,
    role: &str,
    content: &str,
    parent: Option<&str>,
) -> String {
    let (status, m) = post(
        live,
        &format!("/api/v1/conversations/{conversation}/messages"),
        json!({"role": role, "content": content, "parent_id": parent}),
    )
    .await;
    assert_eq!(status, 201, "{m}");
    m["id"].as_str().unwrap().to_owned()
}

/// A conversation with two branches after the first turn; the second (active) branch ends
/// with a question not answered. Returns its id and the message ids by name.
async fn branched(live: &Live) -> (String, Vec<String>) {
    let (status, c) = post(live, "/api/v1/conversations", json!({"title": "Branches"})).await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_owned();
    let u1 = add(
        live,
        &id,
        "user",
        "first question\n\nwith a blank line",
        None,
    )
    .await;
    let a1 = add(live, &id, "assistant", "first answer", None).await;
    let old_u = add(live, &id, "user", "abandoned question", None).await;
    add(live, &id, "assistant", "abandoned answer", None).await;
    let u2 = add(live, &id, "user", "second question", Some(&a1)).await;
    let a2 = add(live, &id, "assistant", "```rust\nfn main() {}\n```", None).await;
    let u3 = add(live, &id, "user", "a question left open", None).await;
    (id, vec![u1, a1, u2, a2, u3, old_u])
}

#[rstest]
#[actix_rt::test]
async fn turns_are_pairs_of_the_active_branch_only(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let (id, m) = branched(&live).await;
    let (status, view) = get(&live, &format!("/api/conversations/{id}")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        keys(&view),
        [
            "name",
            "session_id",
            "source",
            "started",
            "state_snapshot",
            "summary",
            "total_turns",
            "turns",
            "weight"
        ]
    );
    assert_eq!(view["session_id"], id.as_str());
    assert_eq!(view["name"], "Branches");
    assert_eq!(view["source"], "aios");
    assert_eq!(view["total_turns"], 3);
    let turns = view["turns"].as_array().unwrap();
    let pairs: Vec<(&str, &str)> = turns
        .iter()
        .map(|t| {
            (
                t["user"].as_str().unwrap(),
                t["assistant"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("first question\n\nwith a blank line", "first answer"),
            ("second question", "```rust\nfn main() {}\n```"),
            ("a question left open", ""),
        ]
    );
    assert_eq!(turns[0]["user_message_id"], m[0].as_str());
    assert_eq!(turns[0]["assistant_message_id"], m[1].as_str());
    assert_eq!(turns[1]["user_message_id"], m[2].as_str());
    assert_eq!(turns[1]["assistant_message_id"], m[3].as_str());
    assert_eq!(turns[2]["user_message_id"], m[4].as_str());
    assert_eq!(turns[2]["assistant_message_id"], Value::Null);
    assert_eq!(
        keys(&turns[0]),
        [
            "assistant",
            "assistant_message_id",
            "timestamp",
            "user",
            "user_message_id"
        ]
    );
    assert!(turns.iter().all(|t| t["timestamp"].is_string()));
    assert!(!view.to_string().contains("abandoned"));

    // A page of turns.
    let (_, page) = get(&live, &format!("/api/conversations/{id}?limit=1&offset=1")).await;
    assert_eq!(page["total_turns"], 3);
    assert_eq!(page["turns"].as_array().unwrap().len(), 1);
    assert_eq!(page["turns"][0]["user"], "second question");

    // The list counts the same turns.
    let (_, list) = get(&live, "/api/conversations").await;
    let row = &list[0];
    assert_eq!(
        keys(row),
        [
            "archived",
            "last_message",
            "name",
            "preview",
            "session_id",
            "source",
            "started",
            "summary",
            "turn_count",
            "weight"
        ]
    );
    assert_eq!(row["turn_count"], 3);
    assert_eq!(row["source"], "aios");
    assert_eq!(row["archived"], false);
    assert!(row["preview"]
        .as_str()
        .unwrap()
        .starts_with("first question"));

    let (status, body) = get(&live, "/api/conversations/no-such-id").await;
    assert_eq!(
        (status.as_u16(), &body["error"]),
        (404, &json!("conversation_not_found"))
    );
}

#[rstest]
#[actix_rt::test]
async fn the_list_searches_filters_and_each_change_answers_as_the_original(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let (status, created) = post_empty(&live, "/api/conversations/new").await;
    assert_eq!(status, 200);
    assert_eq!(keys(&created), ["session_id"]);
    let id = created["session_id"].as_str().unwrap().to_owned();
    add(&live, &id, "user", "sourdough starter feeding", None).await;
    let (_, other) = post_empty(&live, "/api/conversations/new").await;
    let other = other["session_id"].as_str().unwrap().to_owned();
    add(&live, &other, "user", "bicycle chain", None).await;

    let (_, found) = get(&live, "/api/conversations?search=sourdough").await;
    let found: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(found, [id.as_str()]);
    let (_, limited) = get(&live, "/api/conversations?limit=1").await;
    assert_eq!(limited.as_array().unwrap().len(), 1);

    let path = |action: &str| format!("/api/conversations/{id}/{action}");
    let (status, body) = post(&live, &path("rename"), json!({"name": "Bread"})).await;
    assert_eq!(
        (status.as_u16(), body),
        (200, json!({"success": true, "name": "Bread"}))
    );
    let (status, _) = post(&live, &path("rename"), json!({"name": "  "})).await;
    assert_eq!(status, 400);
    let (status, body) = post_empty(&live, &path("archive")).await;
    assert_eq!(
        (status.as_u16(), body),
        (200, json!({"success": true, "archived": true}))
    );
    let (_, active) = get(&live, "/api/conversations").await;
    assert_eq!(active.as_array().unwrap().len(), 1);
    let (_, archived) = get(&live, "/api/conversations?archived=true").await;
    assert_eq!(archived[0]["name"], "Bread");
    assert_eq!(archived[0]["archived"], true);
    let (_, all) = get(&live, "/api/conversations?archived=all").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (status, body) = post_empty(&live, &path("unarchive")).await;
    assert_eq!(
        (status.as_u16(), body),
        (200, json!({"success": true, "archived": false}))
    );
    assert_eq!(
        get(&live, "/api/conversations")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        2
    );

    for action in ["archive", "unarchive"] {
        let (status, _) = post_empty(&live, &format!("/api/conversations/nope/{action}")).await;
        assert_eq!(status, 404, "{action}");
    }
    let (status, _) = post(
        &live,
        "/api/conversations/nope/rename",
        json!({"name": "x"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = get(&live, "/api/conversations?archived=maybe").await;
    assert_eq!(status, 400);

    let (status, body) = delete(&live, &format!("/api/conversations/{other}")).await;
    assert_eq!(
        (status.as_u16(), body),
        (200, json!({"success": true, "deleted": other}))
    );
    let (status, _) = delete(&live, &format!("/api/conversations/{other}")).await;
    assert_eq!(status, 404);

    let (status, body) = delete(&live, "/api/conversations/source/aios").await;
    assert_eq!(
        (status.as_u16(), body),
        (
            200,
            json!({"success": true, "source": "aios", "deleted_count": 1})
        )
    );
    let (status, body) = delete(&live, "/api/conversations/source/myspace").await;
    assert_eq!(
        (status.as_u16(), &body["error"]),
        (400, &json!("invalid_input"))
    );
    assert!(body["message"].as_str().unwrap().contains("myspace"));
    assert_eq!(
        get(&live, "/api/conversations?archived=all").await.1,
        json!([])
    );
}

/// A model that answers everything with one summary.
async fn summariser() -> FakeServer {
    FakeServer::start(|_| fake_llm::sse_reply(&["Bread, ", "in one line."])).await
}

#[rstest]
#[actix_rt::test]
async fn summaries_follow_the_stored_prompt(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let fake = summariser().await;
    let (_env, live) = live_with(chat_llm::provider_from_config(Some(fake.config())).unwrap());
    let (status, p) = get(&live, "/api/conversations/summary/prompt").await;
    assert_eq!(status, 200);
    assert_eq!(p["is_default"], true);
    assert!(!p["prompt"].as_str().unwrap().is_empty());

    let mine = "Summarise as a haiku about bread.";
    let (status, body) = put(
        &live,
        "/api/conversations/summary/prompt",
        json!({"prompt": mine}),
    )
    .await;
    assert_eq!((status.as_u16(), body), (200, json!({"success": true})));
    let (_, p) = get(&live, "/api/conversations/summary/prompt").await;
    assert_eq!(p, json!({"prompt": mine, "is_default": false}));
    let (status, _) = put(
        &live,
        "/api/conversations/summary/prompt",
        json!({"prompt": " "}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = put(&live, "/api/conversations/summary/prompt", json!({})).await;
    assert_eq!(status, 400);

    let (_, c) = post_empty(&live, "/api/conversations/new").await;
    let id = c["session_id"].as_str().unwrap().to_owned();
    add(&live, &id, "user", "how do I feed a starter?", None).await;
    add(&live, &id, "assistant", "flour and water", None).await;
    let (status, body) = post_empty(&live, &format!("/api/conversations/{id}/summarize")).await;
    assert_eq!(
        (status.as_u16(), body),
        (
            200,
            json!({"success": true, "session_id": id, "summary": "Bread, in one line."})
        )
    );
    let asked = fake.requests();
    let asked = String::from_utf8_lossy(&asked.last().unwrap().body).into_owned();
    assert!(asked.contains(mine), "{asked}");
    assert_eq!(
        get(&live, "/api/conversations").await.1[0]["summary"],
        "Bread, in one line."
    );
    let (status, _) = post_empty(&live, "/api/conversations/nope/summarize").await;
    assert_eq!(status, 404);
}

/// `GET path`: status, `Content-Disposition` and JSON body.
async fn download(live: &Live, path: &str) -> (u16, String, Value) {
    let mut res = awc::Client::default()
        .get(live.url(path))
        .send()
        .await
        .unwrap();
    let disposition = res
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.body().limit(64 << 20).await.unwrap();
    (
        res.status().as_u16(),
        disposition,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

#[rstest]
#[actix_rt::test]
async fn exports_have_the_original_shape_and_a_file_name(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let (id, _) = branched(&live).await;
    let (status, disposition, doc) =
        download(&live, &format!("/api/conversations/{id}/export")).await;
    assert_eq!(status, 200);
    assert!(
        disposition.contains(&format!("conversation_{id}.json")),
        "{disposition}"
    );
    assert_eq!(
        keys(&doc),
        ["conversation", "exported_at", "platform", "version"]
    );
    assert_eq!(doc["platform"], "AI_OS");
    let c = &doc["conversation"];
    assert_eq!(c["session_id"], id.as_str());
    assert_eq!(c["turns"].as_array().unwrap().len(), 3);
    assert_eq!(c["turns"][1]["assistant"], "```rust\nfn main() {}\n```");

    let (_, other) = post_empty(&live, "/api/conversations/new").await;
    let other = other["session_id"].as_str().unwrap();
    post_empty(&live, &format!("/api/conversations/{other}/archive")).await;
    let (status, disposition, all) = download(&live, "/api/conversations/export/all").await;
    assert_eq!(status, 200);
    assert!(
        disposition.contains("ai_os_conversations_active_"),
        "{disposition}"
    );
    assert_eq!(all["platform"], "AI_OS");
    let ids = |d: &Value| -> Vec<String> {
        d["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["session_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&all), [id.as_str()]);
    let (_, _, everything) = download(&live, "/api/conversations/export/all?archived=all").await;
    assert_eq!(ids(&everything).len(), 2);
    let (status, _, _) = download(&live, "/api/conversations/nope/export").await;
    assert_eq!(status, 404);
}

#[rstest]
#[actix_rt::test]
async fn ratings_are_ours_and_feed_the_finetuning_export(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let (id, m) = branched(&live).await;
    let rate = |message: &str, rating: &str| {
        json!({
            "message_id": message, "conversation_id": id, "rating": rating,
            "user_message": "q", "assistant_message": "a", "system_prompt": null, "reason": "ok"
        })
    };
    let (status, body) = post(&live, "/api/ratings/rate", rate(&m[3], "up")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["finetune_saved", "message", "success"]);
    assert_eq!(
        (&body["success"], &body["finetune_saved"]),
        (&json!(true), &json!(true))
    );
    let (_, body) = post(&live, "/api/ratings/rate", rate(&m[1], "down")).await;
    assert_eq!(body["finetune_saved"], false);

    let (_, stored) = get(&live, &format!("/api/v1/messages/{}", m[3])).await;
    assert_eq!(stored["rating"]["value"], "up", "{stored}");
    let res = awc::Client::default()
        .get(live.url("/api/v1/export?format=finetune"))
        .send()
        .await;
    let jsonl = String::from_utf8(res.unwrap().body().await.unwrap().to_vec()).unwrap();
    assert_eq!(jsonl.lines().count(), 1, "{jsonl}");
    assert!(jsonl.contains("fn main()"), "{jsonl}");

    let (status, body) = post(&live, "/api/ratings/rate", rate("no-such-message", "up")).await;
    assert_eq!(
        (status.as_u16(), &body["error"]),
        (404, &json!("message_not_found"))
    );
    let mut elsewhere = rate(&m[3], "up");
    elsewhere["conversation_id"] = json!("another-conversation");
    assert_eq!(post(&live, "/api/ratings/rate", elsewhere).await.0, 404);
    assert_eq!(
        post(&live, "/api/ratings/rate", rate(&m[3], "sideways"))
            .await
            .0,
        400
    );

    let (status, stats) = get(&live, "/api/ratings/stats").await;
    assert_eq!(status, 200);
    assert_eq!(
        stats,
        json!({"total_approved": 1, "total_negative": 1, "total_rated": 2,
               "finetune_export": "/api/v1/export?format=finetune"})
    );
}

/// Uploads `bytes` as `name` with the dialog's multipart form.
async fn upload(live: &Live, name: &str, bytes: &[u8], platform: Option<&str>) -> Reply {
    let fields: Vec<(&str, &str)> = platform.map(|p| ("platform", p)).into_iter().collect();
    let (content_type, body) = multipart(&[(name, bytes)], &fields);
    post_raw(live, "/api/import/upload", &content_type, body).await
}

#[rstest]
#[actix_rt::test]
async fn an_import_goes_through_upload_parse_and_commit(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let export = common::fixture("chatgpt-single/conversations.json");
    let (status, up) = upload(&live, "conversations.json", &export, Some("chatgpt")).await;
    assert_eq!(status, 200, "{up}");
    assert_eq!(keys(&up), ["files", "size", "upload_id"]);
    assert_eq!(up["size"], export.len());
    let upload_id = up["upload_id"].as_str().unwrap().to_owned();

    // A URL-encoded form, as the dialog's fetch sends it.
    let form = format!("upload_id={upload_id}&platform=chatgpt");
    let (status, preview) = post_raw(
        &live,
        "/api/import/parse",
        "application/x-www-form-urlencoded",
        form.into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["platform"], "chatgpt");
    assert_eq!(preview["total_conversations"], 3);
    let first = &preview["conversations"][0];
    assert_eq!(
        (&first["id"], &first["title"], &first["created_at"]),
        (
            &json!("c0a1-0001"),
            &json!("Sourdough starter"),
            &json!("2023-11-14T22:13:20Z")
        )
    );
    assert!(first["message_count"].as_u64().unwrap() > 0);
    assert_eq!(preview["conversations"].as_array().unwrap().len(), 3);
    assert_eq!(
        get(&live, "/api/conversations").await.1,
        json!([]),
        "a preview writes nothing"
    );

    let (content_type, body) = multipart(
        &[],
        &[("upload_id", &upload_id), ("organize_by_project", "true")],
    );
    let (status, job) = post_raw(&live, "/api/import/commit", &content_type, body).await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["report"]["totals"]["imported"], 3, "{job}");
    let (_, list) = get(&live, "/api/conversations").await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["source"] == "chatgpt"));
    let (_, jobs) = get(&live, "/api/v1/imports").await;
    assert!(
        jobs.to_string().contains(&upload_id),
        "the commit is one of our import jobs"
    );

    // Committed uploads are gone; unknown ones are 404.
    let (status, body) = post(&live, "/api/import/commit", json!({"upload_id": upload_id})).await;
    assert_eq!(
        (status.as_u16(), &body["error"]),
        (404, &json!("upload_not_found"))
    );
    let (status, _) = post(&live, "/api/import/parse", json!({"upload_id": "nope"})).await;
    assert_eq!(status, 404);
    let (status, _) = post(&live, "/api/import/parse", json!({})).await;
    assert_eq!(status, 400);
    let (status, _) = upload(&live, "x.json", b"{}", Some("myspace")).await;
    assert_eq!(status, 400);
}

#[rstest]
#[actix_rt::test]
async fn a_file_that_is_not_an_export_is_explained(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let (status, up) = upload(
        &live,
        "notes.txt",
        b"just some notes, not an export\n",
        None,
    )
    .await;
    assert_eq!(status, 200, "{up}");
    let id = up["upload_id"].as_str().unwrap();
    let (status, body) = post(&live, "/api/import/parse", json!({"upload_id": id})).await;
    assert_eq!(
        (status.as_u16(), &body["error"]),
        (400, &json!("not_an_export")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("notes.txt"),
        "{body}"
    );
    let (status, body) = post(&live, "/api/import/commit", json!({"upload_id": id})).await;
    assert_eq!(
        (status.as_u16(), &body["error"]),
        (400, &json!("not_an_export")),
        "{body}"
    );
}

#[rstest]
#[actix_rt::test]
async fn models_come_from_the_model_server_or_the_offline_model(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let (status, models) = get(&live, "/api/models").await;
    assert_eq!(status, 200);
    assert_eq!(
        models,
        json!({"models": [{"id": "offline", "name": "offline", "provider": "offline"}],
               "current": "offline", "provider": "offline"})
    );
    let (_, current) = get(&live, "/api/models/current").await;
    assert_eq!(
        current,
        json!({"current": "offline", "provider": "offline"})
    );

    let fake = FakeServer::start(|r| {
        if r.path.ends_with("/models") {
            vec![Step::Write(fake_llm::response(
                "200 OK",
                "application/json",
                r#"{"object":"list","data":[{"id":"llama3.2"},{"id":"qwen2.5-coder"}]}"#,
            ))]
        } else {
            fake_llm::sse_reply(&["hi"])
        }
    })
    .await;
    let (_env, live) = live_with(chat_llm::provider_from_config(Some(fake.config())).unwrap());
    let (_, models) = get(&live, "/api/models").await;
    let ids: Vec<&str> = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["llama3.2", "qwen2.5-coder"]);
    assert_eq!(models["current"], "test-model");
    assert_eq!(models["models"][0]["provider"], models["provider"]);
    assert!(models.get("error").is_none());
    drop(fake);
    let (status, models) = get(&live, "/api/models").await;
    assert_eq!(
        status, 200,
        "a model server that is down still gets an answer"
    );
    assert_eq!(models["models"][0]["id"], "test-model");
    assert!(models["error"].is_string());
}

#[rstest]
#[actix_rt::test]
async fn a_commit_reports_progress_as_our_import_events(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let (_env, live) = live_with(offline());
    let mut events = live.connect().await;
    events.send(json!({"type": "ping"})).await;
    events.until("pong").await;
    let export = common::fixture("claude/conversations.json");
    let (_, up) = upload(&live, "conversations.json", &export, None).await;
    let upload_id = up["upload_id"].as_str().unwrap().to_owned();
    let (status, job) = post(&live, "/api/import/commit", json!({"upload_id": upload_id})).await;
    assert_eq!(
        (status.as_u16(), &job["status"]),
        (200, &json!("done")),
        "{job}"
    );
    loop {
        let f = events.until("import.progress").await.pop().unwrap();
        assert_eq!(f["id"], upload_id.as_str(), "the job's id is the upload's");
        if f["status"] == "done" {
            break;
        }
    }
}

#[rstest]
#[actix_rt::test]
async fn an_upload_has_the_limit_of_ours(
    #[values(Backend::Sqlite, Backend::Postgres)] backend: Backend,
) {
    backend.enter();
    let env = common::env_with(|b| b.provider(offline()).max_upload(1024));
    let live = Live::start(env.state.clone());
    let (status, body) = upload(&live, "big.json", &[b' '; 4096], None).await;
    assert_eq!(
        (status.as_u16(), &body["error"]),
        (413, &json!("payload_too_large")),
        "{body}"
    );
    let (status, _) = upload(&live, "small.json", b"[]", None).await;
    assert_eq!(status, 200);
}
