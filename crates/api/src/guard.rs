//! Request guards shared by the API's scopes: the bearer-token check (the rule itself is in
//! `auth.rs`) as middleware, and answering a refused request in the API's error shape.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};

use crate::error::ApiError;
use crate::state::ApiState;

/// Why a request is refused by the token rule: `None` when it may go on.
pub(crate) fn token_verdict(req: &ServiceRequest) -> Option<ApiError> {
    match req.app_data::<web::Data<ApiState>>() {
        Some(state) if state.token().authorizes(req.headers()) => None,
        Some(_) => Some(ApiError::Unauthorized),
        None => Some(ApiError::internal(
            "chat-api: ApiState is not registered with App::app_data",
        )),
    }
}

/// Lets the request through when `verdict` is `None`, else answers with the error.
pub(crate) async fn apply<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
    verdict: Option<ApiError>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match verdict {
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Some(err) => {
            let (req, _) = req.into_parts();
            Ok(ServiceResponse::new(req, err.error_response()).map_into_right_body())
        }
    }
}

/// Middleware: answers 401 unless the request carries the configured token.
pub(crate) async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let verdict = token_verdict(&req);
    apply(req, next, verdict).await
}
