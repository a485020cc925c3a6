//! Generates a large synthetic ChatGPT `conversations.json` for benchmarks.
//!
//! ```sh
//! cargo run --release -p chat-parse-chatgpt --example gen_export -- \
//!     --mb 500 --out bench-data/conversations.json [--seed 42] [--profile text|real]
//! ```
//!
//! `--profile text` (the default, used by the parser benchmark) is text-heavy: about 70% of the
//! file is message text. `--profile real` is shaped like real exports, whose weight is mostly
//! metadata: the node envelope and metadata of the 2025–26 exports in `../shared/corpus`, web
//! search turns with their `search_result_groups` and `content_references`, browsing results,
//! reasoning. Its conversations average about 310 KB (72 nodes) with 18% of the file as message
//! text; the two real exports measured in `formats/chatgpt.md` average 480 KB a conversation
//! (619 MB / 1,285 and 3.53 GiB / 7,865), and the corpus samples hold 3–9% text. Erring towards
//! more text favours the Python baseline (text costs both importers the same FTS5 work), so
//! the profile is conservative. The statistics printed at the end include the share of text.
//!
//! Conversations look like real exports: an empty root, a hidden system node, custom
//! instructions, user turns (some multimodal with images or voice, some without `metadata`),
//! answers with regenerations and edits (branches), tool calls with browsing results, reasoning,
//! citations in both marker styles, code answers, Unicode text, and lengths from one turn to a
//! few hundred with occasional pasted documents. Output is deterministic for a seed and written
//! one conversation at a time (memory bounded by one conversation). The size of the largest
//! conversation is printed at the end, to compare with the parser's peak RSS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::io::{BufWriter, Write};

/// splitmix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

