//! Every file of the shared corpus parses without a panic, with the counts verified by reading
//! the files (requests, and which of them have a response).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_parse::Confidence;
use common::{detect, parse_bytes};
use rstest::rstest;

macro_rules! corpus {
    ($file:literal) => {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus/copilot/",
            $file
        )
    };
}

#[rstest]
// 2 requests ("hi", "hello"), both answered.
#[case::chat(corpus!("cca-chat.json"), 1, 4, 0)]
// 1 request with an MCP tool call that returned an error; answered.
#[case::chat_error_mcp(corpus!("cca-chat_error_mcp.json"), 1, 2, 0)]
// 1 request with several MCP tool calls; answered.
#[case::chat_succes_mcp(corpus!("cca-chat_succes_mcp.json"), 1, 2, 0)]
// 1 request (web fetch tools), answered and complete.
#[case::completed_chat(corpus!("cca-completed_chat.json"), 1, 2, 0)]
// The same request exported while still streaming: a response but no `result` yet.
#[case::in_progress_chat(corpus!("cca-in_progress_chat.json"), 1, 2, 0)]
// `requests: []`: skipped, not a conversation.
#[case::pending_chat(corpus!("cca-pending-chat.json"), 0, 0, 1)]
fn corpus_files_parse_with_the_verified_counts(
    #[case] path: &str,
    #[case] conversations: usize,
    #[case] messages: usize,
    #[case] skipped: usize,
) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(detect(path, &bytes), Confidence::HIGH);
    let run = parse_bytes(path, &bytes);
    run.result.as_ref().unwrap();
    assert!(run.sink.errors.is_empty(), "{:?}", run.sink.errors);
    assert_eq!(run.sink.conversations.len(), conversations);
    assert_eq!(run.sink.message_count(), messages);
    assert_eq!(run.sink.skipped.len(), skipped);
    for c in &run.sink.conversations {
        assert!(!c.title.is_empty());
        assert_eq!(
            c.active_leaf.as_ref(),
            c.messages.last().map(|m| &m.source_id)
        );
    }
}

#[test]
fn in_progress_export_is_interrupted_and_dedupes_with_the_completed_one() {
    let done = parse_bytes(
        "c",
        &std::fs::read(corpus!("cca-completed_chat.json")).unwrap(),
    );
    let live = parse_bytes(
        "p",
        &std::fs::read(corpus!("cca-in_progress_chat.json")).unwrap(),
    );
    let (done, live) = (&done.sink.conversations[0], &live.sink.conversations[0]);
    assert_eq!(done.source_id, live.source_id);
    assert!(!done.messages[1].interrupted);
    assert!(live.messages[1].interrupted);
    assert_eq!(done.title, "Найди информацию о снежных барсах в интернете");
}

#[test]
fn mcp_tool_calls_and_errors() {
    let run = parse_bytes(
        "e",
        &std::fs::read(corpus!("cca-chat_error_mcp.json")).unwrap(),
    );
    let answer = &run.sink.conversations[0].messages[1];
    assert_eq!(answer.model.as_deref(), Some("copilot/claude-sonnet-4"));
    assert!(answer.parts.iter().any(|p| matches!(p,
        chat_model::Part::ToolCall { name, input, .. }
            if name == "mcp_micmicai-mcp_update_entry_fields" && input["entry_id"] == "invalid_id")));
    assert!(answer
        .parts
        .iter()
        .any(|p| matches!(p, chat_model::Part::ToolResult { is_error: true, .. })));
    assert!(answer.content.contains("update_entry_fields"));
}

#[test]
fn another_providers_bad_file_is_not_copilot_and_does_not_panic() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/bad/owi-invalid_unicode.json"
    );
    let bytes = std::fs::read(path).unwrap();
    assert!(detect(path, &bytes) < Confidence::HIGH);
    let run = parse_bytes(path, &bytes);
    assert!(run.sink.conversations.is_empty());
    assert!(run.result.is_err());
}
