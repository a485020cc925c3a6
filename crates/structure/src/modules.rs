//! The import graph between the modules (files) of one crate, and its cycles.
//!
//! A crate is read from its root file (`src/lib.rs` or `src/main.rs`) following `mod x;`
//! declarations, as the compiler does (`x.rs` or `x/mod.rs`; inline `mod x { … }` blocks belong
//! to their file). Module `a` imports module `b` when code in `a.rs` names a path into `b`:
//! a `use` item, a path in an expression, type or pattern, or a path written inside a macro
//! call or an attribute (`#[utoipa::path(… body = crate::dto::X)]`), whether it starts with
//! `crate::`, `super::`, `self::` or the name of a child module. A path resolves to the deepest
//! module file it reaches; naming an item of the crate root (`crate::Store`) imports the root.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::Visit;

use crate::files::relative;
use crate::report::{CheckError, Finding};
use crate::syntax::parse_file;

/// A module path from the crate root (`[]` is the root, `["chat", "session"]` is
/// `crate::chat::session`).
type ModPath = Vec<String>;

/// The modules of one crate and who imports whom.
#[derive(Debug)]
pub struct ModuleGraph {
    /// One entry per module file: its path and file.
    files: Vec<(ModPath, PathBuf)>,
    /// `(importer, imported)` file indexes, with the line of the first reference.
    edges: BTreeMap<(usize, usize), usize>,
}

/// `crate::a::b` for messages.
fn show(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        format!("crate::{}", path.join("::"))
    }
}

impl ModuleGraph {
    /// Reads the crate whose root file is `root_file` (`…/src/lib.rs`).
    pub fn load(root_file: &Path) -> Result<ModuleGraph, CheckError> {
        let mut crawl = Crawl::default();
        crawl.add_file(Vec::new(), root_file.to_path_buf())?;
        let mut edges = BTreeMap::new();
        for (index, (path, _)) in crawl.files.iter().enumerate() {
            let mut refs = References {
                modules: &crawl.modules,
                scope: path.clone(),
                found: Vec::new(),
            };
            refs.visit_file(&crawl.syntax[index]);
            for (target, line) in refs.found {
                let Some(to) = crawl.file_of(&target) else {
                    continue;
                };
                if to != index {
                    edges.entry((index, to)).or_insert(line);
                }
            }
        }
        Ok(ModuleGraph {
            files: crawl.files,
            edges,
        })
    }

    /// The modules as `crate::…` paths, in the order they were found.
    pub fn modules(&self) -> Vec<String> {
        self.files.iter().map(|(p, _)| show(p)).collect()
    }

    /// Whether module `from` imports module `to` (both as `crate::…` paths).
    pub fn imports(&self, from: &str, to: &str) -> bool {
        let index = |name: &str| self.files.iter().position(|(p, _)| show(p) == name);
        match (index(from), index(to)) {
            (Some(a), Some(b)) => self.edges.contains_key(&(a, b)),
            _ => false,
        }
    }

    /// One finding per group of modules that import each other (a strongly connected
    /// component of the graph), naming every import inside the group with its line.
    pub fn cycles(&self, root: &Path) -> Vec<Finding> {
        let mut out = Vec::new();
        for group in self.components() {
            if group.len() < 2 {
                continue;
            }
            let members: HashSet<usize> = group.iter().copied().collect();
            let mut inner: Vec<String> = self
                .edges
                .iter()
                .filter(|((a, b), _)| members.contains(a) && members.contains(b))
                .map(|((a, b), line)| {
                    format!(
                        "{} ({}:{line}) imports {}",
                        show(&self.files[*a].0),
                        relative(root, &self.files[*a].1),
                        show(&self.files[*b].0)
                    )
                })
                .collect();
            inner.sort();
            let first = group.iter().copied().min().unwrap_or(0);
            out.push(Finding {
                file: relative(root, &self.files[first].1),
                line: 0,
                message: format!(
                    "modules that import each other: {}. Move what both need to a module of its \
                     own, or pass it in, so imports go one way",
                    inner.join("; ")
                ),
                name: String::new(),
                size: 0,
            });
        }
        out
    }

