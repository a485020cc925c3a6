//! Shared test helpers: reading fixtures and corpus files, running the parser into a sink.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chat_parse::{CollectSink, Confidence, Input, Parser, Probe, Result, PROBE_LEN};
use chat_parse_chatgpt::ChatGptParser;

/// Bytes of a file under `fixtures/chatgpt/`.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../fixtures/chatgpt/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Bytes of a file under the shared corpus.
pub fn corpus(rel: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../../shared/corpus/{rel}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs the parser over `bytes` named `name`, with a small read buffer so element boundaries
/// fall across chunk edges.
pub fn run(name: &str, bytes: &[u8]) -> (CollectSink, Result<()>) {
    let mut sink = CollectSink::new();
    let mut reader = std::io::BufReader::with_capacity(61, bytes);
    let result = ChatGptParser.parse(
        Input {
            name,
            reader: &mut reader,
            size: Some(bytes.len() as u64),
        },
        &mut sink,
    );
    (sink, result)
}

/// Runs the parser over a fixture and fails the test on an input-level error.
pub fn run_fixture(rel: &str) -> CollectSink {
    let (sink, result) = run(rel, &fixture(rel));
    if let Err(e) = result {
        panic!("{rel}: {e}");
    }
    sink
}

/// What the parser says about the first bytes of `bytes`.
pub fn detect(name: &str, bytes: &[u8]) -> Confidence {
    let head = &bytes[..bytes.len().min(PROBE_LEN)];
    ChatGptParser.detect(&Probe::new(name, head))
}

/// Checks the invariants every parsed conversation keeps: unique ids, parents before children,
/// an active leaf that is one of the messages.
pub fn check_invariants(sink: &CollectSink) {
    for c in &sink.conversations {
        assert!(!c.source_id.is_empty());
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
            assert!(
                seen.contains(leaf.as_str()),
                "active leaf {leaf} is not a message"
            );
        }
    }
}

/// The active branch, root first: ids from the leaf up through parents.
pub fn active_path(c: &chat_parse::ParsedConversation) -> Vec<String> {
    let by_id: std::collections::HashMap<&str, &chat_parse::ParsedMessage> = c
        .messages
        .iter()
        .map(|m| (m.source_id.as_str(), m))
        .collect();
    let mut out = Vec::new();
    let mut cur = c.active_leaf.as_deref();
    while let Some(id) = cur {
        out.push(id.to_owned());
        cur = by_id.get(id).and_then(|m| m.parent.as_deref());
    }
    out.reverse();
    out
}
