//! Exports with media through the real `chat-import` binary: `--export-json --with-media`
//! writes one zip that imports back identical (conversations, media bytes, links, names);
//! bytes changed after the export are refused and reported; `--export-md` writes the media
//! beside the files and links them; hostile names stay inside the output folder.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chat_store::Store;
use common::{all_errors, bin, import, totals, zip_dir};
use serde_json::{json, Value};

fn media_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media")
}

fn hash_of(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// A database holding every media fixture: the 2026 and 2024 ChatGPT layouts, a Takeout and
/// AI Studio (images, audio, HTML, SVG, inline base64, references without bytes).
fn library(dir: &Path) -> PathBuf {
    let db = dir.join("library.db");
    let chatgpt = dir.join("chatgpt-2026.zip");
    zip_dir(&media_fixtures().join("chatgpt-2026"), &chatgpt, &[]);
    let takeout = dir.join("takeout.zip");
    zip_dir(&media_fixtures().join("takeout"), &takeout, &[]);
    let older = media_fixtures().join("chatgpt-2024");
    let aistudio = media_fixtures().join("aistudio");
    let run = import(&db, &[], &[&chatgpt, &takeout, &older, &aistudio]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert!(
        totals(&run)["media"]["stored"].as_u64().unwrap() >= 7,
        "{}",
        run.report
    );
    assert!(
        totals(&run)["media"]["missing"].as_u64().unwrap() >= 1,
        "{}",
        run.report
    );
    db
}

/// Runs the binary for an export; returns its stderr.
fn export(db: &Path, args: &[&str]) -> String {
    let out = bin().arg("--db").arg(db).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    stderr
}

/// Every entry of a zip: name → bytes.
fn entries(zip: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut e = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes).unwrap();
        assert!(
            out.insert(e.name().unwrap().to_string(), bytes).is_none(),
            "each entry once"
        );
    }
    out
}