const WORDS: &[&str] = &[
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

const MODELS: &[&str] = &["gpt-4o", "gpt-4o-mini", "o3", "gpt-5", "gpt-4"];

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn sentence(rng: &mut Rng, out: &mut String) {
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
fn editable_context(rng: &mut Rng, profile: u64, instructions: u64) -> String {
    let profile = q(&paragraph(rng, profile));
    let instructions = q(&paragraph(rng, instructions));
    format!(
        "{{\"content_type\": \"user_editable_context\", \"user_profile\": {profile}, \"user_instructions\": {instructions}}}"
    )
}

fn paragraph(rng: &mut Rng, sentences: u64) -> String {
    let mut s = String::new();
    for i in 0..sentences {
        if i > 0 {
            s.push(' ');
        }
        sentence(rng, &mut s);
    }
    s
}

fn answer_text(rng: &mut Rng) -> String {
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
fn answer_body(rng: &mut Rng, max_paragraphs: u64) -> String {
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

struct Conv {
    nodes: Vec<String>,
    time: f64,
}

impl Conv {
    #[allow(clippy::too_many_arguments)]
    fn node(
        &mut self,
        id: &str,
        parent: Option<&str>,
        role: &str,
        name: Option<&str>,
        content: &str,
        recipient: &str,
        metadata: Option<&str>,
        null_time: bool,
    ) {
        self.time += 3.0 + (id.len() % 7) as f64 * 1.37;
        let parent = parent.map_or("null".to_owned(), q);
        let name = name.map_or("null".to_owned(), q);
        let time = if null_time {
            "null".to_owned()
        } else {
            format!("{:.6}", self.time)
        };
        let meta = metadata.map_or(String::new(), |m| format!(", \"metadata\": {m}"));
        self.nodes.push(format!(
            "{id}: {{\"id\": {id}, \"message\": {{\"id\": {id}, \"author\": {{\"role\": \"{role}\", \"name\": {name}, \"metadata\": {{}}}}, \"create_time\": {time}, \"update_time\": null, \"content\": {content}, \"status\": \"finished_successfully\", \"end_turn\": true, \"weight\": 1.0{meta}, \"recipient\": \"{recipient}\", \"channel\": null}}, \"parent\": {parent}, \"children\": []}}",
            id = q(id),
        ));
    }
}

fn text_content(s: &str) -> String {
    format!("{{\"content_type\": \"text\", \"parts\": [{}]}}", q(s))
}

fn conversation(rng: &mut Rng, index: u64) -> String {
    let id = rng.uuid();
    let model = rng.pick(MODELS);
    let start = 1_680_000_000.0 + index as f64 * 3600.0 + rng.below(3000) as f64;
    let mut c = Conv {
        nodes: Vec::new(),
        time: start,
    };
    let root = "client-created-root".to_owned();
    c.nodes.push(format!(
        "\"{root}\": {{\"id\": \"{root}\", \"message\": null, \"parent\": null, \"children\": []}}"
    ));
    let sys = rng.uuid();
    c.node(
        &sys,
        Some(&root),
        "system",
        None,
        &text_content(""),
        "all",
        Some("{\"is_visually_hidden_from_conversation\": true}"),
        true,
    );
    let mut last = sys;
    if rng.chance(0.3) {
        let ctx = rng.uuid();
        let content = editable_context(rng, 2, 1);
        c.node(&ctx, Some(&last), "user", None, &content, "all",
            Some("{\"is_visually_hidden_from_conversation\": true, \"user_context_message_data\": {\"about_user_message\": \"x\"}}"), false);
        last = ctx;
    }
    // Turn counts: mostly short, a long tail.
    let turns = match rng.below(100) {
        0..=49 => 1 + rng.below(4),
        50..=89 => 4 + rng.below(16),
        90..=98 => 20 + rng.below(60),
        _ => 80 + rng.below(300),
    };
    for _ in 0..turns {
        // User turn.
        let user = rng.uuid();
        let n = 1 + rng.below(3);
        let prompt = paragraph(rng, n);
        let (content, meta) = if rng.chance(0.08) {
            let file = rng.uuid();
            (
                format!(
                    "{{\"content_type\": \"multimodal_text\", \"parts\": [{{\"content_type\": \"image_asset_pointer\", \"asset_pointer\": \"file-service://file-{file}\", \"size_bytes\": {}, \"width\": 1024, \"height\": 768, \"fovea\": 512, \"metadata\": null}}, {}]}}",
                    10_000 + rng.below(900_000),
                    q(&prompt)
                ),
                Some(format!(
                    "{{\"attachments\": [{{\"id\": \"file-{file}\", \"name\": \"photo.png\", \"size\": 123456, \"mime_type\": \"image/png\", \"width\": 1024, \"height\": 768}}]}}"
                )),
            )
        } else if rng.chance(0.03) {
            (
                format!(
                    "{{\"content_type\": \"multimodal_text\", \"parts\": [{{\"content_type\": \"audio_transcription\", \"text\": {}, \"direction\": \"in\", \"decoding_id\": null}}, {{\"content_type\": \"audio_asset_pointer\", \"asset_pointer\": \"sediment://file_{}\", \"format\": \"wav\", \"size_bytes\": 86000, \"metadata\": {{\"start\": 0.0, \"end\": 2.7}}}}]}}",
                    q(&prompt),
                    rng.below(1 << 40)
                ),
                Some("{\"voice_mode_message\": true}".to_owned()),
            )
        } else if rng.chance(0.3) {
            (text_content(&prompt), None) // 2026-style: no metadata on user messages.
        } else {
            (
                text_content(&prompt),
                Some("{\"request_id\": \"8f2a\", \"message_source\": null, \"timestamp_\": \"absolute\", \"message_type\": null}".to_owned()),
            )
        };
        c.node(
            &user,
            Some(&last),
            "user",
            None,
            &content,
            "all",
            meta.as_deref(),
            rng.chance(0.02),
        );
        // An edited prompt: a sibling user branch with its own short answer.
        if rng.chance(0.05) {
            let edit = rng.uuid();
            c.node(
                &edit,
                Some(&last),
                "user",
                None,
                &text_content(&paragraph(rng, 1)),
                "all",
                None,
                false,
            );
            let a = rng.uuid();
            c.node(
                &a,
                Some(&edit),
                "assistant",
                None,
                &text_content(&answer_text(rng)),
                "all",
                Some(&format!(
                    "{{\"model_slug\": \"{model}\", \"finish_details\": {{\"type\": \"stop\"}}}}"
                )),
                false,
            );
        }
        let mut parent = user;
        if rng.chance(0.1) {
            let t = rng.uuid();
            let content = format!(
                "{{\"content_type\": \"thoughts\", \"thoughts\": [{{\"summary\": {}, \"content\": {}, \"chunks\": [], \"finished\": true}}], \"source_analysis_msg_id\": \"{}\"}}",
                q(&paragraph(rng, 1)),
                q(&paragraph(rng, 3)),
                rng.uuid()
            );
            c.node(
                &t,
                Some(&parent),
                "assistant",
                None,
                &content,
                "all",
                Some("{\"model_slug\": \"o3\", \"reasoning_status\": \"is_reasoning\"}"),
                false,
            );
            let r = rng.uuid();
            c.node(
                &r,
                Some(&t),
                "assistant",
                None,
                "{\"content_type\": \"reasoning_recap\", \"content\": \"Thought for 12 seconds\"}",
                "all",
                Some("{\"model_slug\": \"o3\"}"),
                false,
            );
            parent = r;
        }
        let mut refs = String::from("[]");
        let mut answer = answer_text(rng);
        if rng.chance(0.15) {
            let call = rng.uuid();
            c.node(
                &call,
                Some(&parent),
                "assistant",
                None,
                &format!(
                    "{{\"content_type\": \"code\", \"language\": \"unknown\", \"text\": {}}}",
                    q(&format!(
                        "{{\"search_query\": [{{\"q\": {}}}]}}",
                        q(&paragraph(rng, 1))
                    ))
                ),
                "web.run",
                Some(&format!("{{\"model_slug\": \"{model}\"}}")),
                false,
            );
            let tool = rng.uuid();
            let content = if rng.chance(0.5) {
                format!("{{\"content_type\": \"tether_browsing_display\", \"result\": {}, \"summary\": null, \"assets\": null, \"tether_id\": null}}", q(&paragraph(rng, 8)))
            } else {
                format!("{{\"content_type\": \"sonic_webpage\", \"url\": \"https://example.org/{}\", \"domain\": \"example.org\", \"title\": {}, \"text\": {}, \"snippet\": null, \"pub_date\": null}}", rng.below(1 << 30), q(&paragraph(rng, 1)), q(&paragraph(rng, 10)))
            };
            c.node(&tool, Some(&call), "tool", Some("web.run"), &content, "all",
                Some("{\"search_result_groups\": [{\"type\": \"search_result_group\", \"domain\": \"example.org\", \"entries\": [{\"type\": \"search_result\", \"url\": \"https://example.org/a\", \"title\": \"A\", \"snippet\": \"s\"}]}]}"), false);
            parent = tool;
            if rng.chance(0.5) {
                let marker = "\u{E200}cite\u{E202}turn0search0\u{E202}turn0news1\u{E201}";
                answer.push(' ');
                answer.push_str(marker);
                refs = format!(
                    "[{{\"matched_text\": {}, \"start_idx\": 0, \"end_idx\": 1, \"type\": \"grouped_webpages\", \"items\": [{{\"title\": \"Example source\", \"url\": \"https://example.org/a\", \"attribution\": \"example.org\"}}], \"alt\": \"([example.org](https://example.org/a))\"}}]",
                    q(marker)
                );
            } else {
                answer.push_str(" 【3†source】");
            }
        }
        let finish = if rng.chance(0.03) {
            "interrupted"
        } else {
            "stop"
        };
        let meta = format!(
            "{{\"model_slug\": \"{model}\", \"default_model_slug\": \"{model}\", \"finish_details\": {{\"type\": \"{finish}\", \"stop_tokens\": [200002]}}, \"is_complete\": true, \"citations\": [], \"content_references\": {refs}, \"parent_id\": \"x\", \"request_id\": \"8f2a\"}}"
        );
        let content = if rng.chance(0.05) {
            format!(
                "{{\"content_type\": \"code\", \"language\": \"python\", \"text\": {}}}",
                q("def f(x):\n    return x * 2\n")
            )
        } else {
            text_content(&answer)
        };
        // A regenerated answer: a sibling branch.
        if rng.chance(0.12) {
            let regen = rng.uuid();
            c.node(
                &regen,
                Some(&parent),
                "assistant",
                None,
                &text_content(&answer_text(rng)),
                "all",
                Some(&meta),
                false,
            );
        }
        let a = rng.uuid();
        c.node(
            &a,
            Some(&parent),
            "assistant",
            None,
            &content,
            "all",
            Some(&meta),
            false,
        );
        last = a;
    }
    let title = if rng.chance(0.03) {
        "null".to_owned()
    } else {
        q(&paragraph(rng, 1).chars().take(60).collect::<String>())
    };
    let mut s = String::with_capacity(c.nodes.iter().map(String::len).sum::<usize>() + 1024);
    let _ = write!(
        s,
        "{{\"title\": {title}, \"create_time\": {start:.6}, \"update_time\": {:.6}, \"mapping\": {{",
        c.time
    );
    for (i, n) in c.nodes.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(n);
    }
    let _ = write!(
        s,
        "}}, \"moderation_results\": [], \"current_node\": {}, \"plugin_ids\": null, \"conversation_id\": \"{id}\", \"conversation_template_id\": null, \"gizmo_id\": null, \"gizmo_type\": null, \"is_archived\": {}, \"is_starred\": null, \"safe_urls\": [], \"blocked_urls\": [], \"default_model_slug\": \"{model}\", \"conversation_origin\": null, \"voice\": null, \"async_status\": null, \"disabled_tool_ids\": [], \"is_do_not_remember\": false, \"memory_scope\": \"global_enabled\", \"sugar_item_id\": null, \"id\": \"{id}\"}}",
        q(&last),
        rng.chance(0.05)
    );
    s
}

/// A node of a `--profile real` conversation, before its `children` are known.
struct RealNode {
    id: String,
    parent: Option<String>,
    /// The `message` object, or `null`.
    message: String,
}

/// A realistic request id (`95363b2309c09511-LHR`).
fn request_id(rng: &mut Rng) -> String {
    const POPS: &[&str] = &["LHR", "IAD", "FRA", "SJC", "NRT", "CDG", "AMS"];
    format!("{:016x}-{}", rng.next(), rng.pick(POPS))
}

/// A web search result as the 2025–26 exports carry them in `search_result_groups`.
fn search_entry(rng: &mut Rng, turn: u64, index: u64) -> String {
    let domain = format!(
        "{}.{}",
        rng.pick(WORDS)
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "x"),
        rng.pick(&["com", "org", "io", "dev"])
    );
    format!(
        "{{\"type\": \"search_result\", \"url\": \"https://www.{domain}/{}/{}?utm_source=chatgpt.com\", \"title\": {}, \"snippet\": {}, \"ref_id\": {{\"turn_index\": {turn}, \"ref_type\": \"search\", \"ref_index\": {index}}}, \"content_type\": null, \"pub_date\": {:.1}, \"attributions\": null, \"attributions_debug\": null, \"attribution\": \"{domain}\"}}",
        rng.pick(WORDS).len(),
        rng.below(1 << 40),
        q(&paragraph(rng, 1)),
        q(&paragraph(rng, 2)),
        1_700_000_000.0 + rng.below(60_000_000) as f64
    )
}

/// `author` is the role and, for tools, the name.
fn real_message(
    rng: &mut Rng,
    time: &mut f64,
    id: &str,
    author: (&str, Option<&str>),
    content: &str,
    recipient: &str,
    metadata: &str,
) -> String {
    *time += 2.0 + rng.below(40) as f64 * 0.731;
    let (role, name) = author;
    let name = name.map_or("null".to_owned(), q);
    format!(
        "{{\"id\": {}, \"author\": {{\"role\": \"{role}\", \"name\": {name}, \"metadata\": {{}}}}, \"create_time\": {:.6}, \"update_time\": null, \"content\": {content}, \"status\": \"finished_successfully\", \"end_turn\": {}, \"weight\": 1.0, \"metadata\": {metadata}, \"recipient\": \"{recipient}\", \"channel\": {}}}",
        q(id),
        *time,
        if role == "assistant" && recipient == "all" { "true" } else { "null" },
        if role == "assistant" { "\"final\"" } else { "null" },
    )
}

/// A conversation shaped like the real exports (see the module comment).
fn conversation_real(rng: &mut Rng, index: u64) -> String {
    let id = rng.uuid();
    let model = rng.pick(MODELS);
    let start = 1_700_000_000.0 + index as f64 * 3600.0 + rng.below(3000) as f64;
    let mut time = start;
    let mut nodes: Vec<RealNode> = Vec::new();
    let root = "client-created-root".to_owned();
    nodes.push(RealNode {
        id: root.clone(),
        parent: None,
        message: "null".to_owned(),
    });
    let sys = rng.uuid();
    let message = real_message(
        rng,
        &mut time,
        &sys,
        ("system", None),
        &text_content(""),
        "all",
        "{\"is_visually_hidden_from_conversation\": true}",
    );
    nodes.push(RealNode {
        id: sys.clone(),
        parent: Some(root),
        message,
    });
    let mut last = sys;
    if rng.chance(0.4) {
        let ctx = rng.uuid();
        let content = editable_context(rng, 3, 4);
        let message = real_message(rng, &mut time, &ctx, ("user", None), &content, "all",
            "{\"is_visually_hidden_from_conversation\": true, \"user_context_message_data\": {\"about_user_message\": \"Preferred name: Sam\", \"about_model_message\": \"Be concise.\"}, \"is_user_system_message\": true}");
        nodes.push(RealNode {
            id: ctx.clone(),
            parent: Some(last),
            message,
        });
        last = ctx;
    }
    let turns = match rng.below(100) {
        0..=29 => 1 + rng.below(4),
        30..=79 => 4 + rng.below(20),
        80..=96 => 24 + rng.below(60),
        _ => 84 + rng.below(200),
    };
    let searches = rng.chance(0.6);
    for turn in 0..turns {
        let user = rng.uuid();
        let n = 1 + rng.below(4);
        let mut prompt = paragraph(rng, n);
        if rng.chance(0.03) {
            // A pasted document.
            for _ in 0..(10 + rng.below(80)) {
                prompt.push_str("\n\n");
                prompt.push_str(&paragraph(rng, 4));
            }
        }
        let meta = format!(
            "{{\"selected_github_repos\": [], \"selected_all_github_repos\": false, \"serialization_metadata\": {{\"custom_symbol_offsets\": []}}, \"request_id\": \"{}\", \"message_source\": null, \"timestamp_\": \"absolute\", \"message_type\": null}}",
            request_id(rng)
        );
        let message = real_message(
            rng,
            &mut time,
            &user,
            ("user", None),
            &text_content(&prompt),
            "all",
            &meta,
        );
        nodes.push(RealNode {
            id: user.clone(),
            parent: Some(last),
            message,
        });
        let mut parent = user.clone();
        let reasoning = model == "o3" || model == "gpt-5";
        if reasoning && rng.chance(0.6) {
            let t = rng.uuid();
            let mut thoughts = Vec::new();
            for _ in 0..(1 + rng.below(4)) {
                thoughts.push(format!(
                    "{{\"summary\": {}, \"content\": {}, \"chunks\": [], \"finished\": true}}",
                    q(&paragraph(rng, 1)),
                    q(&paragraph(rng, 3))
                ));
            }
            let content = format!("{{\"content_type\": \"thoughts\", \"thoughts\": [{}], \"source_analysis_msg_id\": \"{}\"}}", thoughts.join(", "), rng.uuid());
            let meta = format!("{{\"reasoning_status\": \"is_reasoning\", \"search_queries\": [], \"search_display_string\": \"Searching the web\", \"searched_display_string\": \"Searched the web\", \"classifier_response\": \"default\", \"skip_reasoning_title\": null, \"model_slug\": \"{model}\", \"default_model_slug\": \"{model}\", \"parent_id\": \"{parent}\", \"request_id\": \"{}\", \"message_type\": \"next\", \"timestamp_\": \"absolute\"}}", request_id(rng));
            let message = real_message(
                rng,
                &mut time,
                &t,
                ("assistant", None),
                &content,
                "all",
                &meta,
            );
            nodes.push(RealNode {
                id: t.clone(),
                parent: Some(parent),
                message,
            });
            let r = rng.uuid();
            let meta = format!("{{\"reasoning_status\": \"reasoning_ended\", \"finished_duration_sec\": {}, \"model_slug\": \"{model}\", \"parent_id\": \"{t}\", \"request_id\": \"{}\", \"message_type\": \"next\", \"timestamp_\": \"absolute\"}}", 3 + rng.below(60), request_id(rng));
            let message = real_message(
                rng,
                &mut time,
                &r,
                ("assistant", None),
                "{\"content_type\": \"reasoning_recap\", \"content\": \"Thought for 14 seconds\"}",
                "all",
                &meta,
            );
            nodes.push(RealNode {
                id: r.clone(),
                parent: Some(t),
                message,
            });
            parent = r;
        }
        // Model answers are bounded by the output limit: no pasted documents here.
        let mut answer = answer_body(rng, 8);
        let mut extra = String::new();
        if searches && rng.chance(0.5) {
            // The search call, the browsing results it saw, then the answer with citations.
            let call = rng.uuid();
            let query = paragraph(rng, 1);
            let content = format!("{{\"content_type\": \"code\", \"language\": \"unknown\", \"response_format_name\": null, \"text\": {}}}", q(&format!("{{\"search_query\": [{{\"q\": {}, \"recency\": null}}], \"response_length\": \"short\"}}", q(&query))));
            let meta = format!("{{\"sonicberry_model_id\": \"current_sonicberry_paid\", \"real_author\": \"tool:web\", \"model_slug\": \"{model}\", \"default_model_slug\": \"{model}\", \"parent_id\": \"{parent}\", \"request_id\": \"{}\", \"message_type\": \"next\", \"timestamp_\": \"absolute\", \"is_visually_hidden_from_conversation\": true}}", request_id(rng));
            let message = real_message(
                rng,
                &mut time,
                &call,
                ("assistant", None),
                &content,
                "web.run",
                &meta,
            );
            nodes.push(RealNode {
                id: call.clone(),
                parent: Some(parent),
                message,
            });
            let results = 10 + rng.below(21);
            let entries: Vec<String> = (0..results).map(|i| search_entry(rng, turn, i)).collect();
            let groups = format!("[{{\"type\": \"search_result_group\", \"domain\": \"www.example.org\", \"entries\": [{}]}}]", entries.join(", "));
            let tool = rng.uuid();
            let content = format!("{{\"content_type\": \"tether_browsing_display\", \"result\": {}, \"summary\": \"\", \"assets\": null, \"tether_id\": null}}", q(&paragraph(rng, 2)));
            let meta = format!("{{\"search_result_groups\": {groups}, \"debug_sonic_thread_id\": \"thread_{:x}\", \"search_turns_count\": 1, \"search_source\": \"composer_search\", \"client_reported_search_source\": \"composer_search\", \"is_visually_hidden_from_conversation\": true, \"command\": \"search\", \"status\": \"finished\", \"model_slug\": \"{model}\", \"parent_id\": \"{call}\", \"request_id\": \"{}\", \"message_type\": \"next\", \"timestamp_\": \"absolute\"}}", rng.next(), request_id(rng));
            let message = real_message(
                rng,
                &mut time,
                &tool,
                ("tool", Some("web.run")),
                &content,
                "all",
                &meta,
            );
            nodes.push(RealNode {
                id: tool.clone(),
                parent: Some(call),
                message,
            });
            parent = tool;
            let cites = 1 + rng.below(4);
            let mut refs = Vec::new();
            for c in 0..cites {
                let marker = format!("\u{E200}cite\u{E202}turn{turn}search{c}\u{E201}");
                answer.push(' ');
                answer.push_str(&marker);
                let item = search_entry(rng, turn, c);
                refs.push(format!("{{\"matched_text\": {}, \"start_idx\": {}, \"end_idx\": {}, \"safe_urls\": [], \"refs\": [], \"alt\": \"([example.org](https://www.example.org/a))\", \"prompt_text\": null, \"type\": \"grouped_webpages\", \"items\": [{item}], \"fallback_items\": [], \"status\": \"done\", \"error\": null, \"style\": null}}", q(&marker), answer.len(), answer.len() + 30));
            }
            let _ = write!(extra, ", \"search_result_groups\": {groups}, \"content_references\": [{}], \"safe_urls\": [\"https://www.example.org/a\"]", refs.join(", "));
        } else {
            extra.push_str(", \"content_references\": []");
        }
        let meta = format!(
            "{{\"finish_details\": {{\"type\": \"stop\", \"stop_tokens\": [200002]}}, \"is_complete\": true, \"citations\": []{extra}, \"message_type\": \"next\", \"model_slug\": \"{model}\", \"default_model_slug\": \"{model}\", \"parent_id\": \"{parent}\", \"request_id\": \"{}\", \"timestamp_\": \"absolute\"}}",
            request_id(rng)
        );
        if rng.chance(0.08) {
            // A regenerated answer: a sibling branch.
            let regen = rng.uuid();
            let text = answer_body(rng, 8);
            let message = real_message(
                rng,
                &mut time,
                &regen,
                ("assistant", None),
                &text_content(&text),
                "all",
                &meta,
            );
            nodes.push(RealNode {
                id: regen,
                parent: Some(parent.clone()),
                message,
            });
        }
        let a = rng.uuid();
        let message = real_message(
            rng,
            &mut time,
            &a,
            ("assistant", None),
            &text_content(&answer),
            "all",
            &meta,
        );
        nodes.push(RealNode {
            id: a.clone(),
            parent: Some(parent),
            message,
        });
        last = a;
    }
    let mut children: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    for n in &nodes {
        if let Some(p) = &n.parent {
            children.entry(p.as_str()).or_default().push(n.id.as_str());
        }
    }
    let title = q(&paragraph(rng, 1).chars().take(50).collect::<String>());
    let mut s = String::new();
    let _ = write!(s, "{{\"title\": {title}, \"create_time\": {start:.6}, \"update_time\": {time:.6}, \"mapping\": {{");
    for (i, n) in nodes.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let kids: Vec<String> = children
            .get(n.id.as_str())
            .map_or(Vec::new(), |k| k.iter().map(|c| q(c)).collect());
        let _ = write!(
            s,
            "{}: {{\"id\": {}, \"message\": {}, \"parent\": {}, \"children\": [{}]}}",
            q(&n.id),
            q(&n.id),
            n.message,
            n.parent.as_deref().map_or("null".to_owned(), q),
            kids.join(", ")
        );
    }
    let _ = write!(
        s,
        "}}, \"moderation_results\": [], \"current_node\": {}, \"plugin_ids\": null, \"conversation_id\": \"{id}\", \"conversation_template_id\": null, \"gizmo_id\": null, \"gizmo_type\": null, \"is_archived\": false, \"is_starred\": null, \"safe_urls\": [], \"blocked_urls\": [], \"default_model_slug\": \"{model}\", \"conversation_origin\": null, \"voice\": null, \"async_status\": null, \"disabled_tool_ids\": [], \"is_do_not_remember\": false, \"memory_scope\": \"global_enabled\", \"context_scopes\": null, \"sugar_item_id\": null, \"sugar_item_visible\": false, \"is_study_mode\": false, \"owner\": null, \"id\": \"{id}\"}}",
        q(&last)
    );
    s
}

fn main() {
    let mut mb: u64 = 500;
    let mut out: Option<String> = None;
    let mut seed: u64 = 42;
    let mut real = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mb" => mb = args.next().and_then(|v| v.parse().ok()).expect("--mb N"),
            "--out" => out = args.next(),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed N"),
            "--profile" => {
                real = match args.next().as_deref() {
                    Some("real") => true,
                    Some("text") => false,
                    other => panic!("--profile text|real, not {other:?}"),
                }
            }
            other => panic!(
                "unknown argument {other}; usage: --mb N --out PATH [--seed N] [--profile text|real]"
            ),
        }
    }
    let out = out.expect("--out PATH is required");
    let target = mb * 1_000_000;
    let file = std::fs::File::create(&out).unwrap_or_else(|e| panic!("{out}: {e}"));
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng(seed);
    let (mut written, mut count, mut largest) = (2u64, 0u64, 0usize);
    w.write_all(b"[\n").unwrap();
    while written < target {
        let conv = if real {
            conversation_real(&mut rng, count)
        } else {
            conversation(&mut rng, count)
        };
        if count > 0 {
            w.write_all(b",\n").unwrap();
            written += 2;
        }
        w.write_all(conv.as_bytes()).unwrap();
        written += conv.len() as u64;
        largest = largest.max(conv.len());
        count += 1;
    }
    w.write_all(b"\n]\n").unwrap();
    w.flush().unwrap();
    println!(
        "wrote {out}: {count} conversations, {:.1} MB, largest conversation {:.2} MiB ({largest} bytes)",
        (written + 3) as f64 / 1e6,
        largest as f64 / (1 << 20) as f64
    );
}
