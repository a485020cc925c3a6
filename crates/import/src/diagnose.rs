//! Explaining a failed or partial import, and repairing it: "this file failed, here's why, let
//! me fix it". Shared by every front end (the API's `/imports/{id}/explain` and `/retry`, the
//! CLI): the words come from here, how a retry is asked for comes from the caller.
//!
//! * [`diagnosis`]: every error of the report with what, where and the importer's fix. It
//!   never depends on a model, so it is all there is offline.
//! * [`fix`]: the concrete fix, as the last section: a forced source that was wrong (and the
//!   source the file really is, from [`detect_source`]), the report's hints, how to retry.
//! * [`explanation_prompt`]: what a model is asked, given the diagnosis and an excerpt of the
//!   offending input ([`quarantined_excerpt`], [`file_excerpt`]).
//! * [`restore_quarantined`] and [`copy_kept`]: the input of a retry, rebuilt from the
//!   quarantined raw bytes or copied from the kept upload.

use std::path::Path;

use chat_model::Source;
use chat_parse::Probe;
use chat_store::QuarantineItem;

use crate::detect::{detect, Detected};
use crate::report::ImportReport;

/// Largest excerpt of the offending input shown to a model, in bytes.
pub const EXCERPT_MAX: usize = 2048;

/// The instructions a model gets with [`explanation_prompt`].
pub const EXPLAIN_INSTRUCTIONS: &str =
    "You help people import their ChatGPT, Claude, Gemini and Copilot chat exports. Explain in \
     plain words, in under 150 words, why this import failed and what the person should do. \
     Rely on the diagnosis; do not invent facts. No preamble.";

/// What is known about a finished run.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    /// The run's id.
    pub id: &'a str,
    /// How it ended: `done` or `failed`.
    pub status: &'a str,
    /// `success`, `partial` or `nothing`, once it has run.
    pub outcome: Option<&'a str>,
    /// Why it failed, in a sentence.
    pub error: Option<&'a str>,
    /// The source it was forced to read as, if any.
    pub source: Option<Source>,
    /// Its report.
    pub report: Option<&'a ImportReport>,
}

/// What a retry changes, for the caller to put in its own words ([`fix`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryWith {
    /// Read the input as this source.
    Source(Source),
    /// Let the source be detected.
    Detection,
    /// Another source, or a newer importer: the person chooses.
    AnySource,
}

/// The diagnosis, as Markdown: the run's status and counts, then every error of the report
/// with what, where and the fix, and whether its raw bytes are kept.
pub fn diagnosis(run: &RunFacts<'_>) -> String {
    let mut out = format!("# Import {}\n\n", run.id);
    let outcome = run.outcome.unwrap_or("none");
    out.push_str(&format!("Status: **{}** (outcome: {outcome}).", run.status));
    if let Some(r) = run.report {
        out.push_str(&format!(
            " {} conversations imported, {} updated, {} unchanged, {} failed.",
            r.totals.imported, r.totals.updated, r.totals.unchanged, r.totals.failed
        ));
    }
    out.push_str("\n\n");
    if let Some(error) = run.error {
        out.push_str(&format!("{error}.\n\n"));
    }
    let errors: Vec<_> = run.report.map(|r| r.errors().collect()).unwrap_or_default();
    if errors.is_empty() {
        if run.status == "done" && run.outcome == Some("success") {
            out.push_str("Nothing went wrong: every conversation was read.\n");
        } else {
            out.push_str("The report lists no individual errors.\n");
        }
        return out;
    }
    out.push_str("## What went wrong\n\n");
    for (n, (input, e)) in errors.iter().enumerate() {
        out.push_str(&format!("{}. **What:** {}\n", n + 1, e.error));
        out.push_str(&format!("   **Where:** {input}, {}\n", e.item));
        if !e.hint.is_empty() {
            out.push_str(&format!("   **Fix:** {}\n", e.hint));
        }
        if let Some(q) = e.quarantine_id {
            out.push_str(&format!(
                "   The raw item is kept (quarantine #{q}) for a retry.\n"
            ));
        }
    }
    out.push('\n');
    out
}

