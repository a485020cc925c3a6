//! Every file of the shared corpus (`../shared/corpus/chatgpt/`) parses without a panic, with
//! the conversation and message counts verified by reading the files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_parse::Confidence;
use common::{active_path, check_invariants, corpus, detect, run};
use rstest::rstest;

/// (file, conversations, messages, active branch length, visible messages).
#[rstest]
// 1 conversation, 13 nodes: the empty root plus 12 messages (system prompt and
// user_editable_context hidden, 5 user and 5 assistant turns visible).
#[case::owi_gpt_example("owi-gpt_example.json", 1, 12, 12, 10)]
// Single object; 9 nodes minus the empty root. Visible: the user message and the active
// and superseded answers; context, thoughts, tool call, tool result and recap are hidden.
#[case::polylogue_native("polylogue-native-conversation-v1.json", 1, 8, 7, 3)]
// Single objects with synthetic content types (kept raw) and synthetic recipients.
#[case::polylogue_sample_00("polylogue-sample-00.json", 1, 3, 2, 2)]
#[case::polylogue_sample_01("polylogue-sample-01.json", 1, 4, 3, 2)]
fn corpus_files_parse(
    #[case] file: &str,
    #[case] conversations: usize,
    #[case] messages: usize,
    #[case] active: usize,
    #[case] visible: usize,
) {
    let bytes = corpus(&format!("chatgpt/{file}"));
    assert_eq!(detect(file, &bytes), Confidence::HIGH);
    let (sink, result) = run(file, &bytes);
    result.unwrap();
    check_invariants(&sink);
    assert!(sink.errors.is_empty(), "{:?}", sink.errors);
    assert_eq!(sink.conversations.len(), conversations);
    assert_eq!(sink.message_count(), messages);
    let c = &sink.conversations[0];
    assert_eq!(active_path(c).len(), active, "{:?}", active_path(c));
    assert_eq!(c.messages.iter().filter(|m| !m.hidden).count(), visible);
}

#[test]
fn owi_example_details() {
    let (sink, _) = run("owi", &corpus("chatgpt/owi-gpt_example.json"));
    let c = &sink.conversations[0];
    assert_eq!(c.source_id, "6857150a-cd20-800f-a5f7-d2404f94b935");
    assert_eq!(c.title, "How photosynthesis works");
    assert_eq!(
        c.active_leaf.as_deref(),
        Some("1dc131c9-3245-4687-a994-fdd42c0fedac")
    );
}

#[test]
fn native_fixture_keeps_both_answers_and_the_active_one() {
    let (sink, _) = run(
        "native",
        &corpus("chatgpt/polylogue-native-conversation-v1.json"),
    );
    let c = &sink.conversations[0];
    assert_eq!(c.active_leaf.as_deref(), Some("answer-active"));
    assert_eq!(c.model.as_deref(), Some("gpt-5-6-pro"));
    assert_eq!(c.attachments.len(), 1);
    let inactive = c
        .messages
        .iter()
        .find(|m| m.source_id == "answer-inactive")
        .unwrap();
    assert_eq!(inactive.content, "Superseded answer.");
    assert!(!inactive.hidden);
}

#[test]
fn the_bad_unicode_claude_file_does_not_panic_and_is_not_chatgpt() {
    let bytes = corpus("bad/owi-invalid_unicode.json");
    assert!(detect("owi-invalid_unicode.json", &bytes) < Confidence::MEDIUM);
    let (sink, _) = run("owi-invalid_unicode.json", &bytes);
    assert!(sink.conversations.is_empty());
}