    /// Strongly connected components (Tarjan), each a list of file indexes.
    fn components(&self) -> Vec<Vec<usize>> {
        let n = self.files.len();
        let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(a, b) in self.edges.keys() {
            next[a].push(b);
        }
        let mut tarjan = Tarjan {
            next,
            index: vec![None; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            counter: 0,
            out: Vec::new(),
        };
        for v in 0..n {
            if tarjan.index[v].is_none() {
                tarjan.visit(v);
            }
        }
        tarjan.out
    }
}

struct Tarjan {
    next: Vec<Vec<usize>>,
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    counter: usize,
    out: Vec<Vec<usize>>,
}

impl Tarjan {
    fn visit(&mut self, v: usize) {
        self.index[v] = Some(self.counter);
        self.low[v] = self.counter;
        self.counter += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for w in self.next[v].clone() {
            match self.index[w] {
                None => {
                    self.visit(w);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut group = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                group.push(w);
                if w == v {
                    break;
                }
            }
            self.out.push(group);
        }
    }
}

/// Reading a crate's files by following `mod` declarations.
#[derive(Default)]
struct Crawl {
    files: Vec<(ModPath, PathBuf)>,
    syntax: Vec<syn::File>,
    /// Every module, file or inline, with the index of the file that holds it.
    modules: HashMap<ModPath, usize>,
}

impl Crawl {
    fn add_file(&mut self, path: ModPath, file: PathBuf) -> Result<(), CheckError> {
        let syntax = parse_file(&file)?;
        let index = self.files.len();
        self.modules.insert(path.clone(), index);
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let children_dir = if matches!(stem, "lib" | "main" | "mod") || path.is_empty() {
            dir
        } else {
            dir.join(stem)
        };
        self.files.push((path.clone(), file));
        let items = syntax.items.clone();
        self.syntax.push(syntax);
        self.add_items(&items, &path, &children_dir, index)
    }

    fn add_items(
        &mut self,
        items: &[syn::Item],
        scope: &ModPath,
        dir: &Path,
        file_index: usize,
    ) -> Result<(), CheckError> {
        for item in items {
            let syn::Item::Mod(m) = item else { continue };
            let mut path = scope.clone();
            path.push(m.ident.to_string());
            match &m.content {
                Some((_, inner)) => {
                    self.modules.insert(path.clone(), file_index);
                    self.add_items(inner, &path, &dir.join(m.ident.to_string()), file_index)?;
                }
                None => {
                    let name = m.ident.to_string();
                    let flat = dir.join(format!("{name}.rs"));
                    let nested = dir.join(&name).join("mod.rs");
                    let file = if flat.is_file() { flat } else { nested };
                    if !file.is_file() {
                        return Err(CheckError(format!(
                            "module {} has no file {} or {}",
                            show(&path),
                            dir.join(format!("{name}.rs")).display(),
                            dir.join(&name).join("mod.rs").display()
                        )));
                    }
                    self.add_file(path, file)?;
                }
            }
        }
        Ok(())
    }

    /// The file holding the deepest module `target` reaches.
    fn file_of(&self, target: &[String]) -> Option<usize> {
        (0..=target.len())
            .rev()
            .find_map(|n| self.modules.get(&target[..n]).copied())
    }
}

/// The crate paths one file names, resolved to absolute module paths.
struct References<'a> {
    modules: &'a HashMap<ModPath, usize>,
    /// The module the code being visited is in (inline modules included).
    scope: ModPath,
    found: Vec<(ModPath, usize)>,
}

impl References<'_> {
    /// `segments` as written in the current scope, made absolute; `None` when it does not
    /// start inside this crate (another crate, a local item, a generic).
    fn resolve(&self, segments: &[String]) -> Option<ModPath> {
        let first = segments.first()?;
        match first.as_str() {
            "crate" => Some(segments[1..].to_vec()),
            "super" => {
                let mut base = self.scope.clone();
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                Some(base)
            }
            "self" => {
                let mut base = self.scope.clone();
                base.extend(segments[1..].iter().cloned());
                Some(base)
            }
            name => {
                let mut child = self.scope.clone();
                child.push(name.to_owned());
                if !self.modules.contains_key(&child) {
                    return None;
                }
                child.extend(segments[1..].iter().cloned());
                Some(child)
            }
        }
    }

