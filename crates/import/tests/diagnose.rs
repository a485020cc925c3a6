//! The diagnosis and the fix of a failed import, in the words every front end shares.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use chat_import::diagnose::{
    detect_source, diagnosis, excerpt_text, failing_file, file_excerpt, fix, quarantined_excerpt,
    restore_quarantined, RetryWith, RunFacts, EXCERPT_MAX,
};
use chat_import::{ImportReport, InputReport};
use chat_model::{timestamp, Source};
use chat_store::QuarantineItem;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"))
}

/// A report with one failed input whose error has a hint and a quarantined item.
fn failed_report() -> ImportReport {
    let mut input = InputReport::new("upload/conversations.json");
    input.fail(
        "item #2 \"Broken\"",
        "invalid JSON at byte 120",
        "export the data again",
    );
    input.errors[0].quarantine_id = Some(7);
    input.counts.imported = 1;
    let mut report = ImportReport {
        inputs: vec![input],
        ..ImportReport::default()
    };
    report.recount();
    report
}

fn facts<'a>(report: Option<&'a ImportReport>, source: Option<Source>) -> RunFacts<'a> {
    RunFacts {
        id: "run-1",
        status: "done",
        outcome: Some("partial"),
        error: None,
        source,
        report,
    }
}

/// How the CLI would word a retry.
fn cli_retry(with: RetryWith) -> String {
    match with {
        RetryWith::Source(s) => format!("`chat-import --source {} FILE`", s.as_str()),
        RetryWith::Detection => "`chat-import FILE`".to_owned(),
        RetryWith::AnySource => "`chat-import --source SOURCE FILE`".to_owned(),
    }
}

#[test]
fn the_diagnosis_lists_each_error_with_what_where_and_fix() {
    let report = failed_report();
    let text = diagnosis(&facts(Some(&report), None));
    assert!(text.starts_with("# Import run-1\n\nStatus: **done** (outcome: partial). 1 conversations imported, 0 updated, 0 unchanged, 1 failed."), "{text}");
    assert!(text.contains("1. **What:** invalid JSON at byte 120\n"));
    assert!(text.contains("   **Where:** upload/conversations.json, item #2 \"Broken\"\n"));
    assert!(text.contains("   **Fix:** export the data again\n"));
    assert!(text.contains("(quarantine #7)"));

    let clean = ImportReport::default();
    let mut ok = facts(Some(&clean), None);
    ok.outcome = Some("success");
    assert!(diagnosis(&ok).contains("Nothing went wrong"));
}

#[test]
fn the_fix_names_the_right_source_in_the_callers_words() {
    let mut input = InputReport::new("c.json");
    input.fail(
        "file",
        "this looks like a Claude export but --source chatgpt was given",
        "",
    );
    let report = ImportReport {
        inputs: vec![input],
        ..ImportReport::default()
    };
    let run = facts(Some(&report), Some(Source::Chatgpt));
    let kept = fix(&run, Some(Source::Claude), Some(&cli_retry));
    assert_eq!(
        kept,
        "## The fix\n\nThe file was read as chatgpt but it is a claude export. Run it again as \
         claude: `chat-import --source claude FILE`.\n"
    );
    let gone = fix(&run, Some(Source::Claude), None);
    assert!(gone.contains("upload it again without a source"), "{gone}");
    let unknown = fix(&run, None, Some(&cli_retry));
    assert!(
        unknown.contains("Run it again without a source, so it is detected: `chat-import FILE`"),
        "{unknown}"
    );
}

#[test]
fn the_fix_lists_the_reports_hints_once_each() {
    let mut report = failed_report();
    report.inputs[0].fail("item #3", "also broken", "export the data again");
    let text = fix(&facts(Some(&report), None), None, Some(&cli_retry));
    assert_eq!(text.matches("- export the data again").count(), 1, "{text}");
    assert!(text.ends_with("it is one call: `chat-import --source SOURCE FILE`.\n"));
}

#[test]
fn detection_and_excerpts_of_the_offending_input() {
    let claude = std::fs::read(fixtures().join("claude/branches.json")).unwrap();
    assert_eq!(
        detect_source("conversations.json", &claude),
        Some(Source::Claude)
    );
    assert_eq!(detect_source("notes.txt", b"just some notes"), None);

    let long = "é".repeat(EXCERPT_MAX);
    let cut = excerpt_text(long.as_bytes());
    assert!(cut.len() <= EXCERPT_MAX && long.starts_with(&cut));
    assert_eq!(file_excerpt("x.zip", b"PK\x03\x04rest"), None);
    let files = vec!["other.json".to_owned(), "conversations.json".to_owned()];
    let report = failed_report();
    assert_eq!(
        failing_file(Some(&report), &files),
        Some("conversations.json")
    );

    let item = QuarantineItem {
        id: 7,
        run_id: "run-1".into(),
        input: "conversations.json".into(),
        item: "item #2".into(),
        error: "invalid JSON".into(),
        hint: None,
        source: None,
        location: None,
        raw: Some(b"{\"broken\": tru".to_vec()),
        created_at: timestamp::now(),
    };
    let (whence, text) = quarantined_excerpt("run-1", Some(&report), &[item]).unwrap();
    assert_eq!(whence, "quarantined item item #2 of run-1");
    assert_eq!(text, "{\"broken\": tru");
    assert_eq!(quarantined_excerpt("run-1", None, &[]), None);
}

#[test]
fn quarantined_items_become_an_input_again() {
    let dir = tempfile::tempdir().unwrap();
    let json = restore_quarantined(
        &dir.path().join("a"),
        &[b"{\"id\": 1}".to_vec(), b"[2]".to_vec()],
    )
    .unwrap();
    assert_eq!(json, ["quarantined.json"]);
    let text = std::fs::read_to_string(dir.path().join("a/quarantined.json")).unwrap();
    assert_eq!(text, "[{\"id\":1},[2]]");
    let raw = restore_quarantined(&dir.path().join("b"), &[b"not json".to_vec()]).unwrap();
    assert_eq!(raw, ["quarantined-0.json"]);
    assert_eq!(
        std::fs::read(dir.path().join("b/quarantined-0.json")).unwrap(),
        b"not json"
    );
}
