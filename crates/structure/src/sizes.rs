//! File and function sizes.

use std::path::Path;

use syn::visit::Visit;

use crate::files::{relative, source_files, SOURCE_EXTENSIONS};
use crate::report::{CheckError, Finding};
use crate::syntax::{check_rust_files, FileCheck};

/// Most lines in a source file outside `tests/` folders.
pub const MAX_FILE_LINES: usize = 800;
/// Most lines in a function, from `fn` to its closing brace.
pub const MAX_FN_LINES: usize = 120;

/// Source files below `root`, outside `tests/` folders, longer than [`MAX_FILE_LINES`].
pub fn long_files(root: &Path) -> Result<Vec<Finding>, CheckError> {
    let mut out = Vec::new();
    for path in source_files(root, SOURCE_EXTENSIONS, true)? {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CheckError(format!("cannot read {}: {e}", path.display())))?;
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            out.push(Finding {
                file: relative(root, &path),
                line: 0,
                message: format!(
                    "{lines} lines; a file holds at most {MAX_FILE_LINES}: split it by concept"
                ),
                name: String::new(),
                size: lines,
            });
        }
    }
    Ok(out)
}

/// Rust functions (free, in `impl` blocks, default trait methods, nested) in files below
/// `root`, outside `tests/` folders, longer than [`MAX_FN_LINES`].
pub fn long_functions(root: &Path) -> Result<Vec<Finding>, CheckError> {
    check_rust_files::<FnLengths>(root, root)
}

/// The rule: the length of every function body, from the `fn` keyword to its closing brace.
struct FnLengths;

impl FileCheck<FnLengths> {
    fn check(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let start = sig.fn_token.span.start().line;
        let end = block.brace_token.span.close().end().line;
        let lines = end.saturating_sub(start) + 1;
        if lines > MAX_FN_LINES {
            self.found.push(Finding {
                file: self.file.clone(),
                line: start,
                message: format!(
                    "fn {} is {lines} lines; a function holds at most {MAX_FN_LINES}",
                    sig.ident
                ),
                name: sig.ident.to_string(),
                size: lines,
            });
        }
    }
}

impl<'ast> Visit<'ast> for FileCheck<FnLengths> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.check(&f.sig, &f.block);
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.check(&f.sig, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.check(&f.sig, block);
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }

    /// A function whose body has `n` statement lines.
    fn function(name: &str, n: usize) -> String {
        let mut s = format!("fn {name}() {{\n");
        for i in 0..n {
            s.push_str(&format!("    let _x{i} = \"}}\"; // {{\n"));
        }
        s.push_str("}\n");
        s
    }

    #[test]
    fn a_file_over_the_limit_is_found_but_not_under_tests() {
        let dir = tempfile::tempdir().unwrap();
        let long = "// line\n".repeat(MAX_FILE_LINES + 1);
        write(dir.path(), "src/long.rs", &long);
        write(dir.path(), "web/app.js", &long);
        write(dir.path(), "tests/long.rs", &long);
        write(
            dir.path(),
            "src/short.rs",
            &"// line\n".repeat(MAX_FILE_LINES),
        );
        let found = long_files(dir.path()).unwrap();
        let files: Vec<&str> = found.iter().map(|f| f.file.as_str()).collect();
        assert_eq!(files, ["src/long.rs", "web/app.js"]);
    }

    #[test]
    fn functions_are_measured_from_the_syntax_tree() {
        let dir = tempfile::tempdir().unwrap();
        // 2 lines of braces + body: exactly at the limit, then one over; braces in strings and
        // comments do not count.
        let text = format!(
            "{}\nstruct S;\nimpl S {{\n{}}}\ntrait T {{\n{}}}\nfn outer() {{\n{}}}\n",
            function("at_limit", MAX_FN_LINES - 2),
            function("in_impl", MAX_FN_LINES - 1),
            function("default_method", MAX_FN_LINES + 5),
            function("nested", MAX_FN_LINES - 1),
        );
        write(dir.path(), "src/lib.rs", &text);
        write(dir.path(), "tests/t.rs", &function("test_fn", 500));
        let found = long_functions(dir.path()).unwrap();
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        // `outer` is over the limit because of what it holds; `nested` on its own.
        assert_eq!(
            names,
            ["in_impl", "default_method", "outer", "nested"],
            "{found:#?}"
        );
        assert!(found[0]
            .message
            .contains(&format!("{} lines", MAX_FN_LINES + 1)));
    }
}
