//! Where input bytes come from: plain files and entries of zip archives, read in place.
//!
//! Zip entries are streamed straight out of the archive, never extracted to disk. Entry names
//! with `..` or an absolute path are ignored. Two limits make a zip bomb fail cleanly instead of
//! filling memory or disk: an entry whose declared size is more than [`Limits::max_ratio`]
//! times its compressed size is refused, and every read is counted against
//! [`Limits::max_total_bytes`] for the whole run (declared sizes can lie, so the count is of
//! bytes actually inflated).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Limits applied while reading archives.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most bytes inflated from archives over a whole run.
    pub max_total_bytes: u64,
    /// Highest accepted ratio of declared size to compressed size for entries over 1 MiB.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: 64 * 1024 * 1024 * 1024,
            max_ratio: 200,
        }
    }
}

/// One thing to read: a file or a zip entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A plain file.
    File(PathBuf),
    /// An entry of a zip archive, by index and name.
    ZipEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry's index in the archive.
        index: usize,
        /// The entry's name inside the archive.
        name: String,
    },
}

impl Origin {
    /// A name for messages: the path, or `archive.zip!entry/name`.
    pub fn display(&self) -> String {
        match self {
            Origin::File(p) => p.display().to_string(),
            Origin::ZipEntry { archive, name, .. } => format!("{}!{name}", archive.display()),
        }
    }

    /// The path inside the container (the entry name, or the file path), `/`-separated.
    pub fn inner_path(&self) -> String {
        match self {
            Origin::File(p) => p.to_string_lossy().replace('\\', "/"),
            Origin::ZipEntry { name, .. } => name.clone(),
        }
    }

    /// The file name (last path segment).
    pub fn file_name(&self) -> String {
        let inner = self.inner_path();
        inner.rsplit('/').next().unwrap_or(&inner).to_owned()
    }
}

/// Opens origins for reading, enforcing [`Limits`]. Cheap to clone; clones share the count of
/// inflated bytes.
#[derive(Debug, Clone)]
pub struct Opener {
    limits: Limits,
    inflated: Arc<AtomicU64>,
}

/// An open origin, lent to a closure: a buffered reader plus its size when known.
pub struct Opened<'a> {
    /// The bytes.
    pub reader: &'a mut dyn BufRead,
    /// The size in bytes, when known.
    pub size: Option<u64>,
}

impl std::fmt::Debug for Opened<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Why an origin could not be opened or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The file or archive could not be read.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The archive is damaged or not a zip.
    #[error("the archive cannot be read: {0}")]
    Zip(String),
    /// An entry inflates far beyond its compressed size.
    #[error(
        "entry {name} would inflate from {compressed} to {declared} bytes (more than {ratio}:1), \
         which is how a zip bomb looks; it was not read"
    )]
    Bomb {
        /// The entry.
        name: String,
        /// Compressed size.
        compressed: u64,
        /// Declared size.
        declared: u64,
        /// The limit.
        ratio: u64,
    },
}

fn zip_err(e: zip::result::ZipError) -> OpenError {
    match e {
        zip::result::ZipError::Io(io) => OpenError::Io(io),
        other => OpenError::Zip(other.to_string()),
    }
}

impl Opener {
    /// An opener with these limits.
    pub fn new(limits: Limits) -> Self {
        Opener {
            limits,
            inflated: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Opens an origin and lends its reader to `f`.
    pub fn with_reader<T>(
        &self,
        origin: &Origin,
        f: impl FnOnce(Opened<'_>) -> T,
    ) -> Result<T, OpenError> {
        match origin {
            Origin::File(path) => {
                let file = File::open(path)?;
                let size = file.metadata().ok().map(|m| m.len());
                let mut reader = BufReader::with_capacity(256 * 1024, file);
                Ok(f(Opened {
                    reader: &mut reader,
                    size,
                }))
            }
            Origin::ZipEntry { archive, index, .. } => {
                let file = File::open(archive)?;
                let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(zip_err)?;
                let (name, declared, compressed) = {
                    let entry = zip.by_index_raw(*index).map_err(zip_err)?;
                    let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
                    (name, entry.size(), entry.compressed_size())
                };
                let max_ratio = self.limits.max_ratio;
                if declared > 1024 * 1024 && declared > compressed.saturating_mul(max_ratio) {
                    return Err(OpenError::Bomb {
                        name,
                        compressed,
                        declared,
                        ratio: max_ratio,
                    });
                }
                let entry = zip.by_index(*index).map_err(zip_err)?;
                let guarded = Guarded {
                    inner: entry,
                    declared,
                    read: 0,
                    name,
                    inflated: &self.inflated,
                    max_total: self.limits.max_total_bytes,
                };
                let mut reader = BufReader::with_capacity(256 * 1024, guarded);
                Ok(f(Opened {
                    reader: &mut reader,
                    size: Some(declared),
                }))
            }
        }
    }

    /// Reads at most `limit` leading bytes of an origin (for detection).
    pub fn head(&self, origin: &Origin, limit: usize) -> Result<Vec<u8>, OpenError> {
        self.with_reader(origin, |opened| {
            let mut head = Vec::with_capacity(limit.min(1 << 20));
            opened
                .reader
                .take(limit as u64)
                .read_to_end(&mut head)
                .map(|_| head)
        })?
        .map_err(OpenError::Io)
    }
}

/// The entries of a zip archive, as listed by [`zip_entries`].
#[derive(Debug, Default)]
pub struct ZipListing {
    /// `(index, name)` of every file entry whose name is safe.
    pub safe: Vec<(usize, String)>,
    /// Names that escape the archive (`..`, absolute paths); they are ignored.
    pub unsafe_names: Vec<String>,
}

/// Lists the entries of a zip archive: every file entry whose name is safe, and separately the
/// names that are not.
pub fn zip_entries(archive: &Path) -> Result<ZipListing, OpenError> {
    let file = File::open(archive)?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(zip_err)?;
    let mut safe = Vec::new();
    let mut unsafe_names = Vec::new();
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(zip_err)?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        if entry.is_dir() {
            continue;
        }
        let has_parent = name.split(['/', '\\']).any(|seg| seg == "..");
        if entry.enclosed_name().is_none()
            || has_parent
            || name.starts_with('/')
            || name.starts_with('\\')
            || name.contains(':')
        {
            unsafe_names.push(name);
        } else {
            safe.push((i, name.replace('\\', "/")));
        }
    }
    Ok(ZipListing { safe, unsafe_names })
}

/// Counts inflated bytes: an entry may not inflate beyond its declared size, and a run may not
/// inflate more than the total limit.
struct Guarded<'a, R> {
    inner: R,
    declared: u64,
    read: u64,
    name: String,
    inflated: &'a AtomicU64,
    max_total: u64,
}

impl<R: Read> Read for Guarded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        let total = self.inflated.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if self.read > self.declared {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "entry {} inflates beyond its declared size of {} bytes; the archive is \
                     damaged or hostile",
                    self.name, self.declared
                ),
            ));
        }
        if total > self.max_total {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "more than {} bytes were inflated from archives in this run; stopping (a zip \
                     bomb?)",
                    self.max_total
                ),
            ));
        }
        Ok(n)
    }
}
