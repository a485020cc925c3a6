//! Shared test helpers: run the parser over bytes or a fixture and collect what it pushes.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chat_parse::{CollectSink, Input, ParseError, Parser, Probe};
use chat_parse_copilot::CopilotParser;

/// The fixtures directory.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/copilot");

/// What one parse produced.
#[derive(Debug)]
pub struct Run {
    pub sink: CollectSink,
    pub result: Result<(), ParseError>,
}

/// Parses bytes under a name.
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Run {
    let mut reader = bytes;
    let mut sink = CollectSink::new();
    let result = CopilotParser.parse(
        Input {
            name,
            reader: &mut reader,
            size: Some(bytes.len() as u64),
        },
        &mut sink,
    );
    Run { sink, result }
}

/// Reads a fixture (path relative to `fixtures/copilot`).
pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Parses a fixture and insists that it parsed without an input-level error.
pub fn parse_fixture(rel: &str) -> Run {
    let run = parse_bytes(rel, &fixture(rel));
    if let Err(e) = &run.result {
        panic!("{rel}: {e}");
    }
    run
}

/// Detection confidence for bytes under a name.
pub fn detect(name: &str, bytes: &[u8]) -> chat_parse::Confidence {
    let head = &bytes[..bytes.len().min(chat_parse::PROBE_LEN)];
    CopilotParser.detect(&Probe::new(name, head))
}
