//! Every file of the inputs a run reads (zip entries, files of the folders), by the names a
//! parser's media keys may take, so a reference finds its bytes in the same export.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use crate::source::Origin;

/// How deep a folder is walked below an input's directory (ChatGPT keeps audio at
/// `<conversation>/audio/<file>`).
const MAX_DEPTH: usize = 3;
/// Most files indexed per folder (an input passed from a crowded directory must not make the
/// import list a whole disk).
const MAX_FOLDER_FILES: usize = 100_000;

/// Where some bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Location {
    /// An entry of a zip archive.
    Zip {
        archive: Arc<PathBuf>,
        index: usize,
        name: String,
        size: u64,
        compressed: u64,
        crc: u32,
    },
    /// A file.
    File {
        path: PathBuf,
        size: u64,
        mtime: u128,
    },
}

impl Location {
    /// What identifies these bytes across runs without reading them (the store's media hint):
    /// a zip entry's name, size and CRC-32; a file's path, size and modification time.
    pub(crate) fn hint_key(&self) -> String {
        match self {
            Location::Zip {
                name, size, crc, ..
            } => format!("zip:{name}:{size}:{crc:08x}"),
            Location::File { path, size, mtime } => {
                format!("file:{}:{size}:{mtime}", path.display())
            }
        }
    }
}

impl Location {
    /// The file, for messages: `archive!entry` or the path.
    pub(crate) fn display_name(&self) -> String {
        match self {
            Location::Zip { archive, name, .. } => format!("{}!{name}", archive.display()),
            Location::File { path, .. } => path.display().to_string(),
        }
    }
}

/// The files of the run's containers, by name.
#[derive(Debug, Default)]
pub(crate) struct FileIndex {
    /// By file name.
    by_name: HashMap<String, Vec<Location>>,
    /// By file name without its extension.
    by_stem: HashMap<String, Vec<Location>>,
    /// By ChatGPT file id: the `file-<id>` / `file_<id>` prefix of `file-<id>-<name>`.
    by_file_id: HashMap<String, Vec<Location>>,
    containers: HashSet<PathBuf>,
    /// ChatGPT's `conversation_asset_file_names.json`: entry name → original name.
    asset_names: HashMap<String, String>,
}

/// Largest asset-name map read (it lists one short line per file).
const MAX_ASSET_MAP: u64 = 64 * 1024 * 1024;

impl FileIndex {
    /// Adds the container of `origin` (its archive, or its file's directory), once.
    pub(crate) fn add_container_of(&mut self, origin: &Origin) {
        match origin {
            Origin::ZipEntry { archive, .. } => {
                if self.containers.insert(archive.clone()) {
                    if let Err(e) = self.add_zip(archive).and_then(|()| self.read_asset_names()) {
                        tracing::warn!(archive = %archive.display(), error = %e, "media in this archive cannot be found");
                    }
                }
            }
            Origin::File(path) => {
                let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
                if self.containers.insert(dir.clone()) {
                    let mut budget = MAX_FOLDER_FILES;
                    self.add_dir(&dir, 0, &mut budget);
                    if let Err(e) = self.read_asset_names() {
                        tracing::warn!(dir = %dir.display(), error = %e, "the asset-name map cannot be read");
                    }
                }
            }
        }
    }