    fn note(&mut self, segments: &[String], line: usize) {
        if let Some(target) = self.resolve(segments) {
            self.found.push((target, line));
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.note(&prefix.clone(), n.ident.span().start().line);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.note(&prefix.clone(), r.ident.span().start().line);
                prefix.pop();
            }
            syn::UseTree::Glob(g) => {
                self.note(&prefix.clone(), g.star_token.spans[0].start().line);
            }
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    /// Paths written inside a macro call or an attribute: `a::b::c` runs of identifiers
    /// joined by `::` that do not continue an earlier path.
    fn scan(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let is_colons = |i: usize| {
            matches!(
                (trees.get(i), trees.get(i + 1)),
                (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                    if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
            )
        };
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) => self.scan(g.stream()),
                TokenTree::Ident(ident) if !(i >= 2 && is_colons(i - 2)) && is_colons(i + 1) => {
                    let line = ident.span().start().line;
                    let mut segments = vec![ident.to_string()];
                    let mut j = i + 1;
                    while is_colons(j) {
                        match trees.get(j + 2) {
                            Some(TokenTree::Ident(next)) => {
                                segments.push(next.to_string());
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    self.note(&segments, line);
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for References<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        for attr in &m.attrs {
            self.visit_attribute(attr);
        }
        if let Some((_, items)) = &m.content {
            self.scope.push(m.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.scope.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if u.leading_colon.is_none() {
            self.use_tree(&mut Vec::new(), &u.tree);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            let line = path
                .segments
                .first()
                .map_or(0, |s| s.ident.span().start().line);
            self.note(&segments, line);
        }
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.scan(mac.tokens.clone());
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        match &attr.meta {
            syn::Meta::List(list) => self.scan(list.tokens.clone()),
            syn::Meta::NameValue(nv) => self.visit_expr(&nv.value),
            syn::Meta::Path(p) => self.visit_path(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A small crate: `a` and `b` import each other (one through `super::`, one through a
    /// macro), `c` imports the root's re-export while the root re-exports from `c`, and `d`
    /// (a folder module) only imports downwards, through an attribute.
    fn sample() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path();
        write(
            src,
            "lib.rs",
            "mod a;\nmod b;\nmod c;\nmod d;\npub use c::C;\n",
        );
        write(
            src,
            "a.rs",
            "pub struct A;\nfn f() { let _ = format!(\"{:?}\", crate::b::B); }\n",
        );
        write(
            src,
            "b.rs",
            "use super::a::A;\n#[derive(Debug)]\npub struct B(A);\n",
        );
        write(src, "c.rs", "pub struct C;\nfn g() -> crate::C { C }\n");
        write(
            src,
            "d/mod.rs",
            "mod inner;\n#[cfg(test)]\nmod tests { use super::*; use crate::d::inner::I; }\n",
        );
        write(
            src,
            "d/inner.rs",
            "#[some::attr(body = crate::a::A)]\npub struct I;\n",
        );
        dir
    }

    #[test]
    fn imports_are_found_in_uses_paths_macros_and_attributes() {
        let dir = sample();
        let graph = ModuleGraph::load(&dir.path().join("lib.rs")).unwrap();
        assert_eq!(
            graph.modules(),
            [
                "crate",
                "crate::a",
                "crate::b",
                "crate::c",
                "crate::d",
                "crate::d::inner"
            ]
        );
        assert!(graph.imports("crate::a", "crate::b"), "through format!");
        assert!(graph.imports("crate::b", "crate::a"), "through super::");
        assert!(graph.imports("crate", "crate::c"), "pub use of a child");
        assert!(graph.imports("crate::c", "crate"), "crate::C is the root's");
        assert!(
            graph.imports("crate::d::inner", "crate::a"),
            "through an attribute"
        );
        assert!(
            graph.imports("crate::d", "crate::d::inner"),
            "a test module's use"
        );
        assert!(!graph.imports("crate::d::inner", "crate::d"));
        assert!(
            !graph.imports("crate", "crate::a"),
            "`mod a;` declares, it does not import"
        );
    }

    #[test]
    fn cycles_are_reported_with_every_import_inside_them() {
        let dir = sample();
        let graph = ModuleGraph::load(&dir.path().join("lib.rs")).unwrap();
        let found = graph.cycles(dir.path());
        assert_eq!(found.len(), 2, "{found:#?}");
        let text: Vec<String> = found.iter().map(|f| f.message.clone()).collect();
        assert!(
            text.iter()
                .any(|m| m.contains("crate::a (a.rs:2) imports crate::b")
                    && m.contains("crate::b (b.rs:1) imports crate::a")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|m| m.contains("crate (lib.rs:5) imports crate::c")
                    && m.contains("crate::c (c.rs:2) imports crate")),
            "{text:#?}"
        );
    }

    #[test]
    fn a_missing_module_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "lib.rs", "mod gone;\n");
        let err = ModuleGraph::load(&dir.path().join("lib.rs")).unwrap_err();
        assert!(err.0.contains("crate::gone"), "{err}");
    }
}
