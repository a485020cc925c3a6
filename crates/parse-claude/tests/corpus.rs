//! Every Claude file of the shared corpus (`../shared/corpus/claude/`, real or schema-generated
//! exports nobody on this team wrote) parses without a panic or an error, with the conversation
//! and message counts checked by reading the files (Python's json module over each file, and
//! the corpus README for `owi-claude_example.json`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_model::{Part, Role};
use chat_parse::Confidence;
use common::{assert_consistent, corpus, detect, run, run_ok};
use rstest::rstest;

#[rstest]
#[case::owi_example("claude/owi-claude_example.json", 85, 557)]
#[case::owi_thinking("claude/owi-claude_thinking_example.json", 1, 2)]
#[case::polylogue_00("claude/polylogue-sample-00.json", 1, 3)]
#[case::polylogue_01("claude/polylogue-sample-01.json", 1, 6)]
fn corpus_files_parse_with_verified_counts(
    #[case] file: &str,
    #[case] conversations: usize,
    #[case] messages: usize,
) {
    let bytes = corpus(file);
    assert_eq!(detect(file, &bytes), Confidence::HIGH, "{file}");
    let sink = run_ok(file, &bytes);
    assert!(sink.errors.is_empty(), "{file}: {:?}", sink.errors);
    assert!(sink.skipped.is_empty(), "{file}: {:?}", sink.skipped);
    assert_eq!(sink.conversations.len(), conversations, "{file}");
    assert_eq!(sink.message_count(), messages, "{file}");
    // Progress reaches the end (trailing white space aside).
    let rest = &bytes[usize::try_from(sink.bytes_read).unwrap()..];
    assert!(
        rest.iter().all(u8::is_ascii_whitespace),
        "{file}: {}",
        sink.bytes_read
    );
    assert_consistent(&sink);
    for c in &sink.conversations {
        assert!(c.created_at.is_some(), "{file}: {}", c.source_id);
        assert!(!c.title.is_empty());
        assert!(c
            .messages
            .iter()
            .all(|m| !m.hidden && m.created_at.is_some()));
        assert_eq!(
            c.active_leaf.as_deref(),
            c.messages.last().map(|m| m.source_id.as_str())
        );
    }
}

#[test]
fn the_real_export_has_blank_text_untitled_conversations_and_array_order_chains() {
    let sink = run_ok("owi", &corpus("claude/owi-claude_example.json"));
    let untitled = sink
        .conversations
        .iter()
        .filter(|c| c.title == "Untitled conversation")
        .count();
    // 84 of the 85 have `name: ""`, and the text was blanked, so nothing to derive from.
    assert_eq!(untitled, 84);
    let roles: (usize, usize) =
        sink.conversations
            .iter()
            .flat_map(|c| &c.messages)
            .fold((0, 0), |(u, a), m| match m.role {
                Role::User => (u + 1, a),
                Role::Assistant => (u, a + 1),
                _ => panic!("unexpected role"),
            });
    assert_eq!(roles, (283, 274));
    let first = &sink.conversations[0];
    assert_eq!(first.source_id, "636f35a1-13bb-479e-836b-e320aec9c6ac");
    assert_eq!(
        first.created_at,
        chat_parse::time::from_str("2024-03-13T14:48:37.115Z")
    );
    // No parent_message_uuid in this export: each message follows the previous one.
    for c in &sink.conversations {
        for pair in c.messages.windows(2) {
            assert_eq!(pair[1].parent.as_deref(), Some(pair[0].source_id.as_str()));
        }
    }
}

#[test]
fn the_thinking_example_keeps_reasoning_apart_from_the_answer() {
    let sink = run_ok("t", &corpus("claude/owi-claude_thinking_example.json"));
    let c = &sink.conversations[0];
    assert_eq!(c.title, "Thinking Demo");
    let answer = &c.messages[1];
    assert_eq!(answer.content, "Hello there! It's great to hear from you.");
    assert_eq!(
        answer.parts[0],
        Part::Reasoning {
            text: "The user asked for a greeting. I should respond warmly and invite further conversation."
                .into()
        }
    );
    assert_eq!(
        c.active_leaf.as_deref(),
        Some("ffffffff-1111-2222-3333-444444444444")
    );
}

#[rstest]
#[case::polylogue_00("claude/polylogue-sample-00.json", 11 + 9)]
#[case::polylogue_01("claude/polylogue-sample-01.json", 13 + 16)]
fn schema_generated_samples_keep_unknown_blocks_raw_and_fall_back_to_text(
    #[case] file: &str,
    #[case] attachments: usize,
) {
    let sink = run_ok(file, &corpus(file));
    let c = &sink.conversations[0];
    assert!(c.summary.is_some());
    assert_eq!(c.attachments.len(), attachments);
    for m in &c.messages {
        // Every block type in these samples is synthetic: kept raw, and `text` shows.
        assert!(!m.content.is_empty(), "{}", m.source_id);
        assert!(m
            .parts
            .iter()
            .any(|p| matches!(p, Part::Raw { kind, .. } if kind.starts_with("claude.synthetic-"))));
    }
}

#[test]
fn the_invalid_unicode_sample_is_not_a_confident_claude_match_and_does_not_panic() {
    let bytes = corpus("bad/owi-invalid_unicode.json");
    assert!(detect("bad", &bytes) < Confidence::HIGH);
    let (sink, result) = run("bad", &bytes);
    result.unwrap();
    assert_consistent(&sink);
    // It has `chat_messages`, so it is read leniently: one conversation, senders unknown.
    assert_eq!(sink.conversations.len(), 1);
    assert_eq!(sink.message_count(), 2);
    assert_eq!(
        sink.conversations[0].messages[0].content,
        "\u{e203}Hello\u{e204}"
    );
}

#[test]
fn every_corpus_file_of_other_providers_parses_without_panic() {
    let root = format!("{}/../../../shared/corpus", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let name = path.display().to_string();
            let _ = detect(&name, &bytes);
            let (sink, _) = run(&name, &bytes);
            assert_consistent(&sink);
            if !name.contains("/claude/") && !name.contains("/bad/") {
                assert!(detect(&name, &bytes) < Confidence::MEDIUM, "{name}");
                assert!(sink.conversations.is_empty(), "{name}");
            }
            seen += 1;
        }
    }
    assert!(seen >= 5);
}
