#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Nothing dropped: every string of message content in an input is found in a stored message.
//!
//! Each input is imported on its own through the real pipeline ([`chat_import::Importer`])
//! into a new SQLite database, and the messages are read back from it (content and every
//! string of the parts, raw parts included). The test reads each input itself, by format
//! (module `extract`), into groups of texts, one group per input message; every group must be
//! found whole in one stored message (compared word by word, so Markdown escapes, whitespace
//! and punctuation do not matter).
//!
//! * Over every fixture of every parser (`fixtures/`) and the shared corpus
//!   (`../shared/corpus/`): a file that is not a conversation must be named in
//!   [`NOT_CHECKED`] with the reason, so no input is passed over silently.
//! * As a property: an unknown field, block, part, content type or event holding text is put
//!   into a random message of a random input (module `inject`), and its text must be stored.

mod extract;
mod inject;

use std::path::{Path, PathBuf};

use chat_import::{ImportOptions, ImportReport, Importer};
use extract::{classify, expected, normalize, Format, Group};
use proptest::prelude::*;
use serde_json::Value;

/// Inputs that are not conversations, or are broken on purpose (their own tests cover them),
/// by path suffix.
const NOT_CHECKED: &[(&str, &str)] = &[
    ("bad-items.json", "broken items on purpose"),
    ("truncated.json", "cut off on purpose"),
    ("truncated", "cut off on purpose"),
    ("truncated-conversations.json", "cut off on purpose"),
    ("damaged.jsonl", "damaged on purpose"),
    ("empty.json", "empty on purpose"),
    ("users.json", "account data, not conversations"),
    ("user.json", "account data, not conversations"),
    ("memories.json", "memory notes, not conversations"),
    ("workspace.json", "a VS Code workspace pointer"),
    ("export_manifest.json", "a ChatGPT shard list"),
    (
        "conversation_asset_file_names.json",
        "ChatGPT's media file names",
    ),
    (
        "manifest-0d5e9a1c-2026-09-01-10-00-00.json",
        "a Claude manifest",
    ),
    ("youtube-MyActivity.json", "another product's activity"),
    ("YouTube/MyActivity.json", "another product's activity"),
    ("debug-logs/6f1c2d3e/main.jsonl", "OpenTelemetry spans"),
    ("bad/owi-invalid_unicode.json", "neither ChatGPT nor Claude"),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus() -> PathBuf {
    repo().join("../shared/corpus")
}

/// Every file under `dir` that can hold a chat (JSON, JSON lines, or no extension).
fn files(dir: &Path) -> Vec<PathBuf> {
    assert!(dir.is_dir(), "{} is missing", dir.display());
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "json" | "jsonl" | "") && !p.ends_with("README.md") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn not_checked(path: &Path) -> Option<&'static str> {
    let p = path.to_string_lossy().replace('\\', "/");
    NOT_CHECKED
        .iter()
        .find(|(suffix, _)| p.ends_with(&format!("/{suffix}")))
        .map(|(_, why)| *why)
}

/// Imports `path` into a new database; returns the report and, per stored message, its
/// normalized text (content and every string of its parts).
fn import(path: &Path, dir: &Path) -> (ImportReport, Vec<String>) {
    let db = dir.join(format!(
        "{}.db",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let store = chat_store::Store::open(&db).unwrap();
    let report = Importer::new(store)
        .run(&[path.to_path_buf()], &ImportOptions::default())
        .unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare("SELECT content, parts FROM convo_turns")
        .unwrap();
    let stored = stmt
        .query_map([], |r| {
            let content: String = r.get(0)?;
            let parts: Option<String> = r.get(1)?;
            Ok((content, parts))
        })
        .unwrap()
        .map(|r| {
            let (content, parts) = r.unwrap();
            let mut text = content;
            if let Some(parts) = parts {
                let value: Value = serde_json::from_str(&parts).unwrap();
                strings(&value, &mut text);
            }
            normalize(&text)
        })
        .collect();
    (report, stored)
}

fn strings(value: &Value, out: &mut String) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => {
                out.push('\n');
                out.push_str(s);
            }
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Object(map) => stack.extend(map.values().rev()),
            _ => {}
        }
    }
}

