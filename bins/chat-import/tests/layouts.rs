#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The 2026 layouts through the real `chat-import` binary: Copilot Chat transcripts with their
//! workspace folders, Copilot CLI session state, Claude's manifest delivery and batches, Claude
//! projects as folders, and a Google Takeout with its index pages. Fixtures are in
//! `fixtures/import/`; zips are assembled from them in temporary folders.

mod common;

use std::path::Path;

use common::*;

/// `(source_id, folder)` of every conversation, sorted.
fn folders(db: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT source_id, folder FROM convos ORDER BY source_id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn folder_of(db: &Path, source_id: &str) -> String {
    folders(db)
        .into_iter()
        .find(|(id, _)| id == source_id)
        .unwrap_or_else(|| panic!("no conversation {source_id}: {:?}", folders(db)))
        .1
}

fn one_string(db: &Path, sql: &str) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The folders of the conversations whose visible text matches an FTS query.
fn search_folders(db: &Path, query: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT DISTINCT c.folder FROM turns_fts f JOIN convo_turns t ON t.seq = f.rowid \
             JOIN convos c ON c.id = t.convo_id WHERE turns_fts MATCH ?1 ORDER BY c.folder",
        )
        .unwrap();
    stmt.query_map([query], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn ignored(run: &Run) -> String {
    run.report["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn copilot_transcripts_land_in_their_workspace_folder_with_hidden_tool_executions() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&fixtures().join("vscode-2026")]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_eq!(totals(&run)["imported"], 3, "{}", run.report);
    assert_eq!(
        folders(&db),
        [
            ("sess-3333".to_owned(), "imported/copilot/suite".to_owned()),
            (
                "transcript:0b0b0b0b-1111-4222-8333-944455566677".to_owned(),
                "imported/copilot".to_owned()
            ),
            (
                // workspace.json names the folder ("Shop%20API"), not the tool paths.
                "transcript:6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f".to_owned(),
                "imported/copilot/Shop API".to_owned()
            ),
        ]
    );
    let ignored = ignored(&run);
    assert!(
        ignored.contains("transcripts/sess-3333.jsonl: the same session as"),
        "{ignored}"
    );
    // OTel debug logs are not chats.
    assert!(ignored.contains("debug-logs"), "{ignored}");
    // Tool executions: hidden tool messages with their inputs.
    let convo = "(SELECT id FROM convos WHERE source_id = \
                 'transcript:6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f')";
    assert_eq!(
        db_count(
            &db,
            &format!("SELECT count(*) FROM convo_turns WHERE convo_id = {convo} AND role = 'tool' AND hidden = 1")
        ),
        2
    );
    assert_eq!(
        db_count(
            &db,
            &format!("SELECT count(*) FROM convo_turns WHERE convo_id = {convo} AND role = 'tool' AND parts LIKE '%round(total, 2)%'")
        ),
        1
    );
    assert_eq!(
        db_count(
            &db,
            &format!("SELECT count(*) FROM convo_turns WHERE convo_id = {convo} AND hidden = 0")
        ),
        3,
        "the prompt and two answers; the tool-request-only answer is hidden"
    );

    // Re-importing changes nothing.
    let again = import(&db, &[], &[&fixtures().join("vscode-2026")]);
    assert_eq!(again.code, 0);
    assert_eq!(totals(&again)["unchanged"], 3, "{}", again.report);
}

#[test]
fn copilot_cli_session_state_keeps_the_attached_image_and_tool_output() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&fixtures().join("copilot-cli")]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_eq!(totals(&run)["imported"], 1);
    let id = "transcript:c7a9e0b1-2222-4333-8444-955566677788";
    assert_eq!(folder_of(&db, id), "imported/copilot/infra");
    assert_eq!(
        one_string(
            &db,
            &format!("SELECT title FROM convos WHERE source_id = '{id}'")
        ),
        "Two load balancers in the deploy diagram"
    );
    // The image's bytes (from session.binary_asset) are on the user's message: moved from
    // the part's base64 into the media store (a PNG), the part keeping the hash.
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convo_turns t JOIN media_links l ON l.turn_id = t.id
             JOIN media m ON m.hash = l.hash WHERE t.role = 'user' AND m.mime = 'image/png'"
        ),
        1
    );
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
            "SELECT count(*) FROM convo_turns WHERE role = 'tool' AND hidden = 1 AND parts LIKE '%permission denied%'"
        ),
        1
    );
}

