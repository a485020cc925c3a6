//! Request extractors whose failures are [`ApiError`]s: JSON bodies limited by the state's
//! configured size (415 for another content type, 413 over the limit, 400 for bad JSON), and
//! query/path configs that answer 400 in the API's error shape.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::{ApiState, DEFAULT_JSON_LIMIT};

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

fn is_json(req: &HttpRequest) -> bool {
    let Some(ct) = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<ApiState>>()
            .map_or(DEFAULT_JSON_LIMIT, |s| s.json_limit());
        let json = is_json(req);
        let declared = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(ApiError::UnsupportedMediaType(
                    "send the body as JSON with Content-Type: application/json".to_owned(),
                ));
            }
            let too_large =
                || ApiError::PayloadTooLarge(format!("the JSON body is larger than {limit} bytes"));
            if declared.is_some_and(|n| n > limit) {
                return Err(too_large());
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::bad_request("invalid_body", format!("could not read the body: {e}"))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            if body.is_empty() {
                return Err(ApiError::bad_request(
                    "invalid_json",
                    "the JSON body is empty",
                ));
            }
            serde_json::from_slice(&body).map(JsonBody).map_err(|e| {
                ApiError::bad_request("invalid_json", format!("invalid JSON body: {e}"))
            })
        })
    }
}

/// Query-string errors as 400 `invalid_query`.
pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        ApiError::bad_request("invalid_query", format!("invalid query string: {err}")).into()
    })
}

/// Path errors as 400 `invalid_path`.
pub(crate) fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        ApiError::bad_request("invalid_path", format!("invalid path: {err}")).into()
    })
}
