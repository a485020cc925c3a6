//! Bearer-token checks: the middleware on the `/api/v1` scope and the rule for when a server
//! must have a token at all.

use std::net::SocketAddr;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, AUTHORIZATION};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError};

use crate::error::ApiError;
use crate::state::ApiState;

/// The token of an `Authorization: Bearer <token>` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Compares two byte strings in time that depends only on their lengths, not on where they
/// first differ, so a wrong token reveals nothing about the right one.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len().max(b.len());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    diff == 0
}

/// Whether a server listening on `addr` must require a token: anything but a loopback
/// address is reachable from other machines.
pub fn token_required_for(addr: &SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

/// Middleware on the API scope: answers 401 unless the request carries the configured token.
pub(crate) async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let verdict = match req.app_data::<web::Data<ApiState>>() {
        Some(state) if state.authorized(req.headers()) => None,
        Some(_) => Some(ApiError::Unauthorized),
        None => Some(ApiError::internal(
            "chat-api: ApiState is not registered with App::app_data",
        )),
    };
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn only_loopback_binds_may_go_without_a_token() {
        assert!(!token_required_for(&"127.0.0.1:8080".parse().unwrap()));
        assert!(!token_required_for(&"[::1]:8080".parse().unwrap()));
        assert!(token_required_for(&"0.0.0.0:8080".parse().unwrap()));
        assert!(token_required_for(&"192.168.1.2:80".parse().unwrap()));
    }
}
