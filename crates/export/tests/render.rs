#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chat_export::{finetune, json, markdown, ExportDocument};
use chat_model::{
    timestamp, Conversation, ConversationDetail, ConversationId, FolderPath, ForkOrigin, Message,
    MessageId, MessageStatus, Part, Rating, RatingValue, Role, Source, Tag,
};

fn msg(id: &str, parent: Option<&str>, role: Role, content: &str, minute: i64) -> Message {
    Message {
        id: MessageId::from(id),
        conversation_id: ConversationId::from("c1"),
        parent_id: parent.map(MessageId::from),
        role,
        content: content.to_owned(),
        parts: vec![],
        model: (role == Role::Assistant).then(|| "gpt-4o".to_owned()),
        created_at: Some(timestamp::from_millis(1_710_000_000_000 + minute * 60_000).unwrap()),
        hidden: false,
        source_id: Some(format!("src-{id}")),
        status: MessageStatus::Complete,
        rating: None,
    }
}

/// A conversation with a system prompt, a regenerated answer (two branches), a hidden tool
/// call, an interrupted reply, ratings, and a title that tries to break the front matter.
fn sample() -> ConversationDetail {
    let mut system = msg("m0", None, Role::System, "You are terse.", 0);
    system.hidden = true;
    let user = msg(
        "m1",
        Some("m0"),
        Role::User,
        "How do I read a file?\n\nIn Rust.",
        1,
    );
    let mut old = msg("m2a", Some("m1"), Role::Assistant, "Use `std::fs`.", 2);
    old.rating = Some(Rating {
        value: RatingValue::Down,
        reason: Some("too short".into()),
        created_at: timestamp::from_millis(1_710_000_900_000).unwrap(),
    });
    let mut tool = msg("m2t", Some("m1"), Role::Assistant, "", 2);
    tool.hidden = true;
    tool.parts = vec![Part::ToolCall {
        name: "python".into(),
        id: None,
        input: serde_json::json!({"code": "print(1)"}),
    }];
    let mut new = msg(
        "m2b",
        Some("m1"),
        Role::Assistant,
        "```rust\nlet s = std::fs::read_to_string(\"a.txt\")?;\n```\n",
        3,
    );
    new.rating = Some(Rating {
        value: RatingValue::Up,
        reason: None,
        created_at: timestamp::from_millis(1_710_000_960_000).unwrap(),
    });
    let user2 = msg(
        "m3",
        Some("m2b"),
        Role::User,
        "And <script>alert(1)</script>?",
        4,
    );
    let mut cut = msg("m4", Some("m3"), Role::Assistant, "Scripts are", 5);
    cut.status = MessageStatus::Interrupted;
    ConversationDetail {
        conversation: Conversation {
            id: ConversationId::from("c1"),
            source: Source::Chatgpt,
            source_id: Some("abc-123".into()),
            title: "Files \"in\" Rust\n---\ninjected: true".into(),
            folder: FolderPath::new("imported/chatgpt").unwrap(),
            created_at: timestamp::from_millis(1_710_000_000_000).unwrap(),
            updated_at: timestamp::from_millis(1_710_000_300_000).unwrap(),
            archived_at: None,
            summary: Some("Reading files.".into()),
            current_message_id: Some(MessageId::from("m4")),
            forked_from: Some(ForkOrigin {
                conversation_id: ConversationId::from("c0"),
                message_id: MessageId::from("x9"),
            }),
            tags: vec![Tag::new("rust").unwrap(), Tag::new("io").unwrap()],
            message_count: 7,
        },
        messages: vec![system, user, old, tool, new, user2, cut],
    }
}

#[test]
fn markdown_snapshot_of_the_active_branch() {
    let md = markdown::to_string(&sample()).unwrap();
    insta::assert_snapshot!(md);
}

