//! Finding the source files of a tree.

use std::path::{Path, PathBuf};

use crate::report::CheckError;

/// Folders never entered: build output, dependencies, version control, and test data (the
/// hand-written exports in `fixtures/` are inputs, not source).
const SKIPPED_DIRS: &[&str] = &["target", "node_modules", ".git", "fixtures"];

/// Extensions of the files whose length is checked.
pub const SOURCE_EXTENSIONS: &[&str] = &["rs", "js", "mjs", "css", "html", "py"];

/// Every file below `root` with one of `extensions`, sorted, leaving out the folders in
/// [`SKIPPED_DIRS`] and, when `skip_tests` is set, every folder named `tests`.
pub fn source_files(
    root: &Path,
    extensions: &[&str],
    skip_tests: bool,
) -> Result<Vec<PathBuf>, CheckError> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| CheckError(format!("cannot list {}: {e}", dir.display())))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| CheckError(format!("cannot list {}: {e}", dir.display())))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let kind = entry
                .file_type()
                .map_err(|e| CheckError(format!("cannot stat {}: {e}", path.display())))?;
            if kind.is_dir() {
                let skipped =
                    SKIPPED_DIRS.contains(&name.as_ref()) || (skip_tests && name == "tests");
                if !skipped {
                    dirs.push(path);
                }
            } else if kind.is_file()
                && path
                    .extension()
                    .is_some_and(|e| extensions.iter().any(|x| e == *x))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `path` relative to `root`, with `/` separators, for messages.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}
