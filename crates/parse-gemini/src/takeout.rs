//! Google Takeout "My Activity > Gemini Apps", JSON form. See the crate docs for the design.

use std::collections::{HashMap, HashSet};

use chat_model::{derive_title, Attachment, ParsedConversation, ParsedMessage, Part, Role, Source};
use chat_parse::json::{ArrayStream, Shape};
use chat_parse::{
    stable_id, Confidence, Flow, Input, ItemRef, ParseError, Parser, Probe, Result, Sink, Skipped,
};
use htmd::HtmlToMarkdown;
use serde_json::{Map, Value};

use crate::html;

/// Reads Google Takeout "My Activity > Gemini Apps" JSON (`MyActivity.json`).
#[derive(Debug, Clone, Copy, Default)]
pub struct TakeoutParser;

const NAME: &str = "Google Takeout (Gemini Apps)";

/// Verb prefixes of prompt records, per locale, matched at the start of `title`. The rest of
/// the title is the prompt. Add a locale's form here when a user reports one.
pub const PROMPT_PREFIXES: &[&str] = &[
    "Prompted ",            // en
    "Asked ",               // en, older exports
    "Said ",                // en, voice
    "Submitted query ",     // en, Bard era
    "送信したメッセージ: ", // ja
    "送信したメッセージ：", // ja, full-width colon
    "Has dicho: ",          // es
];

/// Words in `header` / `products` that mark a Gemini record (the product name is not
/// translated; "Bard" was its name before February 2024).
const PRODUCT_MARKERS: &[&str] = &["Gemini", "Bard"];

/// How often progress is reported, in elements.
const PROGRESS_EVERY: u64 = 256;

