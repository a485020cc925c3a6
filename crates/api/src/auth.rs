//! Bearer-token checks, which take the token and the request's headers (never the whole
//! state), and the rule for when a server must have a token at all. The middleware that
//! applies them to the `/api/v1` scope is in the crate root, next to `configure`.

use std::net::SocketAddr;

use actix_web::http::header::{HeaderMap, AUTHORIZATION};

/// The API token, when one is configured. An empty token counts as none.
#[derive(Debug, Clone, Default)]
pub(crate) struct Token(Option<String>);

impl Token {
    pub(crate) fn new(token: Option<String>) -> Self {
        Token(token.filter(|t| !t.is_empty()))
    }

    /// Whether requests need a token.
    pub(crate) fn required(&self) -> bool {
        self.0.is_some()
    }

    /// Whether the request's headers carry the right token (always true without a token).
    pub(crate) fn authorizes(&self, headers: &HeaderMap) -> bool {
        self.authorizes_ws(headers, None)
    }

    /// Like [`Token::authorizes`], for the WebSocket upgrade: the token may also come as
    /// `?token=` (`query_token`), since browsers cannot set headers on a WebSocket.
    pub(crate) fn authorizes_ws(&self, headers: &HeaderMap, query_token: Option<&str>) -> bool {
        let Some(expected) = &self.0 else {
            return true;
        };
        let matches = |given: &str| constant_time_eq(given.as_bytes(), expected.as_bytes());
        // Both are compared, so the time taken does not tell which one was given.
        let header_ok = bearer(headers).is_some_and(matches);
        let query_ok = query_token.is_some_and(matches);
        header_ok | query_ok
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
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
    fn a_token_is_checked_in_the_header_or_for_websockets_the_query() {
        let mut headers = HeaderMap::new();
        assert!(Token::new(None).authorizes(&headers));
        assert!(Token::new(Some(String::new())).authorizes(&headers));
        let token = Token::new(Some("s3cret".into()));
        assert!(!token.authorizes(&headers));
        assert!(token.authorizes_ws(&headers, Some("s3cret")));
        assert!(!token.authorizes_ws(&headers, Some("wrong")));
        headers.insert(AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(token.authorizes(&headers));
        headers.insert(AUTHORIZATION, "bearer  wrong ".parse().unwrap());
        assert!(!token.authorizes(&headers));
    }

    #[test]
    fn only_loopback_binds_may_go_without_a_token() {
        assert!(!token_required_for(&"127.0.0.1:8080".parse().unwrap()));
        assert!(!token_required_for(&"[::1]:8080".parse().unwrap()));
        assert!(token_required_for(&"0.0.0.0:8080".parse().unwrap()));
        assert!(token_required_for(&"192.168.1.2:80".parse().unwrap()));
    }
}
