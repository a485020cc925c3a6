//! No input makes the parser panic: damaged files give errors, and mutated fixtures (byte
//! flips, truncations, insertions) are fed to it under proptest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chat_parse::ParseError;
use common::{fixture, parse_bytes};
use proptest::prelude::*;

const FIXTURES: [&str; 11] = [
    "export.json",
    "pending.json",
    "export-bom-surrogate.json",
    "chatSessions/session-v1.json",
    "chatSessions/session-v2.json",
    "chatSessions/0f8fad5b-d9cb-469f-a165-70867728950e.json",
    "chatSessions/0f8fad5b-d9cb-469f-a165-70867728950e.jsonl",
    "chatSessions/damaged.jsonl",
    "transcripts/6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f.jsonl",
    "transcripts/cli-c7a9e0b1-2222-4333-8444-955566677788.jsonl",
    "transcripts/0b0b0b0b-1111-4222-8333-944455566677.jsonl",
];

#[test]
fn truncated_single_object_is_truncated_at_an_offset() {
    let bytes = fixture("export.json");
    let run = parse_bytes("export.json", &bytes[..bytes.len() / 2]);
    assert!(run.sink.conversations.is_empty());
    match run.result {
        Err(ParseError::Truncated {
            offset,
            items_complete,
            ..
        }) => {
            assert_eq!(offset, 0);
            assert_eq!(items_complete, 0);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_log_replays_complete_lines_and_reports_the_partial_one() {
    let bytes = fixture("chatSessions/0f8fad5b-d9cb-469f-a165-70867728950e.jsonl");
    // Cut in the middle of the last line.
    let last_start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    let cut = &bytes[..last_start + 20];
    let run = parse_bytes("s.jsonl", cut);
    run.result.as_ref().unwrap();
    assert_eq!(run.sink.errors.len(), 1);
    let error = &run.sink.errors[0];
    assert!(error.message.starts_with("line 14:"), "{}", error.message);
    assert_eq!(error.location.byte_offset, Some(last_start as u64));
    // Line 14 replaced the draft request 4; without it, the draft is there.
    let c = &run.sink.conversations[0];
    assert_eq!(c.messages.last().unwrap().source_id, "request_4_draft");
    assert_eq!(c.messages.len(), 7);
}

#[test]
fn empty_inputs_are_errors() {
    for bytes in [&b""[..], b"  \n\t", b"\xEF\xBB\xBF"] {
        assert!(matches!(
            parse_bytes("e.json", bytes).result,
            Err(ParseError::Empty { .. })
        ));
    }
}

#[test]
fn invalid_utf8_is_an_item_error() {
    let mut bytes = fixture("export.json");
    let at = bytes.windows(6).position(|w| w == b"Thanks").unwrap();
    bytes[at] = 0xFF;
    let run = parse_bytes("u.json", &bytes);
    run.result.as_ref().unwrap();
    assert_eq!(run.sink.errors.len(), 1);
    assert!(run.sink.errors[0].raw.is_some());

    let mut log = fixture("chatSessions/0f8fad5b-d9cb-469f-a165-70867728950e.jsonl");
    let at = log
        .windows(14)
        .position(|w| w == b"Fix the parser")
        .unwrap();
    log[at] = 0xC3;
    let run = parse_bytes("u.jsonl", &log);
    assert_eq!(run.sink.errors.len(), 1, "{:?}", run.sink.errors);
    assert_eq!(run.sink.conversations[0].title, "Parser panics");
}

#[test]
fn excessive_nesting_is_an_item_error_not_a_crash() {
    let deep = format!(
        "{{\"responderUsername\":\"x\",\"requests\":[{}1{}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let run = parse_bytes("deep.json", deep.as_bytes());
    run.result.as_ref().unwrap();
    assert_eq!(run.sink.errors.len(), 1);

    let deep_line = format!(
        "{{\"kind\":0,\"v\":{{\"requests\":[]}}}}\n{{\"kind\":1,\"k\":[\"x\"],\"v\":{}1{}}}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let run = parse_bytes("deep.jsonl", deep_line.as_bytes());
    run.result.as_ref().unwrap();
    assert_eq!(run.sink.errors.len(), 1);
    assert_eq!(run.sink.skipped.len(), 1);
}

#[test]
fn repeated_nested_sets_cannot_build_an_unbounded_state() {
    // Each set nests one level-120 value deeper into the last: the path limit stops it.
    let mut log = String::from("{\"kind\":0,\"v\":{\"requests\":[]}}\n");
    let value = format!("{}1{}", "{\"a\":".repeat(120), "}".repeat(120));
    let mut path: Vec<String> = vec!["\"n\"".into()];
    for _ in 0..200 {
        log.push_str(&format!(
            "{{\"kind\":1,\"k\":[{}],\"v\":{value}}}\n",
            path.join(",")
        ));
        path.extend(std::iter::repeat_n("\"a\"".to_owned(), 120));
    }
    let run = parse_bytes("nest.jsonl", log.as_bytes());
    run.result.as_ref().unwrap();
    assert!(!run.sink.errors.is_empty());
}

#[test]
fn other_json_is_not_this_format() {
    for bytes in [
        &b"[{\"mapping\": {}}]"[..],
        b"{\"title\": \"x\"}",
        b"\"string\"",
        b"{\"kind\":0,\"v\":[1,2]}\n",
    ] {
        let run = parse_bytes("o.json", bytes);
        assert!(
            matches!(run.result, Err(ParseError::NotThisFormat { .. })),
            "{:?}",
            run.result
        );
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(vec![
        b"{".to_vec(),
        b"}".to_vec(),
        b"[".to_vec(),
        b"\"".to_vec(),
        b"\\ud83d".to_vec(),
        b"\n".to_vec(),
        b"\xff".to_vec(),
        b"null".to_vec(),
        b"{\"kind\":2,\"k\":[\"requests\"],\"i\":0}\n".to_vec(),
        b"{\"kind\":3,\"k\":[\"requests\",0]}\n".to_vec(),
        b"{\"kind\":1,\"k\":[\"requests\",0,\"response\"],\"v\":7}\n".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop_oneof![interesting, prop::collection::vec(any::<u8>(), 1..8)]
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match m {
        Mutation::Flip(i, b) => {
            let i = i % bytes.len();
            bytes[i] = *b;
        }
        Mutation::Truncate(i) => bytes.truncate(i % bytes.len()),
        Mutation::Insert(i, b) => {
            let i = i % (bytes.len() + 1);
            bytes.splice(i..i, b.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = i % bytes.len();
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = fixture(FIXTURES[which]);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let run = parse_bytes(FIXTURES[which], &bytes);
        // Whatever happened, what came out is well formed.
        for c in &run.sink.conversations {
            prop_assert!(!c.messages.is_empty());
            prop_assert!(!c.title.is_empty());
            let _ = serde_json::to_string(c).unwrap();
        }
        let _ = common::detect(FIXTURES[which], &bytes);
    }
}
