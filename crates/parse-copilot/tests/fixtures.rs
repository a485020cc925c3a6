//! The rules of the Copilot format, one fixture each, checked by snapshot and by assertion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_model::{timestamp, Part, Role};
use chat_parse::{Confidence, ParsedConversation};
use common::{detect, fixture, parse_bytes, parse_fixture};

const SESSION: &str = "chatSessions/0f8fad5b-d9cb-469f-a165-70867728950e";

fn only(run: &common::Run) -> &ParsedConversation {
    assert_eq!(run.sink.conversations.len(), 1, "{:?}", run.sink.errors);
    &run.sink.conversations[0]
}

fn millis(ts: Option<chat_model::Timestamp>) -> Option<i64> {
    ts.map(timestamp::to_millis)
}

fn chain_is_linear(c: &ParsedConversation) {
    let mut parent: Option<&str> = None;
    for m in &c.messages {
        assert_eq!(m.parent.as_deref(), parent, "{}", m.source_id);
        parent = Some(&m.source_id);
    }
    assert_eq!(c.active_leaf.as_deref(), parent);
}

#[test]
fn export_file() {
    let run = parse_fixture("export.json");
    assert!(run.sink.errors.is_empty());
    let c = only(&run);
    // No session id in an export: a hash of stable content.
    assert_eq!(c.source_id.len(), 32);
    assert_eq!(c.title, "Explain #file:main.rs");
    assert_eq!(c.messages.len(), 4);
    chain_is_linear(c);
    let answer = &c.messages[1];
    assert_eq!(answer.source_id, "response_e1");
    assert_eq!(
        answer.content,
        "This file starts the server and reads the config."
    );
    // No modelId: the model named in result.details; then the agent.
    assert_eq!(answer.model.as_deref(), Some("GPT-4.1"));
    assert_eq!(
        c.messages[3].model.as_deref(),
        Some("github.copilot.default")
    );
    assert_eq!(millis(c.messages[0].created_at), Some(1_759_418_211_240));
    assert_eq!(millis(answer.created_at), Some(1_759_418_213_240));
    assert!(!answer.interrupted);
    // Variables are attachments; files also conversation attachments.
    assert!(c.messages[0]
        .parts
        .iter()
        .any(|p| matches!(p, Part::Attachment { name, .. } if name == "codebase")));
    assert_eq!(c.attachments.len(), 1);
    assert_eq!(c.attachments[0].name, "file:main.rs");
    // Unknown kinds stay raw; references are citations.
    assert!(answer
        .parts
        .iter()
        .any(|p| matches!(p, Part::Raw { kind, .. } if kind == "copilot.someFutureKind")));
    let citations = answer
        .parts
        .iter()
        .filter(|p| matches!(p, Part::Citation { .. }))
        .count();
    assert_eq!(citations, 3);
    // shouldBeRemovedOnSend: hidden.
    assert!(!c.messages[0].hidden);
    assert!(c.messages[2].hidden && c.messages[3].hidden);
    assert_eq!(c.extra["responderUsername"], "GitHub Copilot");
    insta::assert_yaml_snapshot!("export", run.sink.conversations);
}

#[test]
fn export_ids_do_not_depend_on_position_or_later_requests() {
    let bytes = fixture("export.json");
    let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let first = parse_bytes("a.json", &bytes).sink.conversations[0]
        .source_id
        .clone();
    // The chat grew by a request: still the same conversation.
    let extra = value["requests"][1].clone();
    value["requests"].as_array_mut().unwrap().push(extra);
    value["requests"][2]["requestId"] = "request_e3".into();
    value["requests"][2]["responseId"] = "response_e3".into();
    let grown = parse_bytes("b.json", &serde_json::to_vec(&value).unwrap());
    assert_eq!(grown.sink.conversations[0].source_id, first);
    // Another chat: another id.
    value["requests"][0]["requestId"] = "request_other".into();
    let other = parse_bytes("c.json", &serde_json::to_vec(&value).unwrap());
    assert_ne!(other.sink.conversations[0].source_id, first);
}