/// The files of a Claude manifest delivery as downloaded: the manifest, `users.json`,
/// `memories.json` and the two zips, in `dir`.
fn claude_delivery(dir: &Path) {
    let src = fixtures().join("claude-manifest");
    std::fs::create_dir_all(dir).unwrap();
    for name in [
        "manifest-0d5e9a1c-2026-09-01-10-00-00.json",
        "users.json",
        "memories.json",
    ] {
        std::fs::copy(src.join(name), dir.join(name)).unwrap();
    }
    for zip in ["conversations-000", "projects-000"] {
        zip_dir(
            &src.join("zips").join(zip),
            &dir.join(format!("{zip}.zip")),
            &[],
        );
    }
}

const THESIS: &str = "imported/claude/Thesis \u{2215} chapter 2";

fn assert_claude_delivery_imported(db: &Path) {
    assert_eq!(
        folders(db),
        [
            (
                "conv-named".to_owned(),
                "imported/claude/Side reading".to_owned()
            ),
            ("conv-plain".to_owned(), "imported/claude".to_owned()),
            ("conv-related-work".to_owned(), THESIS.to_owned()),
            (
                "project:5d0c1a7e-3f5b-4c86-9a61-0b2f8f1e2a10".to_owned(),
                THESIS.to_owned()
            ),
        ]
    );
    // The project's description, instructions and documents are searchable, in its folder.
    assert_eq!(search_folders(db, "differential"), [THESIS]);
    assert_eq!(search_folders(db, "\"British spelling\""), [THESIS]);
    assert_eq!(search_folders(db, "federated"), [THESIS]);
    assert_eq!(
        one_string(
            db,
            "SELECT title FROM convos WHERE source_id = 'project:5d0c1a7e-3f5b-4c86-9a61-0b2f8f1e2a10'"
        ),
        "Thesis / chapter 2 — project"
    );
    // A voice note is the visible text of its message.
    assert_eq!(
        one_string(
            db,
            "SELECT content FROM convo_turns WHERE source_id = 'cn2'"
        ),
        "A little: replace contractions."
    );
}

#[test]
fn claude_manifest_delivery_imports_from_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let delivery = tmp.path().join("claude-export");
    claude_delivery(&delivery);
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&delivery]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_eq!(totals(&run)["imported"], 4, "{}", run.report);
    assert!(
        ignored(&run).contains("a Claude export manifest"),
        "{}",
        ignored(&run)
    );
    assert_claude_delivery_imported(&db);
}

#[test]
fn claude_manifest_delivery_imports_from_the_manifest_or_the_zips() {
    let tmp = tempfile::tempdir().unwrap();
    let delivery = tmp.path().join("claude-export");
    claude_delivery(&delivery);

    let db = tmp.path().join("from-manifest.db");
    let manifest = delivery.join("manifest-0d5e9a1c-2026-09-01-10-00-00.json");
    let run = import(&db, &[], &[&manifest]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_claude_delivery_imported(&db);

    // The zips named one by one, conversations first: projects are still read first.
    let db = tmp.path().join("from-zips.db");
    let run = import(
        &db,
        &[],
        &[
            &delivery.join("conversations-000.zip"),
            &delivery.join("projects-000.zip"),
        ],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_claude_delivery_imported(&db);
}

#[test]
fn a_file_the_claude_manifest_lists_but_the_folder_lacks_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let delivery = tmp.path().join("claude-export");
    claude_delivery(&delivery);
    std::fs::remove_file(delivery.join("projects-000.zip")).unwrap();
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&delivery]);
    assert_eq!(run.code, 1, "{}", run.report);
    let errors = all_errors(&run);
    assert!(
        errors.contains("lists projects-000.zip, which is not beside it"),
        "{errors}"
    );
    assert!(errors.contains("each link works once"), "{errors}");
    assert_eq!(totals(&run)["imported"], 3);
    // Without the project, the conversation naming only its uuid stays in the source folder.
    assert_eq!(folder_of(&db, "conv-related-work"), "imported/claude");
}

