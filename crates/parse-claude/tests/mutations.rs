//! Property test: no mutation of a fixture (bit flips, byte changes, insertions, deletions,
//! truncations) makes the parser panic, in detection or in parsing, and whatever it still reads
//! keeps the tree invariants. Regressions it finds belong in `fixtures/claude/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_parse::testing::{apply, Mutation};
use common::{assert_consistent, corpus, detect, fixture, run};
use proptest::prelude::*;

const FIXTURES: &[&str] = &[
    "blocks.json",
    "legacy-text.json",
    "branches.json",
    "attachments.json",
    "no-ids.json",
    "single-object.json",
    "bad-items.json",
    "truncated.json",
    "projects.json",
    "project-2026.json",
    "voice-note.json",
];

/// Interesting bytes to insert: JSON structure, escapes, surrogate halves, a BOM piece, invalid
/// UTF-8, digits and signs.
const SPICE: &[u8] = b"[]{}\",:\\u0dD8\xEF\xBB\xBF\xFF\xC3 0e-+";

fn mutation() -> impl Strategy<Value = Mutation> {
    chat_parse::testing::mutation(SPICE)
}

fn cases() -> u32 {
    std::env::var("CLAUDE_MUTATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

fn exercise(bytes: &[u8]) {
    let _ = detect("fuzz.json", bytes);
    let (sink, _) = run("fuzz.json", bytes);
    assert_consistent(&sink);
}

proptest! {
    // CLAUDE_MUTATION_CASES=100000 for a longer run.
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let mut bytes = fixture(FIXTURES[which]);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        exercise(&bytes);
    }

    #[test]
    fn mutated_thinking_sample_never_panics(mutations in prop::collection::vec(mutation(), 1..8)) {
        let mut bytes = corpus("claude/owi-claude_thinking_example.json");
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

#[test]
fn hostile_shapes_do_not_panic_or_hang() {
    // A long chain of messages each pointing at the next (deep tree), and a big cycle.
    let n = 20_000;
    let mut chain = String::from(r#"[{"uuid": "deep", "chat_messages": ["#);
    for i in 0..n {
        if i > 0 {
            chain.push(',');
        }
        let parent = if i + 1 < n {
            format!("m{}", i + 1)
        } else {
            format!("m{}", 0)
        };
        chain.push_str(&format!(
            r#"{{"uuid": "m{i}", "parent_message_uuid": "{parent}", "sender": "human", "text": "x"}}"#
        ));
    }
    chain.push_str("]}]");
    let (sink, result) = run("deep.json", chain.as_bytes());
    result.unwrap();
    assert_consistent(&sink);
    assert_eq!(sink.message_count(), n);
    // Nesting far past serde_json's limit inside a block.
    let deep = format!(
        r#"[{{"uuid": "n", "chat_messages": [{{"content": [{}{}]}}]}}]"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (sink, result) = run("nested.json", deep.as_bytes());
    result.unwrap();
    assert_eq!(sink.errors.len(), 1);
}
