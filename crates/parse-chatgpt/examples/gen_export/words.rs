//! Random words, sentences and paragraphs: the text the generated conversations are made of.

use std::fmt::Write as _;

use crate::rng::Rng;

pub const WORDS: &[&str] = &[
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "with",
    "as",
    "was",
    "on",
    "function",
    "memory",
    "stream",
    "parser",
    "conversation",
    "branch",
    "model",
    "answer",
    "question",
    "because",
    "however",
    "example",
    "value",
    "error",
    "result",
    "table",
    "index",
    "sourdough",
    "recipe",
    "temperature",
    "journey",
    "history",
    "economy",
    "climate",
    "garden",
    "café",
    "naïve",
    "résumé",
    "Zürich",
    "Ångström",
    "straße",
    "日本語",
    "東京",
    "データ",
    "学习",
    "模型",
    "привет",
    "данные",
    "مرحبا",
    "שלום",
    "🙂",
    "🚀",
    "✅",
    "λ",
    "∑",
    "→",
    "—",
    "“quoted”",
];

pub const MODELS: &[&str] = &["gpt-4o", "gpt-4o-mini", "o3", "gpt-5", "gpt-4"];

pub fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

pub fn sentence(rng: &mut Rng, out: &mut String) {
    let n = 6 + rng.below(18);
    for i in 0..n {
        let w = rng.pick(WORDS);
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(w);
        }
    }
    out.push_str(if rng.chance(0.1) { "?" } else { "." });
}

/// Custom instructions: `profile` and `instructions` paragraphs of text.
pub fn editable_context(rng: &mut Rng, profile: u64, instructions: u64) -> String {
    let profile = q(&paragraph(rng, profile));
    let instructions = q(&paragraph(rng, instructions));
    format!(
        "{{\"content_type\": \"user_editable_context\", \"user_profile\": {profile}, \"user_instructions\": {instructions}}}"
    )
}

pub fn paragraph(rng: &mut Rng, sentences: u64) -> String {
    let mut s = String::new();
    for i in 0..sentences {
        if i > 0 {
            s.push(' ');
        }
        sentence(rng, &mut s);
    }
    s
}

pub fn answer_text(rng: &mut Rng) -> String {
    let mut s = answer_body(rng, 6);
    if rng.chance(0.02) {
        // A long pasted document.
        for _ in 0..(200 + rng.below(2000)) {
            s.push_str("\n\n");
            s.push_str(&paragraph(rng, 4));
        }
    }
    s
}

/// Up to `max_paragraphs` of prose, lists and code.
pub fn answer_body(rng: &mut Rng, max_paragraphs: u64) -> String {
    let mut s = String::new();
    let paras = 1 + rng.below(max_paragraphs);
    for p in 0..paras {
        if p > 0 {
            s.push_str("\n\n");
        }
        if rng.chance(0.15) {
            s.push_str("```rust\nfn main() {\n    println!(\"hello\");\n}\n```");
        } else if rng.chance(0.15) {
            for i in 0..(2 + rng.below(5)) {
                let _ = writeln!(s, "{}. {}", i + 1, paragraph(rng, 1));
            }
        } else {
            let n = 1 + rng.below(6);
            s.push_str(&paragraph(rng, n));
        }
    }
    s
}

/// A `text` content object holding one part.
pub fn text_content(s: &str) -> String {
    format!("{{\"content_type\": \"text\", \"parts\": [{}]}}", q(s))
}
