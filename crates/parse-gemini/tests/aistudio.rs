//! Google AI Studio prompt files: fixtures in `fixtures/gemini/aistudio/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_model::{timestamp::to_rfc3339, Part, Role};
use chat_parse::{stable_id, Confidence, ParseError};
use chat_parse_gemini::{AiStudioParser, TakeoutParser};
use common::{detect, fixture, run, run_ok};

const LIFETIMES: &str = "aistudio/Rust lifetimes explained";
const HAIKU: &str = "aistudio/haiku.json";

#[test]
fn prompt_files_are_detected_without_an_extension() {
    for file in [LIFETIMES, HAIKU] {
        let bytes = fixture(file);
        assert_eq!(detect(&AiStudioParser, "Drive/x", &bytes), Confidence::HIGH);
        assert_eq!(detect(&TakeoutParser, "Drive/x", &bytes), Confidence::NONE);
    }
    let only_settings = br#"{"runSettings": {"model": "models/gemini-2.5-pro"}, "systemInstruction": {"text": "long"#;
    assert_eq!(
        detect(&AiStudioParser, "x", only_settings),
        Confidence::MEDIUM
    );
    assert_eq!(
        detect(&AiStudioParser, "x", br#"{"title": "x", "messages": []}"#),
        Confidence::NONE
    );
}

#[test]
fn whole_prompt_snapshot() {
    let name = "takeout.zip!Takeout/Drive/Google AI Studio/Rust lifetimes explained";
    let sink = run_ok(&AiStudioParser, name, &fixture(LIFETIMES));
    insta::assert_yaml_snapshot!("aistudio_lifetimes", sink.conversations);
}

#[test]
fn turns_thoughts_code_and_files() {
    let name = "Drive/Google AI Studio/Rust lifetimes explained";
    let sink = run_ok(&AiStudioParser, name, &fixture(LIFETIMES));
    assert_eq!(sink.conversations.len(), 1);
    let c = &sink.conversations[0];
    // No displayName: the title is the file name, without its directories.
    assert_eq!(c.title, "Rust lifetimes explained");
    assert_eq!(
        c.source_id,
        stable_id(&[
            "aistudio",
            "Rust lifetimes explained",
            "Explain lifetimes in Rust with an example, and check this screenshot."
        ])
    );
    assert_eq!(c.model.as_deref(), Some("gemini-2.5-pro"));
    let shape: Vec<(&str, Option<&str>, Role, bool)> = c
        .messages
        .iter()
        .map(|m| (m.source_id.as_str(), m.parent.as_deref(), m.role, m.hidden))
        .collect();
    // Five user chunks form one user turn, three model chunks one assistant turn.
    assert_eq!(
        shape,
        [
            ("system", None, Role::System, true),
            ("c0", Some("system"), Role::User, false),
            ("c5", Some("c0"), Role::Assistant, false),
            ("c8", Some("c5"), Role::User, false),
            ("c9", Some("c8"), Role::Assistant, false),
        ]
    );
    assert_eq!(c.active_leaf.as_deref(), Some("c9"));
    assert_eq!(
        c.messages[0].content,
        "You are a patient Rust tutor. Answer briefly."
    );

    let answer = &c.messages[2];
    assert_eq!(answer.model.as_deref(), Some("gemini-2.5-pro"));
    assert!(!answer.interrupted);
    // Thoughts are reasoning parts, not content; the chunk's `text` wins over its parts.
    assert!(!answer.content.contains("Planning"));
    assert!(answer
        .content
        .starts_with("Let me run a quick example.\n\nA lifetime names"));
    assert!(
        matches!(&answer.parts[0], Part::Reasoning { text } if text.contains("a borrow example will do"))
    );
    assert!(answer.parts.iter().any(|p| matches!(p,
        Part::Code { language: Some(l), text } if l == "python" && text == "print('borrow ok')")));
    assert!(answer.parts.iter().any(|p| matches!(p,
        Part::ToolResult { text, is_error: false, .. } if text == "borrow ok\n")));
    assert!(answer.parts.iter().any(|p| matches!(p,
        Part::Citation { url: Some(u), .. } if u.contains("ch10-03"))));
    assert!(answer.parts.iter().any(|p| matches!(p,
        Part::Raw { kind, value } if kind == "aistudio.chunk" && value["fancyNewField"]["kept"] == true)));

    let user = &c.messages[1];
    assert!(user.parts.iter().any(|p| matches!(p,
        Part::Image { mime_type: Some(m), data: Some(_), .. } if m == "image/png")));
    assert!(user.parts.iter().any(|p| matches!(p,
        Part::Image { reference: Some(r), .. } if r == "drive:1ImgDriveId")));
    let names: Vec<&str> = c.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["inline file 1 (application/pdf)", "drive:1AbCdEfGhIjKlMnOp"]
    );
    assert_eq!(c.attachments[0].size, Some(9));
    assert!(c
        .attachments
        .iter()
        .all(|a| a.message_source_id.as_deref() == Some("c0")));

    // The last answer hit the token limit, and has a thought in its parts.
    let last = &c.messages[4];
    assert!(last.interrupted);
    assert!(matches!(&last.parts[0], Part::Reasoning { text } if text.starts_with("Thinking")));
    assert!(last.content.starts_with("Here is a struct"));
    assert_eq!(
        last.created_at.map(to_rfc3339).as_deref(),
        Some("2025-05-01T10:00:09.25Z")
    );
    assert_eq!(
        c.updated_at.map(to_rfc3339).as_deref(),
        Some("2025-05-01T10:00:09.25Z")
    );
    // Run settings, pending inputs and citations are kept raw.
    assert_eq!(c.extra["runSettings"]["enableCodeExecution"], true);
    assert!(c.extra["chunkedPrompt"]["pendingInputs"].is_array());
    assert!(c.extra["citations"].is_array());
}

