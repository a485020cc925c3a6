//! Layouts that span several files: Claude's manifest delivery, Claude projects, and the
//! VS Code workspace a Copilot session belongs to.
//!
//! * **Claude manifest delivery** (from about 2026-08): the email holds
//!   `manifest-<uuid>-….json`, which lists per-category files (`conversations-000.zip`,
//!   `projects-000.zip`, `users.json`, `memories.json`), each behind a single-use link. The
//!   user downloads them beside the manifest and names the folder, the manifest, or the zips.
//!   A manifest is recognised by content (any array of objects with `category`, `filename` and
//!   `export_url`; the wrapper key is not documented); the files it lists are looked for beside
//!   it, those present are read, and each one missing is reported.
//! * **Claude projects** are read before anything else of a run, so a conversation that names
//!   its project only by uuid can be filed in the project's folder (see `run_context`).
//! * **VS Code workspaces**: `workspaceStorage/<hash>/workspace.json` names the folder (or the
//!   `.code-workspace` file) a workspace's sessions belong to, both for
//!   `GitHub.copilot-chat/transcripts/<id>.jsonl` and `chatSessions/<id>.json[l]` below it. Its
//!   last path segment becomes the sessions' subfolder (`imported/copilot/<folder name>`).

use std::path::Path;

use serde_json::Value;

use crate::source::{Opener, Origin};

/// Most bytes of a manifest or `workspace.json` read.
const SMALL_FILE_LIMIT: usize = 16 * 1024 * 1024;

/// Whether a file name can be a Claude export manifest (`manifest-….json`).
pub(crate) fn is_manifest_name(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    lower.starts_with("manifest") && lower.ends_with(".json")
}

/// The file names a Claude export manifest lists, or `None` when `origin` is not one (no array
/// of objects with `category`, `filename` and `export_url`).
pub(crate) fn claude_manifest(
    opener: &Opener,
    origin: &Origin,
) -> Option<Result<Vec<String>, String>> {
    let bytes = match opener.head(origin, SMALL_FILE_LIMIT) {
        Ok(b) => b,
        Err(e) => return Some(Err(e.to_string())),
    };
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let mut files = Vec::new();
    let mut found = false;
    let mut stack = vec![&value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => {
                for item in items {
                    let entry = item.as_object().filter(|o| {
                        o.contains_key("category")
                            && o.contains_key("export_url")
                            && o.get("filename").is_some_and(Value::is_string)
                    });
                    match entry
                        .and_then(|o| o.get("filename"))
                        .and_then(Value::as_str)
                    {
                        Some(name) => {
                            found = true;
                            if is_plain_file_name(name) && !files.iter().any(|f| f == name) {
                                files.push(name.to_owned());
                            }
                        }
                        None => stack.push(item),
                    }
                }
            }
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    found.then_some(Ok(files))
}

/// A bare file name: no directories, no `..`, not empty.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\', ':']) && name != "." && name != ".."
}

/// What a Claude manifest's listed files come to, next to the manifest at `path`.
#[derive(Debug, Default)]
pub(crate) struct ManifestFiles {
    /// Listed files that are there.
    pub present: Vec<std::path::PathBuf>,
    /// Listed files that are not.
    pub missing: Vec<String>,
}

/// Looks for the files a manifest lists in the manifest's folder.
pub(crate) fn manifest_files(path: &Path, listed: &[String]) -> ManifestFiles {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut out = ManifestFiles::default();
    for name in listed {
        let candidate = dir.join(name);
        if candidate.is_file() {
            out.present.push(candidate);
        } else {
            out.missing.push(name.clone());
        }
    }
    out
}

/// Whether an input holds Claude projects, to be read first: `projects.json`,
/// `projects/<uuid>.json`, or any entry of a `projects-….zip`.
pub(crate) fn holds_claude_projects(origin: &Origin) -> bool {
    let inner = origin.inner_path();
    let mut segments = inner.rsplit('/');
    let file = segments.next().unwrap_or("").to_ascii_lowercase();
    let parent = segments.next().unwrap_or("");
    if file == "projects.json" || (parent == "projects" && file.ends_with(".json")) {
        return true;
    }
    match origin {
        Origin::ZipEntry { archive, .. } => archive
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.to_ascii_lowercase().starts_with("projects")),
        Origin::File(_) => false,
    }
}

/// For a Copilot session file at `rel` (`/`-separated), the folder of its workspace: the
/// directory holding `GitHub.copilot-chat/transcripts/<id>.jsonl` or `chatSessions/<id>.json`
/// (`""` for the container's root). `None` for other files.
pub(crate) fn workspace_dir(rel: &str) -> Option<String> {
    let segments: Vec<&str> = rel.split('/').collect();
    let n = segments.len();
    let at = |i: usize| segments.get(i).copied().unwrap_or("");
    let file = at(n.checked_sub(1)?);
    if !(file.ends_with(".json") || file.ends_with(".jsonl")) {
        return None;
    }
    let dir_end = if n >= 3
        && at(n - 2) == "transcripts"
        && at(n - 3).eq_ignore_ascii_case("GitHub.copilot-chat")
    {
        n - 3
    } else if n >= 2 && at(n - 2) == "chatSessions" {
        n - 2
    } else {
        return None;
    };
    Some(segments[..dir_end].join("/"))
}

