//! SQL statements in string literals.

use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

use crate::report::{CheckError, Finding};
use crate::syntax::{check_rust_files, is_cfg_test, FileCheck};

/// String literals in the Rust files below `dir` (test code and `tests/` folders left out)
/// that read as an SQL statement. Literals inside macro calls (`format!`, `concat!`, …) count;
/// attributes (doc comments) do not.
pub fn sql_statements(root: &Path, dir: &Path) -> Result<Vec<Finding>, CheckError> {
    check_rust_files::<SqlLiterals>(root, dir)
}

/// Whether `text` reads as an SQL statement: it starts with a statement keyword followed by
/// the word that keyword needs (`SELECT … FROM`, `INSERT INTO`, `UPDATE <table> SET`,
/// `DELETE FROM`, `CREATE TABLE`, `PRAGMA <name>`, …). Case does not matter.
pub fn is_sql(text: &str) -> bool {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(64)
        .map(str::to_ascii_lowercase)
        .collect();
    let has = |w: &str| words.iter().skip(1).any(|x| x == w);
    let second = words.get(1).map(String::as_str);
    match words.first().map(String::as_str) {
        Some("select") => has("from"),
        Some("insert") | Some("replace") => second == Some("into") || second == Some("or"),
        Some("update") => words.iter().skip(2).take(3).any(|w| w == "set"),
        Some("delete") => second == Some("from"),
        Some("create") | Some("drop") => words.iter().skip(1).take(3).any(|w| {
            matches!(
                w.as_str(),
                "table" | "index" | "trigger" | "view" | "virtual"
            )
        }),
        Some("pragma") => second.is_some(),
        Some("with") => has("select") && has("as"),
        Some("alter") => second == Some("table"),
        _ => false,
    }
}

/// The rule: string literals that read as SQL.
struct SqlLiterals;

impl FileCheck<SqlLiterals> {
    fn check(&mut self, text: &str, line: usize) {
        if is_sql(text) {
            let first: String = text
                .split_whitespace()
                .take(6)
                .collect::<Vec<_>>()
                .join(" ");
            self.found.push(Finding {
                file: self.file.clone(),
                line,
                message: format!(
                    "an SQL statement ({first} …); SQL lives in chat-store: add a repository method"
                ),
                name: String::new(),
                size: 0,
            });
        }
    }

    /// String literals anywhere in a macro call's tokens.
    fn scan(&mut self, tokens: TokenStream) {
        for tree in tokens {
            match tree {
                TokenTree::Group(g) => self.scan(g.stream()),
                TokenTree::Literal(lit) => {
                    let line = lit.span().start().line;
                    if let syn::Lit::Str(s) = syn::Lit::new(lit) {
                        self.check(&s.value(), line);
                    }
                }
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for FileCheck<SqlLiterals> {
    fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
        self.check(&lit.value(), lit.span().start().line);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.scan(mac.tokens.clone());
    }

    /// Doc comments and other attributes are not code.
    fn visit_attribute(&mut self, _attr: &'ast syn::Attribute) {}

    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_cfg_test(attrs) {
            syn::visit::visit_item(self, item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_recognised_and_prose_is_not() {
        for sql in [
            "SELECT strftime('%Y-%m', created_at / 1000, 'unixepoch'), source FROM convos",
            "  select id from t",
            "INSERT INTO convos (id) VALUES (?1)",
            "INSERT OR IGNORE INTO t VALUES (1)",
            "UPDATE convos SET current_turn_id = NULL WHERE id = ?1",
            "DELETE FROM convo_turns WHERE id = ?1",
            "CREATE TABLE t (x)",
            "CREATE VIRTUAL TABLE f USING fts5(x)",
            "PRAGMA wal_checkpoint(TRUNCATE)",
            "WITH RECURSIVE up AS (SELECT 1) SELECT * FROM up",
        ] {
            assert!(is_sql(sql), "{sql}");
        }
        for prose in [
            "select a folder",
            "the update is ready",
            "delete the conversation from the list",
            "Select the rows you want",
            "update: the format changed",
            "",
        ] {
            assert!(!is_sql(prose), "{prose}");
        }
    }

    #[test]
    fn literals_in_code_and_macros_are_found_but_not_in_tests_or_docs() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("lib.rs"),
            r#"
/// SELECT * FROM docs is not code.
fn a(conn: &Conn) {
    conn.execute("UPDATE convos SET title = ?2 WHERE id = ?1", []);
}
fn b() -> String {
    format!("SELECT {} FROM convos", 1)
}
#[cfg(test)]
mod tests {
    fn fake() { let _ = "SELECT * FROM secret_table failed"; }
}
"#,
        )
        .unwrap();
        let found = sql_statements(dir.path(), &src).unwrap();
        let lines: Vec<usize> = found.iter().map(|f| f.line).collect();
        assert_eq!(lines, [4, 7], "{found:#?}");
        assert_eq!(found[0].file, "src/lib.rs");
    }
}
