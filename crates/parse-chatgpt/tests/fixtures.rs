//! Each rule of the ChatGPT format, on its own fixture in `fixtures/chatgpt/`. Whole outputs are
//! snapshotted (tests/snapshots/); the assertions name what each fixture is about.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_model::{timestamp::to_millis, Part, Role};
use chat_parse::{Confidence, ParseError, ParsedConversation, ParsedMessage};
use common::{active_path, check_invariants, detect, fixture, run, run_fixture};
use rstest::rstest;

fn msg<'a>(c: &'a ParsedConversation, id: &str) -> &'a ParsedMessage {
    c.messages
        .iter()
        .find(|m| m.source_id == id)
        .unwrap_or_else(|| panic!("no message {id} in {}", c.source_id))
}

fn hidden_ids(c: &ParsedConversation) -> Vec<&str> {
    c.messages
        .iter()
        .filter(|m| m.hidden)
        .map(|m| m.source_id.as_str())
        .collect()
}

#[rstest]
#[case::branches("branches-and-active-leaf.json")]
#[case::hidden("hidden-and-tools.json")]
#[case::citations("citations.json")]
#[case::fallback("current-node-fallback.json")]
#[case::wrapped("wrapped-with-project-rows.json")]
#[case::single("single-object.json")]
#[case::cycle("cycle.json")]
#[case::bom("bom-and-lone-surrogates.json")]
#[case::text_in_parts("text-in-parts.json")]
fn fixtures_snapshot(#[case] file: &str) {
    let sink = run_fixture(file);
    check_invariants(&sink);
    insta::assert_yaml_snapshot!(
        file.trim_end_matches(".json"),
        serde_json::json!({
            "conversations": sink.conversations,
            "errors": sink.errors,
            "skipped": sink.skipped,
        })
    );
}

#[rstest]
#[case::branches("branches-and-active-leaf.json")]
#[case::hidden("hidden-and-tools.json")]
#[case::citations("citations.json")]
#[case::fallback("current-node-fallback.json")]
#[case::wrapped("wrapped-with-project-rows.json")]
#[case::single("single-object.json")]
#[case::cycle("cycle.json")]
#[case::bom("bom-and-lone-surrogates.json")]
#[case::text_in_parts("text-in-parts.json")]
#[case::truncated("truncated.json")]
#[case::bad_items("bad-items.json")]
fn fixtures_are_detected_with_high_confidence(#[case] file: &str) {
    assert_eq!(detect(file, &fixture(file)), Confidence::HIGH, "{file}");
}