    fn add_zip(&mut self, archive: &Path) -> Result<(), zip::result::ZipError> {
        let file = fs::File::open(archive)?;
        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))?;
        let shared = Arc::new(archive.to_path_buf());
        for index in 0..zip.len() {
            let entry = zip.by_index_raw(index)?;
            if entry.is_dir() || entry.enclosed_name().is_none() {
                continue;
            }
            let name = entry
                .name()
                .map(|n| n.replace('\\', "/"))
                .unwrap_or_default();
            let location = Location::Zip {
                archive: Arc::clone(&shared),
                index,
                name: name.clone(),
                size: entry.size(),
                compressed: entry.compressed_size(),
                crc: entry.crc32(),
            };
            self.insert(&name, location);
        }
        Ok(())
    }

    /// Reads ChatGPT's asset-name map, when an indexed container has one (names only: a
    /// reference is resolved by its file id, and the map may list files the export lacks).
    fn read_asset_names(&mut self) -> Result<(), zip::result::ZipError> {
        let Some(locations) = self.by_name.get("conversation_asset_file_names.json") else {
            return Ok(());
        };
        for location in locations.clone() {
            let bytes = match &location {
                Location::File { path, size, .. } if *size <= MAX_ASSET_MAP => fs::read(path)?,
                Location::Zip {
                    archive,
                    index,
                    size,
                    ..
                } if *size <= MAX_ASSET_MAP => {
                    let file = fs::File::open(archive.as_path())?;
                    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))?;
                    let mut bytes = Vec::new();
                    let entry = zip.by_index(*index)?;
                    std::io::Read::read_to_end(&mut std::io::Read::take(entry, *size), &mut bytes)?;
                    bytes
                }
                _ => continue,
            };
            if let Ok(map) = serde_json::from_slice::<HashMap<String, String>>(&bytes) {
                self.asset_names.extend(map);
            }
        }
        Ok(())
    }

    /// A name for the bytes at `location`: the asset-name map's (its last path segment), or
    /// the file's own unless it is an opaque `.dat`.
    pub(crate) fn original_name(&self, location: &Location) -> Option<String> {
        let path = match location {
            Location::Zip { name, .. } => name.as_str(),
            Location::File { path, .. } => path.to_str()?,
        };
        let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
        if let Some(mapped) = self.asset_names.get(base) {
            let last = mapped.rsplit('/').next().unwrap_or(mapped);
            return Some(last.to_owned()).filter(|n| !n.is_empty());
        }
        (!base.ends_with(".dat")).then(|| base.to_owned())
    }

    fn add_dir(&mut self, dir: &Path, depth: usize, budget: &mut usize) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if *budget == 0 {
                return;
            }
            let Ok(meta) = entry.metadata() else { continue };
            let path = entry.path();
            if meta.is_dir() {
                if depth < MAX_DEPTH {
                    self.add_dir(&path, depth + 1, budget);
                }
            } else if meta.is_file() {
                *budget -= 1;
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                let name = path.to_string_lossy().into_owned();
                let location = Location::File {
                    path,
                    size: meta.len(),
                    mtime,
                };
                self.insert(&name, location);
            }
        }
    }

    fn insert(&mut self, path: &str, location: Location) {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_owned();
        if let Some((stem, _)) = name.rsplit_once('.') {
            push(&mut self.by_stem, stem, &location);
        }
        if let Some(id) = file_id(&name) {
            push(&mut self.by_file_id, id, &location);
        }
        push(&mut self.by_name, &name, &location);
    }

    /// The bytes a key names: a file called so, else one whose stem is the key, else one whose
    /// ChatGPT file id is the key. Among several, the first found in `preferred` (the
    /// container of the conversation's own input), else the first.
    pub(crate) fn find(&self, key: &str, preferred: Option<&Path>) -> Option<&Location> {
        let key = key.rsplit(['/', '\\']).next().unwrap_or(key);
        let found = [&self.by_name, &self.by_stem, &self.by_file_id]
            .iter()
            .find_map(|map| map.get(key).filter(|v| !v.is_empty()))?;
        let preferred = preferred.and_then(|p| {
            found.iter().find(|l| match l {
                Location::Zip { archive, .. } => archive.as_path() == p,
                Location::File { path, .. } => path.starts_with(p),
            })
        });
        preferred.or_else(|| found.first())
    }
}

fn push(map: &mut HashMap<String, Vec<Location>>, key: &str, location: &Location) {
    map.entry(key.to_owned())
        .or_default()
        .push(location.clone());
}

/// `file-<id>` of `file-<id>-<name>` / `file-<id>.<ext>` (and `file_<hex>…`).
fn file_id(name: &str) -> Option<&str> {
    let rest = name
        .strip_prefix("file-")
        .or_else(|| name.strip_prefix("file_"))?;
    let end = rest.find(['-', '.']).unwrap_or(rest.len());
    (end > 0).then(|| &name[..5 + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatgpt_file_ids_are_the_prefix_before_the_name() {
        assert_eq!(file_id("file-AbC12-photo.png"), Some("file-AbC12"));
        assert_eq!(file_id("file_00ff.dat"), Some("file_00ff"));
        assert_eq!(file_id("file-XYZ"), Some("file-XYZ"));
        assert_eq!(file_id("file-"), None);
        assert_eq!(file_id("photo.png"), None);
    }
}
