//! Turning the paths a user names into an ordered list of things to read.
//!
//! A path may be a file, a directory (walked, zips inside it included) or a zip archive (read
//! in place). Inside a folder or archive the layouts of the providers are recognised:
//!
//! * ChatGPT 2026 sharded exports: `export_manifest.json` lists the shards of
//!   `conversations.json` (`export_files: [{path, size_bytes}]` in real exports, or
//!   `logical_files["conversations.json"].files`); they are read in that order, and a shard the
//!   manifest lists but the archive lacks is reported (the present shards still import). A
//!   manifest of another shape is passed over: the shards are then read in name order.
//! * VS Code `chatSessions/`: when one session is stored both as `<id>.json` and `<id>.jsonl`,
//!   the `.jsonl` mutation log wins (it is the newer storage).
//! * Everything else is decided per file by content (see the pipeline's detection), so Claude's
//!   `users.json`, Takeout's other products and ChatGPT's `user.json` are passed over without
//!   being mistaken for conversations.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::layouts;
use crate::source::{zip_entries, OpenError, Opener, Origin};

/// One thing to read.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Where its bytes are.
    pub origin: Origin,
    /// Whether the user named this file directly (an unrecognised file is then an error rather
    /// than passed over).
    pub explicit: bool,
    /// The folder name of the VS Code workspace a Copilot session belongs to, when its
    /// `workspace.json` names one.
    pub workspace: Option<String>,
}

/// A problem found while planning: a missing path, a missing shard, an unreadable archive.
#[derive(Debug, Clone)]
pub struct Problem {
    /// What it concerns (a path or `archive!entry`).
    pub input: String,
    /// What is wrong.
    pub error: String,
    /// What to do.
    pub hint: String,
}

/// The outcome of planning.
#[derive(Debug, Default)]
pub struct Plan {
    /// What to read, in order.
    pub units: Vec<Unit>,
    /// What could not be planned.
    pub problems: Vec<Problem>,
    /// Entries passed over on purpose, with the reason (unsafe names, superseded files).
    pub ignored: Vec<String>,
}

/// File extensions that can hold a chat export (AI Studio files often have none).
fn is_candidate(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    if file.starts_with('.') {
        return false;
    }
    match file.rsplit_once('.') {
        None => true,
        Some((_, ext)) => matches!(
            ext.to_ascii_lowercase().as_str(),
            "json" | "jsonl" | "html" | "htm"
        ),
    }
}

fn is_zip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// Plans the reading of `paths`.
pub fn plan(paths: &[PathBuf], opener: &Opener) -> Plan {
    let mut plan = Plan::default();
    for path in paths {
        if !path.exists() {
            plan.problems.push(Problem {
                input: path.display().to_string(),
                error: "no such file or folder".to_owned(),
                hint: "check the path; quote it if it contains spaces".to_owned(),
            });
            continue;
        }
        if path.is_dir() {
            plan_dir(path, opener, &mut plan);
        } else if is_zip(path) {
            plan_zip(path, opener, &mut plan);
        } else if let Some(listed) = claude_manifest(path, opener, &mut plan) {
            // The user named the manifest: read the files it lists.
            for file in listed {
                if is_zip(&file) {
                    plan_zip(&file, opener, &mut plan);
                } else {
                    plan.units.push(Unit {
                        origin: Origin::File(file),
                        explicit: false,
                        workspace: None,
                    });
                }
            }
        } else {
            plan.units.push(Unit {
                origin: Origin::File(path.clone()),
                explicit: true,
                workspace: file_workspace(path, opener),
            });
        }
    }
    // Claude projects first, so conversations naming one can be filed in its folder; the
    // order is otherwise kept (a stable sort).
    plan.units
        .sort_by_key(|u| !layouts::holds_claude_projects(&u.origin));
    plan
}

/// When `path` is a Claude export manifest: reports the files it lists that are missing and
/// returns those present. `None` when it is not a manifest.
fn claude_manifest(path: &Path, opener: &Opener, plan: &mut Plan) -> Option<Vec<PathBuf>> {
    let name = path.file_name()?.to_str()?;
    if !layouts::is_manifest_name(name) {
        return None;
    }
    let label = path.display().to_string();
    match layouts::claude_manifest(opener, &Origin::File(path.to_path_buf()))? {
        Ok(listed) => {
            let files = layouts::manifest_files(path, &listed);
            for missing in &files.missing {
                plan.problems.push(Problem {
                    input: format!("{label}: {missing}"),
                    error: format!(
                        "the Claude export manifest lists {missing}, which is not beside it"
                    ),
                    hint: "download it from the link in Claude's email (each link works once; \
                           ask for a new export if it has expired) into the manifest's folder, \
                           then import again; the files that are there were imported"
                        .to_owned(),
                });
            }
            plan.ignored.push(format!(
                "{label}: a Claude export manifest (not a conversation file); {} of the {} \
                 files it lists were found beside it",
                files.present.len(),
                listed.len()
            ));
            Some(files.present)
        }
        Err(e) => {
            plan.problems.push(Problem {
                input: label,
                error: format!("the Claude export manifest cannot be read: {e}"),
                hint: "check that the file is readable; the files beside it can be imported by \
                       naming their folder"
                    .to_owned(),
            });
            Some(Vec::new())
        }
    }
}

