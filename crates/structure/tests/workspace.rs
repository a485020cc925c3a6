//! The workspace's shape, checked on every `cargo test`: see the crate's documentation and
//! `docs/architecture.md` ("Rules the tests enforce").
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};

use chat_structure::modules::ModuleGraph;
use chat_structure::{sizes, sql, Finding};

/// Crates whose modules must not import each other in a cycle.
const ACYCLIC: &[&str] = &[
    "crates/api",
    "crates/store",
    "crates/llm",
    "crates/export",
    "crates/structure",
];

/// Files and functions allowed over the limits, at the size they had (`""` stands for the whole
/// file). Empty: the parser crates' long items were split. The check fails when a listed one
/// grows, and when one is split under the limit its entry must go: the list only shrinks.
const KNOWN_OVER: &[(&str, &str, usize)] = &[];

/// The one crate that holds SQL.
const SQL_CRATE: &str = "crates/store";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|e| panic!("the workspace root: {e}"))
}

fn assert_none(what: &str, found: &[Finding]) {
    let list: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(found.is_empty(), "{what}:\n{}", list.join("\n"));
}

/// The crates and binaries of the workspace, as folders relative to the root.
fn packages(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for group in ["crates", "bins"] {
        let entries =
            std::fs::read_dir(root.join(group)).unwrap_or_else(|e| panic!("listing {group}: {e}"));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("listing {group}: {e}"));
            if entry.path().join("Cargo.toml").is_file() {
                out.push(format!("{group}/{}", entry.file_name().to_string_lossy()));
            }
        }
    }
    out.sort();
    out
}

/// Size findings minus the known ones that did not grow; fails on a known one that is gone.
fn new_sizes(found: Vec<Finding>, functions: bool) -> Vec<Finding> {
    let known: Vec<_> = KNOWN_OVER
        .iter()
        .filter(|(_, name, _)| name.is_empty() != functions)
        .collect();
    for (file, name, _) in &known {
        assert!(
            found.iter().any(|f| f.file == *file && f.name == *name),
            "{file} {name} is no longer over the limit: remove it from KNOWN_OVER"
        );
    }
    found
        .into_iter()
        .filter(|f| {
            !known
                .iter()
                .any(|(file, name, size)| f.file == *file && f.name == *name && f.size <= *size)
        })
        .collect()
}

#[test]
fn no_source_file_outside_tests_is_over_800_lines() {
    let root = root();
    let found = sizes::long_files(&root).unwrap_or_else(|e| panic!("{e}"));
    assert_none("files over the limit", &new_sizes(found, false));
}

#[test]
fn no_function_outside_tests_is_over_120_lines() {
    let root = root();
    let found = sizes::long_functions(&root).unwrap_or_else(|e| panic!("{e}"));
    assert_none("functions over the limit", &new_sizes(found, true));
}

#[test]
fn sql_lives_only_in_the_store() {
    let root = root();
    let packages = packages(&root);
    assert!(packages.iter().any(|p| p == "crates/api"), "{packages:?}");
    let mut found = Vec::new();
    for package in packages.iter().filter(|p| *p != SQL_CRATE) {
        let src = root.join(package).join("src");
        if src.is_dir() {
            found.extend(sql::sql_statements(&root, &src).unwrap_or_else(|e| panic!("{e}")));
        }
    }
    assert_none("SQL outside chat-store", &found);
}

#[test]
fn the_api_cannot_reach_sqlite() {
    let manifest = std::fs::read_to_string(root().join("crates/api/Cargo.toml"))
        .unwrap_or_else(|e| panic!("reading chat-api's manifest: {e}"));
    let mut section = String::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
        } else if section == "[dependencies]" {
            assert!(
                !line.starts_with("rusqlite") && !line.starts_with("r2d2"),
                "chat-api depends on {line:?}; it reaches the database through chat-store's \
                 repository methods only"
            );
        }
    }
}

#[test]
fn modules_do_not_import_each_other_in_a_cycle() {
    let root = root();
    let mut found = Vec::new();
    for package in ACYCLIC {
        let graph = ModuleGraph::load(&root.join(package).join("src/lib.rs"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(graph.modules().len() > 1, "{package} was read: {graph:?}");
        found.extend(graph.cycles(&root));
    }
    assert_none("module cycles", &found);
}
