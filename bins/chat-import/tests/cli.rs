#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Drives the real `chat-import` binary over the fixtures in `fixtures/import/`, assembled into
//! folders and zip archives in temporary directories, and checks the database it leaves.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn json_report_has_the_documented_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let run = import(
        &db,
        &[],
        &[&fixtures().join("chatgpt-single/conversations.json")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for key in [
        "seen",
        "imported",
        "updated",
        "unchanged",
        "skipped",
        "failed",
        "messages",
    ] {
        assert!(
            totals(&run)[key].is_u64(),
            "totals.{key} missing: {}",
            run.report
        );
    }
    let input = &run.report["inputs"][0];
    for key in [
        "path",
        "source",
        "seen",
        "imported",
        "updated",
        "unchanged",
        "skipped",
        "failed",
        "messages",
        "errors",
    ] {
        assert!(
            !input[key].is_null() || key == "source",
            "inputs[0].{key} missing"
        );
    }
    assert_eq!(input["source"], "chatgpt");
    assert_eq!(totals(&run)["imported"], 3);
    assert_eq!(totals(&run)["messages"], 8);
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convos WHERE folder = 'imported/chatgpt'"
        ),
        3
    );
    // The derived title of the conversation with a null title.
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convos WHERE title = 'Résumé tips for a data engineer'"
        ),
        1
    );
}

#[test]
fn chatgpt_zip_with_viewer_and_user_files() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("chatgpt-export.zip");
    zip_dir(&fixtures().join("chatgpt-single"), &zip, &[]);
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&zip]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    assert_eq!(totals(&run)["imported"], 3);
    assert_eq!(totals(&run)["failed"], 0);
    assert_eq!(input_for(&run, "conversations.json")["source"], "chatgpt");
}

#[test]
fn chatgpt_sharded_export_follows_the_manifest_and_reports_the_missing_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("export.zip");
    zip_dir(&fixtures().join("chatgpt-sharded"), &zip, &[]);
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&zip]);
    assert_eq!(run.code, 1, "{}", run.report);
    assert_eq!(totals(&run)["imported"], 5);
    let errors = all_errors(&run);
    assert!(
        errors
            .contains("export_manifest.json lists conversations-002.json but the export lacks it"),
        "{errors}"
    );
    // Shards are read in the manifest's order.
    let paths: Vec<String> = run.report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap().to_owned())
        .filter(|p| p.contains("conversations-0"))
        .collect();
    let order: Vec<&str> = paths.iter().map(|p| &p[p.len() - 8..p.len() - 5]).collect();
    assert!(order.ends_with(&["000", "001", "003"]), "{order:?}");
}

#[test]
fn a_real_2026_manifest_with_export_files_imports_with_status_0() {
    // The shape real exports carry (`export_files`, every file of every part), as opposed to
    // the `logical_files` shape of the sharded fixture above.
    let media = fixtures().join("../media/chatgpt-2026");
    let mut listed = Vec::new();
    for e in std::fs::read_dir(&media).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_owned();
        let size = std::fs::metadata(&p).unwrap().len();
        listed.push(serde_json::json!({"path": name, "size_bytes": size}));
    }
    let manifest = serde_json::json!({"version": 1, "export_files": listed}).to_string();
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("export.zip");
    zip_dir(
        &media,
        &zip,
        &[("export_manifest.json", manifest.as_bytes())],
    );
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&zip]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    assert_eq!(totals(&run)["failed"], 0, "{}", run.report);
    assert!(
        totals(&run)["imported"].as_u64().unwrap() > 0,
        "{}",
        run.report
    );
    assert_eq!(totals(&run)["media"]["stored"], 5, "{}", run.report);
}

#[test]
fn claude_zip_is_detected_as_claude_not_chatgpt() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("data-claude.zip");
    zip_dir(&fixtures().join("claude"), &zip, &[]);
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&zip]);
    assert_eq!(run.code, 0, "{}", run.report);
    assert_eq!(input_for(&run, "conversations.json")["source"], "claude");
    assert_eq!(totals(&run)["imported"], 2);
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convos WHERE folder = 'imported/claude'"
        ),
        2
    );
}

