// Shared by every target: run one parser over the bytes with a small read buffer (so element
// boundaries fall across chunk edges) and check the sink's invariants.
use chat_parse::{CollectSink, Input, Parser, Probe};

pub fn run(parser: &dyn Parser, data: &[u8]) {
    let _ = parser.detect(&Probe::new("fuzz.json", data));
    let mut reader = std::io::BufReader::with_capacity(97, data);
    let mut sink = CollectSink::new();
    let _ = parser.parse(
        Input {
            name: "fuzz.json",
            reader: &mut reader,
            size: Some(data.len() as u64),
        },
        &mut sink,
    );
    for c in &sink.conversations {
        assert!(!c.source_id.is_empty(), "a conversation without a source id");
        assert!(c.title.chars().count() <= 4096);
        let ids: std::collections::HashSet<&str> =
            c.messages.iter().map(|m| m.source_id.as_str()).collect();
        assert_eq!(ids.len(), c.messages.len(), "duplicate message ids");
    }
}
