//! Shared test helpers: reading fixtures and corpus files, running the parser into a
//! `CollectSink`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chat_parse::{CollectSink, Confidence, Input, Parser, Probe, Result, PROBE_LEN};
use chat_parse_claude::ClaudeParser;

/// Bytes of a file under `fixtures/claude/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../fixtures/claude/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Bytes of a file under the shared corpus (`../shared/corpus/` from the repository root).
pub fn corpus(rel: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/corpus/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs the parser over `bytes` named `name`.
pub fn run(name: &str, bytes: &[u8]) -> (CollectSink, Result<()>) {
    let mut sink = CollectSink::new();
    let mut reader = bytes;
    let result = ClaudeParser.parse(
        Input {
            name,
            reader: &mut reader,
            size: Some(bytes.len() as u64),
        },
        &mut sink,
    );
    (sink, result)
}

/// Runs the parser and fails the test on an input-level error.
pub fn run_ok(name: &str, bytes: &[u8]) -> CollectSink {
    let (sink, result) = run(name, bytes);
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    sink
}

/// Parses a fixture, failing on an input-level error.
pub fn parse_fixture(name: &str) -> CollectSink {
    run_ok(name, &fixture(name))
}

/// What the parser says about the first bytes of `bytes`.
pub fn detect(name: &str, bytes: &[u8]) -> Confidence {
    let head = &bytes[..bytes.len().min(PROBE_LEN)];
    ClaudeParser.detect(&Probe::new(name, head))
}

/// Checks the invariants every parsed conversation keeps: unique message ids, every parent an
/// earlier message of the same conversation, the active leaf one of the messages.
pub fn assert_consistent(sink: &CollectSink) {
    for c in &sink.conversations {
        let mut seen = std::collections::HashSet::new();
        for m in &c.messages {
            if let Some(p) = &m.parent {
                assert!(
                    seen.contains(p.as_str()),
                    "{}: parent {p} not before {}",
                    c.source_id,
                    m.source_id
                );
            }
            assert!(
                seen.insert(m.source_id.as_str()),
                "duplicate id {}",
                m.source_id
            );
        }
        if let Some(leaf) = &c.active_leaf {
            assert!(seen.contains(leaf.as_str()), "active leaf {leaf} missing");
        }
        assert!(c.extra.is_object());
    }
}
