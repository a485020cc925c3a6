//! The folder a session worked in, for its subfolder: the last segment of `context.cwd`, else
//! the deepest folder holding every absolute path named in tool arguments and attachments.

use serde_json::Value;

/// Absolute paths seen in a log (at most 10,000).
#[derive(Debug, Default)]
pub(super) struct Paths(Vec<String>);

impl Paths {
    /// Notes `path` when it is absolute (`/…`, `C:/…`, `file://…`).
    pub(super) fn note(&mut self, path: &str) {
        let p = path.strip_prefix("file://").unwrap_or(path);
        let absolute = p.starts_with('/')
            || (p.len() > 2 && p.as_bytes()[1] == b':' && matches!(p.as_bytes()[2], b'/' | b'\\'));
        if absolute && self.0.len() < 10_000 {
            self.0.push(p.replace('\\', "/"));
        }
    }

    /// Notes the absolute paths among the string arguments whose key names a path.
    pub(super) fn note_in(&mut self, input: &Value) {
        let mut stack = vec![input];
        let mut found = Vec::new();
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(map) => {
                    for (k, v) in map {
                        let key = k.to_ascii_lowercase();
                        match v {
                            Value::String(s)
                                if key.contains("path") || key == "file" || key == "uri" =>
                            {
                                found.push(s.clone());
                            }
                            other => stack.push(other),
                        }
                    }
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        for p in found {
            self.note(&p);
        }
    }

    /// The name of the folder holding every path noted.
    pub(super) fn folder(&self) -> Option<String> {
        common_folder(&self.0)
    }
}

pub(super) fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches(['/', '\\']);
    trimmed.rsplit(['/', '\\']).next().unwrap_or(trimmed)
}

/// The last segment of a folder path, `None` for a root.
pub(super) fn last_segment(path: &str) -> Option<String> {
    let name = basename(path);
    (!name.is_empty() && !name.ends_with(':')).then(|| name.to_owned())
}

/// The name of the deepest folder holding every path (each path's own folder when it is a
/// file), `None` when they share only a root.
fn common_folder(paths: &[String]) -> Option<String> {
    let mut common: Option<Vec<&str>> = None;
    for p in paths {
        let mut segments: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
        segments.pop(); // the file itself
        common = Some(match common {
            None => segments,
            Some(c) => c
                .iter()
                .zip(&segments)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| *a)
                .collect(),
        });
    }
    let common = common?;
    let last = common.last()?;
    (!last.ends_with(':')).then(|| (*last).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_working_folder_is_the_common_folder_of_tool_paths() {
        let paths = |ps: &[&str]| ps.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            common_folder(&paths(&[
                "/home/me/proj/src/a.rs",
                "/home/me/proj/tests/b.rs"
            ]))
            .as_deref(),
            Some("proj")
        );
        assert_eq!(
            common_folder(&paths(&["c:/work/api/main.py"])).as_deref(),
            Some("api")
        );
        assert_eq!(common_folder(&paths(&["/a/x", "/b/y"])), None);
        assert_eq!(common_folder(&paths(&["c:/x"])), None);
        assert_eq!(common_folder(&[]), None);
        assert_eq!(last_segment("/home/me/proj/").as_deref(), Some("proj"));
        assert_eq!(last_segment("/"), None);
    }
}
