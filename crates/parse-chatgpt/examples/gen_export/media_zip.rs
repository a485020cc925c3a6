//! `--media-mb N`: a whole 2026 ChatGPT export zip, streamed to disk.
//!
//! The zip is flat, as real 2026 exports are: `conversations-000.json`, `-001.json`, … (100
//! conversations each, deflated), one `<fileId>.dat` per media item (stored: media are
//! already compressed), `conversation_asset_file_names.json` and `user.json`.
//!
//! The conversations are those of `--profile real` (for the text and metadata weight), with
//! conversations that use the media spread evenly among them: photo uploads
//! (`file-service://` or `sediment://` image pointers with their `metadata.attachments`),
//! generated images (`sediment://`, on the assistant's side) and voice conversations
//! (`audio_transcription` with an `audio_asset_pointer`). About one image reference in
//! twenty-five points again at an earlier image (the importer counts it deduplicated).
//! Every item is referenced. `--mb` is the conversations' JSON size (before compression),
//! `--media-mb` the media's.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::media::{plan_assets, write_asset, Asset};
use crate::real::conversation_real;
use crate::rng::Rng;
use crate::words::{answer_body, paragraph, q, text_content};

/// Conversations per `conversations-NNN.json` shard, as in real exports.
const PER_SHARD: u64 = 100;

/// What was written, for the summary line.
#[derive(Debug, Default)]
pub struct Written {
    pub conversations: u64,
    pub shards: u64,
    pub json_bytes: u64,
    pub media_items: u64,
    pub media_bytes: u64,
    pub largest_item: u64,
    pub images: u64,
    pub audio: u64,
}

/// Writes the export zip to `out`: `json_bytes` of conversations and `media_bytes` of media.
pub fn write_media_zip(
    out: &str,
    json_bytes: u64,
    media_bytes: u64,
    seed: u64,
) -> io::Result<Written> {
    let mut rng = Rng(seed);
    // The media plan has its own stream, so it does not shift the conversations.
    let mut media_rng = Rng(seed ^ 0x6d65_6469_6173);
    let assets = plan_assets(&mut media_rng, media_bytes);
    // Media conversations of 1–5 items each.
    let mut groups = Vec::new();
    let mut i = 0;
    while i < assets.len() {
        let n = (1 + media_rng.below(5) as usize).min(assets.len() - i);
        groups.push(i..i + n);
        i += n;
    }

    let file = File::create(out)?;
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let deflated = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let stored = deflated.compression_method(CompressionMethod::Stored);
    let mut w = Written::default();
    let mut next_group = 0;
    let mut earlier: Vec<usize> = Vec::new();
    loop {
        let media_due = next_group < groups.len()
            && (w.json_bytes >= json_bytes
                || next_group as f64 / groups.len() as f64
                    <= w.json_bytes as f64 / json_bytes.max(1) as f64);
        if !media_due && w.json_bytes >= json_bytes {
            break;
        }
        let conv = if media_due {
            let range = groups[next_group].clone();
            next_group += 1;
            let c = media_conversation(&mut rng, w.conversations, &assets, range.clone(), &earlier);
            earlier.extend(range.filter(|&i| assets[i].format.is_image()));
            c
        } else {
            conversation_real(&mut rng, w.conversations)
        };
        if w.conversations % PER_SHARD == 0 {
            if w.conversations > 0 {
                zip.write_all(b"\n]\n")?;
            }
            zip.start_file(format!("conversations-{:03}.json", w.shards), deflated)?;
            zip.write_all(b"[\n")?;
            w.shards += 1;
        } else {
            zip.write_all(b",\n")?;
        }
        zip.write_all(conv.as_bytes())?;
        w.json_bytes += conv.len() as u64 + 2;
        w.conversations += 1;
    }
    zip.write_all(b"\n]\n")?;

    let mut names = String::from("{");
    for (i, a) in assets.iter().enumerate() {
        zip.start_file(a.entry_name(), stored)?;
        write_asset(a, &mut zip)?;
        w.media_items += 1;
        w.media_bytes += a.size;
        w.largest_item = w.largest_item.max(a.size);
        if a.format.is_image() {
            w.images += 1;
        } else {
            w.audio += 1;
        }
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(
            names,
            "{sep}\n {}: {}",
            q(&a.entry_name()),
            q(&a.original_name)
        );
    }
    names.push_str("\n}\n");
    zip.start_file("conversation_asset_file_names.json", deflated)?;
    zip.write_all(names.as_bytes())?;
    zip.start_file("user.json", deflated)?;
    zip.write_all(b"{\"id\": \"user-generated\", \"email\": \"user@example.org\", \"chatgpt_plus_user\": true}\n")?;
    zip.finish()?.flush()?;
    Ok(w)
}

/// A linear conversation: its nodes' `message` objects in order (the first after the root).
struct Chain {
    id: String,
    time: f64,
    messages: Vec<(String, String)>,
}

impl Chain {
    fn push(&mut self, rng: &mut Rng, role: &str, content: &str, metadata: &str) {
        let id = rng.uuid();
        self.time += 3.0 + rng.below(50) as f64;
        let message = format!(
            "{{\"id\": {}, \"author\": {{\"role\": \"{role}\", \"name\": null, \"metadata\": {{}}}}, \"create_time\": {:.6}, \"update_time\": null, \"content\": {content}, \"status\": \"finished_successfully\", \"end_turn\": {}, \"weight\": 1.0, \"metadata\": {metadata}, \"recipient\": \"all\", \"channel\": null}}",
            q(&id),
            self.time,
            if role == "assistant" { "true" } else { "null" }
        );
        self.messages.push((id, message));
    }

