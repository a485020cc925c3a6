//! Opaque cursors: where a paged result continues.
//!
//! A cursor is a small JSON value, base64url-encoded, that the client hands back unchanged. It
//! is tied to what made it (the conversation, or a fingerprint of the query), so a cursor used
//! with another conversation or another query is refused with a clear message instead of
//! returning the wrong page. Anything that does not decode is "malformed", never a crash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::args::{Branch, Format};
use crate::error::{Error, Result};

/// Longest cursor string accepted (ours are well under 300 characters).
const MAX_CURSOR_CHARS: usize = 2048;

/// Where a paged result continues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub(crate) enum Cursor {
    /// A page of a conversation: the message to start at and how far into its rendering,
    /// with the options that made the first page.
    #[serde(rename = "p")]
    Page {
        /// Fingerprint of the conversation id.
        c: u64,
        /// The message the page starts at.
        m: String,
        /// Characters of that message's rendering already sent.
        o: usize,
        /// Branch selection.
        b: Branch,
        /// Hidden messages included.
        h: bool,
        /// Rendering.
        f: Format,
        /// Page size in characters.
        n: u32,
    },
    /// How many items of a ranked or short list were already sent, for one query.
    #[serde(rename = "o")]
    Offset {
        /// Fingerprint of the query.
        q: u64,
        /// Items already sent.
        o: u32,
    },
    /// The store's keyset cursor for the conversation list, for one query.
    #[serde(rename = "l")]
    List {
        /// Fingerprint of the query.
        q: u64,
        /// The store's cursor.
        s: String,
    },
}

/// A stable fingerprint of any serialisable value (a query, an id).
pub(crate) fn fingerprint(value: &impl Serialize) -> u64 {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

fn malformed(why: &str) -> Error {
    Error::InvalidArgument(format!(
        "the cursor is malformed ({why}): pass back the next_cursor of an earlier result \
         unchanged, or leave cursor out to start from the beginning"
    ))
}

impl Cursor {
    /// The cursor as the opaque string clients see.
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads a string made by [`Cursor::encode`].
    pub(crate) fn decode(s: &str) -> Result<Cursor> {
        let s = s.trim();
        if s.is_empty() {
            return Err(malformed("it is empty"));
        }
        if s.len() > MAX_CURSOR_CHARS {
            return Err(malformed(
                "it is far longer than any cursor this server makes",
            ));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| malformed("it is not the base64 text this server makes"))?;
        serde_json::from_slice(&bytes).map_err(|_| malformed("it does not hold a position"))
    }

    /// The offset of an [`Cursor::Offset`] cursor made for `query`; another kind of cursor,
    /// or one made for another query, is an error.
    pub(crate) fn offset_for(s: &str, query: u64, tool: &str) -> Result<u32> {
        match Cursor::decode(s)? {
            Cursor::Offset { q, o } if q == query => Ok(o),
            Cursor::Offset { .. } => Err(other_query(tool)),
            _ => Err(wrong_tool(tool)),
        }
    }
}

/// A cursor made by another tool.
pub(crate) fn wrong_tool(tool: &str) -> Error {
    Error::InvalidArgument(format!(
        "this cursor was not made by {tool}: pass the next_cursor that {tool} returned"
    ))
}

/// A cursor made for other arguments.
pub(crate) fn other_query(tool: &str) -> Error {
    Error::InvalidArgument(format!(
        "this cursor belongs to a {tool} call with other arguments: repeat that call's \
         arguments with it, or leave cursor out to start again"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cursors_round_trip_and_anything_else_is_refused_with_a_message() {
        let c = Cursor::Page {
            c: fingerprint(&"c1"),
            m: "m-42".into(),
            o: 1200,
            b: Branch::Active,
            h: false,
            f: Format::Markdown,
            n: 20_000,
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        for bad in [
            "",
            "   ",
            "not base64!",
            "eyJrIjoieiJ9",
            &"A".repeat(5000),
            "bnVsbA",
        ] {
            let e = Cursor::decode(bad).unwrap_err().to_string();
            assert!(e.contains("cursor is malformed"), "{bad:?}: {e}");
        }
        let off = Cursor::Offset { q: 7, o: 10 }.encode();
        assert_eq!(Cursor::offset_for(&off, 7, "x").unwrap(), 10);
        assert!(Cursor::offset_for(&off, 8, "x")
            .unwrap_err()
            .to_string()
            .contains("other arguments"));
        assert!(Cursor::offset_for(&c.encode(), 7, "x")
            .unwrap_err()
            .to_string()
            .contains("not made by x"));
    }
}