/// The VS Code workspace of a session file named on its own, from the `workspace.json` of its
/// workspace folder on disk.
fn file_workspace(path: &Path, opener: &Opener) -> Option<String> {
    let rel = path.to_string_lossy().replace('\\', "/");
    let dir = layouts::workspace_dir(&rel)?;
    let json = if dir.is_empty() {
        PathBuf::from("workspace.json")
    } else {
        Path::new(&dir).join("workspace.json")
    };
    json.is_file()
        .then(|| layouts::read_workspace(opener, &Origin::File(json)))
        .flatten()
}

fn plan_dir(dir: &Path, opener: &Opener, plan: &mut Plan) {
    let mut files = Vec::new();
    let mut zips = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                plan.problems.push(Problem {
                    input: d.display().to_string(),
                    error: format!("cannot list the folder: {e}"),
                    hint: "check its permissions".to_owned(),
                });
                continue;
            }
        };
        for entry in entries.flatten() {
            let p = entry.path();
            // Do not follow symbolic links out of the folder.
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_symlink() {
                continue;
            }
            if ft.is_dir() {
                stack.push(p);
            } else if is_zip(&p) {
                zips.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                if is_candidate(&rel) {
                    files.push((rel, Origin::File(p)));
                }
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    zips.sort();
    // A Claude manifest is not a conversation file: it says which files should be there.
    files.retain(|(rel, origin)| {
        let Origin::File(path) = origin else {
            return true;
        };
        let is_manifest = rel
            .rsplit('/')
            .next()
            .is_some_and(layouts::is_manifest_name)
            && claude_manifest(path, opener, plan).is_some();
        !is_manifest
    });
    let label = dir.display().to_string();
    arrange(&label, files, opener, plan);
    for z in zips {
        plan_zip(&z, opener, plan);
    }
}

fn plan_zip(archive: &Path, opener: &Opener, plan: &mut Plan) {
    let label = archive.display().to_string();
    let crate::source::ZipListing {
        safe: entries,
        unsafe_names,
    } = match zip_entries(archive) {
        Ok(v) => v,
        Err(e) => {
            plan.problems.push(Problem {
                input: label,
                error: e.to_string(),
                hint: match e {
                    OpenError::Io(_) => "check that the file is readable".to_owned(),
                    _ => {
                        "the archive is damaged or incomplete; download the export again".to_owned()
                    }
                },
            });
            return;
        }
    };
    for name in unsafe_names {
        plan.ignored.push(format!(
            "{label}!{name}: entry name escapes the archive (.. or an absolute path); ignored"
        ));
    }
    let files: Vec<(String, Origin)> = entries
        .into_iter()
        .filter(|(_, name)| is_candidate(name))
        .map(|(index, name)| {
            (
                name.clone(),
                Origin::ZipEntry {
                    archive: archive.to_path_buf(),
                    index,
                    name,
                },
            )
        })
        .collect();
    arrange(&label, files, opener, plan);
}

fn parent_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(p, _)| p)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Orders the candidate files of one container by the layouts it recognises.
fn arrange(label: &str, files: Vec<(String, Origin)>, opener: &Opener, plan: &mut Plan) {
    let by_rel: BTreeMap<String, Origin> = files.into_iter().collect();
    let mut taken: HashSet<String> = HashSet::new();

    // ChatGPT sharded exports: the manifest's order first.
    let manifests: Vec<String> = by_rel
        .keys()
        .filter(|k| k.rsplit('/').next() == Some("export_manifest.json"))
        .cloned()
        .collect();
    for manifest in manifests {
        taken.insert(manifest.clone());
        let Some(origin) = by_rel.get(&manifest) else {
            continue;
        };
        let dir = parent_of(&manifest).to_owned();
        match read_manifest(opener, origin) {
            // A manifest of a shape this importer does not know: the shards go in name order.
            Ok(None) => {
                tracing::debug!(manifest = %origin.display(), "export_manifest.json of an unknown shape; shards read in name order");
            }
            Ok(Some(shards)) => {
                for shard in shards {
                    let rel = join(&dir, &shard);
                    match by_rel.get(&rel) {
                        Some(o) => {
                            if taken.insert(rel.clone()) {
                                plan.units.push(Unit {
                                    origin: o.clone(),
                                    explicit: false,
                                    workspace: None,
                                });
                            }
                        }
                        None => plan.problems.push(Problem {
                            input: format!("{label}!{rel}"),
                            error: format!(
                                "export_manifest.json lists {shard} but the export lacks it"
                            ),
                            hint: "the download is incomplete: download the export again; the \
                                   shards that are present were imported"
                                .to_owned(),
                        }),
                    }
                }
            }
            Err(e) => plan.problems.push(Problem {
                input: origin.display(),
                error: format!("export_manifest.json cannot be read: {e}"),
                hint: "the shards were imported in name order instead".to_owned(),
            }),
        }
    }

    // VS Code chatSessions: <id>.jsonl supersedes <id>.json.
    for rel in by_rel.keys() {
        if let Some(stem) = rel.strip_suffix(".json") {
            let jsonl = format!("{stem}.jsonl");
            if by_rel.contains_key(&jsonl) && rel.contains("chatSessions/") {
                taken.insert(rel.clone());
                plan.ignored.push(format!(
                    "{label}!{rel}: superseded by {jsonl} (the newer session log)"
                ));
            }
        }
    }

    // VS Code keeps some sessions both in chatSessions/ and as a Copilot transcript: the
    // chatSessions file wins (it renders the chat more fully).
    for rel in by_rel.keys() {
        if let Some(twin) = layouts::chat_session_twins(rel)
            .into_iter()
            .find(|t| by_rel.contains_key(t))
        {
            taken.insert(rel.clone());
            plan.ignored.push(format!(
                "{label}!{rel}: the same session as {twin}, which is read instead"
            ));
        }
    }

    // VS Code workspaces: the folder name in each workspace's workspace.json, read once.
    let mut workspaces: HashMap<String, Option<String>> = HashMap::new();
    let mut workspace_of = |rel: &str| {
        let dir = layouts::workspace_dir(rel)?;
        workspaces
            .entry(dir.clone())
            .or_insert_with(|| {
                let json = by_rel.get(&join(&dir, "workspace.json"))?;
                layouts::read_workspace(opener, json)
            })
            .clone()
    };
    let mut units = Vec::new();
    for (rel, origin) in &by_rel {
        if taken.contains(rel) {
            continue;
        }
        units.push(Unit {
            origin: origin.clone(),
            explicit: false,
            workspace: workspace_of(rel),
        });
    }
    plan.units.extend(units);
}