    fn render(&self, rng: &mut Rng, start: f64) -> String {
        let root = format!("root-{}", self.id);
        let title = q(&paragraph(rng, 1).chars().take(40).collect::<String>());
        let mut s = format!(
            "{{\"title\": {title}, \"create_time\": {start:.6}, \"update_time\": {:.6}, \"mapping\": {{",
            self.time
        );
        let first = self
            .messages
            .first()
            .map(|(id, _)| q(id))
            .unwrap_or_default();
        let _ = write!(
            s,
            "{}: {{\"id\": {}, \"message\": null, \"parent\": null, \"children\": [{first}]}}",
            q(&root),
            q(&root)
        );
        for (i, (id, message)) in self.messages.iter().enumerate() {
            let parent = if i == 0 {
                root.clone()
            } else {
                self.messages[i - 1].0.clone()
            };
            let child = self
                .messages
                .get(i + 1)
                .map(|(c, _)| q(c))
                .unwrap_or_default();
            let _ = write!(
                s,
                ", {}: {{\"id\": {}, \"message\": {message}, \"parent\": {}, \"children\": [{child}]}}",
                q(id),
                q(id),
                q(&parent)
            );
        }
        let last = self.messages.last().map_or(root, |(id, _)| id.clone());
        let _ = write!(
            s,
            "}}, \"moderation_results\": [], \"current_node\": {}, \"conversation_id\": \"{id}\", \"default_model_slug\": \"gpt-4o\", \"is_archived\": false, \"voice\": null, \"id\": \"{id}\"}}",
            q(&last),
            id = self.id
        );
        s
    }
}

fn image_part(a: &Asset, dalle: Option<&str>) -> String {
    let meta = dalle.map_or(String::new(), |prompt| {
        format!(
            ", \"metadata\": {{\"dalle\": {{\"prompt\": {}, \"seed\": {}}}, \"generation\": {{\"gen_id\": \"{}\"}}}}",
            q(prompt),
            a.seed % 100_000,
            a.id
        )
    });
    format!(
        "{{\"content_type\": \"image_asset_pointer\", \"asset_pointer\": \"{}\", \"size_bytes\": {}, \"width\": {}, \"height\": {}, \"fovea\": null{meta}}}",
        a.pointer(),
        a.size,
        a.width,
        a.height
    )
}

fn attachment(a: &Asset) -> String {
    let name = a
        .original_name
        .rsplit('/')
        .next()
        .unwrap_or(&a.original_name);
    format!(
        "{{\"id\": \"{}\", \"name\": {}, \"mime_type\": \"{}\", \"size\": {}, \"width\": {}, \"height\": {}}}",
        a.id,
        q(name),
        a.format.mime(),
        a.size,
        a.width,
        a.height
    )
}

/// A conversation using `assets[range]`, in turns: uploads, generated images, voice.
fn media_conversation(
    rng: &mut Rng,
    index: u64,
    assets: &[Asset],
    range: std::ops::Range<usize>,
    earlier: &[usize],
) -> String {
    let start = 1_700_000_000.0 + index as f64 * 3600.0 + rng.below(3000) as f64;
    let mut c = Chain {
        id: rng.uuid(),
        time: start,
        messages: Vec::new(),
    };
    let plain = "{\"request_id\": \"generated\", \"timestamp_\": \"absolute\"}";
    let answer_meta = "{\"model_slug\": \"gpt-4o\", \"finish_details\": {\"type\": \"stop\"}, \"timestamp_\": \"absolute\"}";
    for a in &assets[range] {
        if !a.format.is_image() {
            let content = format!(
                "{{\"content_type\": \"multimodal_text\", \"parts\": [{{\"content_type\": \"audio_transcription\", \"text\": {}, \"direction\": \"in\", \"decoding_id\": null}}, {{\"content_type\": \"audio_asset_pointer\", \"asset_pointer\": \"{}\", \"format\": \"{}\", \"size_bytes\": {}, \"metadata\": {{\"start\": 0.0, \"end\": {:.2}}}}}]}}",
                q(&paragraph(rng, 2)),
                a.pointer(),
                a.format.extension(),
                a.size,
                a.size as f64 / 48_000.0
            );
            c.push(rng, "user", &content, "{\"voice_mode_message\": true}");
            let reply = format!(
                "{{\"content_type\": \"multimodal_text\", \"parts\": [{{\"content_type\": \"audio_transcription\", \"text\": {}, \"direction\": \"out\", \"decoding_id\": null}}]}}",
                q(&paragraph(rng, 3))
            );
            c.push(rng, "assistant", &reply, answer_meta);
        } else if a.generated {
            let prompt = paragraph(rng, 1);
            c.push(rng, "user", &text_content(&prompt), plain);
            let content = format!(
                "{{\"content_type\": \"multimodal_text\", \"parts\": [{}]}}",
                image_part(a, Some(&prompt))
            );
            c.push(rng, "assistant", &content, answer_meta);
        } else {
            let mut parts = vec![image_part(a, None)];
            let mut attachments = vec![attachment(a)];
            if !earlier.is_empty() && rng.chance(0.04) {
                let again = &assets[earlier[rng.below(earlier.len() as u64) as usize]];
                parts.push(image_part(again, None));
                attachments.push(attachment(again));
            }
            let sentences = 1 + rng.below(3);
            parts.push(q(&paragraph(rng, sentences)));
            let content = format!(
                "{{\"content_type\": \"multimodal_text\", \"parts\": [{}]}}",
                parts.join(", ")
            );
            let meta = format!("{{\"attachments\": [{}]}}", attachments.join(", "));
            c.push(rng, "user", &content, &meta);
            let answer = answer_body(rng, 4);
            c.push(rng, "assistant", &text_content(&answer), answer_meta);
        }
    }
    c.render(rng, start)
}
