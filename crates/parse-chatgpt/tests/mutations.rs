//! Property test: no mutation of a fixture (byte flips, truncations, insertions, deletions) makes
//! the parser panic, in detection or in parsing, and what it does emit stays well formed.
//! Regressions it finds go to `fixtures/chatgpt/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{check_invariants, detect, fixture, run};
use proptest::prelude::*;

const FIXTURES: &[&str] = &[
    "branches-and-active-leaf.json",
    "hidden-and-tools.json",
    "citations.json",
    "current-node-fallback.json",
    "wrapped-with-project-rows.json",
    "single-object.json",
    "cycle.json",
    "truncated.json",
    "bom-and-lone-surrogates.json",
    "bad-items.json",
];

/// Interesting bytes to insert: JSON structure, escapes, surrogate halves, a BOM piece, invalid
/// UTF-8, the first bytes of the citation markers.
const SPICE: &[u8] = b"[]{}\",:\\u0dD8n0e-\xEF\xBB\xBF\xFF\xC3\xE3\x80\x90\xEE\x88";

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
    let _ = detect("fuzz.json", bytes);
    let (sink, _) = run("fuzz.json", bytes);
    check_invariants(&sink);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

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
fn every_prefix_of_every_fixture_is_safe() {
    for file in FIXTURES {
        let bytes = fixture(file);
        let step = (bytes.len() / 300).max(1);
        for cut in (0..=bytes.len()).step_by(step) {
            exercise(&bytes[..cut]);
        }
    }
}
