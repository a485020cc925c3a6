//! Shared helpers: a real SQLite file in a temp folder or a real PostgreSQL database, the API mounted with `configure`, and
//! request helpers that return the status and the JSON body.

#![allow(dead_code)]

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::web;
use chat_api::ApiState;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The fake model server lives in chat-llm (feature `testing`), shared with its own tests.
#[allow(unused_imports)] // not every test binary talks to a model
pub use chat_llm::testing as fake_llm;
pub mod aios;
pub mod live;

#[allow(unused_imports)] // not every test binary runs on both backends
pub use chat_store::test_server::Backend;

/// A store (a SQLite file in `dir`, or a PostgreSQL database) and the state over it. Keep it
/// alive for the test's duration.
pub struct Env {
    pub dir: TempDir,
    pub state: web::Data<ApiState>,
    _db: Option<chat_store::test_server::TestDatabase>,
}

/// A fresh database on the test's backend ([`Backend::enter`]; SQLite unless the test entered
/// another); `tweak` adjusts the state builder (token, limits).
pub fn env_with(tweak: impl FnOnce(chat_api::ApiStateBuilder) -> chat_api::ApiStateBuilder) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let (db, store) = chat_store::test_server::test_store(dir.path());
    let uploads = dir.path().join("uploads");
    std::fs::create_dir_all(&uploads).unwrap();
    let state = tweak(ApiState::builder(store).upload_dir(uploads)).build();
    Env {
        dir,
        state,
        _db: db,
    }
}

/// A fresh database with the default state (no token).
pub fn env() -> Env {
    env_with(|b| b)
}

/// Builds the test service for an [`Env`].
#[macro_export]
macro_rules! service {
    ($env:expr) => {
        actix_web::test::init_service(
            actix_web::App::new()
                .app_data($env.state.clone())
                .configure(chat_api::configure),
        )
        .await
    };
}

/// Sends a request; returns the status and the body parsed as JSON (`Value::Null` if empty or
/// not JSON).
pub async fn send<S, B>(app: &S, req: TestRequest) -> (StatusCode, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let body = test::read_body(res).await;
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, json)
}

/// Sends a request; returns the status, the headers and the raw body.
pub async fn send_raw<S, B>(
    app: &S,
    req: TestRequest,
) -> (StatusCode, actix_web::http::header::HeaderMap, bytes::Bytes)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let body = test::read_body(res).await;
    (status, headers, body)
}

pub fn get(uri: &str) -> TestRequest {
    TestRequest::get().uri(uri)
}

pub fn post(uri: &str, body: Value) -> TestRequest {
    TestRequest::post().uri(uri).set_json(body)
}

pub fn put(uri: &str, body: Value) -> TestRequest {
    TestRequest::put().uri(uri).set_json(body)
}

pub fn patch(uri: &str, body: Value) -> TestRequest {
    TestRequest::patch().uri(uri).set_json(body)
}

pub fn delete(uri: &str) -> TestRequest {
    TestRequest::delete().uri(uri)
}

/// Asserts an error response's status and code.
#[track_caller]
pub fn assert_error(got: &(StatusCode, Value), status: u16, code: &str) {
    assert_eq!(got.0.as_u16(), status, "body: {}", got.1);
    assert_eq!(got.1["error"], code, "body: {}", got.1);
    assert!(got.1["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/import")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn raw_upload(uri: &str, content_type: &str, body: Vec<u8>) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .insert_header((header::CONTENT_TYPE, content_type))
        .set_payload(body)
}

pub fn multipart_upload(
    uri: &str,
    files: &[(&str, Vec<u8>)],
    fields: &[(&str, &str)],
) -> TestRequest {
    let boundary = "----chat-api-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (file, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    TestRequest::post()
        .uri(uri)
        .insert_header((
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .set_payload(body)
}

/// Polls the job until it leaves `queued`/`running`.
pub async fn wait_for<S, B>(app: &S, id: &str) -> Value
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, job) = send(app, get(&format!("/api/v1/imports/{id}"))).await;
        assert_eq!(s, 200, "{job}");
        assert!(job.get("progress").is_some());
        match job["status"].as_str().unwrap() {
            "queued" | "running" => {}
            "done" | "failed" => return job,
            other => panic!("unknown status {other}"),
        }
        assert!(Instant::now() < deadline, "import did not finish: {job}");
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}
