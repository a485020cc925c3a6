//! Shared test helpers: reading fixtures and running a parser into a `CollectSink`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chat_parse::{CollectSink, Confidence, Input, Parser, Probe, Result, PROBE_LEN};

/// Bytes of a file under `fixtures/gemini/`.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = format!("{}/../../fixtures/gemini/{rel}", env!("CARGO_MANIFEST_DIR"));
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

/// Runs `parser` over `bytes` named `name`.
pub fn run(parser: &dyn Parser, name: &str, bytes: &[u8]) -> (CollectSink, Result<()>) {
    let mut sink = CollectSink::new();
    let mut reader = bytes;
    let result = parser.parse(
        Input {
            name,
            reader: &mut reader,
            size: Some(bytes.len() as u64),
        },
        &mut sink,
    );
    (sink, result)
}

/// Runs `parser` and fails the test on an input-level error.
pub fn run_ok(parser: &dyn Parser, name: &str, bytes: &[u8]) -> CollectSink {
    let (sink, result) = run(parser, name, bytes);
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    sink
}

/// What `parser` says about the first bytes of `bytes`.
pub fn detect(parser: &dyn Parser, name: &str, bytes: &[u8]) -> Confidence {
    let head = &bytes[..bytes.len().min(PROBE_LEN)];
    parser.detect(&Probe::new(name, head))
}
