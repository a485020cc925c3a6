//! The rules of the Claude parser, one fixture each under `fixtures/claude/`: whole parsed
//! outputs are snapshotted (`tests/snapshots/`), and the rule each fixture exists for is also
//! asserted by hand so a reviewed snapshot cannot hide a regression.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_model::{timestamp::to_rfc3339, Part, Role};
use chat_parse::{CollectSink, Confidence, Flow, ParseError, ParsedConversation, Sink};
use common::{assert_consistent, detect, fixture, parse_fixture, run};
use rstest::rstest;
use serde::Serialize;

#[derive(Serialize)]
struct Outcome<'a> {
    conversations: &'a [ParsedConversation],
    errors: &'a [chat_parse::ItemError],
    skipped: &'a [chat_parse::Skipped],
}

fn outcome(sink: &CollectSink) -> Outcome<'_> {
    Outcome {
        conversations: &sink.conversations,
        errors: &sink.errors,
        skipped: &sink.skipped,
    }
}

#[rstest]
#[case::blocks("blocks.json")]
#[case::legacy_text("legacy-text.json")]
#[case::branches("branches.json")]
#[case::attachments("attachments.json")]
#[case::no_ids("no-ids.json")]
#[case::single_object("single-object.json")]
#[case::projects("projects.json")]
#[case::project_2026("project-2026.json")]
#[case::voice_note("voice-note.json")]
#[case::bad_items("bad-items.json")]
fn fixtures_parse_as_snapshotted(#[case] name: &str) {
    let sink = parse_fixture(name);
    assert_consistent(&sink);
    insta::with_settings!({ snapshot_suffix => name.trim_end_matches(".json") }, {
        insta::assert_yaml_snapshot!(outcome(&sink));
    });
}

fn ids(c: &ParsedConversation) -> Vec<&str> {
    c.messages.iter().map(|m| m.source_id.as_str()).collect()
}

fn parent_of<'a>(c: &'a ParsedConversation, id: &str) -> Option<&'a str> {
    c.messages
        .iter()
        .find(|m| m.source_id == id)
        .unwrap_or_else(|| panic!("no message {id}"))
        .parent
        .as_deref()
}

