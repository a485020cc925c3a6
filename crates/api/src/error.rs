//! The API's one error type and its JSON body.

use std::fmt;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// Everything a handler can answer with instead of success.
///
/// Each variant maps to one status code (see [`ResponseError::status_code`]) and serialises as
/// `{"error": "<snake_case_code>", "message": "..."}`. Internal failures are logged where they
/// are converted ([`ApiError::internal`]) and reach the client only as `internal_error`: a
/// 500 never carries SQL, paths or other internals.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400: the request is malformed or asks for something impossible.
    #[error("{message}")]
    BadRequest {
        /// A snake_case code such as `invalid_query` or `invalid_input`.
        code: &'static str,
        /// What is wrong, for a person.
        message: String,
    },
    /// 401: the bearer token is missing or wrong.
    #[error("a valid bearer token is required (Authorization: Bearer <token>)")]
    Unauthorized,
    /// 403: a browser page from an origin the server does not allow.
    #[error("{0}")]
    Forbidden(String),
    /// 404: an id (or a route) that does not exist.
    #[error("{message}")]
    NotFound {
        /// e.g. `conversation_not_found`, `message_not_found`, `import_not_found`.
        code: &'static str,
        /// What was not found.
        message: String,
    },
    /// 409: the request contradicts what is stored.
    #[error("{0}")]
    Conflict(String),
    /// 413: a body larger than the configured limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: a body of the wrong content type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 503: the database is busy beyond its timeout, or the server is shutting down.
    #[error("{0}")]
    Unavailable(String),
    /// 503 `database_unavailable`: the database server cannot be reached (down, restarting,
    /// the connection dropped). Nothing was done; the same request succeeds once it is back,
    /// without restarting chat-server.
    #[error("the database is unavailable; retry shortly")]
    DatabaseUnavailable,
    /// 502: the model server failed (unreachable, an HTTP error, a timeout).
    #[error("{message}")]
    Upstream {
        /// The model error's code, e.g. `model_unreachable`, `model_timeout`.
        code: &'static str,
        /// What failed and what to change, for a person.
        message: String,
    },
    /// 500: something failed inside; the cause was logged when this value was made.
    #[error("an internal error occurred; the server log has the details")]
    Internal,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable snake_case code, e.g. `conversation_not_found`.
    #[schema(example = "conversation_not_found")]
    pub error: String,
    /// A human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// A 400 with `code` and `message`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// A 400 `invalid_input`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::bad_request("invalid_input", message)
    }

    /// A 404 with `code` and `message`.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::NotFound {
            code,
            message: message.into(),
        }
    }

    /// Logs `cause` and returns the opaque 500.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::Internal
    }

    /// The snake_case code sent as `error`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Upstream { code, .. } => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden_origin",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::DatabaseUnavailable => "database_unavailable",
            ApiError::Internal => "internal_error",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) | ApiError::DatabaseUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        res.json(ErrorBody {
            error: self.code().to_owned(),
            message: self.to_string(),
        })
    }
}

impl From<chat_store::Error> for ApiError {
    fn from(e: chat_store::Error) -> Self {
        use chat_store::Error as E;
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            return ApiError::DatabaseUnavailable;
        }
        if e.is_busy() {
            tracing::warn!(error = %e, "database busy");
            return ApiError::Unavailable("the database is busy; retry shortly".to_owned());
        }
        match e {
            E::NotFound { entity, id } => {
                let code = match entity {
                    "conversation" => "conversation_not_found",
                    "message" => "message_not_found",
                    "import run" => "import_not_found",
                    _ => "not_found",
                };
                ApiError::not_found(code, format!("{entity} {id:?} not found"))
            }
            E::Conflict(message) => ApiError::Conflict(message),
            E::InvalidInput(message) => ApiError::invalid(message),
            E::Pool(cause) => {
                tracing::warn!(error = %cause, "no database connection available");
                ApiError::Unavailable("the server is overloaded; retry shortly".to_owned())
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(format!("a blocking task failed: {e}"))
    }
}

impl From<chat_llm::Error> for ApiError {
    fn from(e: chat_llm::Error) -> Self {
        tracing::warn!(error = %e, "the model failed");
        ApiError::Upstream {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<chat_model::ModelError> for ApiError {
    fn from(e: chat_model::ModelError) -> Self {
        ApiError::invalid(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let e = ApiError::internal("SELECT * FROM secret_table failed at /var/lib/x");
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.to_string().contains("secret_table"));
    }

    #[test]
    fn store_not_found_maps_to_a_specific_code() {
        let e: ApiError = chat_store::Error::NotFound {
            entity: "conversation",
            id: "abc".into(),
        }
        .into();
        assert_eq!(e.status_code(), StatusCode::NOT_FOUND);
        assert_eq!(e.code(), "conversation_not_found");
    }
}
