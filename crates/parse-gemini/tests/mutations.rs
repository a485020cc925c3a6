//! Property test: no mutation of a fixture (byte flips, truncations, insertions) makes either
//! parser panic, in detection or in parsing. Regressions it finds go to `fixtures/gemini/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

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

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Insert { at: usize, bytes: Vec<u8> },
    Delete { at: usize, len: usize },
    Truncate { at: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), prop::sample::select(SPICE))
            .prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (
            any::<usize>(),
            prop::collection::vec(prop::sample::select(SPICE), 1..8)
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len().max(1);
    match m {
        Mutation::Flip { at, bit } => {
            if let Some(b) = bytes.get_mut(at % n) {
                *b ^= 1 << bit;
            }
        }
        Mutation::Set { at, byte } => {
            if let Some(b) = bytes.get_mut(at % n) {
                *b = *byte;
            }
        }
        Mutation::Insert { at, bytes: ins } => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, ins.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let at = at % n;
            let end = (at + len).min(bytes.len());
            if at < end {
                bytes.drain(at..end);
            }
        }
        Mutation::Truncate { at } => bytes.truncate(at % (bytes.len() + 1)),
    }
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
