//! Parser for Claude.ai data exports (Settings > Privacy > Export data), behind the
//! `chat-parse` [`Parser`] trait.
//!
//! # What it reads
//!
//! The archive's `conversations.json`: a top-level array of conversations, each with `uuid`,
//! `name`, `summary`, `created_at`/`updated_at` and `chat_messages`. A bare conversation object
//! (no array around it) is read too.
//!
//! Projects (`projects.json`, an array, in older exports; one `projects/<uuid>.json` object per
//! project in 2026 exports and inside `projects-000.zip` of a manifest delivery) are read as
//! one conversation each (module `project`): the description, the instructions and every
//! document's text become visible messages, and [`ParsedConversation::subfolder`] names the
//! project, so the importer files it, and any conversation that names the project, in a folder
//! of the project's name. A project with no description, instructions or documents has nothing
//! to keep and is passed over.
//!
//! The other files of the archive (`users.json`, `memories.json`) are not conversations:
//! [`ClaudeParser::detect`] gives them [`Confidence::NONE`], and if one is handed to the parser
//! anyway, each of its entries is passed over through [`Sink::skipped`]. Detection is by
//! structure only: ChatGPT ships a `conversations.json` too, but its entries have `mapping`,
//! never `chat_messages`.
//!
//! # How
//!
//! The input is streamed with [`ArrayStream`], one conversation at a time, so memory is bounded
//! by the largest conversation whatever the file size. Each element is first read as a
//! [`serde_json::Value`] through [`chat_parse::json::Element::parse`] (which repairs lone UTF-16
//! surrogate escapes and turns invalid UTF-8 or nesting past serde_json's limit into an
//! [`ItemError`] with a byte offset), then deserialised into a small typed shape through
//! `serde_path_to_error`, so a conversation with a field of the wrong type becomes one item
//! error naming the JSON path (`$.chat_messages[3].content`) while the rest of the file still
//! imports. Where an item cannot be read, its `uuid` and `name` are still looked up leniently so
//! the user can tell which conversation it was. A truncated file yields every complete
//! conversation and then [`ParseError::Truncated`] with the offset of the cut.
//!
//! # Rules
//!
//! * Content comes from the `content[]` blocks, not from the flattened `text` field, which is a
//!   lossy render (tool and artifact blocks replaced by "This block is not supported on your
//!   current device yet", thinking prose sometimes mixed in). Text blocks joined with a blank
//!   line are the visible content; `thinking` becomes [`Part::Reasoning`], `tool_use`
//!   [`Part::ToolCall`], `tool_result` [`Part::ToolResult`] (paired with its call by
//!   `tool_use_id`, else with the oldest unanswered call of the message); text-block citations
//!   become [`Part::Citation`]; any other block (`token_budget`, future types, a known type
//!   whose fields have unexpected types) is kept verbatim as [`Part::Raw`] with kind
//!   `claude.<type>`; text a known block carries beyond what it models (a tool call's
//!   `message`, thinking summaries beside the prose, titled sources of a tool result) is kept
//!   the same way. A `voice_note` block's `transcript` is what the person said: it is visible
//!   text (and a [`Part::Audio`] carrying the transcript). `text` is used only when `content` is
//!   missing or empty, or holds no block of a type this parser reads (so a renamed text block
//!   in a future export still shows).
//! * `sender` `human`/`assistant` map to user/assistant. Anything else becomes a system
//!   message, with the original sender kept in the message's `claude.message` raw part.
//! * The tree: a message with `parent_message_uuid` hangs under that message; a parent that is
//!   not in the conversation, or the all-zero uuid Claude uses for "no parent", makes it a
//!   root. A message without the field follows the previous message in array order. Walks are
//!   iterative and cycles are broken (the earliest message of a cycle becomes a root), so no
//!   input can hang or overflow the stack. Messages are emitted parents first, otherwise in
//!   array order. The active leaf is the last message in array order.
//! * Messages with neither text nor blocks exist in real exports; they are kept, empty.
//! * Titles: `name: ""` means untitled, and the title is derived from the first user message
//!   ([`chat_model::derive_title`]). A non-empty `summary` is the conversation's summary.
//!   Claude exports name no model.
//! * Attachments: `attachments[]` entries (text files, with `extracted_content`) become a
//!   [`Part::Attachment`] carrying the extracted text (searchable) plus a conversation
//!   [`Attachment`] (name, size, `file_type` as MIME type); `files[]` entries (images and other
//!   binaries, whose bytes are not in the export) are kept by name, and so are `files_v2`
//!   entries (reported in 2026, shape unconfirmed).
//! * A conversation whose export names its project (`project: {uuid, name}`) gets the
//!   project's name as its [`ParsedConversation::subfolder`]; one that gives only the uuid
//!   (`project_uuid`) is matched by the importer through [`project_link`].
//! * Ids: a conversation's id is its `uuid`; without one, a [`stable_id`] over its creation
//!   time and first message, never its array position. A message's id is its `uuid`; without
//!   one, a [`stable_id`] of the conversation id, its `created_at` and its text; duplicates get
//!   a `#2`, `#3`, ... suffix so ids stay unique within a conversation.
//! * Nothing is lost: conversation fields that are not modelled (`account`, `project`, ...)
//!   go to [`ParsedConversation::extra`]; per message, unmodelled fields (and `updated_at`
//!   when it differs from `created_at`) go to a `claude.message` [`Part::Raw`]; leftover
//!   fields of attachment and file entries to `claude.attachment` / `claude.file` raw parts.
//!   Timestamps that do not parse are kept raw the same way. When a conversation has no
//!   usable `created_at` (or `updated_at`), the earliest (latest) message time stands in.
//!
//! [`Parser`]: chat_parse::Parser
//! [`Sink::skipped`]: chat_parse::Sink::skipped
//! [`ArrayStream`]: chat_parse::json::ArrayStream
//! [`ItemError`]: chat_parse::ItemError
//! [`ParseError::Truncated`]: chat_parse::ParseError::Truncated
//! [`Part::Reasoning`]: chat_model::Part::Reasoning
//! [`Part::ToolCall`]: chat_model::Part::ToolCall
//! [`Part::ToolResult`]: chat_model::Part::ToolResult
//! [`Part::Citation`]: chat_model::Part::Citation
//! [`Part::Raw`]: chat_model::Part::Raw
//! [`Part::Attachment`]: chat_model::Part::Attachment
//! [`Attachment`]: chat_model::Attachment
//! [`stable_id`]: chat_parse::stable_id
//! [`ParsedConversation::extra`]: chat_model::ParsedConversation::extra
//! [`ParsedConversation::subfolder`]: chat_model::ParsedConversation::subfolder
//! [`Part::Audio`]: chat_model::Part::Audio

