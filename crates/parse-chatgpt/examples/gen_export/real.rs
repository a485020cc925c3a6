//! `--profile real`: conversations shaped like the 2025–26 exports, mostly metadata.

use std::fmt::Write as _;

use crate::rng::Rng;
use crate::words::{answer_body, editable_context, paragraph, q, text_content, MODELS, WORDS};

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

/// The nodes of one conversation and its clock.
struct RealConv {
    nodes: Vec<RealNode>,
    time: f64,
}

impl RealConv {
    /// Adds a message node under `parent`.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        rng: &mut Rng,
        id: &str,
        parent: &str,
        author: (&str, Option<&str>),
        content: &str,
        recipient: &str,
        metadata: &str,
    ) {
        let message = real_message(
            rng,
            &mut self.time,
            id,
            author,
            content,
            recipient,
            metadata,
        );
        self.nodes.push(RealNode {
            id: id.to_owned(),
            parent: Some(parent.to_owned()),
            message,
        });
    }

    /// The empty root, the hidden system node and sometimes custom instructions; returns the
    /// last of them.
    fn preamble(&mut self, rng: &mut Rng) -> String {
        let root = "client-created-root".to_owned();
        self.nodes.push(RealNode {
            id: root.clone(),
            parent: None,
            message: "null".to_owned(),
        });
        let sys = rng.uuid();
        self.push(
            rng,
            &sys,
            &root,
            ("system", None),
            &text_content(""),
            "all",
            "{\"is_visually_hidden_from_conversation\": true}",
        );
        let mut last = sys;
        if rng.chance(0.4) {
            let ctx = rng.uuid();
            let content = editable_context(rng, 3, 4);
            self.push(rng, &ctx, &last, ("user", None), &content, "all",
                "{\"is_visually_hidden_from_conversation\": true, \"user_context_message_data\": {\"about_user_message\": \"Preferred name: Sam\", \"about_model_message\": \"Be concise.\"}, \"is_user_system_message\": true}");
            last = ctx;
        }
        last
    }

    /// The `{"title": …}` object with its mapping (children filled in from the parents).
    fn render(&self, rng: &mut Rng, id: &str, model: &str, start: f64, last: &str) -> String {
        let mut children: std::collections::HashMap<&str, Vec<&str>> =
            std::collections::HashMap::new();
        for n in &self.nodes {
            if let Some(p) = &n.parent {
                children.entry(p.as_str()).or_default().push(n.id.as_str());
            }
        }
        let title = q(&paragraph(rng, 1).chars().take(50).collect::<String>());
        let time = self.time;
        let mut s = String::new();
        let _ = write!(s, "{{\"title\": {title}, \"create_time\": {start:.6}, \"update_time\": {time:.6}, \"mapping\": {{");
        for (i, n) in self.nodes.iter().enumerate() {
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
            q(last)
        );
        s
    }
}

/// A conversation shaped like the real exports (see the module comment).
pub fn conversation_real(rng: &mut Rng, index: u64) -> String {
    let id = rng.uuid();
    let model = rng.pick(MODELS);
    let start = 1_700_000_000.0 + index as f64 * 3600.0 + rng.below(3000) as f64;
    let mut c = RealConv {
        nodes: Vec::new(),
        time: start,
    };
    let mut last = c.preamble(rng);
    let turns = match rng.below(100) {
        0..=29 => 1 + rng.below(4),
        30..=79 => 4 + rng.below(20),
        80..=96 => 24 + rng.below(60),
        _ => 84 + rng.below(200),
    };
    let searches = rng.chance(0.6);
    for turn in 0..turns {
        last = real_turn(rng, &mut c, &last, turn, model, searches);
    }
    c.render(rng, &id, model, start, &last)
}

