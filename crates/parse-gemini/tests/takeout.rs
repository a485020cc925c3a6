//! Google Takeout "My Activity > Gemini Apps": fixtures in `fixtures/gemini/takeout/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_model::{timestamp::to_rfc3339, ParsedConversation, Part, Role};
use chat_parse::{stable_id, Confidence, ParseError, Parser};
use chat_parse_gemini::{AiStudioParser, TakeoutParser};
use common::{detect, fixture, run, run_ok};
use rstest::rstest;

const MAIN: &str = "takeout/MyActivity.json";

fn by_id<'a>(convs: &'a [ParsedConversation], id: &str) -> &'a ParsedConversation {
    convs
        .iter()
        .find(|c| c.source_id == id)
        .unwrap_or_else(|| panic!("no conversation {id}"))
}

#[rstest]
#[case::english(MAIN, Confidence::HIGH)]
#[case::japanese("takeout/ja-MyActivity.json", Confidence::HIGH)]
#[case::youtube_is_not_gemini("takeout/youtube-MyActivity.json", Confidence::NONE)]
#[case::html_form_is_not_read("takeout/MyActivity.html", Confidence::NONE)]
#[case::ai_studio_prompt("aistudio/haiku.json", Confidence::NONE)]
fn detection_is_by_content(#[case] file: &str, #[case] expected: Confidence) {
    let bytes = fixture(file);
    // The name says nothing: every Takeout product ships a MyActivity.json.
    assert_eq!(detect(&TakeoutParser, "MyActivity.json", &bytes), expected);
    if file.starts_with("takeout/") {
        assert_eq!(
            detect(&AiStudioParser, "MyActivity.json", &bytes),
            Confidence::NONE
        );
    }
}

#[test]
fn whole_english_takeout_snapshot() {
    let sink = run_ok(&TakeoutParser, MAIN, &fixture(MAIN));
    insta::assert_yaml_snapshot!("takeout_english_conversations", sink.conversations);
    insta::assert_yaml_snapshot!("takeout_english_skipped", sink.skipped);
    assert!(sink.errors.is_empty(), "{:?}", sink.errors);
}

#[test]
fn records_group_by_app_id_oldest_first_with_drafts_as_siblings() {
    let sink = run_ok(&TakeoutParser, MAIN, &fixture(MAIN));
    let ids: Vec<&str> = sink
        .conversations
        .iter()
        .map(|c| c.source_id.as_str())
        .collect();
    let lone_mars = stable_id(&[
        "takeout",
        "2025-03-07T08:00:00.500Z",
        "Prompted What's the weather like on Mars?",
    ]);
    let lone_messages = stable_id(&[
        "takeout",
        "2025-03-06T20:00:00.000Z",
        "Prompted Remind me to call mom at 6pm",
    ]);
    // In the order each conversation's newest record appears in the file.
    assert_eq!(
        ids,
        [
            "a1b2c3d4e5f60718",
            "0f9e8d7c6b5a4321",
            "77aa88bb99cc00dd",
            lone_mars.as_str(),
            lone_messages.as_str()
        ]
    );

    // Conversation A: three prompts scattered over the file (one naming it only through
    // `titleUrl` in the /app/c/ form), read oldest first.
    let a = by_id(&sink.conversations, "a1b2c3d4e5f60718");
    assert_eq!(a.title, "How do I read a file in Rust?");
    assert_eq!(
        a.created_at.map(to_rfc3339).as_deref(),
        Some("2025-03-10T09:00:00.123Z")
    );
    assert_eq!(
        a.updated_at.map(to_rfc3339).as_deref(),
        Some("2025-03-10T09:20:00Z")
    );
    let shape: Vec<(Role, Option<&str>, &str)> = a
        .messages
        .iter()
        .map(|m| (m.role, m.parent.as_deref(), m.source_id.as_str()))
        .collect();
    let u1 = stable_id(&[
        "takeout",
        "2025-03-10T09:00:00.123Z",
        "Prompted How do I read a file in Rust?",
    ]);
    let u2 = stable_id(&[
        "takeout",
        "2025-03-10T09:15:00Z",
        "Prompted Can you show it with a BufReader instead?",
    ]);
    let u3 = stable_id(&[
        "takeout",
        "2025-03-10T09:20:00.000Z",
        "Prompted And how do I handle the error if the file is missing?",
    ]);
    let a1 = format!("{u1}/answer");
    let a2 = format!("{u2}/answer");
    assert_eq!(
        shape,
        [
            (Role::User, None, u1.as_str()),
            (Role::Assistant, Some(u1.as_str()), a1.as_str()),
            (Role::User, Some(a1.as_str()), u2.as_str()),
            (Role::Assistant, Some(u2.as_str()), a2.as_str()),
            (
                Role::Assistant,
                Some(u2.as_str()),
                format!("{u2}/answer/2").as_str()
            ),
            (
                Role::Assistant,
                Some(u2.as_str()),
                format!("{u2}/answer/3").as_str()
            ),
            // The third prompt continues from the first (shown) draft; it has no answer.
            (Role::User, Some(a2.as_str()), u3.as_str()),
        ]
    );
    assert_eq!(a.active_leaf.as_deref(), Some(u3.as_str()));
    assert!(a.messages.iter().all(|m| !m.hidden));
    assert_eq!(a.messages[0].content, "How do I read a file in Rust?");
    let answer = &a.messages[1].content;
    assert!(answer.contains("`std::fs::read_to_string`"), "{answer}");
    assert!(answer.contains("```"), "{answer}");
    assert!(answer.contains("**Result**"), "{answer}");
    assert!(!answer.contains("<p>"), "{answer}");
}

