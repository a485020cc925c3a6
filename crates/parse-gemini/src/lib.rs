//! Parsers for Google Gemini exports, behind the `chat-parse` [`Parser`] trait.
//!
//! Google gives people two quite different things, so this crate has two parsers, both
//! producing [`Source::Gemini`] conversations:
//!
//! * [`TakeoutParser`] reads Google Takeout "My Activity > Gemini Apps" in its JSON form
//!   (`MyActivity.json`, name and product localized). It is an *activity log*, not a set of
//!   conversations: a top-level array, newest first, of records whose `title` is a verb plus
//!   the prompt (`"Prompted how do I…"`, `"送信したメッセージ: …"`) and whose `safeHtmlItem` holds the
//!   answer as HTML. Records naming the same `https://gemini.google.com/app/<id>` (in
//!   `details[].url` or `titleUrl`, also the `/app/c/<id>` form) are one conversation.
//!
//!   Because a conversation's records are scattered over the whole newest-first file, nothing
//!   can be emitted before the array has been read to its end. The raw file is still streamed
//!   with [`chat_parse::json::ArrayStream`], element by element; each Gemini prompt record is
//!   reduced at once to a compact record (prompt text, answers already converted to Markdown,
//!   attachment names, a few raw fields) and grouped by conversation id. Memory is thus
//!   proportional to the Gemini prompts and answers, never to the raw file (other products'
//!   records, skipped verbs and HTML markup are dropped as they stream by). Conversations are
//!   emitted at the end, in the order their newest record appears in the file.
//!
//!   Ids never come from array positions (every re-export prepends new activity): a
//!   conversation's id is its app id; a prompt without one is a conversation of its own with id
//!   `stable_id(["takeout", time, title])`; message ids are that same hash of the record's raw
//!   `time` and `title` (answers add `/answer`, drafts `/answer/2`, ...).
//!
//!   Several `safeHtmlItem` entries are drafts or regenerations. They become sibling assistant
//!   messages under the prompt, all visible; the first entry is the one Gemini showed (Takeout
//!   does not say which draft was finally preferred: "Selected preferred draft" is a separate,
//!   unlinked record), so the active branch and the next prompt continue from it.
//!
//!   Takeout's default format is HTML (`MyActivity.html`). It is not read: detection says
//!   [`Confidence::NONE`], and parsing it returns [`ParseError::NotThisFormat`] telling the
//!   user to export again choosing JSON. A Takeout file of another product (YouTube, Search)
//!   has the same record shape: detection requires `header` or `products` naming Gemini, and
//!   records of other products are skipped (counted through [`Sink::skipped`]), as are the
//!   verbs that are not prompts (Created, Used, Gave feedback, Selected preferred draft,
//!   Cleared, ...).
//!
//! * [`AiStudioParser`] reads Google AI Studio prompt files (the JSON files in the Drive folder
//!   "Google AI Studio", usually without an extension): `runSettings`, `systemInstruction` and
//!   `chunkedPrompt.chunks`. Consecutive chunks of one role form one message (a model turn is
//!   often a thought chunk, a code chunk, a result chunk and the answer). Thought chunks
//!   (`isThought`, or parts with `thought: true`) become [`Part::Reasoning`] on that assistant
//!   message rather than hidden messages, so the reasoning stays attached to the answer it led
//!   to; the system instruction is a hidden system message at the root. The file holds no id:
//!   the conversation's id is the file's own `id` when a tool added one, else
//!   `stable_id(["aistudio", file stem, first chunk text])`, stable across re-downloads of the
//!   same prompt (renaming the prompt in Drive makes it a new conversation; that is the price
//!   of having no id). Message ids are the chunk's `id` when present, else `c<index>` of the
//!   turn's first chunk: a prompt file is rewritten whole, never prepended to.
//!
//!   The title is `displayName` or `title`, else the file name without directories and
//!   extension (Drive keeps the prompt's name only there). Code becomes [`Part::Code`], code
//!   results [`Part::ToolResult`], grounding sources [`Part::Citation`]; inline images are
//!   [`Part::Image`] with their bytes, other inline files, Drive documents and YouTube videos
//!   are [`Part::Attachment`] plus a conversation attachment. A `finishReason` other than
//!   `STOP`, or an `errorMessage`, marks the turn interrupted. `runSettings.model` (without
//!   `models/`) is the model of the conversation and of each assistant message.
//!
//! Both parsers keep the provider fields they do not model: per record or chunk as
//! [`Part::Raw`], per file in [`ParsedConversation::extra`]. Text in a shape they do not expect
//! is never dropped: a `safeHtmlItem` entry without an `html` string stays in the record's raw
//! part, and a bare string where an AI Studio chunk or part was expected is read as its text. Neither panics on any input: JSON
//! errors inside an element (invalid UTF-8, nesting past serde_json's limit) are item errors;
//! lone surrogate escapes are repaired by `chat-parse`; a truncated file yields what was
//! complete and then [`ParseError::Truncated`]. Answer HTML nested deeper than any real answer
//! is flattened before `htmd` walks it, and hostile nesting is reduced to its text before
//! html5ever parses it (see the private `html` module): both would otherwise cost a stack
//! overflow or quadratic time.
//!
//! [`Parser`]: chat_parse::Parser
//! [`Source::Gemini`]: chat_model::Source::Gemini
//! [`Confidence::NONE`]: chat_parse::Confidence::NONE
//! [`ParseError::NotThisFormat`]: chat_parse::ParseError::NotThisFormat
//! [`Sink::skipped`]: chat_parse::Sink::skipped
//! [`Part::Reasoning`]: chat_model::Part::Reasoning
//! [`Part::Raw`]: chat_model::Part::Raw
//! [`Part::Code`]: chat_model::Part::Code
//! [`Part::ToolResult`]: chat_model::Part::ToolResult
//! [`Part::Citation`]: chat_model::Part::Citation
//! [`Part::Image`]: chat_model::Part::Image
//! [`Part::Attachment`]: chat_model::Part::Attachment
//! [`ParsedConversation::extra`]: chat_model::ParsedConversation::extra
//! [`ParseError::Truncated`]: chat_parse::ParseError::Truncated

mod aistudio;
mod html;
mod takeout;

pub use aistudio::AiStudioParser;
pub use takeout::{TakeoutParser, PROMPT_PREFIXES};

/// The input's file name without directories (`/`, `\`, archive `!`) and without a short
/// extension (`.json`, `.txt`: 1 to 5 ASCII letters or digits with at least one letter), so that
/// an AI Studio prompt called "Gemini 2.5" keeps its name.
pub(crate) fn file_stem(name: &str) -> &str {
    let file = name.rsplit(['/', '\\', '!']).next().unwrap_or(name);
    match file.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && (1..=5).contains(&ext.len())
                && ext.bytes().all(|b| b.is_ascii_alphanumeric())
                && ext.bytes().any(|b| b.is_ascii_alphabetic()) =>
        {
            stem
        }
        _ => file,
    }
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn file_stems_drop_directories_and_short_extensions_only() {
        assert_eq!(file_stem("a/b/My prompt"), "My prompt");
        assert_eq!(file_stem("x.zip!Takeout/Drive/Notes.json"), "Notes");
        assert_eq!(file_stem("C:\\d\\Gemini 2.5"), "Gemini 2.5");
        assert_eq!(file_stem(".hidden"), ".hidden");
        assert_eq!(file_stem(""), "");
    }
}
