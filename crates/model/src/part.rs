use serde::{Deserialize, Serialize};

/// A structured piece of a message beyond its visible Markdown text.
///
/// Parts are stored as a JSON array in `convo_turns.parts`. Everything a provider sends that we
/// do not model goes into [`Part::Raw`], so nothing an export holds is lost. The `text` fields of
/// parts are searchable through the message they belong to only when the message is visible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Part {
    /// A block of code (e.g. ChatGPT `code` content, AI Studio `executableCode`).
    Code {
        /// The language, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        /// The code.
        text: String,
    },
    /// An image, referenced or inline.
    Image {
        /// A reference such as `file-service://file-abc` or a file name in the export.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// The MIME type, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
        /// Width and height in pixels, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        width: Option<u64>,
        /// Height in pixels, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        height: Option<u64>,
        /// Base64 data when the export holds the bytes inline. The import moves them into the
        /// media store (setting `media`) and clears this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
        /// The stored bytes ([`crate::MediaHash`] hex), set by the import when the export held them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media: Option<String>,
    },
    /// Audio, referenced or transcribed.
    Audio {
        /// A reference to the audio in the export.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// A transcript, when the export holds one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        transcript: Option<String>,
        /// The stored bytes ([`crate::MediaHash`] hex), set by the import when the export held them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media: Option<String>,
    },
    /// A call the model made to a tool.
    ToolCall {
        /// The tool's name.
        name: String,
        /// The provider's call id, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The arguments as given.
        #[serde(default)]
        input: serde_json::Value,
    },
    /// What a tool returned.
    ToolResult {
        /// The tool's name, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The call it answers, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call_id: Option<String>,
        /// The result's text.
        text: String,
        /// Whether the tool reported an error.
        #[serde(default)]
        is_error: bool,
    },
    /// The model's reasoning ("thinking"), shown collapsed.
    Reasoning {
        /// The reasoning text.
        text: String,
    },
    /// A file attached to the message.
    Attachment {
        /// The file name.
        name: String,
        /// Size in bytes, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<u64>,
        /// The MIME type (or the provider's file type), when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
        /// Text extracted from the file by the provider, when the export holds it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        extracted_text: Option<String>,
        /// How the export refers to the file's bytes (a file id, a file name), when it differs
        /// from `name` or the bytes may be in the export.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// The stored bytes ([`crate::MediaHash`] hex), set by the import when the export held them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media: Option<String>,
    },
    /// A citation or reference (a web page, a file) attached to the answer.
    Citation {
        /// Title of the cited source.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// Where it lives.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    /// Provider data kept verbatim. `kind` names what it was (e.g. `chatgpt.tether_quote`).
    Raw {
        /// What the provider called it.
        kind: String,
        /// The provider's JSON, untouched.
        value: serde_json::Value,
    },
}

/// The [`Part::Raw`] kind that marks a message as a note: something written beside the
/// conversation (by the user, or by an agent on their behalf) rather than a turn of it.
pub const NOTE_KIND: &str = "ai-os-chat.note";

impl Part {
    /// A part marking its message as a note ([`NOTE_KIND`]); `author` names who wrote it
    /// (e.g. the agent's name).
    pub fn note(author: Option<&str>) -> Part {
        Part::Raw {
            kind: NOTE_KIND.to_owned(),
            value: match author {
                Some(a) => serde_json::json!({ "author": a }),
                None => serde_json::json!({}),
            },
        }
    }

    /// Whether this part marks its message as a note.
    pub fn is_note(&self) -> bool {
        matches!(self, Part::Raw { kind, .. } if kind == NOTE_KIND)
    }

    /// The searchable text of this part, if it has any.
    pub fn text(&self) -> Option<&str> {
        match self {
            Part::Code { text, .. } | Part::ToolResult { text, .. } | Part::Reasoning { text } => {
                Some(text)
            }
            Part::Audio { transcript, .. } => transcript.as_deref(),
            Part::Attachment { extracted_text, .. } => extracted_text.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_serialise_with_a_type_tag_and_round_trip() {
        let parts = vec![
            Part::Code {
                language: Some("rust".into()),
                text: "fn main() {}".into(),
            },
            Part::Reasoning { text: "hmm".into() },
            Part::Raw {
                kind: "chatgpt.tether_quote".into(),
                value: serde_json::json!({"url": "https://x"}),
            },
        ];
        let json = serde_json::to_value(&parts).unwrap();
        assert_eq!(json[0]["type"], "code");
        assert_eq!(json[1]["type"], "reasoning");
        assert_eq!(json[2]["kind"], "chatgpt.tether_quote");
        let back: Vec<Part> = serde_json::from_value(json).unwrap();
        assert_eq!(back, parts);
        assert_eq!(back[0].text(), Some("fn main() {}"));
        assert_eq!(back[2].text(), None);
    }
}
