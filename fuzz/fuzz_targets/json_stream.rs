#![no_main]
use libfuzzer_sys::fuzz_target;

// The streaming splitter must never panic, must make progress, and every element it yields
// must be a slice of the input that parses (or fails) without panicking.
fuzz_target!(|data: &[u8]| {
    let reader = std::io::BufReader::with_capacity(31, data);
    let mut stream = chat_parse::json::ArrayStream::new(reader, "fuzz.json")
        .with_wrapper_keys(&["conversations"])
        .with_max_element_bytes(4096);
    let mut count = 0u64;
    while let Ok(Some(el)) = stream.next_element() {
        assert!(el.bytes.len() <= data.len());
        let _ = el.parse::<serde_json::Value>();
        count += 1;
        assert!(count <= data.len() as u64 + 1, "no progress");
    }
});
