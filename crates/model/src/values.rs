use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// A point in time. Stored as unix milliseconds (UTC), served as RFC 3339.
pub type Timestamp = time::OffsetDateTime;

/// Conversions between [`Timestamp`] and unix milliseconds, and serde helpers for them.
pub mod timestamp {
    use super::Timestamp;
    use crate::ModelError;

    /// The timestamp as unix milliseconds.
    pub fn to_millis(ts: Timestamp) -> i64 {
        let nanos = ts.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
    }

    /// A timestamp from unix milliseconds.
    pub fn from_millis(ms: i64) -> Result<Timestamp, ModelError> {
        Timestamp::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .map_err(|_| ModelError::TimestampOutOfRange(ms))
    }

    /// Now, truncated to whole milliseconds so it round-trips through storage unchanged.
    pub fn now() -> Timestamp {
        let now = Timestamp::now_utc();
        from_millis(to_millis(now)).unwrap_or(now)
    }

    /// RFC 3339 in UTC, e.g. `2024-03-13T14:48:37.115Z`.
    pub fn to_rfc3339(ts: Timestamp) -> String {
        use time::format_description::well_known::Rfc3339;
        ts.to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_else(|_| to_millis(ts).to_string())
    }

    /// Serde adapter: RFC 3339 strings (UTC) on the wire.
    pub mod rfc3339 {
        pub use time::serde::rfc3339::deserialize;

        /// Serializes in UTC, whatever offset the value carries.
        pub fn serialize<S: serde::Serializer>(
            ts: &super::Timestamp,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.serialize_str(&super::to_rfc3339(*ts))
        }

        /// The same for optional timestamps.
        pub mod option {
            pub use time::serde::rfc3339::option::deserialize;

            /// Serializes `None` as null and a value as an RFC 3339 UTC string.
            pub fn serialize<S: serde::Serializer>(
                ts: &Option<super::super::Timestamp>,
                s: S,
            ) -> Result<S::Ok, S::Error> {
                match ts {
                    Some(ts) => s.serialize_str(&super::super::to_rfc3339(*ts)),
                    None => s.serialize_none(),
                }
            }
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person.
    User,
    /// The model.
    Assistant,
    /// A system prompt or instruction.
    System,
    /// A tool's output fed back to the model.
    Tool,
}

impl Role {
    /// The name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::System => "system",
            Role::Tool => "tool",
        }
    }
}

impl FromStr for Role {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Role::User),
            "assistant" => Ok(Role::Assistant),
            "system" => Ok(Role::System),
            "tool" => Ok(Role::Tool),
            other => Err(ModelError::UnknownRole(other.to_owned())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a conversation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Created in AI OS Chat itself.
    Native,
    /// Imported from a ChatGPT data export.
    Chatgpt,
    /// Imported from a Claude.ai data export.
    Claude,
    /// Imported from Google Takeout (Gemini Apps) or Google AI Studio.
    Gemini,
    /// Imported from VS Code Copilot Chat.
    Copilot,
}

impl Source {
    /// Every source, in display order.
    pub const ALL: [Source; 5] = [
        Source::Native,
        Source::Chatgpt,
        Source::Claude,
        Source::Gemini,
        Source::Copilot,
    ];

    /// The imported sources (every source but [`Source::Native`]).
    pub const IMPORTED: [Source; 4] = [
        Source::Chatgpt,
        Source::Claude,
        Source::Gemini,
        Source::Copilot,
    ];

    /// The name used in storage, on the wire and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Native => "native",
            Source::Chatgpt => "chatgpt",
            Source::Claude => "claude",
            Source::Gemini => "gemini",
            Source::Copilot => "copilot",
        }
    }

    /// A human label, e.g. "ChatGPT".
    pub fn label(self) -> &'static str {
        match self {
            Source::Native => "AI OS",
            Source::Chatgpt => "ChatGPT",
            Source::Claude => "Claude",
            Source::Gemini => "Gemini",
            Source::Copilot => "Copilot",
        }
    }

    /// The folder an import from this source lands in by default: `imported/<source>`.
    /// Native conversations have no default folder (the empty path).
    pub fn default_folder(self) -> FolderPath {
        match self {
            Source::Native => FolderPath::root(),
            other => FolderPath(format!("imported/{}", other.as_str())),
        }
    }
}

