//! Property test: no mutation of a fixture (byte flips, truncations, insertions, deletions) makes
//! the parser panic, in detection or in parsing, and what it does emit stays well formed.
//! Regressions it finds go to `fixtures/chatgpt/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_parse::testing::{apply, Mutation};
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
    "text-in-parts.json",
    "bad-items.json",
];

/// Interesting bytes to insert: JSON structure, escapes, surrogate halves, a BOM piece, invalid
/// UTF-8, the first bytes of the citation markers.
const SPICE: &[u8] = b"[]{}\",:\\u0dD8n0e-\xEF\xBB\xBF\xFF\xC3\xE3\x80\x90\xEE\x88";

fn mutation() -> impl Strategy<Value = Mutation> {
    chat_parse::testing::mutation(SPICE)
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