mod blocks;
mod convert;
mod project;
mod tree;

pub use project::{project_link, ProjectLink, PROJECT_ID_PREFIX};

use chat_model::Source;
use chat_parse::json::{ArrayStream, Element};
use chat_parse::{Confidence, Flow, Input, ItemRef, Parser, Probe, Result, Sink, Skipped};
use serde_json::Value;

/// The Claude.ai export parser. See the crate documentation for the rules it follows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaudeParser;

impl Parser for ClaudeParser {
    fn source(&self) -> Source {
        Source::Claude
    }

    fn name(&self) -> &'static str {
        "Claude export"
    }

    /// `chat_messages` is what sets a Claude conversation apart (ChatGPT has `mapping`; users,
    /// projects and memories have neither). With `uuid` and a message `sender` as well the
    /// claim is [`Confidence::HIGH`]; with only one of them [`Confidence::MEDIUM`]; with
    /// `chat_messages` alone [`Confidence::LOW`]. A project file (`uuid` with `prompt_template`,
    /// `is_starter_project`, or `docs` and `description`) is [`Confidence::HIGH`]. The file name is never looked
    /// at.
    fn detect(&self, probe: &Probe<'_>) -> Confidence {
        if !matches!(probe.first_byte(), Some(b'[' | b'{')) {
            return Confidence::NONE;
        }
        if !probe.has_key("chat_messages") {
            let project = probe.has_key("prompt_template")
                || probe.has_key("is_starter_project")
                || (probe.has_key("docs") && probe.has_key("description"));
            return if project && probe.has_key("uuid") && !probe.has_key("mapping") {
                Confidence::HIGH
            } else {
                Confidence::NONE
            };
        }
        match (probe.has_key("uuid"), probe.has_key("sender")) {
            (true, true) => Confidence::HIGH,
            (true, false) | (false, true) => Confidence::MEDIUM,
            (false, false) => Confidence::LOW,
        }
    }

    fn parse(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<()> {
        let mut stream = ArrayStream::new(input.reader, input.name);
        loop {
            let flow = match stream.next_element()? {
                None => {
                    sink.progress(stream.bytes_read());
                    return Ok(());
                }
                Some(element) => read_element(&element, sink),
            };
            sink.progress(stream.bytes_read());
            if flow == Flow::Stop {
                return Ok(());
            }
        }
    }
}

/// Hint for a conversation whose shape is not the one Claude exports use.
const SHAPE_HINT: &str = "this conversation does not have the shape a Claude export uses; it was \
                          kept so a newer version of the importer can retry it";

/// Reads one top-level element and pushes the outcome into the sink.
fn read_element(element: &Element<'_>, sink: &mut dyn Sink) -> Flow {
    let value: Value = match element.parse() {
        Ok(value) => value,
        Err(mut error) => {
            let (id, title) = convert::lenient_head(element.bytes);
            error.item.id = id;
            error.item.title = title;
            return sink.item_error(error);
        }
    };
    let Value::Object(object) = value else {
        let found = convert::json_kind(&value);
        return sink.item_error(element.error(
            format!("this item is {found}, not a conversation object"),
            SHAPE_HINT,
            Some("$".to_owned()),
            None,
        ));
    };
    let id = convert::str_field(&object, "uuid");
    let title = convert::str_field(&object, "name");
    if !object.contains_key("chat_messages") {
        if project::is_project(&object) {
            if project::is_empty_project(&object) {
                return sink.skipped(Skipped {
                    item: ItemRef {
                        index: Some(element.index),
                        id,
                        title,
                    },
                    reason: "an empty project (no description, instructions or documents): \
                             nothing to keep"
                        .to_owned(),
                });
            }
            return sink.conversation(project::project(object));
        }
        return sink.skipped(Skipped {
            item: ItemRef {
                index: Some(element.index),
                id,
                title,
            },
            reason: "no chat_messages: not a conversation (a project, user or memory entry)"
                .to_owned(),
        });
    }
    match convert::conversation(object) {
        Ok(conversation) => sink.conversation(conversation),
        Err(failure) => {
            let mut error =
                element.error(failure.message, SHAPE_HINT, Some(failure.json_path), None);
            error.item.id = id;
            error.item.title = title;
            sink.item_error(error)
        }
    }
}
