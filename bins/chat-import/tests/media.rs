//! Media through the real `chat-import` binary: every layout's own fixture with media
//! (`fixtures/media/`), each item's bytes stored once, byte-identical, found again by a second
//! import without writing, and references the export lacks counted as missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{all_errors, db_count, import, totals, zip_dir, Run};
use serde_json::{json, Value};

fn media_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media")
}

/// Every stored media file: hash → bytes (the media directory beside the database).
fn stored_files(db: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut dir = db.as_os_str().to_owned();
    dir.push(".media");
    let mut out = BTreeMap::new();
    for shard in std::fs::read_dir(PathBuf::from(dir)).unwrap() {
        let shard = shard.unwrap();
        if shard.file_name() == "tmp" {
            assert_eq!(
                std::fs::read_dir(shard.path()).unwrap().count(),
                0,
                "no temporary file left"
            );
            continue;
        }
        for f in std::fs::read_dir(shard.path()).unwrap() {
            let f = f.unwrap();
            out.insert(
                f.file_name().into_string().unwrap(),
                std::fs::read(f.path()).unwrap(),
            );
        }
    }
    out
}

/// The hash the store gives these bytes.
fn hash_of(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

fn media(run: &Run) -> Value {
    totals(run)["media"].clone()
}

fn mime_of(db: &Path, bytes: &[u8]) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT mime FROM media WHERE hash = ?1",
        [hash_of(bytes)],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_2026_chatgpt_zip_stores_each_item_once_and_a_second_import_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let zip = tmp.path().join("chatgpt-2026.zip");
    let src = media_fixtures().join("chatgpt-2026");
    zip_dir(&src, &zip, &[]);
    let run = import(&db, &[], &[&zip]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_eq!(totals(&run)["imported"], 2);
    // Red (twice more: its attachment entry and the second conversation), the generated blue
    // image, the voice note, the HTML and SVG files; one generated image is not in the export.
    assert_eq!(
        media(&run),
        json!({"stored": 5, "deduplicated": 2, "missing": 1})
    );
    let input = run.report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["path"]
                .as_str()
                .unwrap()
                .ends_with("conversations-000.json")
        })
        .unwrap();
    assert_eq!(input["media"], media(&run));

    let files = stored_files(&db);
    assert_eq!(files.len(), 5);
    for name in [
        "file-Red2026.dat",
        "file_00000000aaaa00000000000000000001.dat",
        "file_00000000bbbb00000000000000000002.dat",
        "file-Page2026.dat",
        "file-Draw2026.dat",
    ] {
        let bytes = std::fs::read(src.join(name)).unwrap();
        assert_eq!(files.get(&hash_of(&bytes)), Some(&bytes), "{name}");
    }
    let red = std::fs::read(src.join("file-Red2026.dat")).unwrap();
    assert_eq!(mime_of(&db, &red), "image/png");
    let wav = std::fs::read(src.join("file_00000000bbbb00000000000000000002.dat")).unwrap();
    assert_eq!(mime_of(&db, &wav), "audio/x-wav");
    let svg = std::fs::read(src.join("file-Draw2026.dat")).unwrap();
    assert_eq!(mime_of(&db, &svg), "image/svg+xml");
    // Names come from the attachment, else the asset-name map; never `.dat`.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let name = |bytes: &[u8]| -> String {
        conn.query_row(
            "SELECT name FROM media WHERE hash = ?1",
            [hash_of(bytes)],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(name(&red), "red.png");
    assert_eq!(name(&wav), "note.wav");
    // The red photo is linked from both conversations; the missing one stays a reference.
    assert_eq!(
        db_count(
            &db,
            &format!(
                "SELECT count(DISTINCT turn_id) FROM media_links WHERE hash = '{}'",
                hash_of(&red)
            )
        ),
        2
    );
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convo_turns t, json_each(t.parts) p
             WHERE json_extract(p.value, '$.reference') = 'sediment://file_00000000missing0000000000000000000'
               AND json_extract(p.value, '$.media') IS NULL"
        ),
        1
    );

    let before: Vec<(PathBuf, std::time::SystemTime)> = files
        .keys()
        .map(|h| {
            let p = PathBuf::from(format!("{}.media/{}/{h}", db.display(), &h[..2]));
            let m = std::fs::metadata(&p).unwrap().modified().unwrap();
            (p, m)
        })
        .collect();
    let again = import(&db, &[], &[&zip]);
    assert_eq!(again.code, 0, "{}", all_errors(&again));
    assert_eq!(totals(&again)["unchanged"], 2);
    assert_eq!(
        media(&again),
        json!({"stored": 0, "deduplicated": 7, "missing": 1})
    );
    assert_eq!(stored_files(&db), files);
    for (p, m) in before {
        assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), m);
    }
}

