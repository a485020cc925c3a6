//! The media benchmark's generator (`gen_export --media-mb`, in chat-parse-chatgpt's examples)
//! writes a zip the real `chat-import` reads with every item stored once: a few MB here, so the
//! generator cannot rot between benchmark runs. Its modules are compiled into this test as
//! they are into the example.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

mod common;

#[path = "../../../crates/parse-chatgpt/examples/gen_export/media.rs"]
mod media;
#[path = "../../../crates/parse-chatgpt/examples/gen_export/media_zip.rs"]
mod media_zip;
#[path = "../../../crates/parse-chatgpt/examples/gen_export/real.rs"]
mod real;
#[path = "../../../crates/parse-chatgpt/examples/gen_export/rng.rs"]
mod rng;
#[path = "../../../crates/parse-chatgpt/examples/gen_export/words.rs"]
mod words;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use common::{all_errors, import, totals};

/// Every stored media file: hash → size, and the files' modification times.
fn stored_files(db: &Path) -> BTreeMap<String, (u64, std::time::SystemTime)> {
    let dir = PathBuf::from(format!("{}.media", db.display()));
    let mut out = BTreeMap::new();
    for shard in std::fs::read_dir(dir).unwrap() {
        let shard = shard.unwrap();
        for f in std::fs::read_dir(shard.path()).unwrap() {
            let f = f.unwrap();
            assert_ne!(shard.file_name(), "tmp", "no temporary file left");
            let m = f.metadata().unwrap();
            out.insert(
                f.file_name().into_string().unwrap(),
                (m.len(), m.modified().unwrap()),
            );
        }
    }
    out
}

#[test]
fn the_generated_media_export_imports_with_every_item_stored_once() {
    let tmp = tempfile::tempdir().unwrap();
    let zip_path = tmp.path().join("chatgpt-media.zip");
    let written =
        media_zip::write_media_zip(zip_path.to_str().unwrap(), 1_500_000, 8_000_000, 3).unwrap();
    assert!(written.images > 0 && written.audio > 0, "{written:?}");

    // The .dat entries, and the type and size each should get.
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let mut expected = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        if !entry.name().unwrap().ends_with(".dat") {
            continue;
        }
        assert_eq!(entry.compression(), zip::CompressionMethod::Stored);
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        expected.insert(
            blake3::hash(&bytes).to_hex().to_string(),
            bytes.len() as u64,
        );
    }
    assert_eq!(expected.len() as u64, written.media_items);

    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&zip_path]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    let media = &totals(&run)["media"];
    assert_eq!(media["stored"], written.media_items, "{media}");
    assert_eq!(media["missing"], 0, "{media}");
    assert_eq!(totals(&run)["imported"], written.conversations);
    let files = stored_files(&db);
    let sizes: BTreeMap<String, u64> = files.iter().map(|(h, (s, _))| (h.clone(), *s)).collect();
    assert_eq!(sizes, expected);

    // Types are sniffed from the generated headers, and images have their dimensions.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare("SELECT mime, width, height FROM media")
        .unwrap();
    let rows: Vec<(String, Option<i64>, Option<i64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len() as u64, written.media_items);
    for (mime, width, height) in &rows {
        let known = [
            "image/png",
            "image/jpeg",
            "image/webp",
            "audio/x-wav",
            "audio/mpeg",
            "audio/ogg",
            "audio/opus",
        ];
        assert!(known.contains(&mime.as_str()), "{mime}");
        if mime.starts_with("image/") {
            assert!(
                width.unwrap() >= 768 && height.unwrap() >= 768,
                "{mime} {width:?}x{height:?}"
            );
        }
    }
    assert_eq!(
        rows.iter().filter(|r| r.0.starts_with("image/")).count() as u64,
        written.images
    );

    // A second import reads the same zip and writes no media.
    let again = import(&db, &[], &[&zip_path]);
    assert_eq!(again.code, 0, "{}", all_errors(&again));
    let media2 = &totals(&again)["media"];
    assert_eq!(media2["stored"], 0, "{media2}");
    assert_eq!(
        media2["deduplicated"].as_u64().unwrap(),
        media["stored"].as_u64().unwrap() + media["deduplicated"].as_u64().unwrap()
    );
    assert_eq!(stored_files(&db), files);
}