#[test]
fn takeout_zip_reads_only_the_gemini_activity() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("takeout-20250502.zip");
    zip_dir(&fixtures().join("takeout"), &zip, &[]);
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&zip]);
    assert_eq!(run.code, 0, "{}", run.report);
    let gemini = input_for(&run, "Gemini Apps");
    assert_eq!(gemini["source"], "gemini");
    assert_eq!(gemini["imported"], 2);
    assert_eq!(gemini["skipped"], 1, "the feedback record is skipped");
    assert!(run.report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| !i["path"].as_str().unwrap().contains("YouTube")));
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convos WHERE source = 'gemini' AND folder = 'imported/gemini'"
        ),
        2
    );
}

#[test]
fn zips_inside_a_folder_are_read_in_place_each_with_its_own_source() {
    // A downloads folder: two exports as downloaded, one of them a level down, and an unrelated
    // file. The folder is walked, each zip is read in place (nothing is extracted beside it)
    // and detected on its own.
    let tmp = tempfile::tempdir().unwrap();
    let downloads = tmp.path().join("Downloads");
    std::fs::create_dir_all(downloads.join("older")).unwrap();
    zip_dir(
        &fixtures().join("chatgpt-single"),
        &downloads.join("chatgpt-export.zip"),
        &[],
    );
    zip_dir(
        &fixtures().join("claude"),
        &downloads.join("older/data-claude.zip"),
        &[],
    );
    std::fs::write(downloads.join("notes.txt"), "not an export").unwrap();
    let listing = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = (listing(&downloads), listing(&downloads.join("older")));
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&downloads]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, run.stderr);
    assert_eq!(totals(&run)["imported"], 3 + 2, "{}", run.report);
    assert_eq!(
        input_for(&run, "chatgpt-export.zip!conversations.json")["source"],
        "chatgpt"
    );
    assert_eq!(
        input_for(&run, "data-claude.zip!conversations.json")["source"],
        "claude"
    );
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convos WHERE folder IN ('imported/chatgpt', 'imported/claude')"
        ),
        5
    );
    assert_eq!(
        (listing(&downloads), listing(&downloads.join("older"))),
        before,
        "nothing is extracted next to the archives"
    );
}

#[test]
fn takeout_html_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&fixtures().join("takeout-html")]);
    assert_eq!(run.code, 2, "{}", run.report);
    assert!(
        all_errors(&run).contains("HTML form of a Google Takeout"),
        "{}",
        all_errors(&run)
    );
}

#[test]
fn ai_studio_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&fixtures().join("aistudio")]);
    assert_eq!(run.code, 0, "{}", run.report);
    assert_eq!(totals(&run)["imported"], 1);
    assert_eq!(input_for(&run, "Prime numbers")["source"], "gemini");
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convos WHERE title = 'Prime numbers'"
        ),
        1
    );
}

#[test]
fn vscode_chat_sessions_prefer_the_jsonl_log() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&fixtures().join("vscode/workspaceStorage")]);
    assert_eq!(run.code, 0, "{}", run.report);
    assert_eq!(totals(&run)["imported"], 2);
    assert!(run.report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| !i["path"].as_str().unwrap().ends_with("sess-1111.json")));
    // The log adds a second request to the session: 4 messages, not 2.
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convo_turns t JOIN convos c ON c.id = t.convo_id WHERE c.source_id = 'sess-1111'"
        ),
        4
    );
}

#[test]
fn a_forced_wrong_source_says_what_the_file_looks_like() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let run = import(
        &db,
        &["--source", "chatgpt"],
        &[&fixtures().join("claude/conversations.json")],
    );
    assert_eq!(run.code, 2, "{}", run.report);
    let errors = all_errors(&run);
    assert!(
        errors.contains("this looks like a Claude export but --source chatgpt was given"),
        "{errors}"
    );
    assert_eq!(db_count(&db, "SELECT count(*) FROM convos"), 0);
}