fn write_zip(path: &Path, entries: &BTreeMap<String, Vec<u8>>) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in entries {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// What must survive the trip: every conversation with its whole tree, and per message the
/// media it links (hash, size, type, dimensions, name), by conversation id.
fn contents(db: &Path) -> BTreeMap<String, (Value, Vec<String>)> {
    let store = Store::open(db).unwrap();
    let query = chat_store::ListQuery {
        archived: chat_store::ArchivedFilter::All,
        ..chat_store::ListQuery::default()
    };
    let mut out = BTreeMap::new();
    for detail in store.conversation_details(query) {
        let detail = detail.unwrap();
        let mut linked = Vec::new();
        for m in &detail.messages {
            for info in store.read(|r| r.message_media(&m.id)).unwrap() {
                linked.push(format!("{} {info:?}", m.id));
            }
        }
        let id = detail.conversation.id.to_string();
        out.insert(id, (serde_json::to_value(&detail).unwrap(), linked));
    }
    out
}

/// Every stored media item: hash → bytes, read back through the store.
fn stored(db: &Path) -> BTreeMap<String, Vec<u8>> {
    let store = Store::open(db).unwrap();
    common::strings(db, "SELECT hash FROM media")
        .into_iter()
        .map(|h| {
            let mut bytes = Vec::new();
            store
                .media_bytes(&h.parse().unwrap(), 0, u64::MAX)
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            (h, bytes)
        })
        .collect()
}

/// The library exported with `--export-json export.zip --with-media`: the database, the zip.
fn exported(dir: &Path) -> (PathBuf, PathBuf) {
    let db = library(dir);
    let zip = dir.join("export.zip");
    let said = export(
        &db,
        &["--export-json", zip.to_str().unwrap(), "--with-media"],
    );
    let n = stored(&db).len();
    assert!(said.contains(&format!("{n} media items")), "{said}");
    (db, zip)
}

#[test]
fn an_export_with_media_imports_back_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, zip) = exported(tmp.path());
    let original = stored(&db);

    // The zip: the documents, and each stored item once under its hash.
    let files = entries(&zip);
    let docs: Vec<Value> = serde_json::from_slice(&files["conversations.json"]).unwrap();
    assert_eq!(docs.len(), contents(&db).len());
    let media: BTreeMap<&str, &Vec<u8>> = files
        .iter()
        .filter_map(|(name, bytes)| Some((name.strip_prefix("media/")?, bytes)))
        .collect();
    assert_eq!(media.len(), original.len(), "{:?}", files.keys());
    for (name, bytes) in &media {
        let (hash, ext) = name.split_once('.').unwrap();
        assert_eq!(hash_of(bytes), hash);
        assert_eq!(original.get(hash), Some(*bytes));
        assert!(!["html", "htm", "json", "js"].contains(&ext), "{name}");
    }
    assert_eq!(files.len(), media.len() + 1);
    // Each document lists its media with their names.
    let listed: BTreeSet<&str> = docs
        .iter()
        .flat_map(|d| d["media"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            let path = e["path"].as_str().unwrap().to_owned();
            assert!(files.contains_key(&path), "{path}");
            files.get_key_value(&path).unwrap().0.as_str()
        })
        .collect();
    assert_eq!(listed.len(), media.len());

    // Imported into a fresh database: identical conversations, links and bytes.
    let fresh = tmp.path().join("fresh.db");
    let run = import(&fresh, &[], &[&zip]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_eq!(totals(&run)["imported"], docs.len());
    assert_eq!(totals(&run)["media"]["stored"], original.len());
    assert_eq!(totals(&run)["media"]["missing"], 0);
    assert!(
        run.report["ignored"].as_array().unwrap().is_empty(),
        "{}",
        run.report
    );
    assert_eq!(stored(&fresh), original);
    let (before, after) = (contents(&db), contents(&fresh));
    assert!(before.values().any(|(_, linked)| !linked.is_empty()));
    assert_eq!(after, before);

    // Again: nothing changes, no bytes are written.
    let again = import(&fresh, &[], &[&zip]);
    assert_eq!(again.code, 0, "{}", all_errors(&again));
    assert_eq!(totals(&again)["unchanged"], docs.len());
    assert_eq!(totals(&again)["media"]["stored"], 0);
    assert_eq!(contents(&fresh), before);

    // A name that is not a zip is refused before anything is written.
    let out = bin()
        .arg("--db")
        .arg(&db)
        .args(["--export-json", "export.json", "--with-media"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(".zip"));
    assert!(!tmp.path().join("export.json").exists());
}

#[test]
fn bytes_changed_after_the_export_are_reported_and_not_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, zip) = exported(tmp.path());
    let mut files = entries(&zip);
    let victim = files
        .keys()
        .find(|k| k.starts_with("media/") && k.ends_with(".png"))
        .unwrap()
        .clone();
    files
        .get_mut(&victim)
        .unwrap()
        .extend_from_slice(b"tampered");
    let tampered = tmp.path().join("tampered.zip");
    write_zip(&tampered, &files);

    let fresh = tmp.path().join("fresh.db");
    let run = import(&fresh, &[], &[&tampered]);
    assert_eq!(run.code, 1, "a failed item: {}", run.report);
    let errors = all_errors(&run);
    assert!(
        errors.contains(&victim) && errors.contains("hash to"),
        "{errors}"
    );
    assert!(totals(&run)["media"]["missing"].as_u64().unwrap() >= 1);
    let original = stored(&db);
    let now = stored(&fresh);
    assert_eq!(now.len(), original.len() - 1);
    assert!(now.iter().all(|(h, bytes)| original.get(h) == Some(bytes)));
    // Every conversation is still there.
    assert_eq!(contents(&fresh).len(), contents(&db).len());
}

/// Every `](target)` of a Markdown text.
fn link_targets(md: &str) -> Vec<String> {
    md.match_indices("](")
        .map(|(i, _)| {
            let rest = &md[i + 2..];
            rest[..rest.find(')').unwrap()].to_owned()
        })
        .collect()
}

/// Every file under `dir`, relative.
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel);
            }
        }
    }
    out
}

#[test]
fn markdown_exports_write_the_media_beside_the_files_and_link_them() {
    let tmp = tempfile::tempdir().unwrap();
    let db = library(tmp.path());
    let dir = tmp.path().join("md");
    export(&db, &["--export-md", dir.to_str().unwrap()]);
    let original = stored(&db);
    let mut linked = BTreeSet::new();
    let mut images = 0;
    let mut notes = 0;
    for name in files_under(&dir) {
        if !name.ends_with(".md") || name.contains('/') {
            continue;
        }
        let md = std::fs::read_to_string(dir.join(&name)).unwrap();
        images += md.matches("- ![").count();
        notes += md.matches("_(not in this export").count();
        for target in link_targets(&md) {
            let rel = target
                .strip_prefix("media/")
                .unwrap_or_else(|| panic!("{target}"));
            let bytes = std::fs::read(dir.join(&target)).unwrap();
            assert_eq!(hash_of(&bytes), rel.split('.').next().unwrap(), "{target}");
            assert_eq!(original.get(&hash_of(&bytes)), Some(&bytes));
            linked.insert(target);
        }
    }
    assert!(images >= 3, "images are shown: {images}");
    assert!(notes >= 1, "a reference without bytes gets a note");
    let media: BTreeSet<String> = files_under(&dir)
        .into_iter()
        .filter(|f| f.starts_with("media/"))
        .collect();
    assert!(!media.is_empty());
    assert_eq!(
        media, linked,
        "each item written once, and only those linked"
    );
}