#[test]
fn the_generator_is_deterministic_for_a_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a.zip"), tmp.path().join("b.zip"));
    media_zip::write_media_zip(a.to_str().unwrap(), 300_000, 1_000_000, 9).unwrap();
    media_zip::write_media_zip(b.to_str().unwrap(), 300_000, 1_000_000, 9).unwrap();
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
}

/// Every recorded item has its file, whole (its bytes hash to its name); every part naming
/// media names a recorded item. What a killed import may leave besides (temporary files, files without a
/// row, rows no message refers to yet) is never referenced.
fn assert_media_consistent(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let rows: Vec<(String, i64)> = conn
        .prepare("SELECT hash, size FROM media")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (hash, size) in &rows {
        let path = PathBuf::from(format!("{}.media/{}/{hash}", db.display(), &hash[..2]));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{hash}: {e}"));
        assert_eq!(bytes.len() as i64, *size, "{hash}");
        assert_eq!(blake3::hash(&bytes).to_hex().as_str(), hash, "{hash}");
    }
    // A conversation is written only once the media its parts name are stored.
    let dangling: i64 = conn
        .query_row(
            "SELECT count(*) FROM convo_turns t, json_each(t.parts) p
             WHERE json_extract(p.value, '$.media') IS NOT NULL
               AND json_extract(p.value, '$.media') NOT IN (SELECT hash FROM media)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dangling, 0, "parts naming media that are not stored");
}

#[test]
fn an_import_killed_while_storing_media_leaves_nothing_referenced_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    let zip_path = tmp.path().join("chatgpt-media.zip");
    let written =
        media_zip::write_media_zip(zip_path.to_str().unwrap(), 3_000_000, 120_000_000, 5).unwrap();
    let reference = tmp.path().join("reference.db");
    let run = import(&reference, &[], &[&zip_path]);
    assert_eq!(run.code, 0, "{}", all_errors(&run));

    let db = tmp.path().join("killed.db");
    drop(chat_store::Store::open(&db).unwrap());
    let mut child = common::bin()
        .arg("--db")
        .arg(&db)
        .arg("--quiet")
        .arg(&zip_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed as soon as the first items are recorded: media are being written and settled.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut killed = false;
    while std::time::Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        if common::db_count(&db, "SELECT count(*) FROM media") > 0 {
            child.kill().unwrap(); // SIGKILL
            killed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let _ = child.wait();
    assert!(killed, "the import finished before it could be killed");
    let items = common::db_count(&db, "SELECT count(*) FROM media");
    assert!(
        items > 0 && (items as u64) < written.media_items,
        "killed midway: {items} of {} items recorded",
        written.media_items
    );
    assert_media_consistent(&db);

    // Run again: it completes, and the store holds what an uninterrupted run stored.
    let rerun = import(&db, &[], &[&zip_path]);
    assert_eq!(rerun.code, 0, "{}", all_errors(&rerun));
    assert_eq!(totals(&rerun)["media"]["missing"], 0);
    assert_media_consistent(&db);
    // (The killed run's temporary files stay until a sweep finds them an hour old: another
    // process could still be writing them.)
    let listing = |db: &Path| {
        let shards = |p: &Path| {
            let mut out = BTreeMap::new();
            for shard in std::fs::read_dir(format!("{}.media", p.display())).unwrap() {
                let shard = shard.unwrap();
                if shard.file_name() == "tmp" {
                    continue;
                }
                for f in std::fs::read_dir(shard.path()).unwrap() {
                    let f = f.unwrap();
                    out.insert(f.file_name(), f.metadata().unwrap().len());
                }
            }
            out
        };
        (
            shards(db),
            common::db_count(db, "SELECT count(*) FROM media_links"),
            common::db_count(db, "SELECT count(*) FROM convo_turns"),
        )
    };
    assert_eq!(listing(&db), listing(&reference));
}
