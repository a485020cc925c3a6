//! The tools' arguments: their JSON schemas (generated from these types; the doc comments are
//! the descriptions a model reads) and the checks serde cannot express (ranges, dates, names).
//!
//! Every struct denies unknown fields, so a misspelt argument is an error that names the
//! expected ones rather than a silently ignored filter.

use chat_model::{timestamp, FolderPath, Role, Source, Tag, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::error::{Error, Result};

/// Longest search query, in characters.
pub(crate) const MAX_QUERY_CHARS: usize = 1000;
/// Search hits per call: default and most.
pub(crate) const SEARCH_LIMIT: Bound = Bound::new("limit", 10, 1, 50);
/// How deep a search can be paged (hits ranked below this are not reachable; refine instead).
pub(crate) const SEARCH_DEPTH: u32 = 200;
/// Characters per conversation page: default, least and most.
pub(crate) const PAGE_CHARS: Bound = Bound::new("max_chars", 20_000, 1_000, 100_000);
/// Messages before and after a message in the context tool.
pub(crate) const CONTEXT_MESSAGES: Bound = Bound::new("before/after", 3, 0, 20);
/// Characters of the context tool's answer.
pub(crate) const CONTEXT_CHARS: Bound = Bound::new("max_chars", 12_000, 1_000, 50_000);
/// Conversations per list page.
pub(crate) const LIST_LIMIT: Bound = Bound::new("limit", 20, 1, 100);
/// Folders or tags per page.
pub(crate) const NAMES_LIMIT: Bound = Bound::new("limit", 100, 1, 500);
/// Longest note or saved message, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 200_000;
/// Most messages in one saved conversation.
pub(crate) const MAX_SAVED_MESSAGES: usize = 2_000;
/// Most tags changed in one call.
pub(crate) const MAX_TAGS: usize = 50;

/// A numeric argument's default and allowed range.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bound {
    name: &'static str,
    pub(crate) default: u32,
    pub(crate) min: u32,
    pub(crate) max: u32,
}

impl Bound {
    const fn new(name: &'static str, default: u32, min: u32, max: u32) -> Bound {
        Bound {
            name,
            default,
            min,
            max,
        }
    }

    /// The value, or the default when absent; out of range (negative included) is an error
    /// naming the range.
    pub(crate) fn check(self, value: Option<i64>) -> Result<u32> {
        match value {
            None => Ok(self.default),
            Some(v) if (i64::from(self.min)..=i64::from(self.max)).contains(&v) => {
                Ok(u32::try_from(v).unwrap_or(self.max))
            }
            Some(v) => Err(Error::InvalidArgument(format!(
                "{} must be between {} and {} (default {}); got {v}",
                self.name, self.min, self.max, self.default
            ))),
        }
    }
}

/// Where conversations come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceArg {
    /// ChatGPT exports.
    Chatgpt,
    /// Claude.ai exports.
    Claude,
    /// Gemini (Google Takeout) and Google AI Studio.
    Gemini,
    /// VS Code Copilot Chat.
    Copilot,
    /// Conversations held in AI OS Chat itself (its own chats, and those agents saved).
    Native,
}

impl From<SourceArg> for Source {
    fn from(s: SourceArg) -> Source {
        match s {
            SourceArg::Chatgpt => Source::Chatgpt,
            SourceArg::Claude => Source::Claude,
            SourceArg::Gemini => Source::Gemini,
            SourceArg::Copilot => Source::Copilot,
            SourceArg::Native => Source::Native,
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleArg {
    /// The person.
    User,
    /// The AI model.
    Assistant,
    /// System prompts.
    System,
    /// Tool output.
    Tool,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::User => Role::User,
            RoleArg::Assistant => Role::Assistant,
            RoleArg::System => Role::System,
            RoleArg::Tool => Role::Tool,
        }
    }
}

/// Which messages of a conversation with edits or regenerations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Branch {
    /// The path the user last followed, root to current message (the transcript).
    #[default]
    Active,
    /// Every message of every branch, parents before replies; each carries its parent's id.
    All,
}

/// How a conversation is written out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Markdown: a heading per message (role, model, time) with its id in an HTML comment.
    #[default]
    Markdown,
    /// The lossless JSON export document: message tree fields, parts, ratings, source ids.
    Json,
}