#[test]
fn session_v1_bare_string_messages_and_fallback_ids() {
    let run = parse_fixture("chatSessions/session-v1.json");
    let c = only(&run);
    assert_eq!(c.source_id, "5f3c7a7e-0000-4000-8000-000000000001");
    assert_eq!(c.title, "How do I reverse a Vec?");
    assert_eq!(millis(c.created_at), Some(1_690_000_000_000));
    assert_eq!(c.messages.len(), 4);
    chain_is_linear(c);
    assert_eq!(c.messages[0].content, "How do I reverse a Vec?");
    assert_eq!(c.messages[2].content, "thanks");
    // No requestId / responseId: stable hashes, distinct.
    assert_eq!(c.messages[2].source_id.len(), 32);
    assert_eq!(c.messages[3].source_id.len(), 32);
    assert_ne!(c.messages[2].source_id, c.messages[3].source_id);
    let again = parse_fixture("chatSessions/session-v1.json");
    assert_eq!(again.sink.conversations[0].messages, c.messages);
    insta::assert_yaml_snapshot!("session_v1", run.sink.conversations);
}

#[test]
fn session_v2_computed_title_cancelled_and_hidden() {
    let run = parse_fixture("chatSessions/session-v2.json");
    let c = only(&run);
    assert_eq!(c.title, "Refactor the store");
    assert_eq!(millis(c.created_at), Some(1_700_000_000_000));
    assert_eq!(millis(c.updated_at), Some(1_700_000_301_000));
    assert_eq!(c.messages.len(), 6);
    chain_is_linear(c);
    assert_eq!(
        c.messages[1].content,
        "Start by extracting `apply_pragmas`."
    );
    assert!(c.messages[1].interrupted, "isCanceled");
    assert!(c.messages[1]
        .parts
        .iter()
        .any(|p| matches!(p, Part::Raw { kind, .. } if kind == "copilot.progressMessage")));
    assert!(c.messages[2].hidden && c.messages[3].hidden, "isHidden");
    assert!(!c.messages[4].hidden);
    assert!(c.messages[5].content.starts_with("Here is a test:"));
    assert_eq!(c.model.as_deref(), Some("copilot/gpt-4o"));
    insta::assert_yaml_snapshot!("session_v2", run.sink.conversations);
}

#[test]
fn session_v3_json_is_the_stale_copy_of_the_log() {
    let run = parse_fixture(&format!("{SESSION}.json"));
    let c = only(&run);
    assert_eq!(c.source_id, "0f8fad5b-d9cb-469f-a165-70867728950e");
    assert_eq!(c.title, "Parser panics");
    assert_eq!(c.messages.len(), 2);
    insta::assert_yaml_snapshot!("session_v3_json", run.sink.conversations);
}

#[test]
fn jsonl_log_replays_all_kinds_and_compaction() {
    let run = parse_fixture(&format!("{SESSION}.jsonl"));
    assert!(run.sink.errors.is_empty(), "{:?}", run.sink.errors);
    let c = only(&run);
    // Same source id as the stale .json: re-import dedupes.
    let stale = parse_fixture(&format!("{SESSION}.json"));
    assert_eq!(c.source_id, stale.sink.conversations[0].source_id);
    assert_eq!(
        chat_parse_copilot::session_id_from_name(&format!("{SESSION}.jsonl")),
        Some(c.source_id.as_str())
    );
    // Set after compaction wins; the deleted property is gone.
    assert_eq!(c.title, "Fix the parser");
    assert!(c.extra.get("hasPendingEdits").is_none());
    // 4 requests (the last pushed with truncate, replacing a draft), the last without answer.
    let ids: Vec<&str> = c.messages.iter().map(|m| m.source_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "request_1",
            "response_1",
            "request_2",
            "response_2",
            "request_3",
            "response_3",
            "request_4"
        ]
    );
    chain_is_linear(c);
    assert_eq!(c.active_leaf.as_deref(), Some("request_4"));
    assert_eq!(c.messages[6].role, Role::User);

    // Request 1: thinking, push-with-truncate of the streamed text, inline reference, tools.
    let r1 = &c.messages[1];
    assert_eq!(
        r1.content,
        "Let me look at `lib.rs`.\n\nIt calls `todo!()`, which panics."
    );
    assert!(!r1.interrupted);
    assert_eq!(millis(r1.created_at), Some(1_760_000_064_200));
    assert_eq!(r1.model.as_deref(), Some("copilot/claude-sonnet-4"));
    assert!(matches!(&r1.parts[0], Part::Reasoning { text } if text.starts_with("The user wants")));
    let calls: Vec<_> = r1
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::ToolCall { name, id, input } => Some((name.as_str(), id.clone(), input.clone())),
            _ => None,
        })
        .collect();
    // prepareToolInvocation followed by its serialized record is not a second call.
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "copilot_readFile");
    assert_eq!(calls[0].2["path"], "/w/src/lib.rs");
    assert!(r1.parts.iter().any(|p| matches!(p,
        Part::ToolResult { text, is_error: false, call_id: Some(id), .. }
            if text == "fn parse() { todo!() }" && id == "call_1")));
    for kind in [
        "copilot.textEditGroup",
        "copilot.codeblockUri",
        "copilot.prepareToolInvocation",
    ] {
        assert!(
            r1.parts
                .iter()
                .any(|p| matches!(p, Part::Raw { kind: k, .. } if k == kind)),
            "{kind}"
        );
    }
    // Request 2: cancelled (modelState 2), tool error, markdownContent.
    let r2 = &c.messages[3];
    assert!(r2.interrupted);
    assert_eq!(r2.content, "One test fails; I stopped here.");
    assert!(r2
        .parts
        .iter()
        .any(|p| matches!(p, Part::ToolResult { is_error: true, .. })));
    // Request 3: failed with errorDetails; an announced call without a record is a call.
    let r3 = &c.messages[5];
    assert!(r3.interrupted);
    assert!(r3
        .parts
        .iter()
        .any(|p| matches!(p, Part::ToolCall { name, .. } if name == "fetch_webpage")));
    assert!(r3
        .parts
        .iter()
        .any(|p| matches!(p, Part::ToolResult { text, .. } if text == "https://serde.rs/")));
    assert!(r3
        .parts
        .iter()
        .any(|p| matches!(p, Part::Raw { kind, .. } if kind == "copilot.errorDetails")));
    assert_eq!(millis(c.created_at), Some(1_760_000_000_000));
    assert_eq!(millis(c.updated_at), Some(1_760_000_210_000));
    insta::assert_yaml_snapshot!("session_v3_jsonl", run.sink.conversations);
}