#[test]
fn content_blocks_make_text_reasoning_tools_citations_and_raw_parts() {
    let sink = parse_fixture("blocks.json");
    let c = &sink.conversations[0];
    assert_eq!(c.title, "Searching and thinking");
    assert_eq!(
        c.summary.as_deref(),
        Some("The user asked about Rust editions; Claude searched the web and answered.")
    );
    assert_eq!(c.model, None);
    assert_eq!(c.extra["project"]["name"], "Rust notes");
    assert_eq!(c.extra["account"]["uuid"], "acct-1");
    assert_eq!(c.extra["is_starred"], true);

    let human = &c.messages[0];
    assert_eq!(human.role, Role::User);
    // Text blocks joined with a blank line; the empty block adds nothing.
    assert_eq!(
        human.content,
        "What changed in the 2024 edition?\n\nKeep it short."
    );
    assert_eq!(human.parent, None, "the all-zero parent uuid is a root");

    let answer = &c.messages[1];
    assert_eq!(answer.role, Role::Assistant);
    assert_eq!(answer.parent.as_deref(), Some("m1"));
    assert!(!answer.hidden);
    // The flattened `text` (with its placeholder) is not used when content[] has blocks.
    assert!(!answer.content.contains("not supported"));
    assert_eq!(
        answer.content,
        "Let me look that up.\n\nThe 2024 edition changed the lifetime capture rules and reserved `gen`."
    );
    let p = &answer.parts;
    assert_eq!(
        p[0],
        Part::Reasoning {
            text: "The user wants a short list. I should search first.".into()
        }
    );
    assert_eq!(
        p[1],
        Part::Reasoning {
            text: "Only a summary survived".into()
        }
    );
    assert!(matches!(&p[2], Part::ToolCall { name, id: Some(id), input }
        if name == "web_search" && id == "toolu_01" && input["query"] == "rust 2024 edition changes"));
    assert_eq!(
        p[3],
        Part::ToolResult {
            name: Some("web_search".into()),
            call_id: Some("toolu_01".into()),
            text:
                "The 2024 edition reserves the gen keyword.\n\nRPIT lifetime capture rules changed."
                    .into(),
            is_error: false,
        }
    );
    assert!(matches!(&p[4], Part::ToolCall { name, id: None, .. } if name == "web_fetch"));
    // A result without tool_use_id pairs with the oldest unanswered call that has an id.
    assert!(
        matches!(&p[6], Part::ToolResult { call_id: Some(id), text, .. }
        if id == "toolu_03" && text == "OK")
    );
    assert!(matches!(&p[7], Part::ToolResult { is_error: true, .. }));
    assert!(
        matches!(&p[8], Part::Raw { kind, value } if kind == "claude.token_budget" && value["remaining"] == 12345)
    );
    let citations: Vec<&Part> = p
        .iter()
        .filter(|p| matches!(p, Part::Citation { .. }))
        .collect();
    assert_eq!(
        citations,
        [
            &Part::Citation {
                title: None,
                url: Some("https://doc.rust-lang.org/edition-guide/".into())
            },
            &Part::Citation {
                title: Some("Announcing Rust 1.85.0".into()),
                url: Some("https://blog.rust-lang.org/2025/02/20/Rust-1.85.0.html".into())
            },
        ]
    );
    let raw_kinds: Vec<&str> = p
        .iter()
        .filter_map(|p| match p {
            Part::Raw { kind, .. } => Some(kind.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        raw_kinds,
        [
            "claude.token_budget",
            "claude.citation",
            "claude.image_generation_v9",
            "claude.unknown",
            "claude.unknown",
            // Text the known blocks carry beyond their parts, after every block's parts.
            "claude.thinking",
            "claude.tool_use",
            "claude.tool_result",
            "claude.citation",
            "claude.message"
        ]
    );
    // Timestamps: microseconds, `Z` and `+00:00`, stored at millisecond precision.
    assert_eq!(
        to_rfc3339(c.created_at.unwrap()),
        to_rfc3339(chat_parse::time::from_str("2025-03-01T09:00:00.123Z").unwrap())
    );
    assert_eq!(
        c.updated_at,
        chat_parse::time::from_str("2025-03-01T09:05:00.654Z")
    );
    assert_eq!(
        answer.created_at,
        chat_parse::time::from_str("2025-03-01T09:00:05.500Z")
    );
    assert_eq!(c.active_leaf.as_deref(), Some("m2"));
}

#[test]
fn the_text_field_is_used_when_content_is_missing_or_empty_and_untitled_means_derived() {
    let sink = parse_fixture("legacy-text.json");
    let c = &sink.conversations[0];
    assert_eq!(
        c.title,
        "How do I reverse a linked list in place, without recursion, in a language with…"
    );
    assert_eq!(c.summary, None, "an empty summary is no summary");
    assert!(c.messages[0].content.starts_with("  How do I\nreverse"));
    assert_eq!(
        c.messages[1].content,
        "Walk the list keeping three pointers: previous, current and next."
    );
    // Messages with neither text nor blocks are kept, empty.
    assert_eq!(c.messages[2].content, "");
    assert_eq!(c.messages[3].content, "");
    assert!(c.messages[3].parts.is_empty());
    // Only blocks of unknown types: the flattened text is the content, the block kept raw.
    assert_eq!(
        c.messages[4].content,
        "Only the flattened render is readable here."
    );
    assert!(
        matches!(&c.messages[4].parts[0], Part::Raw { kind, .. } if kind == "claude.markdown_v2")
    );
    // No parent_message_uuid: array order is the chain.
    assert_eq!(ids(c), ["l1", "l2", "l3", "l4", "l4b", "l5"]);
    assert_eq!(parent_of(c, "l1"), None);
    assert_eq!(parent_of(c, "l3"), Some("l2"));
    assert_eq!(parent_of(c, "l5"), Some("l4b"));
    // An unknown sender is kept as a system message, its sender and bad date kept raw.
    let odd = &c.messages[5];
    assert_eq!(odd.role, Role::System);
    assert_eq!(odd.created_at, None);
    assert!(matches!(&odd.parts[0], Part::Raw { kind, value }
        if kind == "claude.message" && value["sender"] == "system_note" && value["created_at"] == "not a date"));
    assert!(c.messages.iter().all(|m| !m.hidden));
    assert_eq!(c.active_leaf.as_deref(), Some("l5"));
    assert_eq!(
        c.created_at,
        chat_parse::time::from_str("2023-07-11T18:20:03.331Z")
    );
}

#[test]
fn parent_uuids_build_branches_and_the_last_message_is_the_active_leaf() {
    let sink = parse_fixture("branches.json");
    let c = &sink.conversations[0];
    assert_eq!(parent_of(c, "b1"), None);
    assert_eq!(parent_of(c, "b3"), Some("b2"));
    // The edit branch: b5 is a sibling of b3 under b2.
    assert_eq!(parent_of(c, "b5"), Some("b2"));
    assert_eq!(parent_of(c, "b6"), Some("b5"));
    assert_eq!(
        parent_of(c, "b7"),
        None,
        "a parent not in the export makes a root"
    );
    assert_eq!(parent_of(c, "b8"), Some("b6"));
    // Parents first: b6 was listed before its parent b5.
    assert_eq!(ids(c), ["b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"]);
    assert_eq!(c.active_leaf.as_deref(), Some("b8"));

    let cycle = &sink.conversations[1];
    assert_eq!(
        parent_of(cycle, "c1"),
        None,
        "the earliest message of a cycle is a root"
    );
    assert_eq!(parent_of(cycle, "c2"), Some("c1"));
    assert_eq!(parent_of(cycle, "c3"), Some("c2"));
    assert_eq!(parent_of(cycle, "c4"), None, "its own parent");
    assert_eq!(cycle.messages[0].content, "one");
}

#[test]
fn attachments_keep_extracted_text_and_files_keep_names() {
    let sink = parse_fixture("attachments.json");
    let c = &sink.conversations[0];
    let m = &c.messages[0];
    assert_eq!(
        m.parts[0],
        Part::Attachment {
            name: "notes.txt".into(),
            size: Some(1234),
            mime_type: Some("text/plain".into()),
            extracted_text: Some("Meeting notes: ship the parser by Friday.".into()),
            media: None,
            reference: None,
        }
    );
    assert_eq!(
        m.parts[0].text(),
        Some("Meeting notes: ship the parser by Friday.")
    );
    let names: Vec<&str> = c.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "notes.txt",
            "plan.md",
            "(unnamed file)",
            "whiteboard.png",
            "diagram.pdf"
        ]
    );
    assert_eq!(c.attachments[1].mime_type.as_deref(), Some("text/markdown"));
    assert_eq!(c.attachments[1].size, Some(88));
    assert!(c
        .attachments
        .iter()
        .all(|a| a.message_source_id.as_deref() == Some("a1") && a.data.is_none()));
    let png = &c.attachments[3];
    assert_eq!((png.size, png.mime_type.as_deref()), (None, None));
    assert!(m.parts.contains(&Part::Attachment {
        name: "whiteboard.png".into(),
        size: None,
        mime_type: None,
        extracted_text: None,
        media: None,
        reference: None,
    }));
    // Leftover fields stay raw: the id of an attachment, the uuid of a file, a non-object entry.
    assert!(m.parts.iter().any(|p| matches!(p, Part::Raw { kind, value }
        if kind == "claude.attachment" && value["id"] == "att-2")));
    assert!(m.parts.iter().any(|p| matches!(p, Part::Raw { kind, value }
        if kind == "claude.file" && value["file_uuid"] == "f-9")));
    assert!(m.parts.iter().any(|p| matches!(p, Part::Raw { kind, value }
        if kind == "claude.file" && value == "not-an-object.jpg")));
}