/// The ordered shard names of `conversations.json` in a 2026 ChatGPT manifest, which comes in
/// two shapes (`../shared/formats/changes-2026.md`): `export_files: [{path, size_bytes}]`,
/// listing every file of every part (the conversation shards are picked out by name), or
/// `logical_files["conversations.json"].files`. `None` for another shape.
fn read_manifest(opener: &Opener, origin: &Origin) -> Result<Option<Vec<String>>, String> {
    let bytes = opener
        .head(origin, 16 * 1024 * 1024)
        .map_err(|e| e.to_string())?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    let name_of = |f: &serde_json::Value| match f {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => ["name", "path", "file", "filename"]
            .iter()
            .find_map(|k| o.get(*k).and_then(|v| v.as_str()).map(str::to_owned)),
        _ => None,
    };
    let safe = |s: &String| !s.contains("..") && !s.starts_with('/');
    if let Some(files) = value
        .pointer("/logical_files/conversations.json/files")
        .and_then(|f| f.as_array())
    {
        return Ok(Some(
            files.iter().filter_map(name_of).filter(safe).collect(),
        ));
    }
    if let Some(files) = value.get("export_files").and_then(|f| f.as_array()) {
        let mut shards: Vec<String> = files
            .iter()
            .filter_map(name_of)
            .filter(safe)
            .filter(|p| is_conversation_shard(p.rsplit('/').next().unwrap_or(p)))
            .collect();
        shards.sort();
        return Ok(Some(shards));
    }
    Ok(None)
}

/// `conversations.json` or `conversations-<digits>.json`.
fn is_conversation_shard(name: &str) -> bool {
    name.strip_prefix("conversations")
        .and_then(|rest| rest.strip_suffix(".json"))
        .is_some_and(|mid| {
            mid.is_empty()
                || mid
                    .strip_prefix('-')
                    .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        })
}