impl FromStr for Source {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Source::ALL
            .into_iter()
            .find(|src| src.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ModelError::UnknownSource(s.to_owned()))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Maximum length of a tag, in characters.
const TAG_MAX_CHARS: usize = 64;
/// Maximum length of a folder path, in characters.
const FOLDER_MAX_CHARS: usize = 512;

/// Longest folder segment made by [`FolderPath::child`], in characters.
pub const FOLDER_SEGMENT_MAX_CHARS: usize = 120;

/// A tag: trimmed, 1 to 64 characters, no control characters. Case is kept as given; tags compare
/// case-sensitively (the store may fold case for lookups).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    /// Validates and trims a tag.
    pub fn new(tag: &str) -> Result<Self, ModelError> {
        let trimmed = tag.trim();
        let reason = if trimmed.is_empty() {
            Some("a tag cannot be empty")
        } else if trimmed.chars().count() > TAG_MAX_CHARS {
            Some("a tag is at most 64 characters")
        } else if trimmed.chars().any(char::is_control) {
            Some("a tag cannot contain control characters")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(ModelError::InvalidTag {
                tag: tag.to_owned(),
                reason,
            }),
            None => Ok(Tag(trimmed.to_owned())),
        }
    }

    /// The tag text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Tag::new(&s)
    }
}