/// One turn after `last`: the prompt, reasoning for reasoning models, sometimes a web search,
/// the answer (sometimes regenerated). Returns the answer's node id.
fn real_turn(
    rng: &mut Rng,
    c: &mut RealConv,
    last: &str,
    turn: u64,
    model: &str,
    searches: bool,
) -> String {
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
    c.push(
        rng,
        &user,
        last,
        ("user", None),
        &text_content(&prompt),
        "all",
        &meta,
    );
    let mut parent = user.clone();
    let reasoning = model == "o3" || model == "gpt-5";
    if reasoning && rng.chance(0.6) {
        parent = real_reasoning(rng, c, &parent, model);
    }
    // Model answers are bounded by the output limit: no pasted documents here.
    let mut answer = answer_body(rng, 8);
    let mut extra = String::new();
    if searches && rng.chance(0.5) {
        parent = real_search(rng, c, &parent, turn, model, &mut answer, &mut extra);
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
        c.push(
            rng,
            &regen,
            &parent,
            ("assistant", None),
            &text_content(&text),
            "all",
            &meta,
        );
    }
    let a = rng.uuid();
    c.push(
        rng,
        &a,
        &parent,
        ("assistant", None),
        &text_content(&answer),
        "all",
        &meta,
    );
    a
}

/// The thoughts and their recap after `parent`; returns the recap's id.
fn real_reasoning(rng: &mut Rng, c: &mut RealConv, parent: &str, model: &str) -> String {
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
    c.push(rng, &t, parent, ("assistant", None), &content, "all", &meta);
    let r = rng.uuid();
    let meta = format!("{{\"reasoning_status\": \"reasoning_ended\", \"finished_duration_sec\": {}, \"model_slug\": \"{model}\", \"parent_id\": \"{t}\", \"request_id\": \"{}\", \"message_type\": \"next\", \"timestamp_\": \"absolute\"}}", 3 + rng.below(60), request_id(rng));
    c.push(
        rng,
        &r,
        &t,
        ("assistant", None),
        "{\"content_type\": \"reasoning_recap\", \"content\": \"Thought for 14 seconds\"}",
        "all",
        &meta,
    );
    r
}

/// The search call, the browsing results it saw, and the citations they add to `answer` (and
/// the answer's metadata, `extra`). Returns the tool node's id.
fn real_search(
    rng: &mut Rng,
    c: &mut RealConv,
    parent: &str,
    turn: u64,
    model: &str,
    answer: &mut String,
    extra: &mut String,
) -> String {
    let call = rng.uuid();
    let query = paragraph(rng, 1);
    let content = format!("{{\"content_type\": \"code\", \"language\": \"unknown\", \"response_format_name\": null, \"text\": {}}}", q(&format!("{{\"search_query\": [{{\"q\": {}, \"recency\": null}}], \"response_length\": \"short\"}}", q(&query))));
    let meta = format!("{{\"sonicberry_model_id\": \"current_sonicberry_paid\", \"real_author\": \"tool:web\", \"model_slug\": \"{model}\", \"default_model_slug\": \"{model}\", \"parent_id\": \"{parent}\", \"request_id\": \"{}\", \"message_type\": \"next\", \"timestamp_\": \"absolute\", \"is_visually_hidden_from_conversation\": true}}", request_id(rng));
    c.push(
        rng,
        &call,
        parent,
        ("assistant", None),
        &content,
        "web.run",
        &meta,
    );
    let results = 10 + rng.below(21);
    let entries: Vec<String> = (0..results).map(|i| search_entry(rng, turn, i)).collect();
    let groups = format!("[{{\"type\": \"search_result_group\", \"domain\": \"www.example.org\", \"entries\": [{}]}}]", entries.join(", "));
    let tool = rng.uuid();
    let content = format!("{{\"content_type\": \"tether_browsing_display\", \"result\": {}, \"summary\": \"\", \"assets\": null, \"tether_id\": null}}", q(&paragraph(rng, 2)));
    let meta = format!("{{\"search_result_groups\": {groups}, \"debug_sonic_thread_id\": \"thread_{:x}\", \"search_turns_count\": 1, \"search_source\": \"composer_search\", \"client_reported_search_source\": \"composer_search\", \"is_visually_hidden_from_conversation\": true, \"command\": \"search\", \"status\": \"finished\", \"model_slug\": \"{model}\", \"parent_id\": \"{call}\", \"request_id\": \"{}\", \"message_type\": \"next\", \"timestamp_\": \"absolute\"}}", rng.next(), request_id(rng));
    c.push(
        rng,
        &tool,
        &call,
        ("tool", Some("web.run")),
        &content,
        "all",
        &meta,
    );
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
    tool
}