/// The concrete fix, as the last section. `detected` is the source the input really is, when
/// known ([`detect_source`]). `retry` says how to run the import again from its kept input, in
/// the caller's words; `None` when the input is no longer kept (the person must provide it
/// again).
pub fn fix(
    run: &RunFacts<'_>,
    detected: Option<Source>,
    retry: Option<&dyn Fn(RetryWith) -> String>,
) -> String {
    let mut out = String::from("## The fix\n\n");
    let wrong_source = run
        .report
        .is_some_and(|r| r.errors().any(|(_, e)| e.error.contains("looks like a")));
    match (run.source, detected) {
        (Some(forced), Some(found)) if forced != found || wrong_source => {
            out.push_str(&format!(
                "The file was read as {} but it is a {} export. Run it again as {}: {}.\n",
                forced.as_str(),
                found.as_str(),
                found.as_str(),
                match retry {
                    Some(retry) => retry(RetryWith::Source(found)),
                    None => "upload it again without a source (detection is automatic)".to_owned(),
                }
            ));
            return out;
        }
        (Some(forced), _) if wrong_source => {
            out.push_str(&format!(
                "The file was forced to be read as {}, which it is not. Run it again without a \
                 source, so it is detected: {}.\n",
                forced.as_str(),
                match retry {
                    Some(retry) => retry(RetryWith::Detection),
                    None => "upload it again without choosing a source".to_owned(),
                }
            ));
            return out;
        }
        _ => {}
    }
    let mut hints: Vec<&str> = Vec::new();
    for (_, e) in run.report.iter().flat_map(|r| r.errors()) {
        if !e.hint.is_empty() && !hints.contains(&e.hint.as_str()) {
            hints.push(&e.hint);
        }
    }
    if hints.is_empty() {
        if run.outcome == Some("success") {
            out.push_str("Nothing to fix.\n");
        } else if let Some(retry) = retry {
            out.push_str(&format!(
                "Run it again once the cause is fixed: {}.\n",
                retry(RetryWith::Detection)
            ));
        } else {
            out.push_str("Export the data again from the provider and upload the new file.\n");
        }
        return out;
    }
    for hint in &hints {
        out.push_str(&format!("- {hint}\n"));
    }
    if let Some(retry) = retry {
        out.push_str(&format!(
            "\nWhen the fix is a different source or a newer importer, it is one call: {}.\n",
            retry(RetryWith::AnySource)
        ));
    }
    out
}

/// The source an input is, judged from its name and first bytes (at least
/// [`chat_parse::PROBE_LEN`] of them, or the whole file) the way an import detects it; `None`
/// when no parser claims it.
pub fn detect_source(name: &str, head: &[u8]) -> Option<Source> {
    let parsers = crate::parsers();
    match detect(&parsers, &Probe::new(name, head), None) {
        Detected::Parser(i) => parsers.get(i).map(|p| p.source()),
        _ => None,
    }
}

/// At most [`EXCERPT_MAX`] bytes as text, cut at a character boundary.
pub fn excerpt_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_MAX)]);
    let mut end = text.len().min(EXCERPT_MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// An excerpt from the run's quarantined items: the first one the report names that kept its
/// raw bytes. Returns where it came from and the text.
pub fn quarantined_excerpt(
    run_id: &str,
    report: Option<&ImportReport>,
    items: &[QuarantineItem],
) -> Option<(String, String)> {
    let named: Vec<i64> = report
        .map(|r| r.errors().filter_map(|(_, e)| e.quarantine_id).collect())
        .unwrap_or_default();
    let item = items
        .iter()
        .find(|i| named.contains(&i.id) && i.raw.is_some())?;
    let raw = item.raw.as_deref().unwrap_or_default();
    Some((
        format!("quarantined item {} of {run_id}", item.item),
        excerpt_text(raw),
    ))
}

/// Which of a kept upload's `files` to quote: the one the report's first error names, else
/// the first.
pub fn failing_file<'a>(report: Option<&ImportReport>, files: &'a [String]) -> Option<&'a str> {
    let failing = report.and_then(|r| r.errors().next().map(|(input, _)| input));
    failing
        .and_then(|f| files.iter().find(|name| f.ends_with(name.as_str())))
        .or_else(|| files.first())
        .map(String::as_str)
}

/// An excerpt from the first bytes of a kept file; `None` for a zip archive.
pub fn file_excerpt(file: &str, head: &[u8]) -> Option<(String, String)> {
    if head.starts_with(b"PK\x03\x04") {
        return None;
    }
    Some((format!("the first bytes of {file}"), excerpt_text(head)))
}

/// What a model is asked to explain (with [`EXPLAIN_INSTRUCTIONS`]): the diagnosis and, when
/// there is one, the excerpt (`(where it came from, text)`).
pub fn explanation_prompt(diagnosis: &str, excerpt: Option<(&str, &str)>) -> String {
    let mut prompt = format!(
        "An import of a chat export into AI OS Chat did not fully succeed. This is the \
         importer's diagnosis:\n\n{diagnosis}"
    );
    match excerpt {
        Some((whence, text)) => prompt.push_str(&format!(
            "\nThis is {whence} (at most {EXCERPT_MAX} bytes):\n\n```\n{text}\n```\n"
        )),
        None => prompt.push_str("\nNo excerpt of the input is available.\n"),
    }
    prompt
}

/// Copies (hard-links when possible) kept input `files` from one folder into another.
pub fn copy_kept(from: &Path, to: &Path, files: &[String]) -> std::io::Result<()> {
    for file in files {
        let src = from.join(file);
        let dst = to.join(file);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Rebuilds an input from quarantined items in `dir`: one JSON array when each item is a JSON
/// value (exports are arrays of conversations), else one file per item. Returns the file
/// names.
pub fn restore_quarantined(dir: &Path, raws: &[Vec<u8>]) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let values: Option<Vec<serde_json::Value>> = raws
        .iter()
        .map(|r| serde_json::from_slice(r).ok())
        .collect();
    if let Some(values) = values {
        let name = "quarantined.json".to_owned();
        let bytes = serde_json::to_vec(&values).map_err(std::io::Error::other)?;
        std::fs::write(dir.join(&name), bytes)?;
        return Ok(vec![name]);
    }
    let mut names = Vec::new();
    for (n, raw) in raws.iter().enumerate() {
        let name = format!("quarantined-{n}.json");
        std::fs::write(dir.join(&name), raw)?;
        names.push(name);
    }
    Ok(names)
}
