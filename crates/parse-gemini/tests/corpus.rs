//! Every file in the shared corpus for Gemini parses without a panic, with the counts verified
//! by reading each file by hand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_parse::{Confidence, Parser};
use chat_parse_gemini::{AiStudioParser, TakeoutParser};
use common::{detect, run, run_ok};
use rstest::rstest;

macro_rules! corpus_file {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus/gemini/",
                $name
            ))
            .as_slice(),
        )
    };
}

// (file, conversations, messages, title)
#[rstest]
#[case(corpus_file!("owi-aistudio_example.json"), 2, "owi-aistudio_example")]
#[case(corpus_file!("polylogue-aistudio-branching_session.json"), 2, "Branching Gemini session")]
#[case(corpus_file!("polylogue-aistudio-code_execution_prompt.json"), 2, "Code interpreter run")]
#[case(corpus_file!("polylogue-aistudio-code_execution_session.json"), 2, "Code execution")]
#[case(corpus_file!("polylogue-aistudio-multi_turn_prompt.json"), 4, "Drive doc summary")]
#[case(corpus_file!("polylogue-aistudio-multimodal_session.json"), 2, "Multimodal Gemini session")]
#[case(corpus_file!("polylogue-aistudio-text_only_prompt.json"), 4, "Capital trivia")]
#[case(corpus_file!("polylogue-aistudio-text_only_session.json"), 2, "Text-only Gemini session")]
fn corpus_ai_studio_files(
    #[case] file: (&str, &[u8]),
    #[case] messages: usize,
    #[case] title: &str,
) {
    let (name, bytes) = file;
    assert_eq!(detect(&AiStudioParser, name, bytes), Confidence::HIGH);
    assert_eq!(detect(&TakeoutParser, name, bytes), Confidence::NONE);
    let sink = run_ok(&AiStudioParser, name, bytes);
    assert!(sink.errors.is_empty(), "{:?}", sink.errors);
    assert_eq!(sink.conversations.len(), 1);
    let c = &sink.conversations[0];
    assert_eq!(c.messages.len(), messages);
    assert_eq!(c.title, title);
    assert_eq!(
        c.active_leaf.as_deref(),
        c.messages.last().map(|m| m.source_id.as_str())
    );
    // Handed to the wrong parser: no panic, nothing imported.
    let (wrong, _) = run(&TakeoutParser, name, bytes);
    assert!(wrong.conversations.is_empty());
}

#[test]
fn corpus_owi_example_has_reasoning_and_model() {
    let (name, bytes) = corpus_file!("owi-aistudio_example.json");
    let sink = run_ok(&AiStudioParser, name, bytes);
    let c = &sink.conversations[0];
    assert_eq!(c.model.as_deref(), Some("gemini-3-pro-preview"));
    let answer = &c.messages[1];
    assert!(answer
        .content
        .starts_with("Yes, you are **absolutely correct!**"));
    assert!(
        matches!(&answer.parts[0], chat_model::Part::Reasoning { text } if text.starts_with("**Verifying"))
    );
}

#[test]
fn corpus_code_execution_and_errors() {
    let (name, bytes) = corpus_file!("polylogue-aistudio-code_execution_prompt.json");
    let c = &run_ok(&AiStudioParser, name, bytes).conversations[0];
    assert_eq!(c.source_id, "gem-code-exec");
    assert_eq!(c.messages[1].content, "The answer is 4.");
    assert!(c.messages[1]
        .parts
        .iter()
        .any(|p| matches!(p, chat_model::Part::Code { .. })));
    assert!(c.messages[1]
        .parts
        .iter()
        .any(|p| matches!(p, chat_model::Part::ToolResult { .. })));

    let (name, bytes) = corpus_file!("polylogue-aistudio-branching_session.json");
    let c = &run_ok(&AiStudioParser, name, bytes).conversations[0];
    assert!(
        c.messages[1].interrupted,
        "errorMessage / finishReason OTHER"
    );
    assert!(c.messages[1].parts.iter().any(|p| matches!(p,
        chat_model::Part::Citation { url: Some(u), .. } if u == "https://example.com/source")));

    let (name, bytes) = corpus_file!("polylogue-aistudio-multimodal_session.json");
    let c = &run_ok(&AiStudioParser, name, bytes).conversations[0];
    let names: Vec<&str> = c.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["spec.pdf", "https://www.youtube.com/watch?v=abc123"]
    );
    assert_eq!(c.attachments[0].size, Some(2048));
}

#[test]
fn corpus_bad_invalid_unicode_is_not_gemini_and_does_not_panic() {
    let bytes = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/bad/owi-invalid_unicode.json"
    ));
    let parsers: [&dyn Parser; 2] = [&TakeoutParser, &AiStudioParser];
    for parser in parsers {
        assert!(detect(parser, "owi-invalid_unicode.json", bytes) < Confidence::HIGH);
        assert_eq!(
            detect(parser, "owi-invalid_unicode.json", bytes),
            Confidence::NONE
        );
        let (sink, _) = run(parser, "owi-invalid_unicode.json", bytes);
        assert!(sink.conversations.is_empty());
    }
}

#[test]
fn every_file_in_the_gemini_corpus_is_covered_and_safe() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/gemini");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // The cases above list these; a new corpus file must be inspected and added there.
    assert_eq!(names.len(), 8, "{names:?}");
    let parsers: [&dyn Parser; 2] = [&TakeoutParser, &AiStudioParser];
    for name in &names {
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        for parser in parsers {
            let _ = detect(parser, name, &bytes);
            let _ = run(parser, name, &bytes);
        }
    }
}
