//! Copilot event logs (VS Code Copilot Chat transcripts and Copilot CLI session logs), one
//! fixture each under `fixtures/copilot/transcripts/`: whole outputs snapshotted, the rules
//! asserted by hand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_model::{Part, Role};
use chat_parse::{Confidence, ParseError, ParsedConversation, ParsedMessage};
use common::{detect, fixture, parse_bytes, parse_fixture};
use rstest::rstest;

const VSCODE: &str = "transcripts/6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f.jsonl";
const CLI: &str = "transcripts/cli-c7a9e0b1-2222-4333-8444-955566677788.jsonl";
const AGENT: &str = "transcripts/0b0b0b0b-1111-4222-8333-944455566677.jsonl";

fn only(run: &common::Run) -> &ParsedConversation {
    assert_eq!(run.sink.conversations.len(), 1, "{:?}", run.sink.errors);
    &run.sink.conversations[0]
}

fn by_id<'a>(c: &'a ParsedConversation, id: &str) -> &'a ParsedMessage {
    c.messages
        .iter()
        .find(|m| m.source_id == id)
        .unwrap_or_else(|| panic!("no message {id}: {:#?}", c.messages))
}

#[rstest]
#[case::vscode(VSCODE)]
#[case::cli(CLI)]
#[case::agent(AGENT)]
fn transcripts_parse_as_snapshotted(#[case] rel: &str) {
    let run = parse_fixture(rel);
    assert!(run.sink.errors.is_empty(), "{:?}", run.sink.errors);
    let name = rel
        .trim_start_matches("transcripts/")
        .trim_end_matches(".jsonl");
    insta::assert_yaml_snapshot!(format!("transcript-{name}"), run.sink.conversations);
}

#[rstest]
#[case::vscode(VSCODE)]
#[case::cli(CLI)]
#[case::agent(AGENT)]
fn transcripts_are_detected_by_their_first_line(#[case] rel: &str) {
    assert_eq!(detect("x.jsonl", &fixture(rel)), Confidence::HIGH);
}

#[test]
fn a_vscode_transcript_is_a_chat_with_hidden_tool_executions() {
    let run = parse_fixture(VSCODE);
    let c = only(&run);
    assert_eq!(
        c.source_id,
        "transcript:6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
    );
    assert_eq!(c.title, "fix the failing test in tests/test_cart.py");
    // No cwd in a VS Code transcript: the folder holding the files the tools touched.
    assert_eq!(c.subfolder.as_deref(), Some("shop-api"));
    let roles: Vec<(Role, bool)> = c.messages.iter().map(|m| (m.role, m.hidden)).collect();
    assert_eq!(
        roles,
        [
            (Role::User, false),
            (Role::Assistant, false),
            (Role::Tool, true),
            (Role::Assistant, true), // only a tool request: no empty bubble
            (Role::Tool, true),
            (Role::Assistant, false),
        ]
    );
    // A linear chain.
    for pair in c.messages.windows(2) {
        assert_eq!(pair[1].parent.as_deref(), Some(pair[0].source_id.as_str()));
    }
    let first = by_id(c, "m-1");
    assert_eq!(first.content, "Reading the test first.");
    assert!(matches!(&first.parts[0], Part::Reasoning { text } if text.contains("rounding")));
    assert!(matches!(
        &first.parts[1],
        Part::ToolCall { name, id: Some(id), input }
            if name == "read_file" && id == "toolu_01A"
                && input["filePath"] == "/home/me/shop-api/tests/test_cart.py"
    ));
    // The execution keeps its input (the result is not recorded by 0.42).
    let tool = by_id(c, "tool:toolu_01B");
    assert!(matches!(
        &tool.parts[0],
        Part::ToolCall { input, .. } if input["newString"] == "round(total, 2)"
    ));
    assert!(matches!(
        &tool.parts[1],
        Part::ToolResult { text, is_error: false, .. } if text.is_empty()
    ));
}