#[test]
fn jsonl_replay_equals_the_final_state_read_as_json() {
    let log = parse_fixture(&format!("{SESSION}.jsonl"));
    let json = parse_fixture("replayed-final-state.json");
    assert_eq!(log.sink.conversations, json.sink.conversations);
}

#[test]
fn damaged_log_reports_lines_and_keeps_the_rest() {
    let run = parse_fixture("chatSessions/damaged.jsonl");
    let c = only(&run);
    assert_eq!(c.messages.len(), 2);
    assert_eq!(c.messages[1].content, "Partial answer continued.");
    assert!(!c.messages[1].interrupted, "modelState set to 1 on line 5");
    let messages: Vec<&str> = run.sink.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].starts_with("line 2:"));
    assert!(messages[1].starts_with("line 3:") && messages[1].contains("$.requests[5]"));
    assert!(messages[2].starts_with("line 6:") && messages[2].contains("cut off"));
    let bytes = fixture("chatSessions/damaged.jsonl");
    let line6 = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(4)
        .map(|(i, _)| i as u64 + 1);
    assert_eq!(run.sink.errors[2].location.byte_offset, line6);
    insta::assert_yaml_snapshot!("damaged_log_errors", run.sink.errors);
}

#[test]
fn pending_chat_is_skipped_with_a_reason() {
    let run = parse_fixture("pending.json");
    assert!(run.sink.conversations.is_empty());
    assert_eq!(run.sink.skipped.len(), 1);
    assert!(run.sink.skipped[0].reason.contains("no requests"));
}

#[test]
fn bom_and_lone_surrogates() {
    let run = parse_fixture("export-bom-surrogate.json");
    let c = only(&run);
    assert_eq!(c.messages[0].content, "broken emoji \u{FFFD} here");
    assert_eq!(c.messages[1].content, "cut \u{FFFD} too");
    assert_eq!(c.messages[1].source_id, "response_s1");
}

#[test]
fn detection_is_by_structure() {
    for rel in [
        "export.json",
        "pending.json",
        "export-bom-surrogate.json",
        "chatSessions/session-v1.json",
        "chatSessions/session-v2.json",
        "chatSessions/damaged.jsonl",
        &format!("{SESSION}.json"),
        &format!("{SESSION}.jsonl"),
    ] {
        assert_eq!(detect("x", &fixture(rel)), Confidence::HIGH, "{rel}");
    }
    assert_eq!(detect("x.json", b"[{\"mapping\": {}}]"), Confidence::NONE);
    assert_eq!(
        detect("chatSessions/a.json", b"{\"title\": 1}"),
        Confidence::NONE
    );
}