/// For a Copilot transcript at `rel` (`<dir>/GitHub.copilot-chat/transcripts/<id>.jsonl`), the
/// `chatSessions` files of the same session in the same workspace, which supersede it when
/// present (VS Code's own session file renders the chat more fully).
pub(crate) fn chat_session_twins(rel: &str) -> Vec<String> {
    let Some(dir) = workspace_dir(rel) else {
        return Vec::new();
    };
    let Some(id) = rel
        .strip_suffix(".jsonl")
        .filter(|r| r.rsplit('/').nth(1) == Some("transcripts"))
        .and_then(|r| r.rsplit('/').next())
    else {
        return Vec::new();
    };
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    ["jsonl", "json"]
        .iter()
        .map(|ext| format!("{prefix}chatSessions/{id}.{ext}"))
        .collect()
}

/// The workspace's folder name from the bytes of a `workspace.json`: the last segment of
/// `folder`, or of `workspace` without `.code-workspace`; percent-escapes decoded.
pub(crate) fn workspace_name(bytes: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let (uri, multi) = match (value.get("folder"), value.get("workspace")) {
        (Some(Value::String(f)), _) => (f.as_str(), false),
        (_, Some(Value::String(w))) => (w.as_str(), true),
        _ => return None,
    };
    let uri = uri.split(['?', '#']).next().unwrap_or(uri);
    // The path after `scheme://authority`, when there is a scheme.
    let path = match uri.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => uri,
    };
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    let mut name = percent_decode(last);
    if multi {
        if let Some(stem) = name.strip_suffix(".code-workspace") {
            name = stem.to_owned();
        }
    }
    let name = name.trim().to_owned();
    (!name.is_empty()).then_some(name)
}

/// Reads the workspace name from the `workspace.json` at `origin`.
pub(crate) fn read_workspace(opener: &Opener, origin: &Origin) -> Option<String> {
    let bytes = opener.head(origin, SMALL_FILE_LIMIT).ok()?;
    workspace_name(&bytes)
}

/// Decodes `%XX` escapes (invalid ones are kept as written; invalid UTF-8 becomes U+FFFD).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_names_come_from_folder_and_workspace_uris() {
        let name = |s: &str| workspace_name(s.as_bytes());
        assert_eq!(
            name(r#"{"folder":"file:///home/me/my%20proj"}"#).as_deref(),
            Some("my proj")
        );
        assert_eq!(
            name(r#"{"folder":"vscode-remote://wsl%2Bubuntu/home/me/api/"}"#).as_deref(),
            Some("api")
        );
        assert_eq!(
            name(r#"{"workspace":"file:///c%3A/work/suite.code-workspace"}"#).as_deref(),
            Some("suite")
        );
        assert_eq!(name(r#"{"folder":"file:///"}"#), None);
        assert_eq!(name(r#"{"other":1}"#), None);
        assert_eq!(name("not json"), None);
        assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
    }

    #[test]
    fn session_files_name_their_workspace_folder() {
        assert_eq!(
            workspace_dir("ws/9f8e/GitHub.copilot-chat/transcripts/s1.jsonl").as_deref(),
            Some("ws/9f8e")
        );
        assert_eq!(
            workspace_dir("9f8e/chatSessions/s1.json").as_deref(),
            Some("9f8e")
        );
        assert_eq!(
            workspace_dir("GitHub.copilot-chat/transcripts/s1.jsonl").as_deref(),
            Some("")
        );
        assert_eq!(workspace_dir("9f8e/transcripts/s1.jsonl"), None);
        assert_eq!(workspace_dir("9f8e/workspace.json"), None);
    }

    #[test]
    fn transcripts_name_the_chat_session_files_of_their_session() {
        assert_eq!(
            chat_session_twins("w/h/GitHub.copilot-chat/transcripts/s1.jsonl"),
            ["w/h/chatSessions/s1.jsonl", "w/h/chatSessions/s1.json"]
        );
        assert_eq!(
            chat_session_twins("GitHub.copilot-chat/transcripts/s1.jsonl"),
            ["chatSessions/s1.jsonl", "chatSessions/s1.json"]
        );
        assert!(chat_session_twins("w/h/chatSessions/s1.jsonl").is_empty());
    }

    #[test]
    fn project_inputs_are_recognised_by_path() {
        let file = |p: &str| Origin::File(p.into());
        assert!(holds_claude_projects(&file("export/projects.json")));
        assert!(holds_claude_projects(&file("export/projects/1f2e.json")));
        assert!(!holds_claude_projects(&file("export/conversations.json")));
        let entry = |archive: &str, name: &str| Origin::ZipEntry {
            archive: archive.into(),
            index: 0,
            name: name.into(),
        };
        assert!(holds_claude_projects(&entry(
            "d/projects-000.zip",
            "1f2e.json"
        )));
        assert!(!holds_claude_projects(&entry(
            "d/conversations-000.zip",
            "conversations.json"
        )));
    }
}