#[test]
fn display_name_bom_lone_surrogate_and_errors() {
    let sink = run_ok(&AiStudioParser, HAIKU, &fixture(HAIKU));
    insta::assert_yaml_snapshot!("aistudio_haiku", sink.conversations);
    let c = &sink.conversations[0];
    assert_eq!(c.title, "Haiku about autumn");
    assert_eq!(c.model.as_deref(), Some("gemini-2.0-flash"));
    // An empty systemInstruction gives no system message.
    assert_eq!(c.messages.len(), 4);
    assert_eq!(c.messages[2].content, "Another, in Japanese \u{FFFD}");
    assert!(c.messages[3].interrupted);
    assert!(c.messages[3].content.is_empty());
    assert!(c.created_at.is_none());
}

#[test]
fn truncated_prompt_is_a_truncation_error() {
    let file = "aistudio/truncated";
    let (sink, result) = run(&AiStudioParser, file, &fixture(file));
    assert!(sink.conversations.is_empty());
    assert!(
        matches!(
            result,
            Err(ParseError::Truncated {
                offset: 0,
                items_complete: 0,
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn json_without_chunked_prompt_is_not_this_format() {
    let (_, result) = run(
        &AiStudioParser,
        "x.json",
        br#"{"title": "x", "messages": []}"#,
    );
    assert!(
        matches!(result, Err(ParseError::NotThisFormat { .. })),
        "{result:?}"
    );
    // An array of prompts is read item by item.
    let bytes = format!(
        "[{}, 7]",
        String::from_utf8(fixture(HAIKU))
            .unwrap()
            .trim_start_matches('\u{feff}')
    );
    let (sink, result) = run(&AiStudioParser, "many", bytes.as_bytes());
    assert!(result.is_ok());
    assert_eq!(sink.conversations.len(), 1);
    assert_eq!(sink.errors.len(), 1);
}

#[test]
fn invalid_utf8_and_deep_nesting_are_item_errors() {
    let (sink, result) = run(
        &AiStudioParser,
        "x",
        b"{\"chunkedPrompt\": {\"chunks\": [{\"text\": \"\xff\"}]}}",
    );
    assert!(result.is_ok());
    assert_eq!(sink.errors.len(), 1);
    let deep = format!(
        "{{\"chunkedPrompt\": {}}}",
        "[".repeat(10_000) + &"]".repeat(10_000)
    );
    let (sink, result) = run(&AiStudioParser, "x", deep.as_bytes());
    assert!(result.is_ok());
    assert!(sink.errors[0].message.contains("recursion"));
}

#[test]
fn string_chunks_and_parts_and_parts_the_text_lacks_are_kept() {
    let bytes =
        br#"{"runSettings": {"model": "models/gemini-2.5-pro"}, "chunkedPrompt": {"chunks": [
        "a bare string chunk",
        {"role": "user", "parts": ["a bare string part", {"text": " and an object part"}]},
        {"role": "model", "text": "The answer.", "isThought": false,
         "parts": [{"text": "The answer."}, {"text": "A summary the text lacks", "thought": true}]}
    ]}}"#;
    let sink = run_ok(&AiStudioParser, "Strings", bytes);
    let c = &sink.conversations[0];
    let user = &c.messages[0];
    assert!(user.content.contains("a bare string chunk"));
    assert!(user.content.contains("a bare string part"));
    assert!(user.content.contains("and an object part"));
    let model = &c.messages[1];
    assert_eq!(model.content, "The answer.");
    assert!(model
        .parts
        .iter()
        .any(|p| matches!(p, Part::Reasoning { text } if text == "A summary the text lacks")));
}