#[test]
fn missing_ids_are_stable_hashes_made_unique() {
    let a = parse_fixture("no-ids.json");
    let b = parse_fixture("no-ids.json");
    assert_eq!(
        a.conversations, b.conversations,
        "ids are stable across runs"
    );
    let c = &a.conversations[0];
    assert_eq!(c.source_id.len(), 32);
    let ids = ids(c);
    assert_eq!(
        ids[2],
        format!("{}#2", ids[0]),
        "same content, same time: made unique"
    );
    assert_eq!(ids[3], format!("{}#2", ids[1]));
    assert_eq!(c.active_leaf.as_deref(), Some(ids[3]));
    // No conversation times: the message times stand in.
    assert_eq!(
        c.updated_at,
        chat_parse::time::from_str("2024-01-02T03:04:07Z")
    );
    let d = &a.conversations[1];
    assert_eq!(self::ids(d), ["same", "same#2"]);
    assert_eq!(parent_of(d, "same#2"), Some("same"));

    // The id does not depend on where the conversation sits in the file.
    let moved = String::from_utf8(fixture("no-ids.json")).unwrap();
    let moved = moved.replacen('[', "[{\"uuid\": \"first\", \"chat_messages\": []},", 1);
    let (sink, result) = run("moved.json", moved.as_bytes());
    result.unwrap();
    assert_eq!(sink.conversations[1].source_id, c.source_id);
}