/// Archived conversations in a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Archived {
    /// Leave archived conversations out.
    #[default]
    Exclude,
    /// Only archived conversations.
    Only,
    /// Both.
    Include,
}

/// Arguments of `search_conversations`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// Words to find, in any order (all must match; accents and case are ignored). "A phrase"
    /// in double quotes matches those words in a row; a trailing * matches word starts
    /// (deplo* finds deploy, deployment). Other punctuation is ignored. Chinese, Japanese and
    /// Korean text is matched too.
    pub query: String,
    /// Only conversations from this source.
    #[serde(default)]
    pub source: Option<SourceArg>,
    /// Only conversations carrying this tag (see list_tags).
    #[serde(default)]
    pub tag: Option<String>,
    /// Only conversations in this folder or below it, e.g. "imported/chatgpt" (see
    /// list_folders).
    #[serde(default)]
    pub folder: Option<String>,
    /// Only messages written at or after this time: a date (2025-03-01, meaning its start,
    /// UTC) or an RFC 3339 time (2025-03-01T09:00:00+01:00).
    #[serde(default)]
    pub since: Option<String>,
    /// Only messages written before this time (exclusive; same forms as since), so
    /// until=2025-04-01 ends with March.
    #[serde(default)]
    pub until: Option<String>,
    /// Only messages of this role; then conversation titles are not searched.
    #[serde(default)]
    pub role: Option<RoleArg>,
    /// Hits to return (1 to 50, default 10).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The next_cursor of the previous call with the same arguments, for the following hits.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Arguments of `get_conversation`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetConversationArgs {
    /// The conversation's id (from search_conversations or list_conversations).
    pub id: String,
    /// "active" (default): the transcript as last followed; "all": every edit and
    /// regeneration too.
    #[serde(default)]
    pub branch: Option<Branch>,
    /// Also include hidden messages: system prompts, tool calls and output, reasoning
    /// (default false).
    #[serde(default)]
    pub include_hidden: Option<bool>,
    /// "markdown" (default) or "json" (the lossless export document).
    #[serde(default)]
    pub format: Option<Format>,
    /// Most characters of text in this page (1000 to 100000, default 20000). A longer
    /// conversation comes in several pages; a message longer than a page is continued on the
    /// next one.
    #[serde(default)]
    pub max_chars: Option<i64>,
    /// The next_cursor of the previous page, to read on. Branch, include_hidden and format
    /// then default to those of the first page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Arguments of `get_message_context`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextArgs {
    /// The message's id (a search hit's message_id).
    pub message_id: String,
    /// Messages to show before it on its branch (0 to 20, default 3).
    #[serde(default)]
    pub before: Option<i64>,
    /// Messages to show after it on its branch (0 to 20, default 3).
    #[serde(default)]
    pub after: Option<i64>,
    /// Most characters of text (1000 to 50000, default 12000). Messages that do not fit are
    /// shortened, saying where, with a cursor for get_conversation to read them whole.
    #[serde(default)]
    pub max_chars: Option<i64>,
}

/// Arguments of `list_conversations`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Only conversations from this source.
    #[serde(default)]
    pub source: Option<SourceArg>,
    /// Only conversations in this folder or below it.
    #[serde(default)]
    pub folder: Option<String>,
    /// Only conversations carrying this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// "exclude" (default), "only" or "include" archived conversations.
    #[serde(default)]
    pub archived: Option<Archived>,
    /// Only conversations last updated at or after this time (a date or an RFC 3339 time).
    #[serde(default)]
    pub since: Option<String>,
    /// Only conversations last updated before this time (exclusive).
    #[serde(default)]
    pub until: Option<String>,
    /// Conversations per page (1 to 100, default 20), newest first.
    #[serde(default)]
    pub limit: Option<i64>,
    /// The next_cursor of the previous page with the same arguments.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Arguments of `list_folders` and `list_tags`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageArgs {
    /// Entries per page (1 to 500, default 100).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The next_cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Arguments of `tag_conversation`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagArgs {
    /// The conversation's id.
    pub id: String,
    /// Tags to add (up to 50; each 1 to 64 characters).
    #[serde(default)]
    pub add: Vec<String>,
    /// Tags to remove (up to 50). Removing a tag it does not carry is not an error.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Arguments of `add_note`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteArgs {
    /// The conversation to add the note to.
    pub conversation_id: String,
    /// The note, in Markdown (up to 200000 characters).
    pub text: String,
}

