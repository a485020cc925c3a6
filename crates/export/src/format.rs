//! The export formats, in one place: which formats there are, what their files are called,
//! and how one conversation, or a stream of them, is written in each. The CLI's bulk exports,
//! the API's `GET /export` and the per-conversation downloads all go through [`Format`].

use std::io::Write;
use std::str::FromStr;

use chat_model::{Conversation, ConversationDetail};

use crate::error::Result;
use crate::json::ArrayWriter;
use crate::{finetune, json, markdown};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Markdown with YAML front matter: the active branch, for people (`md`).
    Markdown,
    /// The lossless JSON document, which imports back (`json`).
    Json,
    /// OpenAI chat fine-tuning JSONL from up-rated answers (`finetune`, `jsonl`).
    Finetune,
}

/// A format name [`Format::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown export format {0:?}; expected md, json or finetune")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// `md` or `markdown`, `json`, `finetune` or `jsonl`.
    fn from_str(s: &str) -> std::result::Result<Self, UnknownFormat> {
        match s {
            "md" | "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            "finetune" | "jsonl" => Ok(Format::Finetune),
            other => Err(UnknownFormat(other.to_owned())),
        }
    }
}

impl Format {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Json => "json",
            Format::Finetune => "jsonl",
        }
    }

    /// The media type of a file in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Json => "application/json",
            Format::Finetune => "application/jsonl",
        }
    }

    /// The file name for one conversation in this format (see [`file_name`]).
    pub fn file_name(self, conversation: &Conversation) -> String {
        file_name(
            &conversation.title,
            conversation.id.as_str(),
            self.extension(),
        )
    }

    /// Writes one conversation as a file of its own: the Markdown document, the pretty-printed
    /// JSON document, or its fine-tuning lines. `detail.messages` must hold the whole tree.
    /// Returns what was written: one document, or the number of fine-tuning lines.
    pub fn render(self, out: &mut impl Write, detail: &ConversationDetail) -> Result<u64> {
        match self {
            Format::Markdown => markdown::write_conversation(out, detail).map(|()| 1),
            Format::Json => json::write_conversation(out, detail).map(|()| 1),
            Format::Finetune => finetune::write_conversation(out, detail),
        }
    }

    /// Starts writing many conversations into one output: a JSON array of documents, JSONL
    /// lines, or Markdown documents one after another. Only the conversation being pushed is
    /// in memory.
    pub fn writer<W: Write>(self, out: W) -> Result<FormatWriter<W>> {
        let out = match self {
            Format::Json => Output::Array(ArrayWriter::new(out)?),
            Format::Markdown | Format::Finetune => Output::Plain(out),
        };
        Ok(FormatWriter {
            format: self,
            out,
            written: Written::default(),
        })
    }
}

/// What a [`FormatWriter`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Conversations pushed.
    pub conversations: u64,
    /// Items written: documents, or fine-tuning lines.
    pub items: u64,
}

#[derive(Debug)]
enum Output<W: Write> {
    Array(ArrayWriter<W>),
    Plain(W),
}

/// Many conversations in one output, in one format ([`Format::writer`]): call
/// [`FormatWriter::push`] per conversation, then [`FormatWriter::finish`].
#[derive(Debug)]
pub struct FormatWriter<W: Write> {
    format: Format,
    out: Output<W>,
    written: Written,
}

impl<W: Write> FormatWriter<W> {
    /// Writes one conversation (`detail.messages` holding the whole tree).
    pub fn push(&mut self, detail: &ConversationDetail) -> Result<()> {
        let items = match &mut self.out {
            Output::Array(array) => array.push(detail).map(|()| 1)?,
            Output::Plain(out) => self.format.render(out, detail)?,
        };
        self.written.conversations += 1;
        self.written.items += items;
        Ok(())
    }

    /// Ends the output (closing the JSON array), flushes it and says what was written.
    pub fn finish(self) -> Result<Written> {
        match self.out {
            Output::Array(array) => {
                array.finish()?;
            }
            Output::Plain(mut out) => out.flush()?,
        }
        Ok(self.written)
    }
}

/// A file name for a conversation: its title reduced to `[A-Za-z0-9-_]` words (at most 60
/// characters), then the first 8 characters of its id, then the extension. Safe on every
/// file system and in a `Content-Disposition` header.
pub fn file_name(title: &str, id: &str, extension: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= 60 {
            break;
        }
    }
    let slug = slug.trim_matches('-');
    let short_id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    match (slug.is_empty(), short_id.is_empty()) {
        (true, true) => format!("conversation.{extension}"),
        (true, false) => format!("conversation-{short_id}.{extension}"),
        (false, true) => format!("{slug}.{extension}"),
        (false, false) => format!("{slug}-{short_id}.{extension}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_name("How do I: read ../../etc/passwd?", "0192-abcd-ef", "md"),
            "how-do-i-read-etc-passwd-0192abcd.md"
        );
        assert_eq!(file_name("日本語", "", "json"), "conversation.json");
        assert_eq!(file_name("", "abc", "md"), "conversation-abc.md");
    }

    #[test]
    fn format_names_round_trip_and_unknown_ones_are_refused() {
        for (name, format) in [
            ("md", Format::Markdown),
            ("markdown", Format::Markdown),
            ("json", Format::Json),
            ("finetune", Format::Finetune),
            ("jsonl", Format::Finetune),
        ] {
            assert_eq!(name.parse::<Format>(), Ok(format));
            assert_eq!(format.extension().parse::<Format>(), Ok(format));
        }
        assert_eq!("pdf".parse::<Format>(), Err(UnknownFormat("pdf".into())));
    }
}
