//! Reading Rust files into syntax trees.

use std::marker::PhantomData;
use std::path::Path;

use syn::visit::Visit;

use crate::files;
use crate::report::{CheckError, Finding};

/// One check over one file: the file's relative path and what was found. The rule is the type
/// `R`: a visitor is implemented for each `FileCheck<Rule>`.
pub(crate) struct FileCheck<R> {
    pub(crate) file: String,
    pub(crate) found: Vec<Finding>,
    rule: PhantomData<R>,
}

/// Runs rule `R` over every Rust file below `dir` outside `tests/` folders.
pub(crate) fn check_rust_files<R>(root: &Path, dir: &Path) -> Result<Vec<Finding>, CheckError>
where
    for<'ast> FileCheck<R>: Visit<'ast>,
{
    let mut out = Vec::new();
    each_rust_file(root, dir, |file, syntax| {
        let mut check = FileCheck {
            file,
            found: Vec::new(),
            rule: PhantomData,
        };
        check.visit_file(syntax);
        out.extend(check.found);
    })?;
    Ok(out)
}

/// Parses every Rust file below `dir` outside `tests/` folders and hands it to `visit` with its
/// path relative to `root`.
fn each_rust_file(
    root: &Path,
    dir: &Path,
    mut visit: impl FnMut(String, &syn::File),
) -> Result<(), CheckError> {
    for path in files::source_files(dir, &["rs"], true)? {
        let file = parse_file(&path)?;
        visit(files::relative(root, &path), &file);
    }
    Ok(())
}

/// Reads and parses a Rust file.
pub(crate) fn parse_file(path: &Path) -> Result<syn::File, CheckError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CheckError(format!("cannot read {}: {e}", path.display())))?;
    syn::parse_file(&text).map_err(|e| CheckError(format!("cannot parse {}: {e}", path.display())))
}

/// Whether an item's attributes hold `#[cfg(test)]`.
pub(crate) fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && matches!(&a.meta, syn::Meta::List(list) if list.tokens.to_string().trim() == "test")
    })
}
