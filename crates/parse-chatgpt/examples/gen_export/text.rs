//! `--profile text`: text-heavy conversations (about 70% of the file is message text).

use std::fmt::Write as _;

use crate::rng::Rng;
use crate::words::{answer_text, editable_context, paragraph, q, text_content, MODELS};

/// A conversation's mapping nodes, rendered as they are made, and its clock.
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

    /// The empty root, the hidden system node and sometimes custom instructions; returns the
    /// last of them.
    fn preamble(&mut self, rng: &mut Rng) -> String {
        let root = "client-created-root".to_owned();
        self.nodes.push(format!(
            "\"{root}\": {{\"id\": \"{root}\", \"message\": null, \"parent\": null, \"children\": []}}"
        ));
        let sys = rng.uuid();
        self.node(
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
            self.node(&ctx, Some(&last), "user", None, &content, "all",
                Some("{\"is_visually_hidden_from_conversation\": true, \"user_context_message_data\": {\"about_user_message\": \"x\"}}"), false);
            last = ctx;
        }
        last
    }
}

/// A text-profile conversation: see the module comment.
pub fn conversation(rng: &mut Rng, index: u64) -> String {
    let id = rng.uuid();
    let model = rng.pick(MODELS);
    let start = 1_680_000_000.0 + index as f64 * 3600.0 + rng.below(3000) as f64;
    let mut c = Conv {
        nodes: Vec::new(),
        time: start,
    };
    let mut last = c.preamble(rng);
    // Turn counts: mostly short, a long tail.
    let turns = match rng.below(100) {
        0..=49 => 1 + rng.below(4),
        50..=89 => 4 + rng.below(16),
        90..=98 => 20 + rng.below(60),
        _ => 80 + rng.below(300),
    };
    for _ in 0..turns {
        last = turn(rng, &mut c, &last, model);
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

/// One turn after `last`: the prompt (sometimes edited), reasoning, a web search, the answer
/// (sometimes regenerated). Returns the answer's node id.
fn turn(rng: &mut Rng, c: &mut Conv, last: &str, model: &str) -> String {
    let user = rng.uuid();
    let n = 1 + rng.below(3);
    let prompt = paragraph(rng, n);
    let (content, meta) = user_content(rng, &prompt);
    c.node(
        &user,
        Some(last),
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
            Some(last),
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
        parent = reasoning(rng, c, &parent);
    }
    let mut refs = String::from("[]");
    let mut answer = answer_text(rng);
    if rng.chance(0.15) {
        parent = web_search(rng, c, &parent, model, &mut answer, &mut refs);
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
    a
}

/// A user prompt's content and metadata: sometimes an image or a voice message.
fn user_content(rng: &mut Rng, prompt: &str) -> (String, Option<String>) {
    if rng.chance(0.08) {
        let file = rng.uuid();
        (
            format!(
                "{{\"content_type\": \"multimodal_text\", \"parts\": [{{\"content_type\": \"image_asset_pointer\", \"asset_pointer\": \"file-service://file-{file}\", \"size_bytes\": {}, \"width\": 1024, \"height\": 768, \"fovea\": 512, \"metadata\": null}}, {}]}}",
                10_000 + rng.below(900_000),
                q(prompt)
            ),
            Some(format!(
                "{{\"attachments\": [{{\"id\": \"file-{file}\", \"name\": \"photo.png\", \"size\": 123456, \"mime_type\": \"image/png\", \"width\": 1024, \"height\": 768}}]}}"
            )),
        )
    } else if rng.chance(0.03) {
        (
            format!(
                "{{\"content_type\": \"multimodal_text\", \"parts\": [{{\"content_type\": \"audio_transcription\", \"text\": {}, \"direction\": \"in\", \"decoding_id\": null}}, {{\"content_type\": \"audio_asset_pointer\", \"asset_pointer\": \"sediment://file_{}\", \"format\": \"wav\", \"size_bytes\": 86000, \"metadata\": {{\"start\": 0.0, \"end\": 2.7}}}}]}}",
                q(prompt),
                rng.below(1 << 40)
            ),
            Some("{\"voice_mode_message\": true}".to_owned()),
        )
    } else if rng.chance(0.3) {
        (text_content(prompt), None) // 2026-style: no metadata on user messages.
    } else {
        (
            text_content(prompt),
            Some("{\"request_id\": \"8f2a\", \"message_source\": null, \"timestamp_\": \"absolute\", \"message_type\": null}".to_owned()),
        )
    }
}

/// The reasoning and its recap after `parent`; returns the recap's id.
fn reasoning(rng: &mut Rng, c: &mut Conv, parent: &str) -> String {
    let t = rng.uuid();
    let content = format!(
        "{{\"content_type\": \"thoughts\", \"thoughts\": [{{\"summary\": {}, \"content\": {}, \"chunks\": [], \"finished\": true}}], \"source_analysis_msg_id\": \"{}\"}}",
        q(&paragraph(rng, 1)),
        q(&paragraph(rng, 3)),
        rng.uuid()
    );
    c.node(
        &t,
        Some(parent),
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
    r
}

/// A search call and its browsing result after `parent`, with a citation added to `answer`
/// (and its `refs`); returns the tool node's id.
fn web_search(
    rng: &mut Rng,
    c: &mut Conv,
    parent: &str,
    model: &str,
    answer: &mut String,
    refs: &mut String,
) -> String {
    let call = rng.uuid();
    c.node(
        &call,
        Some(parent),
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
    if rng.chance(0.5) {
        let marker = "\u{E200}cite\u{E202}turn0search0\u{E202}turn0news1\u{E201}";
        answer.push(' ');
        answer.push_str(marker);
        *refs = format!(
            "[{{\"matched_text\": {}, \"start_idx\": 0, \"end_idx\": 1, \"type\": \"grouped_webpages\", \"items\": [{{\"title\": \"Example source\", \"url\": \"https://example.org/a\", \"attribution\": \"example.org\"}}], \"alt\": \"([example.org](https://example.org/a))\"}}]",
            q(marker)
        );
    } else {
        answer.push_str(" 【3†source】");
    }
    tool
}
