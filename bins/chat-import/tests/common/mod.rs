//! Helpers shared by the CLI tests: run the real `chat-import` binary, assemble fixtures into
//! zip archives, and read the database it leaves.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/import")
}

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chat-import"));
    c.env_remove("CHAT_DB").stdin(Stdio::null());
    c
}

pub struct Run {
    pub code: i32,
    pub report: Value,
    pub stderr: String,
}

pub fn import(db: &Path, args: &[&str], paths: &[&Path]) -> Run {
    let mut cmd = bin();
    cmd.arg("--db").arg(db).arg("--json").args(args);
    for p in paths {
        cmd.arg(p);
    }
    let out: Output = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("stdout is not one JSON object ({e}):\n{stdout}\nstderr:\n{stderr}")
    });
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "exactly one JSON line on stdout"
    );
    Run {
        code: out.status.code().unwrap_or(-1),
        report,
        stderr,
    }
}

/// Zips a fixture folder (entry names relative to it), plus extra raw entries.
pub fn zip_dir(src: &Path, dest: &Path, extra: &[(&str, &[u8])]) {
    let file = std::fs::File::create(dest).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut stack = vec![src.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for p in files {
        let name = p
            .strip_prefix(src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        zip.start_file(name, opts).unwrap();
        zip.write_all(&std::fs::read(&p).unwrap()).unwrap();
    }
    for (name, bytes) in extra {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

pub fn db_count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The first column of every row of `sql`, as text.
pub fn strings(db: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(Result::unwrap).collect()
}

/// Row counts of every table that matters, for before/after comparisons.
pub fn row_counts(db: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    strings(db, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%fts%' AND name NOT LIKE 'import_%' ORDER BY name")
        .into_iter()
        .map(|n| {
            let c: i64 = conn
                .query_row(&format!("SELECT count(*) FROM \"{n}\""), [], |r| r.get(0))
                .unwrap();
            (n, c)
        })
        .collect()
}

pub fn totals(run: &Run) -> &Value {
    &run.report["totals"]
}

pub fn input_for<'a>(run: &'a Run, needle: &str) -> &'a Value {
    run.report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no input containing {needle}: {}", run.report))
}

pub fn all_errors(run: &Run) -> String {
    run.report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["errors"].as_array().unwrap().clone())
        .map(|e| format!("{} | {} | {}", e["item"], e["error"], e["hint"]))
        .collect::<Vec<_>>()
        .join("\n")
}
