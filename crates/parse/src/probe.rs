use std::fmt;

/// How many leading bytes a [`Probe`] holds at most.
pub const PROBE_LEN: usize = 64 * 1024;

/// How likely a parser reads an input, 0 (not at all) to 100 (certain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Confidence(u8);

impl Confidence {
    /// Not this format.
    pub const NONE: Confidence = Confidence(0);
    /// Plausible, but another parser with a stronger claim should win.
    pub const LOW: Confidence = Confidence(25);
    /// Most of the expected structure is there.
    pub const MEDIUM: Confidence = Confidence(60);
    /// The format's distinguishing structure is there.
    pub const HIGH: Confidence = Confidence(90);

    /// A confidence from a number, capped at 100.
    pub fn new(value: u8) -> Self {
        Confidence(value.min(100))
    }

    /// The number.
    pub fn value(self) -> u8 {
        self.0
    }

    /// Whether there is any confidence at all.
    pub fn is_some(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// The first bytes of an input and its name, for [`crate::Parser::detect`].
#[derive(Debug, Clone, Copy)]
pub struct Probe<'a> {
    /// The input's name (path or archive entry).
    pub name: &'a str,
    /// Up to [`PROBE_LEN`] leading bytes.
    pub head: &'a [u8],
}

impl<'a> Probe<'a> {
    /// A probe over a name and leading bytes.
    pub fn new(name: &'a str, head: &'a [u8]) -> Self {
        Probe { name, head }
    }

    /// The head without a UTF-8 byte-order mark and leading white space.
    pub fn trimmed(&self) -> &'a [u8] {
        let head = self.head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(self.head);
        let start = head
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(head.len());
        &head[start..]
    }

    /// The first significant byte (`[`, `{`, `<`, ...), if any.
    pub fn first_byte(&self) -> Option<u8> {
        self.trimmed().first().copied()
    }

    /// Whether the head holds the JSON key `key` (a quoted string followed by a colon).
    pub fn has_key(&self, key: &str) -> bool {
        let needle = format!("\"{key}\"");
        let head = self.head;
        let mut from = 0;
        while let Some(pos) = memchr::memmem::find(&head[from..], needle.as_bytes()) {
            let after = from + pos + needle.len();
            let next = head[after..].iter().find(|b| !b.is_ascii_whitespace());
            if next == Some(&b':') {
                return true;
            }
            from = after;
        }
        false
    }

    /// Whether the head holds these bytes anywhere.
    pub fn contains(&self, needle: &str) -> bool {
        memchr::memmem::find(self.head, needle.as_bytes()).is_some()
    }

    /// The file name part of [`Probe::name`] (after the last `/`, `\` or `!`).
    pub fn file_name(&self) -> &'a str {
        self.name
            .rsplit(['/', '\\', '!'])
            .next()
            .unwrap_or(self.name)
    }

    /// Whether the head looks like HTML rather than JSON.
    pub fn looks_like_html(&self) -> bool {
        let t = self.trimmed();
        let lower: Vec<u8> = t.iter().take(256).map(u8::to_ascii_lowercase).collect();
        lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_need_a_colon_after_them() {
        let p = Probe::new(
            "x.json",
            b"\xEF\xBB\xBF  [{\"title\": \"mapping\", \"mapping\" : {}}]",
        );
        assert!(p.has_key("mapping"));
        assert!(!p.has_key("title2"));
        assert_eq!(p.first_byte(), Some(b'['));
        let q = Probe::new("x.json", b"[\"mapping\", 1]");
        assert!(!q.has_key("mapping"));
    }

    #[test]
    fn file_names_and_html() {
        let p = Probe::new(
            "a/b.zip!Takeout/My Activity.html",
            b"  <!DOCTYPE html><html>",
        );
        assert_eq!(p.file_name(), "My Activity.html");
        assert!(p.looks_like_html());
        assert!(!Probe::new("x", b"[]").looks_like_html());
    }
}
