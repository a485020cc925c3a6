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
//!
//! `--media-mb N` writes a whole 2026 export zip instead (`--out export.zip`): `--mb` of
//! `--profile real` conversations in `conversations-NNN.json` shards, with conversations that
//! use N MB of media (`file-*.dat` / `file_*.dat` images and audio with real headers, padded
//! with incompressible bytes) spread among them; see `media_zip.rs`. The media benchmark:
//!
//! ```sh
//! gen_export --mb 512 --media-mb 1536 --seed 13 --out bench-data/chatgpt-media-2g.zip
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufWriter, Write};

mod media;
mod media_zip;
mod real;
mod rng;
mod text;
mod words;

use real::conversation_real;
use rng::Rng;
use text::conversation;

fn main() {
    let mut mb: u64 = 500;
    let mut out: Option<String> = None;
    let mut seed: u64 = 42;
    let mut real = false;
    let mut media_mb: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mb" => mb = args.next().and_then(|v| v.parse().ok()).expect("--mb N"),
            "--out" => out = args.next(),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed N"),
            "--media-mb" => {
                media_mb = Some(args.next().and_then(|v| v.parse().ok()).expect("--media-mb N"))
            }
            "--profile" => {
                real = match args.next().as_deref() {
                    Some("real") => true,
                    Some("text") => false,
                    other => panic!("--profile text|real, not {other:?}"),
                }
            }
            other => panic!(
                "unknown argument {other}; usage: --mb N --out PATH [--seed N] [--profile text|real] [--media-mb N]"
            ),
        }
    }
    let out = out.expect("--out PATH is required");
    if let Some(media_mb) = media_mb {
        let w = media_zip::write_media_zip(&out, mb * 1_000_000, media_mb * 1_000_000, seed)
            .unwrap_or_else(|e| panic!("{out}: {e}"));
        let zip_size = std::fs::metadata(&out).map_or(0, |m| m.len());
        println!(
            "wrote {out}: {:.1} MB zip; {} conversations in {} shards, {:.1} MB of JSON; {} media items ({} images, {} audio), {:.1} MB, largest {:.1} MB",
            zip_size as f64 / 1e6,
            w.conversations,
            w.shards,
            w.json_bytes as f64 / 1e6,
            w.media_items,
            w.images,
            w.audio,
            w.media_bytes as f64 / 1e6,
            w.largest_item as f64 / 1e6
        );
        return;
    }
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
