#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::run(&chat_parse_gemini::TakeoutParser, data);
    common::run(&chat_parse_gemini::AiStudioParser, data);
});
