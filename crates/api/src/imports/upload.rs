//! Uploads: streamed chunk by chunk into a private folder `<upload_dir>/chat-upload-<id>/`,
//! counting bytes against the configured limit, never held in memory. Zip archives are
//! recognised by their magic bytes, whatever they are called.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::error::ApiError;

/// An upload folder, removed when the last reference goes.
#[derive(Debug)]
pub(crate) struct UploadDir(pub(crate) PathBuf);

impl Drop for UploadDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %self.0.display(), error = %e, "could not remove an upload folder");
            }
        }
    }
}

/// A file name from a client, reduced to safe relative path segments.
fn safe_relative(name: &str, n: usize) -> PathBuf {
    let segments: Vec<String> = name
        .split(['/', '\\'])
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .map(|s| {
            s.chars()
                .map(|c| if c.is_control() || c == ':' { '_' } else { c })
                .take(200)
                .collect::<String>()
        })
        .collect();
    let keep = segments.len().saturating_sub(8);
    let path: PathBuf = segments[keep..].iter().collect();
    if path.as_os_str().is_empty() {
        PathBuf::from(format!("upload-{n}"))
    } else {
        path
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// Most files in one upload.
const MAX_FILES: usize = 10_000;

/// The upload folder of job `id` under `root`.
pub(super) fn upload_path(root: &Path, id: &str) -> PathBuf {
    root.join(format!("chat-upload-{id}"))
}

/// An upload being received: its folder, the files spooled into it so far, and the bytes they
/// hold. Dropped before its job starts, it removes its folder.
#[derive(Debug)]
pub(crate) struct Upload {
    id: String,
    dir: UploadDir,
    files: Vec<String>,
    total: u64,
    max: u64,
}

impl Upload {
    /// A new, empty upload folder under `root` for a new job id, taking at most `max` bytes.
    pub(super) async fn create(root: &Path, max: u64) -> Result<Upload, ApiError> {
        let id = uuid::Uuid::now_v7().to_string();
        let path = upload_path(root, &id);
        tokio::fs::create_dir_all(&path)
            .await
            .map_err(ApiError::internal)?;
        Ok(Upload {
            id,
            dir: UploadDir(path),
            files: Vec::new(),
            total: 0,
            max,
        })
    }

    /// Bytes received so far.
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Adds a file a client sent as `name` (a multipart field): its name made safe (and
    /// unique), a zip archive named `.zip`.
    pub(crate) async fn add_file<S, E>(&mut self, name: &str, body: S) -> Result<(), ApiError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if self.files.len() >= MAX_FILES {
            return Err(ApiError::invalid(format!(
                "at most {MAX_FILES} files per upload"
            )));
        }
        let dir = &self.dir.0;
        let mut rel = safe_relative(name, self.files.len());
        if dir.join(&rel).exists() {
            rel = PathBuf::from(format!("{}-{}", self.files.len(), rel.display()));
        }
        let head = spool(body, &dir.join(&rel), &mut self.total, self.max).await?;
        let rel = fix_name(dir, rel, &head).await?;
        self.files.push(rel.to_string_lossy().replace('\\', "/"));
        Ok(())
    }

    /// Adds a whole request body as one file, named `name` when the client gave one, else
    /// after the content type. An empty body adds nothing.
    pub(crate) async fn add_body<S, E>(
        &mut self,
        name: Option<&str>,
        content_type: &str,
        body: S,
    ) -> Result<(), ApiError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let default_name = if content_type.starts_with("text/html") {
            "upload.html"
        } else if content_type.contains("zip") {
            "upload.zip"
        } else {
            "upload.json"
        };
        let rel = name
            .map(|f| safe_relative(f, 0))
            .and_then(|p| p.file_name().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(default_name));
        let head = spool(body, &self.dir.0.join(&rel), &mut self.total, self.max).await?;
        if self.total > 0 {
            let rel = fix_name(&self.dir.0, rel, &head).await?;
            self.files.push(rel.to_string_lossy().into_owned());
        }
        Ok(())
    }

    /// The job id, the folder and its files; a request that held no file is a bad request.
    pub(super) fn finish(self) -> Result<(String, UploadDir, Vec<String>), ApiError> {
        if self.files.is_empty() || self.total == 0 {
            return Err(ApiError::bad_request(
                "empty_upload",
                "the request holds no file to import",
            ));
        }
        Ok((self.id, self.dir, self.files))
    }
}

/// Streams `body` into `path`, counting against `max`. Returns the first bytes.
async fn spool<S, E>(
    mut body: S,
    path: &Path,
    total: &mut u64,
    max: u64,
) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(ApiError::internal)?;
    }
    let file = tokio::fs::File::create(path)
        .await
        .map_err(ApiError::internal)?;
    let mut out = tokio::io::BufWriter::with_capacity(256 * 1024, file);
    let mut head = Vec::with_capacity(4);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("invalid_body", format!("the upload could not be read: {e}"))
        })?;
        *total += chunk.len() as u64;
        if *total > max {
            return Err(too_large(max));
        }
        if head.len() < 4 {
            head.extend(chunk.iter().take(4 - head.len()));
        }
        out.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    out.flush().await.map_err(ApiError::internal)?;
    Ok(head)
}

/// The 413 for an upload over `max` bytes.
pub(crate) fn too_large(max: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the upload is larger than the limit of {max} bytes"
    ))
}

/// Gives a zip archive a `.zip` name whatever it was called, since the importer opens archives
/// by extension.
async fn fix_name(dir: &Path, rel: PathBuf, head: &[u8]) -> Result<PathBuf, ApiError> {
    let is_zip_name = rel
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if head == ZIP_MAGIC && !is_zip_name {
        let mut renamed = rel.clone().into_os_string();
        renamed.push(".zip");
        let renamed = PathBuf::from(renamed);
        tokio::fs::rename(dir.join(&rel), dir.join(&renamed))
            .await
            .map_err(ApiError::internal)?;
        return Ok(renamed);
    }
    Ok(rel)
}