#[test]
fn claude_batches_keep_the_copy_of_a_conversation_with_more_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixtures().join("claude-batches");
    let downloads = tmp.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let batch = |n: &str| downloads.join(format!("data-7c1e-1767225600-ab12-batch-{n}.zip"));
    zip_dir(&src.join("batch-0000"), &batch("0000"), &[]);
    zip_dir(&src.join("batch-0001"), &batch("0001"), &[]);
    let messages = |db: &Path, id: &str| {
        db_count(
            db,
            &format!(
                "SELECT count(*) FROM convo_turns t JOIN convos c ON c.id = t.convo_id \
                 WHERE c.source_id = '{id}'"
            ),
        )
    };

    // In order: batch 0001 holds an older copy of the Porto trip (skipped) and a grown copy
    // of the greeting (it updates the one from batch 0000).
    let db = tmp.path().join("ordered.db");
    let run = import(&db, &[], &[&downloads]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_eq!(messages(&db, "conv-porto"), 3);
    assert_eq!(messages(&db, "conv-bomdia"), 2);
    let second = input_for(&run, "batch-0001.zip!conversations.json");
    assert_eq!(second["skipped"], 1, "{}", run.report);
    assert_eq!(second["updated"], 1, "{}", run.report);
    // The project in batch 0000 is a folder; the trip naming it by uuid is filed there.
    assert_eq!(folder_of(&db, "conv-porto"), "imported/claude/Travel");
    assert_eq!(search_folders(&db, "Pendular"), ["imported/claude/Travel"]);

    // The other way round, the larger copies still win.
    let db = tmp.path().join("reversed.db");
    let run = import(&db, &[], &[&batch("0001"), &batch("0000")]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_eq!(messages(&db, "conv-porto"), 3);
    assert_eq!(messages(&db, "conv-bomdia"), 2);
}

/// Regression: every real Takeout has `archive_browser.html` at its root, which was reported
/// as a failed HTML export, so a Takeout with Gemini activity always ended with status 1.
#[test]
fn takeout_zip_with_its_index_pages_imports_with_exit_status_0() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("takeout-20260502T101500Z-001.zip");
    zip_dir(&fixtures().join("takeout-2026"), &zip, &[]);
    let db = tmp.path().join("chat.db");
    let run = import(&db, &[], &[&zip]);
    assert_eq!(run.code, 0, "{}\n{}", run.report, all_errors(&run));
    assert_eq!(totals(&run)["failed"], 0);
    let gemini = input_for(&run, "Gemini Apps/MyActivity.json");
    assert_eq!(gemini["imported"], 1);
    assert_eq!(gemini["skipped"], 1, "the feedback record");
    let ignored = ignored(&run);
    assert!(
        ignored.contains("archive_browser.html: this is Google Takeout's index page"),
        "{ignored}"
    );
    assert!(ignored.contains("YouTube/MyActivity.html"), "{ignored}");
    assert_eq!(
        db_count(&db, "SELECT count(*) FROM convo_turns"),
        4,
        "two prompts and their answers"
    );
    // The attached photo is named on the prompt (its bytes are the media work's).
    assert_eq!(
        db_count(
            &db,
            "SELECT count(*) FROM convo_turns WHERE parts LIKE '%IMG_0001.jpg%'"
        ),
        1
    );
}