/// One message of a conversation an agent saves.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedMessage {
    /// Who wrote it.
    pub role: RoleArg,
    /// Its text, in Markdown (up to 200000 characters).
    pub content: String,
    /// When it was written (a date or an RFC 3339 time); default now.
    #[serde(default)]
    pub created_at: Option<String>,
    /// The model that wrote it, for assistant messages.
    #[serde(default)]
    pub model: Option<String>,
}

/// Arguments of `save_conversation`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveArgs {
    /// The conversation's title.
    pub title: String,
    /// Its messages in order, first to last (1 to 2000).
    pub messages: Vec<SavedMessage>,
    /// Tags to file it under (up to 50).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The folder to file it in, e.g. "agents/research" (default: the top folder).
    #[serde(default)]
    pub folder: Option<String>,
}

/// Reads a date (`2025-03-01`, its start in UTC) or an RFC 3339 time.
pub(crate) fn time_arg(name: &str, value: Option<&str>) -> Result<Option<Timestamp>> {
    let Some(raw) = value.map(str::trim) else {
        return Ok(None);
    };
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(Some(t));
    }
    if let Ok(d) = Date::parse(raw, format_description!("[year]-[month]-[day]")) {
        return Ok(Some(d.midnight().assume_utc()));
    }
    Err(Error::InvalidArgument(format!(
        "{name} must be a date such as 2025-03-01 or an RFC 3339 time such as \
         2025-03-01T09:00:00Z; got {raw:?}"
    )))
}

/// Checks that `since` comes before `until` when both are given.
pub(crate) fn time_range(
    since: Option<&str>,
    until: Option<&str>,
) -> Result<(Option<Timestamp>, Option<Timestamp>)> {
    let (since, until) = (time_arg("since", since)?, time_arg("until", until)?);
    if let (Some(s), Some(u)) = (since, until) {
        if s >= u {
            return Err(Error::InvalidArgument(format!(
                "since ({}) must come before until ({}), which is exclusive",
                timestamp::to_rfc3339(s),
                timestamp::to_rfc3339(u)
            )));
        }
    }
    Ok((since, until))
}

/// A tag argument.
pub(crate) fn tag_arg(value: &str) -> Result<Tag> {
    Tag::new(value).map_err(|e| Error::InvalidArgument(e.to_string()))
}

/// A folder argument.
pub(crate) fn folder_arg(value: &str) -> Result<FolderPath> {
    FolderPath::new(value).map_err(|e| Error::InvalidArgument(e.to_string()))
}

/// A text argument of at most [`MAX_TEXT_CHARS`].
pub(crate) fn text_arg(name: &str, value: &str) -> Result<()> {
    let chars = value.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(Error::InvalidArgument(format!(
            "{name} is {chars} characters long; the most is {MAX_TEXT_CHARS}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bounds_default_accept_their_range_and_explain_the_rest() {
        assert_eq!(SEARCH_LIMIT.check(None).unwrap(), 10);
        assert_eq!(SEARCH_LIMIT.check(Some(50)).unwrap(), 50);
        let e = SEARCH_LIMIT.check(Some(0)).unwrap_err().to_string();
        assert_eq!(e, "limit must be between 1 and 50 (default 10); got 0");
        assert!(SEARCH_LIMIT.check(Some(100_000)).is_err());
        assert!(SEARCH_LIMIT.check(Some(-1)).is_err());
    }

    #[test]
    fn times_are_dates_or_rfc3339_and_ranges_must_be_ordered() {
        let d = time_arg("since", Some("2025-03-01")).unwrap().unwrap();
        assert_eq!(timestamp::to_rfc3339(d), "2025-03-01T00:00:00Z");
        let t = time_arg("since", Some("2025-03-01T09:00:00+01:00"))
            .unwrap()
            .unwrap();
        assert_eq!(
            timestamp::to_millis(t),
            timestamp::to_millis(d) + 8 * 3_600_000
        );
        assert!(time_arg("since", Some("last spring"))
            .unwrap_err()
            .to_string()
            .contains("since must be a date"));
        assert!(time_range(Some("2025-04-01"), Some("2025-03-01")).is_err());
        assert!(time_range(Some("2025-03-01"), Some("2025-04-01")).is_ok());
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let e = serde_json::from_value::<SearchArgs>(serde_json::json!({"text": "x"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `text`"), "{e}");
    }
}