#[test]
fn a_bare_conversation_object_is_read() {
    let sink = parse_fixture("single-object.json");
    assert_eq!(sink.conversations.len(), 1);
    let c = &sink.conversations[0];
    assert_eq!(c.source_id, "conv-single");
    assert_eq!(ids(c), ["s1", "s2"]);
    assert_eq!(
        c.created_at,
        chat_parse::time::from_str("2024-08-08T19:12:06.120Z")
    );
}

#[rstest]
#[case::users("users.json")]
#[case::memories("memories.json")]
fn other_archive_files_are_not_conversations(#[case] name: &str) {
    assert_eq!(detect(name, &fixture(name)), Confidence::NONE);
    let sink = parse_fixture(name);
    assert!(sink.conversations.is_empty());
    assert!(sink.errors.is_empty());
    assert_eq!(sink.skipped.len(), 1);
}

#[rstest]
#[case::blocks("blocks.json")]
#[case::legacy("legacy-text.json")]
#[case::branches("branches.json")]
#[case::attachments("attachments.json")]
#[case::single("single-object.json")]
#[case::bom("bad-items.json")]
#[case::projects("projects.json")]
#[case::project_2026("project-2026.json")]
#[case::voice_note("voice-note.json")]
fn conversation_files_are_detected_by_structure(#[case] name: &str) {
    assert_eq!(detect(name, &fixture(name)), Confidence::HIGH);
    // The name plays no part.
    assert_eq!(detect("x.bin", &fixture(name)), Confidence::HIGH);
}