#[test]
fn markdown_front_matter_cannot_be_broken_by_a_title() {
    let md = markdown::to_string(&sample()).unwrap();
    let front: Vec<&str> = md.split("\n---\n").collect();
    assert!(md.starts_with("---\n"));
    assert!(front[0].contains(r#"title: "Files \"in\" Rust\n---\ninjected: true""#));
    assert!(!md.lines().any(|l| l == "injected: true"));
    // The off-branch answer and hidden messages are not in the transcript.
    assert!(!md.contains("Use `std::fs`"));
    assert!(!md.contains("You are terse"));
}

#[test]
fn json_export_is_lossless() {
    let detail = sample();
    let mut buf = Vec::new();
    json::write_conversation(&mut buf, &detail).unwrap();
    let doc: ExportDocument = serde_json::from_slice(&buf).unwrap();
    assert_eq!(doc.format, chat_export::FORMAT_NAME);
    assert_eq!(doc.conversation, detail);
    let mut arr = json::ArrayWriter::new(Vec::new()).unwrap();
    arr.push(&detail).unwrap();
    arr.push(&detail).unwrap();
    let bytes = arr.finish().unwrap();
    let docs: Vec<ExportDocument> = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].conversation, detail);
}

#[test]
fn finetune_writes_one_line_per_up_rated_answer_with_its_path() {
    let mut out = Vec::new();
    let lines = finetune::write_conversation(&mut out, &sample()).unwrap();
    assert_eq!(lines, 1);
    let text = String::from_utf8(out).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    let roles: Vec<&str> = line["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    // The hidden system prompt is left out; the path ends at the up-rated answer.
    assert_eq!(roles, ["user", "assistant"]);
    assert!(line["messages"][1]["content"]
        .as_str()
        .unwrap()
        .starts_with("```rust\n"));
}

#[test]
fn a_message_section_lists_its_media_and_marks_notes_hidden_messages_and_ids() {
    let mut m = msg("m9", Some("m3"), Role::Assistant, "See the files.", 6);
    m.hidden = true;
    m.parts = vec![
        Part::note(Some("Claude Desktop")),
        Part::Attachment {
            name: "report\n.pdf".into(),
            size: Some(1234),
            mime_type: Some("application/pdf".into()),
            extracted_text: Some("ignored here".into()),
            media: None,
            reference: None,
        },
        Part::Image {
            reference: Some("file-service://file-abc".into()),
            mime_type: Some("image/png".into()),
            width: None,
            height: None,
            data: None,
            media: None,
        },
        Part::Audio {
            reference: None,
            transcript: Some("hello".into()),
            media: None,
        },
    ];
    let mut out = Vec::new();
    markdown::write_message(&mut out, &m, markdown::SectionOptions { ids: true }).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        "\n## Note · Assistant · gpt-4o · 2024-03-09 16:06 UTC · hidden\n\
         <!-- message m9 (reply to m3) -->\n\nSee the files.\n\n\
         - file: report .pdf (application/pdf, 1234 bytes)\n\
         - image: file-service://file-abc (image/png)\n\
         - audio: (inline)\n"
    );
    let media = markdown::media(&m);
    assert_eq!(media.len(), 3);
    assert_eq!(media[0].kind, markdown::MediaKind::File);
    assert_eq!(media[0].name.as_deref(), Some("report\n.pdf"));
}

#[test]
fn header_and_sections_make_up_the_whole_file() {
    let detail = sample();
    let mut pieces = Vec::new();
    markdown::write_header(&mut pieces, &detail.conversation).unwrap();
    for id in ["m1", "m2b", "m3", "m4"] {
        let m = detail
            .messages
            .iter()
            .find(|m| m.id.as_str() == id)
            .unwrap();
        markdown::write_message(&mut pieces, m, markdown::SectionOptions::default()).unwrap();
    }
    assert_eq!(
        String::from_utf8(pieces).unwrap(),
        markdown::to_string(&detail).unwrap()
    );
}