#[test]
fn every_branch_is_kept_and_the_active_leaf_is_current_node() {
    let sink = run_fixture("branches-and-active-leaf.json");
    let c = &sink.conversations[0];
    assert_eq!(c.source_id, "conv-branches");
    // The empty root is dropped; every other node, on every branch, is a message.
    assert_eq!(c.messages.len(), 7);
    assert_eq!(c.active_leaf.as_deref(), Some("a2"));
    assert_eq!(active_path(c), ["sys", "u1", "a1-regen", "u2", "a2"]);
    assert_eq!(msg(c, "sys").parent, None);
    // Children rebuilt from `parent`: a1-regen, u2-edit and u2 are missing from `children`.
    assert_eq!(msg(c, "a1").parent.as_deref(), Some("u1"));
    assert_eq!(msg(c, "a1-regen").parent.as_deref(), Some("u1"));
    assert_eq!(msg(c, "u2-edit").parent.as_deref(), Some("a1-regen"));
    // Siblings in time order, parents first.
    let order: Vec<&str> = c.messages.iter().map(|m| m.source_id.as_str()).collect();
    assert_eq!(
        order,
        ["sys", "u1", "a1", "a1-regen", "u2-edit", "u2", "a2"]
    );
    assert!(c.archived);
    assert_eq!(c.model.as_deref(), Some("gpt-4o"));
    assert_eq!(msg(c, "a2").model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(msg(c, "u1").model, None);
    assert!(msg(c, "a1-regen").interrupted);
    assert!(!msg(c, "a1").interrupted);
    // `parts: [""]`, no metadata, null create_time: all normal.
    assert_eq!(msg(c, "u2-edit").content, "");
    assert_eq!(msg(c, "u2-edit").created_at, None);
    assert_eq!(hidden_ids(c), ["sys"]);
    assert_eq!(to_millis(c.created_at.unwrap()), 1_700_000_000_000);
    assert_eq!(to_millis(c.updated_at.unwrap()), 1_700_000_100_000);
    assert_eq!(
        to_millis(msg(c, "a1").created_at.unwrap()),
        1_700_000_002_000
    );
    // Unmodelled conversation fields are kept raw.
    assert_eq!(c.extra["is_starred"], true);
    assert_eq!(c.extra["safe_urls"][0], "https://example.com");
    assert!(c.extra.get("mapping").is_none() && c.extra.get("title").is_none());
}

#[test]
fn hidden_nodes_are_flagged_and_structured() {
    let sink = run_fixture("hidden-and-tools.json");
    let c = &sink.conversations[0];
    assert_eq!(c.messages.len(), 18);
    let visible: Vec<&str> = c
        .messages
        .iter()
        .filter(|m| !m.hidden)
        .map(|m| m.source_id.as_str())
        .collect();
    assert_eq!(visible, ["usys", "u1", "code", "ans", "future"]);
    // User message: text parts as content, image and audio as parts, attachment recorded.
    let u1 = msg(c, "u1");
    assert_eq!(u1.content, "What bread is this?\n\nand how do I bake it");
    assert!(u1.parts.contains(&Part::Image {
        reference: Some("file-service://file-img1".into()),
        mime_type: None,
        width: Some(640),
        height: Some(480),
        data: None,
        media: None,
    }));
    assert!(u1.parts.contains(&Part::Audio {
        reference: None,
        transcript: Some("and how do I bake it".into()),
        media: None,
    }));
    assert!(u1.parts.contains(&Part::Audio {
        reference: Some("sediment://file_audio1".into()),
        transcript: None,
        media: None,
    }));
    assert!(u1.parts.iter().any(|p| matches!(p, Part::Raw { kind, .. } if kind == "chatgpt.real_time_user_audio_video_asset_pointer")));
    assert_eq!(c.attachments.len(), 1);
    assert_eq!(c.attachments[0].name, "bread.jpg");
    assert_eq!(c.attachments[0].size, Some(2048));
    assert_eq!(c.attachments[0].message_source_id.as_deref(), Some("u1"));
    // Context, reasoning, tool calls and results.
    assert_eq!(msg(c, "uctx").content, "I am a baker.\n\nBe brief.");
    assert_eq!(msg(c, "uctx").role, Role::User);
    assert!(
        matches!(&msg(c, "think").parts[0], Part::Reasoning { text } if text.contains("sourdough"))
    );
    assert!(
        matches!(&msg(c, "recap").parts[0], Part::Reasoning { text } if text == "Thought for 3 seconds")
    );
    assert!(matches!(&msg(c, "call").parts[0], Part::ToolCall { name, .. } if name == "browser"));
    assert!(matches!(&msg(c, "py").parts[0], Part::ToolCall { name, .. } if name == "python"));
    assert!(
        matches!(&msg(c, "pyout").parts[0], Part::ToolResult { text, name: Some(n), .. } if text == "2700" && n == "python")
    );
    assert!(matches!(
        &msg(c, "err").parts[0],
        Part::ToolResult { is_error: true, .. }
    ));
    assert!(msg(c, "quote").parts.contains(&Part::Citation {
        title: Some("Sourdough guide".into()),
        url: Some("https://bake.example/guide".into()),
    }));
    assert_eq!(msg(c, "pyout").role, Role::Tool);
}

#[test]
fn code_answers_are_fenced_and_unknown_types_kept_raw() {
    let sink = run_fixture("hidden-and-tools.json");
    let c = &sink.conversations[0];
    let code = msg(c, "code");
    assert_eq!(code.content, "```python\nbake(minutes=45)\n```");
    assert_eq!(
        code.parts,
        [Part::Code {
            language: Some("python".into()),
            text: "bake(minutes=45)\n".into()
        }]
    );
    let future = msg(c, "future");
    assert_eq!(future.content, "A future type");
    assert!(
        matches!(&future.parts[0], Part::Raw { kind, value } if kind == "chatgpt.hologram_v9" && value["depth"] == 3)
    );
    assert_eq!(msg(c, "mctx").content, "1. Likes bread.");
}

#[test]
fn citation_markers_never_reach_the_text() {
    let sink = run_fixture("citations.json");
    let c = &sink.conversations[0];
    for m in &c.messages {
        assert!(!m.content.contains('\u{3010}'), "{}", m.content);
        assert!(
            !m.content
                .chars()
                .any(|ch| ('\u{E200}'..='\u{E2FF}').contains(&ch)),
            "{}",
            m.content
        );
    }
    assert_eq!(
        msg(c, "old").content,
        "Paris is the capital ([Paris - Wikipedia](https://en.wikipedia.org/wiki/Paris)). It is big."
    );
    assert_eq!(
        msg(c, "new").content,
        "Paris has 2.1 million people ([INSEE population](https://insee.example/paris), \
         [News](https://news.example/a)). Visit Lyon too.\n"
    );
    assert!(msg(c, "new").parts.contains(&Part::Citation {
        title: Some("INSEE population".into()),
        url: Some("https://insee.example/paris".into()),
    }));
}

#[test]
fn missing_or_dangling_current_node_falls_back_to_the_latest_leaf() {
    let sink = run_fixture("current-node-fallback.json");
    assert_eq!(sink.conversations.len(), 3);
    let [no_current, dangling, at_root] = &sink.conversations[..] else {
        unreachable!()
    };
    assert_eq!(no_current.active_leaf.as_deref(), Some("b"));
    assert_eq!(dangling.active_leaf.as_deref(), Some("x"));
    // current_node on the empty root: no message to point at, so the latest leaf.
    assert_eq!(at_root.active_leaf.as_deref(), Some("u"));
    // Null and empty titles are derived from the first user message, at most 80 characters.
    assert_eq!(
        no_current.title,
        "Why is the sky blue? Explain it for a child please, with an example from daily…"
    );
    assert_eq!(dangling.title, "Hello");
    // No id: a stable hash of content, the same on every run and independent of position.
    assert_eq!(no_current.source_id.len(), 32);
    let again = run("other-name.json", &fixture("current-node-fallback.json")).0;
    assert_eq!(again.conversations[0].source_id, no_current.source_id);
    // Null conversation times come from the messages.
    assert_eq!(to_millis(no_current.created_at.unwrap()), 1_700_000_100_500);
    assert_eq!(to_millis(no_current.updated_at.unwrap()), 1_700_000_105_250);
}

#[test]
fn wrapped_arrays_skip_rows_without_mapping() {
    let sink = run_fixture("wrapped-with-project-rows.json");
    let ids: Vec<&str> = sink
        .conversations
        .iter()
        .map(|c| c.source_id.as_str())
        .collect();
    assert_eq!(ids, ["conv-wrapped", "conv-wrapped-2"]);
    assert_eq!(sink.skipped.len(), 2);
    assert_eq!(sink.skipped[0].item.id.as_deref(), Some("g-p-project1"));
    assert_eq!(sink.skipped[0].item.index, Some(0));
    assert!(
        sink.skipped[0].reason.contains("project"),
        "{}",
        sink.skipped[0].reason
    );
    assert_eq!(sink.skipped[1].item.index, Some(2));
    // A dangling parent makes a root.
    assert_eq!(sink.conversations[1].messages[0].parent, None);
    assert!(sink.errors.is_empty());
}

#[test]
fn a_single_object_is_one_conversation() {
    let sink = run_fixture("single-object.json");
    assert_eq!(sink.conversations.len(), 1);
    let c = &sink.conversations[0];
    assert_eq!(c.messages.len(), 2);
    assert_eq!(c.messages[0].parent, None);
    assert_eq!(c.messages[0].content, "Mixed ");
    assert_eq!(to_millis(c.created_at.unwrap()), 1_710_341_280_000);
    assert_eq!(to_millis(c.updated_at.unwrap()), 1_710_341_400_000);
    assert_eq!(
        to_millis(c.messages[1].created_at.unwrap()),
        1_710_341_317_115
    );
    assert!(c.messages[0].parts.iter().any(
        |p| matches!(p, Part::Raw { value, .. } if value["metadata"]["dalle"]["prompt"] == "a cat")
    ));
}

#[test]
fn cycles_are_broken_and_the_rest_imports() {
    let sink = run_fixture("cycle.json");
    assert_eq!(sink.conversations.len(), 2);
    let c = &sink.conversations[0];
    assert_eq!(c.messages.len(), 5);
    // a -> c -> b -> a: "a" (smallest key) becomes the root; "self" is its own root.
    assert_eq!(msg(c, "a").parent, None);
    assert_eq!(msg(c, "self").parent, None);
    assert_eq!(active_path(c), ["a", "b", "d"]);
}

#[test]
fn a_truncated_file_yields_the_complete_conversations_and_the_offset() {
    let bytes = fixture("truncated.json");
    let (sink, result) = run("truncated.json", &bytes);
    assert_eq!(sink.conversations.len(), 2);
    match result {
        Err(ParseError::Truncated {
            offset,
            items_complete,
            ..
        }) => {
            assert_eq!(items_complete, 2);
            assert_eq!(&bytes[offset as usize..offset as usize + 1], b"{");
        }
        other => panic!("expected truncation, got {other:?}"),
    }
}

#[test]
fn bom_and_lone_surrogates_are_repaired() {
    let sink = run_fixture("bom-and-lone-surrogates.json");
    let c = &sink.conversations[0];
    assert_eq!(c.title, "Cut emoji \u{FFFD} here");
    assert_eq!(c.messages[0].content, "text \u{FFFD} and pair 😀");
}

#[test]
fn bad_items_become_item_errors_and_the_rest_imports() {
    let (sink, result) = run("bad-items.json", &fixture("bad-items.json"));
    result.unwrap();
    let ids: Vec<&str> = sink
        .conversations
        .iter()
        .map(|c| c.source_id.as_str())
        .collect();
    assert_eq!(ids, ["conv-ok-1", "conv-ok-2"]);
    insta::assert_yaml_snapshot!("bad-items-errors", sink.errors);
    assert_eq!(sink.errors.len(), 4);
    let utf8 = &sink.errors[0];
    assert_eq!(utf8.item.index, Some(1));
    assert_eq!(utf8.item.id.as_deref(), Some("conv-bad-utf8"));
    assert!(utf8.hint.contains("UTF-8"), "{}", utf8.hint);
    let deep = &sink.errors[1];
    assert!(deep.message.contains("recursion"), "{}", deep.message);
    assert!(deep.raw.is_some());
    assert_eq!(sink.errors[2].item.index, Some(3));
    assert_eq!(
        sink.errors[3].item.title.as_deref(),
        Some("Duplicate author key")
    );
    assert!(sink.errors.iter().all(|e| !e.hint.is_empty()));
}

#[test]
fn other_providers_are_not_chatgpt() {
    let claude = br#"[{"uuid": "x", "name": "", "created_at": "2024-01-01T00:00:00Z", "chat_messages": [{"uuid": "m", "text": "hi", "sender": "human"}]}]"#;
    assert_eq!(detect("conversations.json", claude), Confidence::NONE);
    let takeout = br#"[{"header": "Gemini Apps", "title": "Prompted hi", "time": "2024-01-01T00:00:00Z", "products": ["Gemini Apps"]}]"#;
    assert_eq!(detect("MyActivity.json", takeout), Confidence::NONE);
    assert_eq!(detect("conversations.json", b"[]"), Confidence::NONE);
}

#[test]
fn a_stopping_sink_stops_the_parser() {
    struct StopAfterOne(usize);
    impl chat_parse::Sink for StopAfterOne {
        fn conversation(&mut self, _: ParsedConversation) -> chat_parse::Flow {
            self.0 += 1;
            chat_parse::Flow::Stop
        }
        fn item_error(&mut self, _: chat_parse::ItemError) -> chat_parse::Flow {
            chat_parse::Flow::Continue
        }
        fn skipped(&mut self, _: chat_parse::Skipped) -> chat_parse::Flow {
            chat_parse::Flow::Continue
        }
    }
    let bytes = fixture("cycle.json");
    let mut sink = StopAfterOne(0);
    let mut reader = &bytes[..];
    chat_parse::Parser::parse(
        &chat_parse_chatgpt::ChatGptParser,
        chat_parse::Input {
            name: "cycle.json",
            reader: &mut reader,
            size: None,
        },
        &mut sink,
    )
    .unwrap();
    assert_eq!(sink.0, 1);
}

/// The text of a message: its content and the text of its parts (raw parts as JSON).
fn all_text(m: &ParsedMessage) -> String {
    let mut out = m.content.clone();
    for p in &m.parts {
        out.push('\n');
        match p {
            Part::Raw { value, .. } => out.push_str(&value.to_string()),
            other => out.push_str(other.text().unwrap_or("")),
        }
    }
    out
}

/// Regression: a message of one of these content types whose text sits in `parts` (not in
/// `text`, `result` or `user_profile`) was stored empty. A peer importer's fixtures have them.
#[rstest]
#[case::code_to_a_tool("code_tool", "df.groupby('region').sum()")]
#[case::code_shown("code_shown", "df.plot(kind='bar')")]
#[case::execution_output("out", "north    1200")]
#[case::system_error("err", "Kernel restarted after a memory error")]
#[case::tether_quote("quote", "Regional sales rose by 4 percent in March.")]
#[case::tether_browsing_display("browse", "three pages about regional sales")]
#[case::user_editable_context("ctx", "I work in retail analytics")]
fn text_in_parts_of_variant_content_types_is_not_stored_empty(
    #[case] id: &str,
    #[case] text: &str,
) {
    let sink = run_fixture("text-in-parts.json");
    let m = msg(&sink.conversations[0], id);
    assert!(all_text(m).contains(text), "{id}: {m:#?}");
    let kept = match &m.parts[..] {
        [Part::ToolCall { input, .. }, ..] => input.as_str().unwrap_or("").contains(text),
        _ => false,
    } || m.content.contains(text)
        || m.parts
            .iter()
            .any(|p| p.text().is_some_and(|t| t.contains(text)));
    assert!(
        kept,
        "{id}: the text is not in the content or a modelled part"
    );
}

#[test]
fn an_empty_assistant_placeholder_before_a_tool_call_is_hidden() {
    let sink = run_fixture("text-in-parts.json");
    let c = &sink.conversations[0];
    let ph = msg(c, "ph");
    assert!(ph.content.is_empty() && ph.parts.is_empty());
    assert!(ph.hidden, "an empty bubble would show");
    // Visible answers and the visible code cell stay visible.
    assert!(!msg(c, "a1").hidden);
    assert!(!msg(c, "code_shown").hidden);
    assert_eq!(
        msg(c, "code_shown").content,
        "```python\ndf.plot(kind='bar')\n```"
    );
}
