//! Property test: no mutation of a fixture (byte flips, truncations, insertions) makes either
//! parser panic, in detection or in parsing. Regressions it finds go to `fixtures/gemini/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_parse::testing::{apply, Mutation};
use chat_parse::Parser;
use chat_parse_gemini::{AiStudioParser, TakeoutParser};
use common::{detect, fixture, run};
use proptest::prelude::*;

const FIXTURES: &[&str] = &[
    "takeout/MyActivity.json",
    "takeout/ja-MyActivity.json",
    "takeout/youtube-MyActivity.json",
    "takeout/MyActivity.html",
    "takeout/truncated.json",
    "takeout/bad-items.json",
    "aistudio/Rust lifetimes explained",
    "aistudio/haiku.json",
    "aistudio/truncated",
];

/// Interesting bytes to insert: JSON structure, escapes, a BOM piece, invalid UTF-8, markup.
const SPICE: &[u8] = b"[]{}\",:\\u0dD8<>\xEF\xBB\xBF\xFF\xC3 0e-";

fn mutation() -> impl Strategy<Value = Mutation> {
    chat_parse::testing::mutation(SPICE)
}

fn exercise(bytes: &[u8]) {
    let parsers: [&dyn Parser; 2] = [&TakeoutParser, &AiStudioParser];
    for parser in parsers {
        let _ = detect(parser, "fuzz", bytes);
        let (sink, _) = run(parser, "fuzz", bytes);
        for c in &sink.conversations {
            // Trees stay consistent: every parent is an earlier message of the same conversation.
            for (i, m) in c.messages.iter().enumerate() {
                if let Some(p) = &m.parent {
                    assert!(c.messages[..i].iter().any(|x| &x.source_id == p), "{p}");
                }
            }
            let ids: std::collections::HashSet<&str> =
                c.messages.iter().map(|m| m.source_id.as_str()).collect();
            assert_eq!(ids.len(), c.messages.len(), "duplicate message ids");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = fixture(FIXTURES[which]);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        exercise(&bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes);
    }
}

#[test]
fn every_fixture_and_its_every_prefix_is_safe() {
    for file in FIXTURES {
        let bytes = fixture(file);
        let step = (bytes.len() / 200).max(1);
        for cut in (0..=bytes.len()).step_by(step) {
            exercise(&bytes[..cut]);
        }
    }
}