#[test]
fn attachments_come_from_attached_files_image_file_and_subtitles() {
    let sink = run_ok(&TakeoutParser, MAIN, &fixture(MAIN));
    let b = by_id(&sink.conversations, "0f9e8d7c6b5a4321");
    let names: Vec<&str> = b.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["quarterly-report.pdf", "image_7c1e90.png"]);
    let user = &b.messages[0];
    assert!(b
        .attachments
        .iter()
        .all(|a| a.message_source_id.as_deref() == Some(user.source_id.as_str())));
    let part_names: Vec<&str> = user
        .parts
        .iter()
        .filter_map(|p| match p {
            Part::Attachment { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(part_names, names);
    // Time without milliseconds.
    assert_eq!(
        b.created_at.map(to_rfc3339).as_deref(),
        Some("2025-03-09T17:00:05Z")
    );

    // An image-only prompt: the bare verb, an empty prompt, the image as attachment.
    let c = by_id(&sink.conversations, "77aa88bb99cc00dd");
    assert_eq!(c.messages[0].content, "");
    assert_eq!(c.attachments[0].name, "image_0042ab.jpg");
    assert_eq!(c.title, "Untitled conversation");
}

#[test]
fn other_verbs_and_other_products_are_skipped_and_counted() {
    let sink = run_ok(&TakeoutParser, MAIN, &fixture(MAIN));
    let titles: Vec<&str> = sink
        .skipped
        .iter()
        .filter_map(|s| s.item.title.as_deref())
        .collect();
    assert_eq!(
        titles,
        [
            "Gave feedback: Good response",
            "Selected preferred draft",
            "Searched for rust bufreader",
            "Created Canvas: Trip plan",
            "Used Gemini Apps",
            "Cleared Gemini Apps activity",
            "Branched conversation",
            "Answered a survey",
            "Added a file to Gemini",
        ]
    );
    assert!(sink.skipped[2].reason.contains("\"Search\""));
    assert_eq!(sink.conversations.len(), 5);
    assert_eq!(sink.message_count(), 7 + 2 + 2 + 2 + 2);
}

#[test]
fn ids_are_stable_when_new_activity_is_prepended() {
    let bytes = fixture(MAIN);
    let before = run_ok(&TakeoutParser, MAIN, &bytes);
    let text = String::from_utf8(bytes).unwrap();
    let newer = text.replacen(
        '[',
        r#"[{"header": "Gemini Apps", "title": "Prompted A brand new question", "time": "2025-04-01T00:00:00.000Z", "products": ["Gemini Apps"], "details": [{"name": "Gemini Apps", "url": "https://gemini.google.com/app/a1b2c3d4e5f60718"}], "safeHtmlItem": [{"html": "<p>New answer</p>"}]},
        {"header": "Gemini Apps", "title": "Prompted unrelated", "time": "2025-04-01T00:00:01.000Z", "products": ["Gemini Apps"]},"#,
        1,
    );
    let after = run_ok(&TakeoutParser, MAIN, newer.as_bytes());
    assert_eq!(after.conversations.len(), before.conversations.len() + 1);
    for old in &before.conversations {
        let new = by_id(&after.conversations, &old.source_id);
        for (m_old, m_new) in old.messages.iter().zip(&new.messages) {
            assert_eq!(m_old.source_id, m_new.source_id);
            assert_eq!(m_old.parent, m_new.parent);
        }
    }
    let a = by_id(&after.conversations, "a1b2c3d4e5f60718");
    assert_eq!(a.messages.len(), 9);
    assert_eq!(a.messages.last().unwrap().content, "New answer");
}

#[test]
fn japanese_takeout() {
    let file = "takeout/ja-MyActivity.json";
    let sink = run_ok(&TakeoutParser, file, &fixture(file));
    insta::assert_yaml_snapshot!("takeout_japanese", sink.conversations);
    assert_eq!(sink.conversations.len(), 1);
    let c = &sink.conversations[0];
    assert_eq!(c.source_id, "5e6f7a8b9c0d1e2f");
    assert_eq!(c.title, "東京から京都まで新幹線で何時間かかりますか？");
    assert_eq!(c.messages.len(), 4);
    assert_eq!(c.messages[2].content, "京都でおすすめの寺は？");
    assert_eq!(c.messages[3].content, "清水寺と**金閣寺**がおすすめです。");
    assert_eq!(
        c.active_leaf.as_deref(),
        Some(c.messages[3].source_id.as_str())
    );
    assert_eq!(c.extra["header"], "Gemini アプリ");
    assert_eq!(sink.skipped.len(), 1);
}

#[test]
fn youtube_takeout_parsed_anyway_gives_nothing_but_skips() {
    let file = "takeout/youtube-MyActivity.json";
    let sink = run_ok(&TakeoutParser, file, &fixture(file));
    assert!(sink.conversations.is_empty());
    assert_eq!(sink.skipped.len(), 2);
    assert!(sink.skipped[0].reason.contains("YouTube"));
}

#[test]
fn html_takeout_is_refused_with_advice_to_choose_json() {
    let file = "takeout/MyActivity.html";
    let (sink, result) = run(&TakeoutParser, file, &fixture(file));
    assert!(sink.conversations.is_empty());
    match result {
        Err(ParseError::NotThisFormat { reason, .. }) => {
            assert!(reason.contains("HTML"), "{reason}");
            assert!(reason.contains("JSON"), "{reason}");
        }
        other => panic!("expected NotThisFormat, got {other:?}"),
    }
    // Even when the reader hands out one byte at a time.
    let bytes = fixture(file);
    let mut reader = std::io::BufReader::with_capacity(1, bytes.as_slice());
    let mut sink = chat_parse::CollectSink::new();
    let result = TakeoutParser.parse(
        chat_parse::Input {
            name: file,
            reader: &mut reader,
            size: None,
        },
        &mut sink,
    );
    assert!(
        matches!(result, Err(ParseError::NotThisFormat { .. })),
        "{result:?}"
    );
}

#[test]
fn truncated_takeout_yields_complete_records_then_the_offset() {
    let file = "takeout/truncated.json";
    let bytes = fixture(file);
    let (sink, result) = run(&TakeoutParser, file, &bytes);
    match result {
        Err(ParseError::Truncated {
            offset,
            items_complete,
            ..
        }) => {
            assert_eq!(items_complete, 5);
            let text = String::from_utf8_lossy(&bytes[offset as usize..]);
            assert!(
                text.trim_start()
                    .starts_with("{\n    \"header\": \"Search\""),
                "{text}"
            );
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
    // The five complete records: two skipped, three prompts of conversation A.
    assert_eq!(sink.skipped.len(), 2);
    assert_eq!(sink.conversations.len(), 1);
    assert_eq!(sink.conversations[0].messages.len(), 7);
}

#[test]
fn bad_items_are_item_errors_and_the_rest_imports() {
    let file = "takeout/bad-items.json";
    let sink = run_ok(&TakeoutParser, file, &fixture(file));
    let messages: Vec<&str> = sink.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(sink.errors.len(), 3, "{messages:?}");
    assert!(messages[1].contains("recursion"), "{messages:?}");
    assert_eq!(sink.errors[0].item.index, Some(1));
    assert_eq!(sink.errors[2].item.index, Some(3));
    assert_eq!(sink.conversations.len(), 2);
    // The lone surrogate escape cut from an emoji became U+FFFD; the paired one survived.
    let joke = &sink.conversations[0];
    assert_eq!(joke.messages[0].content, "Tell me a joke \u{FFFD}");
    assert!(joke.messages[1].content.contains('😀'));
    // An answer nested 5,000 <div>s deep is flattened, not a stack overflow.
    let deep = by_id(&sink.conversations, "feedbeef");
    assert_eq!(deep.messages[1].content, "nested answer");
}

#[test]
fn answer_entries_without_html_are_kept_not_dropped() {
    let bytes = br#"[{"header": "Gemini Apps", "title": "Prompted what is a monad", "time": "2026-02-03T10:11:12.345Z",
        "products": ["Gemini Apps"],
        "safeHtmlItem": [{"html": "<p>A monoid in the category of endofunctors.</p>"},
                         {"text": "A plain-text draft the HTML lacks"}, "a bare string draft"]}]"#;
    let sink = run_ok(&TakeoutParser, "MyActivity.json", bytes);
    let c = &sink.conversations[0];
    assert_eq!(c.messages.len(), 2);
    assert!(c.messages[1].content.contains("endofunctors"));
    let Part::Raw { value, .. } = &c.messages[0].parts[0] else {
        panic!("{:?}", c.messages[0].parts)
    };
    assert_eq!(
        value["safeHtmlItem"][0]["text"],
        "A plain-text draft the HTML lacks"
    );
    assert_eq!(value["safeHtmlItem"][1], "a bare string draft");
}
