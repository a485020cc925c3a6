//! Shared helpers: a real SQLite file in a temp folder, the API mounted with `configure`, and
//! request helpers that return the status and the JSON body.

#![allow(dead_code)]

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::web;
use chat_api::ApiState;
use serde_json::Value;
use tempfile::TempDir;

/// A store on disk and the state over it. Keep it alive for the test's duration.
pub struct Env {
    pub dir: TempDir,
    pub state: web::Data<ApiState>,
}

/// A fresh database; `tweak` adjusts the state builder (token, limits).
pub fn env_with(tweak: impl FnOnce(chat_api::ApiStateBuilder) -> chat_api::ApiStateBuilder) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = chat_store::Store::open(dir.path().join("chat.db")).unwrap();
    let uploads = dir.path().join("uploads");
    std::fs::create_dir_all(&uploads).unwrap();
    let state = tweak(ApiState::builder(store).upload_dir(uploads)).build();
    Env { dir, state }
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