#[test]
fn hostile_names_stay_inside_the_output_folder_and_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, zip) = exported(tmp.path());
    // An export whose titles and file names were edited to attack the reader.
    let mut files = entries(&zip);
    let mut docs: Vec<Value> = serde_json::from_slice(&files["conversations.json"]).unwrap();
    let hostile = "../../../outside\u{7}](javascript:alert(1)) <script>x</script>\n# head";
    let mut renamed = 0;
    for doc in &mut docs {
        doc["conversation"]["title"] = json!(hostile);
        for m in doc["conversation"]["messages"].as_array_mut().unwrap() {
            for p in m["parts"].as_array_mut().into_iter().flatten() {
                if p["type"] == "attachment" {
                    p["name"] = json!(hostile);
                    renamed += 1;
                }
            }
        }
        for e in doc["media"].as_array_mut().into_iter().flatten() {
            e["name"] = json!(hostile);
        }
    }
    assert!(renamed > 0);
    files.insert(
        "conversations.json".into(),
        serde_json::to_vec(&docs).unwrap(),
    );
    let edited = tmp.path().join("edited.zip");
    write_zip(&edited, &files);
    let fresh = tmp.path().join("fresh.db");
    let run = import(&fresh, &[], &[&edited]);
    assert_eq!(run.code, 0, "{}", all_errors(&run));

    let out = tmp.path().join("out").join("md");
    let before = files_under(tmp.path());
    export(&fresh, &["--export-md", out.to_str().unwrap()]);
    let added: BTreeSet<String> = files_under(tmp.path())
        .difference(&before)
        .cloned()
        .collect();
    assert!(!added.is_empty());
    for f in &added {
        let rel = f
            .strip_prefix("out/md/")
            .unwrap_or_else(|| panic!("{f} escaped"));
        let ok_md = !rel.contains('/') && rel.ends_with(".md");
        let ok_media = rel.strip_prefix("media/").is_some_and(|m| {
            let (hash, ext) = m.split_once('.').unwrap();
            hash.parse::<chat_model::MediaHash>().is_ok()
                && ext.chars().all(|c| c.is_ascii_alphanumeric())
        });
        assert!(ok_md || ok_media, "{rel}");
    }
    let mut listed = 0;
    for f in added.iter().filter(|f| f.ends_with(".md")) {
        let md = std::fs::read_to_string(tmp.path().join(f)).unwrap();
        assert!(!md.contains('\u{7}'), "no control characters: {md}");
        assert!(!md.contains("\n# head"), "names stay on one line: {md}");
        // The media lines: the hostile name is the text of a link (or of a note), escaped.
        for line in md
            .lines()
            .filter(|l| l.starts_with("- ") && l.contains("outside"))
        {
            listed += 1;
            assert!(!line.contains("<script>"), "{line}");
            assert!(!line.contains("](javascript"), "{line}");
            assert!(line.contains(r"\<script\>"), "{line}");
        }
        // Every link of the media lists points into the folder (the title heading and the
        // message text are written as they are: they are Markdown).
        let lists: String = md.lines().filter(|l| l.starts_with("- ")).collect();
        for target in link_targets(&lists) {
            assert!(target.starts_with("media/"), "{target}");
        }
    }
    assert!(listed >= renamed.min(1), "the renamed files are listed");
}

#[test]
fn conversations_restored_without_media_link_them_when_the_zip_brings_the_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, zip) = exported(tmp.path());
    // In a folder of its own: beside the database, the store's own media folder (files named
    // by their hash) would be found.
    std::fs::create_dir(tmp.path().join("plain")).unwrap();
    let plain = tmp.path().join("plain").join("plain.json");
    export(&db, &["--export-json", plain.to_str().unwrap()]);
    let fresh = tmp.path().join("fresh.db");
    let first = import(&fresh, &[], &[&plain]);
    assert_eq!(first.code, 0, "{}", all_errors(&first));
    assert!(stored(&fresh).is_empty(), "a plain export holds no bytes");
    assert!(contents(&fresh)
        .values()
        .all(|(_, linked)| linked.is_empty()));

    let run = import(&fresh, &[], &[&zip]);
    assert_eq!(run.code, 0, "{}", all_errors(&run));
    assert_eq!(totals(&run)["media"]["stored"], stored(&db).len());
    assert!(
        totals(&run)["updated"].as_u64().unwrap() >= 1,
        "{}",
        run.report
    );
    assert_eq!(contents(&fresh), contents(&db));
    assert_eq!(stored(&fresh), stored(&db));
}
