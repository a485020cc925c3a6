//! Choosing a parser for an input by its structure, and explaining why when none fits.

use chat_model::Source;
use chat_parse::{Confidence, Parser, Probe};

/// What detection decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detected {
    /// Read it with the parser at this index of the registry.
    Parser(usize),
    /// An AI OS Chat JSON export (restored with its ids).
    Native,
    /// Not a chat export this build reads.
    Unknown {
        /// What it is, as far as can be told.
        error: String,
        /// What to do.
        hint: String,
        /// Whether it is worth reporting when found inside a folder or archive (HTML Takeouts
        /// are; `users.json` is not).
        notable: bool,
    },
    /// `--source` named a parser that does not fit, and the file looks like another source.
    WrongSource {
        /// What was forced.
        forced: Source,
        /// What it looks like.
        looks_like: &'static str,
        /// The source it looks like.
        looks_like_source: Source,
    },
}

/// Whether the head is an AI OS Chat export document.
pub fn is_native(probe: &Probe<'_>) -> bool {
    probe.has_key("format") && probe.contains(chat_export::FORMAT_NAME)
}

/// Picks the parser with the highest confidence (ties go to the earlier one), honouring a
/// forced source.
pub fn detect(parsers: &[Box<dyn Parser>], probe: &Probe<'_>, forced: Option<Source>) -> Detected {
    if is_native(probe) && forced.is_none() {
        return Detected::Native;
    }
    let scored: Vec<(usize, Confidence)> = parsers
        .iter()
        .enumerate()
        .map(|(i, p)| (i, p.detect(probe)))
        .collect();
    let best = scored
        .iter()
        .filter(|(_, c)| c.is_some())
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .copied();
    match forced {
        None => match best {
            Some((i, c)) if c >= Confidence::LOW => Detected::Parser(i),
            _ => unknown(probe),
        },
        Some(forced) => {
            let own = scored
                .iter()
                .filter(|(i, _)| parsers[*i].source() == forced)
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .copied();
            match (own, best) {
                (Some((i, c)), _) if c.is_some() => Detected::Parser(i),
                (_, Some((j, c))) if c >= Confidence::MEDIUM && parsers[j].source() != forced => {
                    Detected::WrongSource {
                        forced,
                        looks_like: parsers[j].name(),
                        looks_like_source: parsers[j].source(),
                    }
                }
                // Nothing else claims it either: trust the user and try the forced parser.
                (Some((i, _)), _) if !probe.looks_like_html() && probe.first_byte().is_some() => {
                    Detected::Parser(i)
                }
                _ => unknown(probe),
            }
        }
    }
}

/// Explains an input no parser reads.
fn unknown(probe: &Probe<'_>) -> Detected {
    let lower = probe.name.to_lowercase();
    let head_lower =
        String::from_utf8_lossy(&probe.head[..probe.head.len().min(8192)]).to_lowercase();
    if probe.first_byte().is_none() {
        return Detected::Unknown {
            error: "the file is empty".to_owned(),
            hint: "download the export again; the file has no content".to_owned(),
            notable: true,
        };
    }
    if probe.looks_like_html() || lower.ends_with(".html") || lower.ends_with(".htm") {
        let file = probe.file_name().to_lowercase();
        let folders: Vec<&str> = lower.split(['/', '\\', '!']).collect();
        let folders = &folders[..folders.len().saturating_sub(1)];
        let in_takeout = folders.iter().any(|f| f.contains("takeout"));
        // Takeout puts an index page at the root of every archive; it is not an export.
        if file == "archive_browser.html" {
            return Detected::Unknown {
                error: "this is Google Takeout's index page (archive_browser.html), not an export"
                    .to_owned(),
                hint: "nothing to do: the activity files of the archive are read on their own"
                    .to_owned(),
                notable: false,
            };
        }
        let gemini_folder = folders
            .iter()
            .any(|f| f.contains("gemini") || f.contains("bard"));
        let gemini_activity =
            gemini_folder || (file.contains("activity") && head_lower.contains("gemini"));
        if gemini_activity {
            return Detected::Unknown {
                error: "this is the HTML form of a Google Takeout".to_owned(),
                hint: "export again at takeout.google.com, and under \"My Activity\" choose \
                       \"Multiple formats\" → JSON for the activity records, then import the new \
                       archive"
                    .to_owned(),
                notable: true,
            };
        }
        if lower.ends_with("chat.html") {
            return Detected::Unknown {
                error: "this is ChatGPT's HTML viewer (chat.html), not the data".to_owned(),
                hint: "import conversations.json from the same export, or the whole zip".to_owned(),
                notable: false,
            };
        }
        if in_takeout {
            return Detected::Unknown {
                error: "this is a page of a Google Takeout archive (an index or another \
                        product's activity), not a chat export"
                    .to_owned(),
                hint: "nothing to do: only the Gemini Apps activity is read".to_owned(),
                notable: false,
            };
        }
        return Detected::Unknown {
            error: "this is an HTML page, not a chat export".to_owned(),
            hint: "import the JSON files of the export (or the whole zip) instead".to_owned(),
            notable: false,
        };
    }
    if probe.trimmed().starts_with(b"PK\x03\x04") {
        return Detected::Unknown {
            error: "this is a zip archive without a .zip name".to_owned(),
            hint: "rename it to end in .zip, then import it again".to_owned(),
            notable: true,
        };
    }
    match probe.first_byte() {
        Some(b'[') | Some(b'{') => Detected::Unknown {
            error: "this JSON is not a chat export this importer knows".to_owned(),
            hint: "supported: ChatGPT (conversations.json), Claude (conversations.json), Google \
                   Takeout Gemini Apps (MyActivity.json), Google AI Studio prompts, VS Code \
                   Copilot Chat (exported .json, chatSessions/*.json, *.jsonl), and AI OS Chat \
                   JSON exports"
                .to_owned(),
            notable: false,
        },
        _ => Detected::Unknown {
            error: "this is not a JSON file".to_owned(),
            hint: "chat exports are JSON; check that you chose the right file".to_owned(),
            notable: false,
        },
    }
}

/// "ChatGPT export" → the words used in a wrong-source diagnosis.
pub fn wrong_source_message(forced: Source, looks_like: &str) -> (String, String) {
    (
        format!(
            "this looks like a {looks_like} but --source {} was given",
            forced.as_str()
        ),
        "run the import again without --source (detection is automatic) or with the right \
         source"
            .to_owned(),
    )
}