impl Parser for TakeoutParser {
    fn source(&self) -> Source {
        Source::Gemini
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn detect(&self, probe: &Probe<'_>) -> Confidence {
        if probe.looks_like_html() || probe.first_byte() != Some(b'[') {
            return Confidence::NONE;
        }
        if !(probe.has_key("title") && probe.has_key("time")) {
            return Confidence::NONE;
        }
        let names_gemini = key_strings(probe.head, "header")
            .chain(key_strings(probe.head, "products"))
            .any(|s| names_gemini(&s));
        if names_gemini {
            Confidence::HIGH
        } else {
            Confidence::NONE
        }
    }

    fn parse(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<()> {
        let name = input.name;
        if starts_with_markup(input.reader) {
            return Err(html_error(name));
        }
        let mut stream = ArrayStream::new(input.reader, name);
        let converter = HtmlToMarkdown::new();
        let mut groups = Groups::default();
        let end = loop {
            let element = match stream.next_element() {
                Ok(Some(el)) => el,
                Ok(None) => break None,
                Err(e) => break Some(e),
            };
            let index = element.index;
            if index % PROGRESS_EVERY == 0 {
                sink.progress(element.offset);
            }
            let value: Value = match element.parse() {
                Ok(v) => v,
                Err(err) => {
                    if sink.item_error(err) == Flow::Stop {
                        return Ok(());
                    }
                    continue;
                }
            };
            let flow = match classify(value, index, &converter) {
                Record::Prompt(prompt) => {
                    groups.add(*prompt);
                    Flow::Continue
                }
                Record::Skip(skipped) => sink.skipped(skipped),
                Record::Malformed => sink.item_error(element.error(
                    "this item is not a Takeout activity record (no \"title\" string)",
                    "it was kept for inspection; the rest of the file was read",
                    Some("$.title".to_owned()),
                    None,
                )),
            };
            if flow == Flow::Stop {
                return Ok(());
            }
        };
        let shape = stream.shape();
        sink.progress(stream.bytes_read());
        let end = end.map(|e| match e {
            ParseError::Syntax { ref message, .. }
                if shape == Shape::Unknown && message.contains("'<'") =>
            {
                html_error(name)
            }
            other => other,
        });
        if let Some(err @ ParseError::Empty { .. }) = end {
            return Err(err);
        }
        for conversation in groups.into_conversations() {
            if sink.conversation(conversation) == Flow::Stop {
                return Ok(());
            }
        }
        match end {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    /// Takeout keeps attached files and generated images beside `MyActivity.json` under the
    /// names the record gives (`attachedFiles`, `imageFile`).
    fn media_keys(&self, reference: Option<&str>, name: Option<&str>) -> Vec<String> {
        reference
            .or(name)
            .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n))
            .filter(|n| !n.is_empty())
            .map(|n| vec![n.to_owned()])
            .unwrap_or_default()
    }
}

fn html_error(input: &str) -> ParseError {
    ParseError::NotThisFormat {
        input: input.to_owned(),
        expected: NAME,
        reason: "this is the HTML form of a Google Takeout activity file (MyActivity.html), which \
                 cannot be imported; export again at takeout.google.com, and under \"My \
                 Activity\" > \"Multiple formats\" choose JSON instead of HTML"
            .to_owned(),
    }
}

/// Whether the first significant bytes already buffered are `<` (HTML or XML).
fn starts_with_markup(reader: &mut dyn std::io::BufRead) -> bool {
    match reader.fill_buf() {
        Ok(head) => {
            let probe = Probe::new("", head);
            probe.looks_like_html() || probe.first_byte() == Some(b'<')
        }
        Err(_) => false,
    }
}

fn names_gemini(s: &str) -> bool {
    PRODUCT_MARKERS.iter().any(|m| s.contains(m))
}

/// The string values (or first strings of array values) of `"key":` in a possibly cut-off JSON
/// head. Tolerant: anything unexpected ends that occurrence.
fn key_strings<'a>(head: &'a [u8], key: &str) -> impl Iterator<Item = String> + 'a {
    let needle = format!("\"{key}\"");
    let mut from = 0;
    std::iter::from_fn(move || loop {
        let pos = find(&head[from..], needle.as_bytes())?;
        let mut i = from + pos + needle.len();
        from = i;
        let skip_ws = |mut i: usize| {
            while head.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            i
        };
        i = skip_ws(i);
        if head.get(i) != Some(&b':') {
            continue;
        }
        i = skip_ws(i + 1);
        if head.get(i) == Some(&b'[') {
            i = skip_ws(i + 1);
        }
        if head.get(i) != Some(&b'"') {
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < head.len() && head[j] != b'"' {
            j += if head[j] == b'\\' { 2 } else { 1 };
        }
        let end = j.min(head.len());
        return Some(String::from_utf8_lossy(&head[start..end]).into_owned());
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A Gemini prompt record, reduced to what the conversation needs.
#[derive(Debug)]
struct Prompt {
    /// The conversation's app id, when the record names one.
    app_id: Option<String>,
    time: Option<chat_model::Timestamp>,
    time_raw: String,
    title_raw: String,
    /// The prompt: the title without its verb.
    text: String,
    /// Answers as Markdown: the shown one first, then drafts.
    answers: Vec<String>,
    /// Attached file names.
    files: Vec<String>,
    /// Unmodelled fields of the record (`details`, `subtitles`, `titleUrl`, ...).
    raw: Map<String, Value>,
    /// `header` and `products`, for the conversation's `extra`.
    product: Map<String, Value>,
}

enum Record {
    Prompt(Box<Prompt>),
    Skip(Skipped),
    /// Not an object with a string `title`.
    Malformed,
}

fn classify(value: Value, index: u64, converter: &HtmlToMarkdown) -> Record {
    let Value::Object(mut obj) = value else {
        return Record::Malformed;
    };
    let Some(title) = obj.get("title").and_then(Value::as_str).map(str::to_owned) else {
        return Record::Malformed;
    };
    let item = ItemRef {
        index: Some(index),
        id: None,
        title: Some(title.clone()),
    };
    let header = obj.get("header").and_then(Value::as_str).unwrap_or("");
    let products = obj.get("products").and_then(Value::as_array);
    let is_gemini = names_gemini(header)
        || products.is_some_and(|p| p.iter().filter_map(Value::as_str).any(names_gemini));
    if !is_gemini {
        let product = if header.is_empty() {
            "an unnamed product".to_owned()
        } else {
            format!("\"{header}\"")
        };
        return Record::Skip(Skipped {
            item,
            reason: format!("an activity record of {product}, not of Gemini Apps"),
        });
    }
    let Some(text) = prompt_text(&title) else {
        return Record::Skip(Skipped {
            item,
            reason: "a Gemini activity that is not a prompt (e.g. Created, Used, Gave feedback, \
                     Selected preferred draft, Cleared)"
                .to_owned(),
        });
    };
    let time_raw = match obj.remove("time") {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let time = chat_parse::time::from_str(&time_raw);
    let app_id = obj
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("url").and_then(Value::as_str))
        .chain(obj.get("titleUrl").and_then(Value::as_str))
        .find_map(app_id);
    let answers = match obj.remove("safeHtmlItem") {
        Some(Value::Array(items)) => {
            let (answers, rest) = answers(items, converter);
            if !rest.is_empty() {
                // Entries without an `html` string (or fields beside it): kept, not dropped.
                obj.insert("safeHtmlItem".to_owned(), Value::Array(rest));
            }
            answers
        }
        Some(other) => {
            obj.insert("safeHtmlItem".to_owned(), other);
            Vec::new()
        }
        None => Vec::new(),
    };
    let mut files: Vec<String> = Vec::new();
    let mut add_file = |name: &str| {
        let name = name.trim();
        if !name.is_empty() && !files.iter().any(|f| f == name) {
            files.push(name.to_owned());
        }
    };
    if let Some(list) = obj.get("attachedFiles").and_then(Value::as_array) {
        list.iter()
            .filter_map(Value::as_str)
            .for_each(&mut add_file);
    }
    if let Some(name) = obj.get("imageFile").and_then(Value::as_str) {
        add_file(name);
    }
    // Subtitles such as {"name": "-  image_1a2b.png", "url": "image_1a2b.png"} list files.
    for sub in obj
        .get("subtitles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = sub.get("name").and_then(Value::as_str) else {
            continue;
        };
        if let Some(rest) = name.trim_start().strip_prefix('-') {
            let url = sub.get("url").and_then(Value::as_str).unwrap_or("");
            let file = if url.is_empty() || url.contains("://") {
                rest
            } else {
                url
            };
            add_file(file);
        }
    }
    obj.remove("title");
    obj.remove("attachedFiles");
    obj.remove("imageFile");
    let mut product = Map::new();
    for key in ["header", "products", "activityControls"] {
        if let Some(v) = obj.remove(key) {
            product.insert(key.to_owned(), v);
        }
    }
    Record::Prompt(Box::new(Prompt {
        app_id,
        time,
        time_raw,
        title_raw: title,
        text,
        answers,
        files,
        raw: obj,
        product,
    }))
}

/// The answers of `safeHtmlItem` as Markdown, and what else its entries hold (entries without
/// an `html` string, fields beside it) to keep raw.
fn answers(items: Vec<Value>, converter: &HtmlToMarkdown) -> (Vec<String>, Vec<Value>) {
    let mut answers = Vec::new();
    let mut rest = Vec::new();
    for item in items {
        let Value::Object(mut entry) = item else {
            if chat_parse::has_text(&item) {
                rest.push(item);
            }
            continue;
        };
        if let Some(Value::String(h)) = entry.remove("html") {
            let md = html::to_markdown(converter, &h);
            if !md.is_empty() {
                answers.push(md);
            }
        }
        if entry.values().any(chat_parse::has_text) {
            rest.push(Value::Object(entry));
        }
    }
    (answers, rest)
}

/// The prompt text of a prompt record's title, or `None` for other verbs.
fn prompt_text(title: &str) -> Option<String> {
    for prefix in PROMPT_PREFIXES {
        if let Some(rest) = title.strip_prefix(prefix) {
            return Some(rest.trim().to_owned());
        }
        // An image-only prompt: the bare verb ("Prompted ", sometimes trimmed to "Prompted").
        if title.trim() == prefix.trim() {
            return Some(String::new());
        }
    }
    None
}

/// The conversation id in a Gemini app URL: `https://gemini.google.com/app/<id>` or
/// `…/app/c/<id>`, with any query or fragment dropped.
fn app_id(url: &str) -> Option<String> {
    let rest = url
        .split_once("gemini.google.com/")
        .map(|(_, r)| r)?
        .trim_start_matches('/');
    // Optional account prefix: "u/1/app/…".
    let rest = match rest.strip_prefix("u/") {
        Some(r) => r.split_once('/').map_or("", |(_, r)| r),
        None => rest,
    };
    let rest = rest.strip_prefix("app/")?;
    let rest = rest.strip_prefix("c/").unwrap_or(rest);
    let id = rest.split(['/', '?', '#']).next().unwrap_or("");
    (!id.is_empty()).then(|| id.to_owned())
}

/// Prompts grouped by conversation, in the order each group first appears in the file.
#[derive(Debug, Default)]
struct Groups {
    groups: Vec<Vec<Prompt>>,
    by_app_id: HashMap<String, usize>,
}

impl Groups {
    fn add(&mut self, prompt: Prompt) {
        match prompt.app_id.clone() {
            Some(id) => match self.by_app_id.get(&id) {
                Some(&i) => {
                    if let Some(g) = self.groups.get_mut(i) {
                        g.push(prompt);
                    }
                }
                None => {
                    self.by_app_id.insert(id, self.groups.len());
                    self.groups.push(vec![prompt]);
                }
            },
            None => self.groups.push(vec![prompt]),
        }
    }

    fn into_conversations(self) -> impl Iterator<Item = ParsedConversation> {
        let mut conversation_ids = HashSet::new();
        self.groups
            .into_iter()
            .map(move |g| build(g, &mut conversation_ids))
    }
}

/// `id`, or `id~2`, `id~3`... if already taken.
fn unique(id: String, taken: &mut HashSet<String>) -> String {
    if taken.insert(id.clone()) {
        return id;
    }
    let mut n = 2u64;
    loop {
        let candidate = format!("{id}~{n}");
        if taken.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

fn build(mut prompts: Vec<Prompt>, conversation_ids: &mut HashSet<String>) -> ParsedConversation {
    // The file is newest first: reverse, then a stable sort by time puts the oldest first
    // and keeps file order (reversed) among equal times. Records without a time sort first.
    prompts.reverse();
    prompts.sort_by_key(|p| p.time);
    let first_key = prompts
        .first()
        .map(|p| stable_id(&["takeout", &p.time_raw, &p.title_raw]))
        .unwrap_or_default();
    let app_id = prompts.iter().find_map(|p| p.app_id.clone());
    let source_id = unique(app_id.unwrap_or(first_key), conversation_ids);
    let mut extra = prompts
        .first()
        .map(|p| p.product.clone())
        .unwrap_or_default();
    extra.insert("format".to_owned(), Value::from("takeout"));
    let created_at = prompts.iter().find_map(|p| p.time);
    let updated_at = prompts.iter().rev().find_map(|p| p.time);

    let mut messages = Vec::with_capacity(prompts.len() * 2);
    let mut attachments = Vec::new();
    let mut taken = HashSet::new();
    let mut parent: Option<String> = None;
    for p in prompts {
        let user_id = unique(
            stable_id(&["takeout", &p.time_raw, &p.title_raw]),
            &mut taken,
        );
        let mut parts: Vec<Part> = Vec::new();
        for file in &p.files {
            parts.push(Part::Attachment {
                name: file.clone(),
                size: None,
                mime_type: None,
                extracted_text: None,
                media: None,
                reference: None,
            });
            attachments.push(Attachment {
                message_source_id: Some(user_id.clone()),
                name: file.clone(),
                size: None,
                mime_type: None,
                data: None,
            });
        }
        if !p.raw.is_empty() {
            parts.push(Part::Raw {
                kind: "gemini.takeout_record".to_owned(),
                value: Value::Object(p.raw),
            });
        }
        messages.push(ParsedMessage {
            source_id: user_id.clone(),
            parent: parent.take(),
            role: Role::User,
            content: p.text,
            parts,
            model: None,
            created_at: p.time,
            hidden: false,
            interrupted: false,
        });
        parent = Some(user_id.clone());
        for (i, answer) in p.answers.into_iter().enumerate() {
            let id = if i == 0 {
                format!("{user_id}/answer")
            } else {
                format!("{user_id}/answer/{}", i + 1)
            };
            let id = unique(id, &mut taken);
            if i == 0 {
                parent = Some(id.clone());
            }
            messages.push(ParsedMessage {
                source_id: id,
                parent: Some(user_id.clone()),
                role: Role::Assistant,
                content: answer,
                parts: Vec::new(),
                model: None,
                created_at: p.time,
                hidden: false,
                interrupted: false,
            });
        }
    }
    let title = derive_title(messages.iter().map(|m| (&m.role, m.content.as_str())));
    ParsedConversation {
        source: Source::Gemini,
        source_id,
        title,
        created_at,
        updated_at,
        messages,
        active_leaf: parent,
        attachments,
        archived: false,
        model: None,
        summary: None,
        extra: Value::Object(extra),
        subfolder: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_ids_come_from_both_url_forms() {
        assert_eq!(
            app_id("https://gemini.google.com/app/8f2a1c9d0e3b4a57").as_deref(),
            Some("8f2a1c9d0e3b4a57")
        );
        assert_eq!(
            app_id("https://gemini.google.com/app/c/ab12?hl=ja").as_deref(),
            Some("ab12")
        );
        assert_eq!(
            app_id("https://gemini.google.com/u/1/app/xyz#top").as_deref(),
            Some("xyz")
        );
        assert_eq!(app_id("https://gemini.google.com/app"), None);
        assert_eq!(app_id("https://gemini.google.com/app/"), None);
        assert_eq!(app_id("https://myactivity.google.com/product/gemini"), None);
    }

    #[test]
    fn prompt_prefixes_are_stripped_in_every_locale() {
        assert_eq!(
            prompt_text("Prompted hi there").as_deref(),
            Some("hi there")
        );
        assert_eq!(prompt_text("Prompted ").as_deref(), Some(""));
        assert_eq!(prompt_text("Prompted").as_deref(), Some(""));
        assert_eq!(
            prompt_text("送信したメッセージ: 東京").as_deref(),
            Some("東京")
        );
        assert_eq!(prompt_text("Has dicho: hola").as_deref(), Some("hola"));
        assert_eq!(prompt_text("Gave feedback: Good response"), None);
        assert_eq!(prompt_text("Promptedx"), None);
    }

    #[test]
    fn header_strings_are_found_in_a_cut_head() {
        let head = br#"[{"header" : "Gemini \"Apps\"", "products": ["YouTube"], "header": "cut"#;
        let found: Vec<String> = key_strings(head, "header").collect();
        assert_eq!(found, ["Gemini \\\"Apps\\\"", "cut"]);
        let found: Vec<String> = key_strings(head, "products").collect();
        assert_eq!(found, ["YouTube"]);
    }
}
