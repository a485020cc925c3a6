//! Which browser pages may use the AI OS routes. The AI OS frontend runs on its own origin
//! (its dev server's port), so the server is told which origins to serve (`--cors-origin`);
//! a request carrying any other `Origin` is refused before it does anything. Without this a
//! page on any site could, say, start an import or a chat on a token-less loopback server
//! with a plain form post, which CORS does not stop (it only hides the answer). Requests
//! without an `Origin` header (curl, other programs) and pages of the server's own origin
//! are served.

use actix_web::http::header::{HeaderMap, HOST, ORIGIN};

use crate::error::ApiError;

/// `None` when the request may go on; else the 403 to answer.
pub(crate) fn verdict(headers: &HeaderMap, allowed: &[String]) -> Option<ApiError> {
    let origin = headers.get(ORIGIN)?;
    let Ok(origin) = origin.to_str() else {
        return Some(refused("(not text)"));
    };
    let origin = origin.trim().trim_end_matches('/');
    let listed = allowed
        .iter()
        .any(|a| a.trim().trim_end_matches('/').eq_ignore_ascii_case(origin));
    let own = origin.split_once("://").is_some_and(|(_, authority)| {
        headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|host| host.trim().eq_ignore_ascii_case(authority))
    });
    if listed || own {
        None
    } else {
        Some(refused(origin))
    }
}

fn refused(origin: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "pages from {origin} may not use this server; start it with --cors-origin {origin} \
         (or CHAT_CORS_ORIGINS) to allow them"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn only_listed_or_own_origins_are_served() {
        let allowed = vec!["http://localhost:5173".to_owned()];
        assert!(verdict(&headers(None, "127.0.0.1:8080"), &allowed).is_none());
        assert!(verdict(
            &headers(Some("http://localhost:5173"), "127.0.0.1:8080"),
            &allowed
        )
        .is_none());
        assert!(verdict(
            &headers(Some("HTTP://LOCALHOST:5173/"), "127.0.0.1:8080"),
            &allowed
        )
        .is_none());
        assert!(verdict(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            &allowed
        )
        .is_none());
        let refused = verdict(
            &headers(Some("https://evil.example"), "127.0.0.1:8080"),
            &allowed,
        );
        assert!(matches!(refused, Some(ApiError::Forbidden(m)) if m.contains("evil.example")));
        assert!(verdict(&headers(Some("null"), "127.0.0.1:8080"), &[]).is_some());
    }
}