impl From<Tag> for String {
    fn from(t: Tag) -> String {
        t.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A folder path such as `imported/chatgpt` or `work/rust`: `/`-separated segments, none empty,
/// `.` or `..`, no control characters, at most 512 characters. Leading and trailing slashes are
/// dropped. The empty path is the root, where native conversations live by default.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FolderPath(String);

impl FolderPath {
    /// The root folder (the empty path).
    pub fn root() -> Self {
        FolderPath(String::new())
    }

    /// Validates and normalises a folder path.
    pub fn new(path: &str) -> Result<Self, ModelError> {
        let invalid = |reason| ModelError::InvalidFolder {
            path: path.to_owned(),
            reason,
        };
        let trimmed = path.trim().trim_matches('/');
        if trimmed.chars().count() > FOLDER_MAX_CHARS {
            return Err(invalid("a folder path is at most 512 characters"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(invalid("a folder path cannot contain control characters"));
        }
        if trimmed.is_empty() {
            return Ok(FolderPath::root());
        }
        let mut segments = Vec::new();
        for segment in trimmed.split('/') {
            let segment = segment.trim();
            match segment {
                "" => return Err(invalid("a folder path cannot have empty segments")),
                "." | ".." => return Err(invalid("a folder path cannot contain . or ..")),
                s => segments.push(s),
            }
        }
        Ok(FolderPath(segments.join("/")))
    }

    /// The path as a string (empty for the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the root folder.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether this folder is `ancestor` or lies below it.
    pub fn starts_with(&self, ancestor: &FolderPath) -> bool {
        ancestor.is_root()
            || self.0 == ancestor.0
            || (self.0.starts_with(&ancestor.0) && self.0[ancestor.0.len()..].starts_with('/'))
    }

    /// The folder `name` below this one, `name` made into one valid segment whatever it holds
    /// (a project or workspace name from an export): slashes become `∕` (U+2215), control
    /// characters are dropped, white space is folded, `.` and `..` become `_`, and the segment is
    /// cut to [`FOLDER_SEGMENT_MAX_CHARS`] characters. `None` when nothing is left of `name`,
    /// or when the whole path would exceed 512 characters.
    pub fn child(&self, name: &str) -> Option<FolderPath> {
        let cleaned: String = name
            .chars()
            .filter(|c| !c.is_control())
            .map(|c| if c == '/' || c == '\\' { '\u{2215}' } else { c })
            .collect();
        let folded = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
        let segment: String = match folded.as_str() {
            "" => return None,
            "." | ".." => "_".to_owned(),
            s => s.chars().take(FOLDER_SEGMENT_MAX_CHARS).collect(),
        };
        let segment = segment.trim_end();
        let path = if self.is_root() {
            segment.to_owned()
        } else {
            format!("{}/{segment}", self.0)
        };
        FolderPath::new(&path).ok()
    }
}

impl TryFrom<String> for FolderPath {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        FolderPath::new(&s)
    }
}

impl From<FolderPath> for String {
    fn from(f: FolderPath) -> String {
        f.0
    }
}

impl fmt::Display for FolderPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::plain("work", "work")]
    #[case::nested(" imported/chatgpt/ ", "imported/chatgpt")]
    #[case::leading_slash("/a/b", "a/b")]
    #[case::root("", "")]
    #[case::spaces_in_segments("a / b", "a/b")]
    fn folder_paths_normalise(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(FolderPath::new(input).unwrap().as_str(), expected);
    }

    #[rstest]
    #[case::dotdot("a/../b")]
    #[case::dot("./a")]
    #[case::empty_segment("a//b")]
    #[case::control("a\nb")]
    fn folder_paths_refuse_bad_segments(#[case] input: &str) {
        assert!(matches!(
            FolderPath::new(input),
            Err(ModelError::InvalidFolder { .. })
        ));
    }

    #[test]
    fn child_folders_make_any_name_one_valid_segment() {
        let base = FolderPath::new("imported/claude").unwrap();
        let child = |name: &str| base.child(name).map(|f| f.as_str().to_owned());
        assert_eq!(child("Thesis").as_deref(), Some("imported/claude/Thesis"));
        assert_eq!(
            child("  a/b\\c \n d ").as_deref(),
            Some("imported/claude/a\u{2215}b\u{2215}c d")
        );
        assert_eq!(child("..").as_deref(), Some("imported/claude/_"));
        assert_eq!(child(" \t "), None);
        let long = child(&"é".repeat(500)).unwrap();
        assert_eq!(long.chars().count(), "imported/claude/".len() + 120);
        assert_eq!(
            FolderPath::root().child("x").map(|f| f.as_str().to_owned()),
            Some("x".to_owned())
        );
    }

    #[test]
    fn folder_prefix_matching_respects_segments() {
        let p = FolderPath::new("imported/chatgpt").unwrap();
        assert!(p.starts_with(&FolderPath::new("imported").unwrap()));
        assert!(p.starts_with(&FolderPath::root()));
        assert!(!p.starts_with(&FolderPath::new("imp").unwrap()));
        assert!(!FolderPath::new("importedx")
            .unwrap()
            .starts_with(&FolderPath::new("imported").unwrap()));
    }

    #[test]
    fn imported_sources_default_to_imported_folders() {
        assert_eq!(Source::Claude.default_folder().as_str(), "imported/claude");
        assert!(Source::Native.default_folder().is_root());
    }

    #[rstest]
    #[case::empty("   ")]
    #[case::control("a\u{7}")]
    #[case::long(&"x".repeat(65))]
    fn tags_refuse_bad_values(#[case] input: &str) {
        assert!(Tag::new(input).is_err());
    }

    #[test]
    fn tags_are_trimmed() {
        assert_eq!(Tag::new("  rust ").unwrap().as_str(), "rust");
    }

    #[test]
    fn sources_and_roles_parse_their_own_names() {
        for s in Source::ALL {
            assert_eq!(s.as_str().parse::<Source>().unwrap(), s);
        }
        assert!("openai".parse::<Source>().is_err());
        for r in [Role::User, Role::Assistant, Role::System, Role::Tool] {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
    }

    #[test]
    fn millis_round_trip() {
        let ts = timestamp::from_millis(1_700_000_000_123).unwrap();
        assert_eq!(timestamp::to_millis(ts), 1_700_000_000_123);
        assert_eq!(timestamp::to_rfc3339(ts), "2023-11-14T22:13:20.123Z");
        let now = timestamp::now();
        assert_eq!(
            timestamp::from_millis(timestamp::to_millis(now)).unwrap(),
            now
        );
    }
}