/// The groups no stored message holds whole, with the texts missing from every message.
fn missing(groups: &[Group], stored: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for g in groups {
        let needles: Vec<String> = g
            .texts
            .iter()
            .map(|t| normalize(t))
            .filter(|n| !n.is_empty())
            .collect();
        if needles.is_empty() {
            continue;
        }
        let whole = stored
            .iter()
            .any(|hay| needles.iter().all(|n| hay.contains(n.as_str())));
        if !whole {
            let lost: Vec<&String> = needles
                .iter()
                .filter(|n| !stored.iter().any(|hay| hay.contains(n.as_str())))
                .collect();
            out.push(format!("{}: {lost:?} (of {needles:?})", g.at));
        }
    }
    out
}

/// Every input the test checks, with its format.
fn checked_inputs() -> Vec<(PathBuf, Format)> {
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    let mut all = files(&repo().join("fixtures"));
    for provider in ["chatgpt", "claude", "gemini", "copilot", "bad"] {
        all.extend(files(&corpus().join(provider)));
    }
    for path in all {
        if not_checked(&path).is_some() {
            continue;
        }
        match classify(&std::fs::read(&path).unwrap()) {
            Some(Format::CopilotLog) => {}
            Some(format) => out.push((path, format)),
            None => unknown.push(path.display().to_string()),
        }
    }
    assert!(
        unknown.is_empty(),
        "inputs the test cannot place (classify them, or name them in NOT_CHECKED): {unknown:#?}"
    );
    out
}

#[test]
fn every_string_of_message_content_in_every_fixture_and_corpus_file_is_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = checked_inputs();
    let mut failures = Vec::new();
    let mut groups_checked = 0;
    for (path, format) in &inputs {
        let bytes = std::fs::read(path).unwrap();
        let groups = expected(*format, &bytes);
        groups_checked += groups.len();
        let (report, stored) = import(path, tmp.path());
        if report.totals.failed > 0 {
            failures.push(format!(
                "{}: the import failed: {:?}",
                path.display(),
                report.errors().collect::<Vec<_>>()
            ));
            continue;
        }
        for m in missing(&groups, &stored) {
            failures.push(format!("{} ({format:?}) {m}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "text not stored:\n{}",
        failures.join("\n")
    );
    // Every format is covered, by many messages.
    for format in [
        Format::ChatGpt,
        Format::Claude,
        Format::Takeout,
        Format::AiStudio,
        Format::Copilot,
        Format::Transcript,
    ] {
        assert!(
            inputs.iter().any(|(_, f)| *f == format),
            "no input of {format:?}"
        );
    }
    assert!(
        groups_checked > 300,
        "only {groups_checked} messages checked"
    );
}

fn cases() -> u32 {
    std::env::var("LOSSLESS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(96)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn text_in_an_unknown_shape_anywhere_in_a_message_is_stored(
        pick in any::<usize>(),
        inj in inject::injection(),
    ) {
        let inputs = checked_inputs();
        let (path, format) = &inputs[pick % inputs.len()];
        let bytes = std::fs::read(path).unwrap();
        let injected = if *format == Format::Transcript {
            inject::apply_to_log(&bytes, &inj)
        } else {
            let repaired = chat_parse::json::repair_lone_surrogates(
                bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes),
            );
            let mut root: Value = serde_json::from_slice(&repaired).unwrap();
            inject::apply(*format, &mut root, &inj).map(|()| serde_json::to_vec(&root).unwrap())
        };
        let Some(injected) = injected else {
            return Ok(()); // no message to put it in
        };
        let tmp = tempfile::tempdir().unwrap();
        // The same file name: AI Studio titles and Copilot session ids come from it.
        let file = tmp.path().join(path.file_name().unwrap());
        std::fs::write(&file, &injected).unwrap();
        let (report, stored) = import(&file, tmp.path());
        prop_assert_eq!(report.totals.failed, 0, "{:?}", report.errors().collect::<Vec<_>>());
        let needle = normalize(&inj.text);
        prop_assert!(
            stored.iter().any(|hay| hay.contains(&needle)),
            "{} ({:?}): {:?} not stored",
            path.display(),
            format,
            inj
        );
    }
}