#[test]
fn a_cli_log_keeps_attachments_assets_results_and_unknown_events() {
    let run = parse_fixture(CLI);
    let c = only(&run);
    assert_eq!(c.title, "Two load balancers in the deploy diagram");
    assert_eq!(c.subfolder.as_deref(), Some("infra"), "from context.cwd");
    assert_eq!(c.model.as_deref(), Some("gpt-5"));
    assert_eq!(
        c.summary.as_deref(),
        Some("The user asked about two load balancers in the deploy diagram.")
    );
    let user = &c.messages[0];
    // Empty `content`: the transformed prompt is the text.
    assert_eq!(
        user.content,
        "Why does the deploy diagram show two load balancers?"
    );
    // The image attachment carries the bytes of its binary asset.
    assert!(user.parts.iter().any(|p| matches!(
        p,
        Part::Image { reference: Some(r), data: Some(d), mime_type: Some(m), .. }
            if r == "asset-1" && d.starts_with("iVBOR") && m == "image/png"
    )));
    assert!(user.parts.iter().any(|p| matches!(
        p,
        Part::Attachment { name, extracted_text: Some(t), .. }
            if name == "main.tf" && t.contains("aws_lb")
    )));
    // Two chunks of one message are one message; opaque content is not kept.
    let answer = by_id(c, "a1");
    assert_eq!(
        answer.content,
        "One balancer is public, the other internal."
    );
    assert_eq!(answer.model.as_deref(), Some("claude-sonnet-4.5"));
    assert!(matches!(&answer.parts[0], Part::Reasoning { text } if text.starts_with("Two aws_lb")));
    assert!(
        matches!(&answer.parts[1], Part::ToolCall { input, .. } if input["command"].is_string())
    );
    assert!(!serde_json::to_string(&answer.parts)
        .unwrap()
        .contains("b3BhcXVl"));
    // The tool's output text, terminal text and image.
    let tool = by_id(c, "tool:call_1");
    assert!(tool.hidden);
    assert!(tool.parts.iter().any(|p| matches!(
        p,
        Part::ToolResult { text, is_error: false, .. }
            if text.contains("aws_lb\" \"internal\"") && text.contains("exit code 0")
    )));
    assert!(tool
        .parts
        .iter()
        .any(|p| matches!(p, Part::Image { data: Some(_), .. })));
    // A failure logged without a start: still a tool message, with the error.
    let failed = by_id(c, "tool:call_2");
    assert!(failed.parts.iter().any(|p| matches!(
        p,
        Part::ToolResult { text, is_error: true, .. } if text.contains("permission denied")
    )));
    // Events that are not modelled are kept on the message they follow.
    let raw_kinds: Vec<&str> = c
        .messages
        .iter()
        .flat_map(|m| &m.parts)
        .filter_map(|p| match p {
            Part::Raw { kind, .. } => Some(kind.as_str()),
            _ => None,
        })
        .collect();
    for kind in [
        "copilot.subagent.started",
        "copilot.assistant.usage",
        "copilot.session.model_change",
        "copilot.session.future_event",
    ] {
        assert!(
            raw_kinds.contains(&kind),
            "{kind} missing from {raw_kinds:?}"
        );
    }
    // The compaction summary is a hidden system message.
    assert!(c
        .messages
        .iter()
        .any(|m| m.role == Role::System && m.hidden && m.content.contains("two load balancers")));
    assert_eq!(c.extra["shutdown"]["currentModel"], "gpt-5");
    assert_eq!(c.extra["cwd"], "/home/me/infra");
}

#[test]
fn an_agent_run_without_a_user_turn_is_titled_from_its_answer() {
    let run = parse_fixture(AGENT);
    let c = only(&run);
    assert_eq!(
        c.title,
        "Summarised the open pull requests for the release notes."
    );
    assert_eq!(c.subfolder, None);
}

#[test]
fn damaged_lines_are_item_errors_and_the_rest_is_read() {
    let mut bytes = fixture(VSCODE);
    // A line that is not JSON in the middle, and a last line cut off.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(3, "not json at all");
    let mut damaged = lines.join("\n");
    damaged.push_str("\n{\"type\":\"user.message\",\"data\":{\"content\":\"cut");
    bytes = damaged.into_bytes();
    let run = parse_bytes("t.jsonl", &bytes);
    assert!(run.result.is_ok(), "{:?}", run.result);
    assert_eq!(run.sink.errors.len(), 2, "{:?}", run.sink.errors);
    assert!(run.sink.errors[0].message.starts_with("line 4"));
    assert!(run.sink.errors[1].message.contains("cut off"));
    assert_eq!(only(&run).messages.len(), 6);
}

#[test]
fn a_log_with_no_message_is_skipped_and_an_unreadable_one_fails() {
    let start = br#"{"type":"session.start","data":{"sessionId":"s"},"id":"e1","timestamp":"2026-01-01T00:00:00Z","parentId":null}
"#;
    let run = parse_bytes("s.jsonl", start);
    assert!(run.result.is_ok());
    assert!(run.sink.conversations.is_empty());
    assert_eq!(run.sink.skipped.len(), 1);
    assert_eq!(run.sink.skipped[0].item.id.as_deref(), Some("transcript:s"));

    let cut = br#"{"type":"session.start","data":{"sessionId":"s"#;
    let run = parse_bytes("s.jsonl", cut);
    assert!(
        matches!(run.result, Err(ParseError::Truncated { .. })),
        "{:?}",
        run.result
    );
}

#[test]
fn a_line_nested_too_deeply_is_an_item_error() {
    let log = format!(
        "{}\n{{\"type\":\"user.message\",\"data\":{{\"content\":\"hi\",\"x\":{}1{}}}}}\n{}\n",
        r#"{"type":"session.start","data":{"sessionId":"deep"},"id":"e1","timestamp":null,"parentId":null}"#,
        "[".repeat(100_000),
        "]".repeat(100_000),
        r#"{"type":"user.message","data":{"content":"still read"},"id":"e3","timestamp":null,"parentId":"e1"}"#,
    );
    let run = parse_bytes("deep.jsonl", log.as_bytes());
    run.result.as_ref().unwrap();
    assert_eq!(run.sink.errors.len(), 1);
    assert_eq!(only(&run).messages[0].content, "still read");
}