#[test]
fn the_older_chatgpt_layout_finds_file_id_names_dalle_generations_and_user_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let src = media_fixtures().join("chatgpt-2024");
    let run = import(&db, &[], &[&src]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_eq!(
        media(&run),
        json!({"stored": 3, "deduplicated": 1, "missing": 0})
    );
    let files = stored_files(&db);
    for name in [
        "file-Green2024-green photo.png",
        "dalle-generations/file-Dalle2024-5f1c7a2e-0000-4000-8000-000000000001.webp",
        "user-abc123/file_00000000cccc00000000000000000003-6b2d.png",
    ] {
        let bytes = std::fs::read(src.join(name)).unwrap();
        assert_eq!(files.get(&hash_of(&bytes)), Some(&bytes), "{name}");
    }
}

#[test]
fn takeout_attached_and_generated_images_are_stored_and_a_missing_one_is_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let zip = tmp.path().join("takeout.zip");
    let src = media_fixtures().join("takeout");
    zip_dir(&src, &zip, &[]);
    let run = import(&db, &[], &[&zip]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_eq!(
        media(&run),
        json!({"stored": 2, "deduplicated": 0, "missing": 1})
    );
    let dir = src.join("Takeout/My Activity/Gemini Apps");
    let files = stored_files(&db);
    for name in ["red-takeout.png", "image_1a2b.png"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(files.get(&hash_of(&bytes)), Some(&bytes), "{name}");
    }
}

#[test]
fn ai_studio_inline_base64_moves_into_the_media_store_and_dedups_across_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let chatgpt = tmp.path().join("chatgpt-2026.zip");
    zip_dir(&media_fixtures().join("chatgpt-2026"), &chatgpt, &[]);
    let aistudio = media_fixtures().join("aistudio");
    let run = import(&db, &[], &[&chatgpt, &aistudio]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    // The inline picture is ChatGPT's generated blue image and the inline HTML its page: the
    // same bytes, kept once.
    let studio = run.report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().contains("Blue picture"))
        .unwrap();
    assert_eq!(
        studio["media"],
        json!({"stored": 0, "deduplicated": 2, "missing": 0})
    );
    assert_eq!(stored_files(&db).len(), 5);
    // No base64 is left in the stored parts or attachments.
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convo_turns WHERE parts LIKE '%\"data\":%'"
        ),
        0
    );
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convos WHERE extra LIKE '%\"data\":\"%'"
        ),
        0
    );
    let alone = tmp.path().join("alone.db");
    let run = import(&alone, &[], &[&aistudio]);
    assert_eq!(
        media(&run),
        json!({"stored": 2, "deduplicated": 0, "missing": 0})
    );
}

#[test]
fn a_grown_export_stores_and_links_the_media_it_adds() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let src = media_fixtures().join("chatgpt-2026");
    let partial = tmp.path().join("partial");
    std::fs::create_dir(&partial).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "file_00000000aaaa00000000000000000001.dat" {
            std::fs::copy(e.path(), partial.join(e.file_name())).unwrap();
        }
    }
    let run = import(&db, &[], &[&partial]);
    assert_eq!(run.code, 0, "{}", all_errors(&run));
    assert_eq!(
        media(&run),
        json!({"stored": 4, "deduplicated": 2, "missing": 2})
    );
    let full = import(&db, &[], &[&src]);
    assert_eq!(full.code, 0, "{}", all_errors(&full));
    assert_eq!(totals(&full)["updated"], 1);
    assert_eq!(
        media(&full),
        json!({"stored": 1, "deduplicated": 6, "missing": 1})
    );
    let blue = std::fs::read(src.join("file_00000000aaaa00000000000000000001.dat")).unwrap();
    assert_eq!(
        db_count(
            &db,
            &format!(
                "SELECT count(*) FROM media_links WHERE hash = '{}'",
                hash_of(&blue)
            )
        ),
        1
    );
}

#[test]
fn media_in_another_part_of_a_split_export_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let src = media_fixtures().join("chatgpt-2026");
    let (text, bytes) = (tmp.path().join("text"), tmp.path().join("bytes"));
    std::fs::create_dir(&text).unwrap();
    std::fs::create_dir(&bytes).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        let to = if e.file_name().to_string_lossy().ends_with(".dat") {
            &bytes
        } else {
            &text
        };
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    let (one, two) = (
        tmp.path().join("export-part-0001.zip"),
        tmp.path().join("export-part-0002.zip"),
    );
    zip_dir(&text, &one, &[]);
    zip_dir(&bytes, &two, &[]);
    let run = import(&db, &[], &[&one, &two]);
    assert_eq!(run.code, 0, "{}", all_errors(&run));
    assert_eq!(
        media(&run),
        json!({"stored": 5, "deduplicated": 2, "missing": 1})
    );
    assert_eq!(stored_files(&db).len(), 5);
}