#[test]
fn a_truncated_file_imports_what_is_complete_and_keeps_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let run = import(
        &db,
        &[],
        &[&fixtures().join("truncated-conversations.json")],
    );
    assert_eq!(run.code, 1, "{}", run.report);
    assert_eq!(totals(&run)["imported"], 2);
    let errors = all_errors(&run);
    assert!(errors.contains("at byte"), "{errors}");
    assert!(errors.contains("cut off"), "{errors}");
    assert!(errors.contains("the 2 complete items"), "{errors}");
    // The cut-off tail is kept for a retry.
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM import_quarantine WHERE length(raw) > 0"
        ),
        1
    );
}

#[test]
fn a_zip_bomb_fails_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("bomb.zip");
    let zeros = vec![b' '; 64 * 1024 * 1024];
    let src = tmp.path().join("empty-src");
    std::fs::create_dir(&src).unwrap();
    zip_dir(&src, &zip, &[("conversations.json", &zeros)]);
    assert!(std::fs::metadata(&zip).unwrap().len() < 1024 * 1024);
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&zip]);
    assert_eq!(run.code, 2, "{}", run.report);
    assert!(
        all_errors(&run).contains("zip bomb"),
        "{}",
        all_errors(&run)
    );
}

#[test]
fn zip_entries_that_escape_the_archive_are_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("evil.zip");
    let evil = std::fs::read(fixtures().join("claude/conversations.json")).unwrap();
    zip_dir(
        &fixtures().join("chatgpt-single"),
        &zip,
        &[("../../evil.json", &evil), ("/abs/evil.json", &evil)],
    );
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&zip]);
    assert_eq!(run.code, 0, "{}", run.report);
    assert_eq!(totals(&run)["imported"], 3);
    assert_eq!(
        db_count(&db, "SELECT count(*) FROM convos WHERE source = 'claude'"),
        0
    );
    let ignored = run.report["ignored"].to_string();
    assert!(ignored.contains("escapes the archive"), "{ignored}");
    assert!(!tmp.path().join("evil.json").exists());
}

#[test]
fn empty_and_html_files_are_refused_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&fixtures().join("empty.json")]);
    assert_eq!(run.code, 2);
    assert!(all_errors(&run).contains("empty"), "{}", all_errors(&run));
    let run = import(&db, &[], &[&fixtures().join("chatgpt-single/chat.html")]);
    assert_eq!(run.code, 2);
    assert!(all_errors(&run).contains("HTML"), "{}", all_errors(&run));
    let run = import(&db, &[], &[&tmp.path().join("missing.json")]);
    assert_eq!(run.code, 2);
    assert!(
        all_errors(&run).contains("no such file"),
        "{}",
        all_errors(&run)
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = bin()
        .arg("--source")
        .arg("myspace")
        .arg("x.json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_second_identical_import_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let paths = [
        fixtures().join("chatgpt-single"),
        fixtures().join("claude"),
        fixtures().join("takeout"),
        fixtures().join("vscode"),
    ];
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let first = import(&db, &[], &refs);
    assert_eq!(first.code, 0, "{}", first.report);
    let before = row_counts(&db);
    let second = import(&db, &[], &refs);
    assert_eq!(second.code, 0);
    assert_eq!(totals(&second)["imported"], 0);
    assert_eq!(totals(&second)["updated"], 0);
    assert_eq!(totals(&second)["messages"], 0);
    assert_eq!(totals(&second)["unchanged"], totals(&first)["imported"]);
    assert_eq!(row_counts(&db), before);
}

#[test]
fn a_grown_export_adds_only_the_new_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    import(
        &db,
        &[],
        &[&fixtures().join("chatgpt-single/conversations.json")],
    );
    let turns_before = db_count(&db, "SELECT count(*) FROM convo_turns");
    let run = import(
        &db,
        &[],
        &[&fixtures().join("chatgpt-grown/conversations.json")],
    );
    assert_eq!(run.code, 0, "{}", run.report);
    assert_eq!(totals(&run)["updated"], 1);
    assert_eq!(totals(&run)["imported"], 1);
    assert_eq!(totals(&run)["unchanged"], 2);
    assert_eq!(totals(&run)["messages"], 4);
    assert_eq!(
        db_count(&db, "SELECT count(*) FROM convo_turns"),
        turns_before + 4
    );
}