#[test]
fn other_formats_are_not_claude() {
    let chatgpt =
        br#"[{"title": "t", "mapping": {"a": {"id": "a", "message": null}}, "current_node": "a"}]"#;
    assert_eq!(detect("conversations.json", chatgpt), Confidence::NONE);
    assert_eq!(
        detect("conversations.json", b"<html></html>"),
        Confidence::NONE
    );
    assert_eq!(detect("conversations.json", b""), Confidence::NONE);
    assert_eq!(
        detect("c.json", br#"[{"chat_messages": [{"text": "x"}]}]"#),
        Confidence::LOW
    );
}

#[test]
fn bad_items_become_item_errors_and_the_rest_imports() {
    let sink = parse_fixture("bad-items.json");
    let ids: Vec<&str> = sink
        .conversations
        .iter()
        .map(|c| c.source_id.as_str())
        .collect();
    assert_eq!(ids, ["ok-surrogate", "ok-last"]);
    // Lone surrogate repaired, a paired one kept.
    assert_eq!(
        sink.conversations[0].messages[0].content,
        "cut emoji \u{FFFD} and a whole one 😀"
    );
    let errors: Vec<(Option<u64>, Option<&str>, Option<&str>)> = sink
        .errors
        .iter()
        .map(|e| {
            (
                e.item.index,
                e.item.id.as_deref(),
                // The nesting error's path goes 128 levels down: compare its start.
                e.location
                    .json_path
                    .as_deref()
                    .map(|p| &p[..p.len().min(26)]),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (Some(1), Some("bad-utf8"), Some("$.chat_messages[0].text")),
            (
                Some(2),
                Some("bad-type"),
                Some("$.chat_messages[0].content")
            ),
            (Some(3), Some("bad-messages"), Some("$.chat_messages")),
            (
                Some(4),
                Some("too-deep"),
                Some("$.junk[0][0][0][0][0][0][0")
            ),
            (Some(5), None, Some("$")),
        ]
    );
    assert_eq!(sink.errors[0].item.title.as_deref(), Some("Broken bytes"));
    assert!(sink
        .errors
        .iter()
        .all(|e| !e.hint.is_empty() && e.raw.is_some()));
    assert!(
        sink.errors[3].message.contains("recursion"),
        "{}",
        sink.errors[3].message
    );
    assert_eq!(sink.skipped.len(), 1);
    assert_eq!(sink.skipped[0].item.id.as_deref(), Some("proj-9"));
}

#[test]
fn a_truncated_file_yields_complete_conversations_then_the_offset() {
    let bytes = fixture("truncated.json");
    let (sink, result) = run("truncated.json", &bytes);
    let ids: Vec<&str> = sink
        .conversations
        .iter()
        .map(|c| c.source_id.as_str())
        .collect();
    assert_eq!(ids, ["t1", "t2"]);
    match result {
        Err(ParseError::Truncated {
            offset,
            items_complete,
            ..
        }) => {
            assert_eq!(offset, 421);
            assert_eq!(items_complete, 2);
        }
        other => panic!("expected a truncation, got {other:?}"),
    }
}

#[test]
fn empty_and_garbage_inputs_are_input_errors() {
    assert!(matches!(
        run("e.json", b"  ").1,
        Err(ParseError::Empty { .. })
    ));
    assert!(matches!(
        run("g.json", b"hello").1,
        Err(ParseError::Syntax { .. })
    ));
    let (sink, result) = run("a.json", b"[]");
    assert!(result.is_ok() && sink.conversations.is_empty());
}

#[test]
fn parsing_stops_when_the_sink_says_so_and_reports_progress() {
    struct StopAfterOne {
        seen: usize,
        progress: Vec<u64>,
    }
    impl Sink for StopAfterOne {
        fn conversation(&mut self, _: ParsedConversation) -> Flow {
            self.seen += 1;
            Flow::Stop
        }
        fn item_error(&mut self, _: chat_parse::ItemError) -> Flow {
            Flow::Continue
        }
        fn skipped(&mut self, _: chat_parse::Skipped) -> Flow {
            Flow::Continue
        }
        fn progress(&mut self, bytes_read: u64) {
            self.progress.push(bytes_read);
        }
    }
    let bytes = fixture("branches.json");
    let mut sink = StopAfterOne {
        seen: 0,
        progress: Vec::new(),
    };
    let mut reader = bytes.as_slice();
    use chat_parse::Parser;
    chat_parse_claude::ClaudeParser
        .parse(
            chat_parse::Input {
                name: "b.json",
                reader: &mut reader,
                size: None,
            },
            &mut sink,
        )
        .unwrap();
    assert_eq!(sink.seen, 1);
    assert_eq!(sink.progress.len(), 1);
    assert!(sink.progress[0] > 0 && sink.progress[0] < bytes.len() as u64);
}

#[test]
fn parser_identity() {
    use chat_parse::Parser;
    assert_eq!(chat_parse_claude::ClaudeParser.name(), "Claude export");
    assert_eq!(
        chat_parse_claude::ClaudeParser.source(),
        chat_model::Source::Claude
    );
}

#[test]
fn projects_become_conversations_named_after_their_folder() {
    // The older single projects.json (an array) and the 2026 one-object-per-file form.
    let sink = parse_fixture("projects.json");
    assert_consistent(&sink);
    let p = &sink.conversations[0];
    assert_eq!(p.source_id, "project:proj-1");
    assert_eq!(p.title, "Rust notes — project");
    assert_eq!(p.subfolder.as_deref(), Some("Rust notes"));
    assert_eq!(
        chat_parse_claude::project_link(p),
        chat_parse_claude::ProjectLink::Project { uuid: "proj-1" }
    );

    let sink = parse_fixture("project-2026.json");
    assert_consistent(&sink);
    let p = &sink.conversations[0];
    assert_eq!(p.subfolder.as_deref(), Some("Thesis / chapter 2"));
    let texts: Vec<(&str, Role, &str, bool)> = p
        .messages
        .iter()
        .map(|m| (m.source_id.as_str(), m.role, m.content.as_str(), m.hidden))
        .collect();
    assert_eq!(
        texts,
        [
            (
                "description",
                Role::System,
                "Drafting the related-work chapter on federated learning.",
                false
            ),
            (
                "prompt_template",
                Role::System,
                "You are a careful academic editor. Keep British spelling.",
                false
            ),
            (
                "doc:doc-outline",
                Role::User,
                "# Outline\n\n1. Secure aggregation\n2. Differential privacy budgets",
                false
            ),
            (
                "doc:doc-refs",
                Role::User,
                "@article{mcmahan2017, title={Communication-Efficient Learning}}",
                false
            ),
        ]
    );
    assert!(matches!(
        &p.messages[2].parts[0],
        Part::Attachment { name, mime_type: Some(m), .. } if name == "outline.md" && m == "text/markdown"
    ));
    // A field the parser does not model, holding text, is kept with the document.
    assert!(p.messages[3].parts.iter().any(|part| matches!(
        part,
        Part::Raw { kind, value } if kind == "claude.project_doc" && value["summary_note"] == "imported from Zotero"
    )));
    assert_eq!(p.attachments.len(), 2);
    assert_eq!(p.extra["creator"]["full_name"], "Grace");
    assert_eq!(
        to_rfc3339(p.updated_at.unwrap()),
        "2026-05-20T17:45:12.123Z"
    );
}

#[test]
fn a_voice_note_transcript_is_the_visible_text_of_the_message() {
    let sink = parse_fixture("voice-note.json");
    assert_consistent(&sink);
    let c = &sink.conversations[0];
    let human = &c.messages[0];
    assert_eq!(human.content, "Can you help me with my Python code?");
    assert!(!human.hidden);
    assert_eq!(c.title, "Can you help me with my Python code?");
    assert!(human.parts.iter().any(|p| matches!(
        p,
        Part::Audio { transcript: Some(t), .. } if t == "Can you help me with my Python code?"
    )));
    // files_v2 entries are read like files.
    assert!(human.parts.iter().any(|p| matches!(
        p,
        Part::Attachment { name, .. } if name == "screenshot.png"
    )));
    // The conversation names its project only by uuid: the importer files it.
    assert_eq!(c.subfolder, None);
    assert_eq!(
        chat_parse_claude::project_link(c),
        chat_parse_claude::ProjectLink::Member {
            uuid: "5d0c1a7e-3f5b-4c86-9a61-0b2f8f1e2a10"
        }
    );
}

#[test]
fn a_conversation_naming_its_project_carries_the_project_folder() {
    let sink = parse_fixture("blocks.json");
    assert_eq!(
        sink.conversations[0].subfolder.as_deref(),
        Some("Rust notes")
    );
}

#[test]
fn an_empty_project_is_passed_over_not_imported_blank() {
    let sink = common::run_ok(
        "projects.json",
        br#"[{"uuid": "p", "name": "Work", "description": "", "prompt_template": "", "docs": []}]"#,
    );
    assert!(sink.conversations.is_empty());
    assert_eq!(sink.skipped.len(), 1);
    assert!(sink.skipped[0].reason.contains("empty project"));
}
