//! Parses a ChatGPT export with a counting sink and prints what it found and how fast.
//!
//! ```sh
//! cargo build --release -p chat-parse-chatgpt --example parse_file
//! /usr/bin/time -v target/release/examples/parse_file bench-data/conversations.json
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::BufReader;
use std::time::Instant;

use chat_parse::{Flow, Input, ItemError, ParsedConversation, Parser, Sink, Skipped};
use chat_parse_chatgpt::ChatGptParser;

/// Counts instead of keeping, so memory is the parser's own.
#[derive(Debug, Default)]
struct CountingSink {
    conversations: u64,
    messages: u64,
    hidden: u64,
    errors: u64,
    skipped: u64,
    largest_messages: usize,
}

impl Sink for CountingSink {
    fn conversation(&mut self, c: ParsedConversation) -> Flow {
        self.conversations += 1;
        self.messages += c.messages.len() as u64;
        self.hidden += c.messages.iter().filter(|m| m.hidden).count() as u64;
        self.largest_messages = self.largest_messages.max(c.messages.len());
        Flow::Continue
    }
    fn item_error(&mut self, e: ItemError) -> Flow {
        if self.errors < 5 {
            eprintln!("item error: {e}");
        }
        self.errors += 1;
        Flow::Continue
    }
    fn skipped(&mut self, _: Skipped) -> Flow {
        self.skipped += 1;
        Flow::Continue
    }
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: parse_file FILE");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let size = file.metadata().map(|m| m.len()).ok();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut sink = CountingSink::default();
    let started = Instant::now();
    let result = ChatGptParser.parse(
        Input {
            name: &path,
            reader: &mut reader,
            size,
        },
        &mut sink,
    );
    let secs = started.elapsed().as_secs_f64();
    if let Err(e) = result {
        eprintln!("error: {e}");
    }
    let mb = size.unwrap_or(0) as f64 / 1e6;
    println!(
        "{path}: {} conversations, {} messages ({} hidden), {} item errors, {} skipped; \
         largest conversation {} messages",
        sink.conversations,
        sink.messages,
        sink.hidden,
        sink.errors,
        sink.skipped,
        sink.largest_messages
    );
    println!("{mb:.1} MB in {secs:.2} s = {:.1} MB/s", mb / secs);
}