#[test]
fn user_edits_survive_a_re_import() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    import(
        &db,
        &[],
        &[&fixtures().join("chatgpt-single/conversations.json")],
    );
    let store = chat_store::Store::open(&db).unwrap();
    let (id, answer) = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let id: String = conn
            .query_row(
                "SELECT id FROM convos WHERE source_id = 'c0a1-0002'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let answer: String = conn
            .query_row(
                "SELECT id FROM convo_turns WHERE convo_id = ?1 AND role = 'assistant' ORDER BY created_at LIMIT 1",
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        (
            chat_model::ConversationId::from(id),
            chat_model::MessageId::from(answer),
        )
    };
    store
        .write(|repo| {
            repo.rename(&id, "My lifetimes notes")?;
            repo.add_tag(&id, &chat_model::Tag::new("rust").unwrap())?;
            repo.move_to_folder(&id, &chat_model::FolderPath::new("work/rust").unwrap())?;
            repo.archive(&id)?;
            repo.rate_message(&answer, chat_model::RatingValue::Up, Some("clear"))?;
            Ok(())
        })
        .unwrap();
    drop(store);
    let run = import(
        &db,
        &[],
        &[&fixtures().join("chatgpt-grown/conversations.json")],
    );
    assert_eq!(run.code, 0, "{}", run.report);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (title, folder, archived): (String, String, Option<i64>) = conn
        .query_row(
            "SELECT title, folder, archived_at FROM convos WHERE id = ?1",
            [id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(title, "My lifetimes notes");
    assert_eq!(folder, "work/rust");
    assert!(archived.is_some());
    assert_eq!(db_count(&db, "SELECT count(*) FROM convo_tags"), 1);
    assert_eq!(
        db_count(&db, "SELECT count(*) FROM message_ratings WHERE rating = 1"),
        1
    );
    // And the conversation still gained its new messages.
    assert_eq!(
        db_count(
            &db,
            &format!(
                "SELECT count(*) FROM convo_turns WHERE convo_id = '{}'",
                id.as_str()
            )
        ),
        6
    );
}

#[test]
fn dry_run_reports_the_same_figures_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let dry = import(&db, &["--dry-run"], &[&fixtures().join("chatgpt-single")]);
    assert_eq!(dry.code, 0, "{}", dry.report);
    assert_eq!(db_count(&db, "SELECT count(*) FROM convos"), 0);
    assert_eq!(db_count(&db, "SELECT count(*) FROM import_runs"), 0);
    let real = import(&db, &[], &[&fixtures().join("chatgpt-single")]);
    assert_eq!(totals(&dry), totals(&real));
}

/// A ChatGPT export of `n` conversations of `turns` messages each.
fn generated_export(path: &Path, n: usize, turns: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(b"[").unwrap();
    for c in 0..n {
        let cid = format!("gen-{c:06}");
        let mut mapping = serde_json::Map::new();
        let mut parent: Option<String> = None;
        for t in 0..turns {
            let id = format!("{cid}-{t}");
            let role = if t % 2 == 0 { "user" } else { "assistant" };
            mapping.insert(
                id.clone(),
                serde_json::json!({
                    "id": id, "parent": parent, "children": [],
                    "message": {"id": id, "author": {"role": role}, "create_time": 1.7e9 + (c * 100 + t) as f64,
                                "content": {"content_type": "text", "parts": [format!("message {t} of conversation {c} with some words to index")]},
                                "recipient": "all", "metadata": {}}
                }),
            );
            parent = Some(id);
        }
        let conv = serde_json::json!({"id": cid, "title": format!("Generated {c}"), "create_time": 1.7e9,
                                      "update_time": 1.7e9, "mapping": mapping, "current_node": parent});
        if c > 0 {
            out.write_all(b",").unwrap();
        }
        serde_json::to_writer(&mut out, &conv).unwrap();
    }
    out.write_all(b"]").unwrap();
    out.flush().unwrap();
}

#[test]
fn a_run_killed_with_sigkill_then_re_run_matches_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("conversations.json");
    let total = 6000;
    generated_export(&export, total, 12);

    let reference = tmp.path().join("reference.db");
    let run = import(&reference, &[], &[&export]);
    assert_eq!(run.code, 0);

    let db = tmp.path().join("killed.db");
    // Initialise the schema so the test can watch the import's progress.
    drop(chat_store::Store::open(&db).unwrap());
    let mut child = bin()
        .arg("--db")
        .arg(&db)
        .arg("--quiet")
        .arg(&export)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut killed_mid_run = false;
    loop {
        let n = db_count(&db, "SELECT count(*) FROM convos");
        if n > 0 && (n as usize) < total {
            child.kill().unwrap(); // SIGKILL on Unix
            killed_mid_run = true;
            break;
        }
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.wait();
    assert!(
        killed_mid_run,
        "the import finished before it could be killed"
    );
    let partial = db_count(&db, "SELECT count(*) FROM convos");
    assert!(partial > 0 && (partial as usize) < total);
    assert_eq!(
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
            .unwrap(),
        "ok"
    );
    // Every conversation present is whole: batches are transactions.
    assert_eq!(
        db_count(&db, "SELECT count(*) FROM convo_turns"),
        partial * 12
    );

    let rerun = import(&db, &[], &[&export]);
    assert_eq!(rerun.code, 0, "{}", rerun.report);
    assert_eq!(totals(&rerun)["unchanged"].as_i64().unwrap(), partial);
    assert_eq!(row_counts(&db), row_counts(&reference));
}

#[test]
fn json_export_round_trips_through_import() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    import(
        &db,
        &[],
        &[
            &fixtures().join("chatgpt-single"),
            &fixtures().join("claude"),
        ],
    );
    let store = chat_store::Store::open(&db).unwrap();
    let first = store
        .read(|repo| {
            repo.list_conversations(&chat_store::ListQuery {
                limit: 1,
                ..Default::default()
            })
        })
        .unwrap()
        .items
        .remove(0);
    let msg = store.read(|r| r.message_tree(&first.id, true)).unwrap()[1]
        .id
        .clone();
    store
        .write(|repo| {
            repo.add_tag(&first.id, &chat_model::Tag::new("keep").unwrap())?;
            repo.rate_message(&msg, chat_model::RatingValue::Down, Some("wrong"))?;
            Ok(())
        })
        .unwrap();
    drop(store);

    let export = tmp.path().join("all.json");
    let out = bin()
        .arg("--db")
        .arg(&db)
        .arg("--export-json")
        .arg(&export)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let copy = tmp.path().join("copy.db");
    let run = import(&copy, &[], &[&export]);
    assert_eq!(run.code, 0, "{}", run.report);
    assert_eq!(totals(&run)["imported"], 5);

    let a = chat_store::Store::open(&db).unwrap();
    let b = chat_store::Store::open(&copy).unwrap();
    let list = |s: &chat_store::Store| {
        let page = s
            .read(|r| {
                r.list_conversations(&chat_store::ListQuery {
                    limit: 100,
                    archived: chat_store::ArchivedFilter::All,
                    ..Default::default()
                })
            })
            .unwrap();
        page.items
            .into_iter()
            .map(|c| {
                let tree = s.read(|r| r.message_tree(&c.id, true)).unwrap();
                (c, tree)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(list(&a), list(&b));
    // Importing the export again changes nothing.
    let again = import(&copy, &[], &[&export]);
    assert_eq!(totals(&again)["unchanged"], 5);
}

#[test]
fn markdown_export_writes_one_file_per_conversation() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    import(&db, &[], &[&fixtures().join("claude")]);
    let dir = tmp.path().join("md");
    let out = bin()
        .arg("--db")
        .arg(&db)
        .arg("--export-md")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    let haiku = files
        .iter()
        .find(|f| f.starts_with("haiku-about-autumn"))
        .unwrap();
    let text = std::fs::read_to_string(dir.join(haiku)).unwrap();
    assert!(text.starts_with("---\ntitle: \"Haiku about autumn\"\nsource: \"claude\""));
    assert!(text.contains("Crisp leaves drift and fall\nthe maple lets go of red"));
}
