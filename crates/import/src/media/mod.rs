//! Media: the bytes behind the images, audio and files a conversation refers to, found in the
//! same export and stored once (`chat_store`'s media store).
//!
//! The parse thread resolves each conversation before it is batched, so the content hash and
//! the stored parts carry the media hashes: for every image, audio or attachment part it asks
//! the provider's parser for the keys the export may hold the bytes under
//! ([`chat_parse::Parser::media_keys`]), looks them up in an index of every file of the run's
//! inputs ([`index::FileIndex`]: zip entries, files of the folders) and streams the bytes into
//! the store in bounded memory; base64 held inline (AI Studio, Copilot) is decoded and stored
//! the same way. A second import writes no bytes: the store remembers what each zip entry or
//! file held (name, size and CRC-32 or modification time), so the bytes are hashed again to
//! verify, never written. A reference the export lacks stays a reference and is counted
//! missing.
//!
//! Our own export with media (`chat_export::bundle`) holds the bytes as `media/<hash>.<ext>`
//! beside `conversations.json`: [`MediaResolver::resolve_native`] finds them by the parts'
//! hashes, streams them into the store while hashing them, and keeps them only when they hash
//! to their name (else the reference is missing and the file is reported).

mod index;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chat_export::ExportDocument;
use chat_model::{MediaHash, MediaKind, ParsedConversation};
use chat_parse::Parser;
use chat_store::{MediaBatch, MediaMark, MediaWriter, Store};
use serde::{Deserialize, Serialize};

use self::index::{FileIndex, Location};
use crate::source::{Limits, Origin};

/// What happened to the media of an input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaCounts {
    /// References whose bytes were written to the store for the first time.
    pub stored: u64,
    /// References whose bytes the store already held (from an earlier import, or another
    /// reference of this one): nothing was written.
    pub deduplicated: u64,
    /// References whose bytes the export does not hold; they stay references.
    pub missing: u64,
}

impl MediaCounts {
    /// Adds other counts to these.
    pub fn add(&mut self, other: &MediaCounts) {
        self.stored += other.stored;
        self.deduplicated += other.deduplicated;
        self.missing += other.missing;
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        *self == MediaCounts::default()
    }
}

/// Resolves the media of conversations as the parse thread reads them.
pub(crate) struct MediaResolver {
    store: Store,
    /// The writers of this run (`None` when the store keeps no media files: in memory).
    batch: Option<MediaBatch>,
    limits: Limits,
    index: FileIndex,
    /// What this run stored already, by location.
    done: HashMap<Location, MediaHash>,
    /// Archives the user named, indexed on first need (so every part of a split export is
    /// searched, even a part that holds no conversation).
    archives: Vec<PathBuf>,
    /// The archive read last, kept open (its central directory is read once).
    archive: Option<(PathBuf, zip::ZipArchive<BufReader<File>>)>,
    /// Files of a native export whose bytes did not hash to their name (reported once).
    rejected: HashSet<Location>,
}

impl std::fmt::Debug for MediaResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaResolver").finish_non_exhaustive()
    }
}

/// Why some bytes could not be stored.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("the archive cannot be read: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("{0}")]
    Store(#[from] chat_store::Error),
    #[error("entry inflates from {compressed} to {declared} bytes, which is how a zip bomb looks")]
    Bomb { compressed: u64, declared: u64 },
    #[error(
        "the bytes hash to {actual}, not to the {expected} their name and the conversation \
         give; they were not stored (the file was changed or damaged after the export)"
    )]
    Mismatch {
        expected: MediaHash,
        actual: MediaHash,
    },
}

impl MediaResolver {
    /// A resolver for a run over `inputs` (the paths the user named).
    pub(crate) fn new(store: Store, limits: Limits, inputs: &[PathBuf]) -> Self {
        let archives = inputs
            .iter()
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")))
            .cloned()
            .collect();
        let batch = match store.media_batch() {
            Ok(batch) => Some(batch),
            Err(e) => {
                tracing::debug!(error = %e, "media are written one by one");
                None
            }
        };
        MediaResolver {
            store,
            batch,
            limits,
            index: FileIndex::default(),
            done: HashMap::new(),
            archives,
            archive: None,
            rejected: HashSet::new(),
        }
    }

    /// Everything stored so far, to wait for before writing what refers to it.
    pub(crate) fn mark(&self) -> Option<MediaMark> {
        self.batch.as_ref().map(MediaBatch::mark)
    }

    /// A writer of this run's media.
    fn writer(&self) -> chat_store::Result<MediaWriter> {
        match &self.batch {
            Some(batch) => batch.writer(),
            None => self.store.media_writer(),
        }
    }

    /// Stores the bytes of every media part of `c` that its export holds, setting the parts'
    /// `media`; returns the counts.
    pub(crate) fn resolve(
        &mut self,
        parser: &dyn Parser,
        origin: &Origin,
        c: &mut ParsedConversation,
    ) -> MediaCounts {
        let preferred = self.index_for(origin);
        let mut counts = MediaCounts::default();
        let mut inlined: Vec<String> = Vec::new();
        let ParsedConversation {
            messages,
            attachments,
            ..
        } = c;
        for part in messages.iter_mut().flat_map(|m| m.parts.iter_mut()) {
            let Some(slot) = part.media_slot() else {
                continue;
            };
            if slot.media.is_some() {
                continue;
            }
            // Bytes held inline: on the part (images), or on the conversation's attachment of
            // the same name (AI Studio's named inline files).
            let inline = slot.data.as_ref().and_then(|d| (**d).clone()).or_else(|| {
                let name = slot.name.filter(|_| slot.kind == MediaKind::File)?;
                attachments
                    .iter()
                    .find(|a| a.name == name && a.data.is_some())
                    .and_then(|a| a.data.clone())
            });
            if let Some(b64) = inline {
                if let Some(hash) = self.store_inline(&b64, slot.name, &mut counts) {
                    *slot.media = Some(hash.into());
                    match slot.data {
                        Some(data) if data.is_some() => *data = None,
                        _ => inlined.extend(slot.name.map(str::to_owned)),
                    }
                    continue;
                }
            }
            let keys = parser.media_keys(slot.reference, slot.name);
            if keys.is_empty() {
                continue;
            }
            let found = keys
                .iter()
                .find_map(|k| self.index.find(k, preferred.as_deref()).cloned());
            let name = slot.name.map(str::to_owned);
            match found.and_then(|loc| self.store_location(&loc, name, &mut counts)) {
                Some(hash) => *slot.media = Some(hash.into()),
                None => counts.missing += 1,
            }
        }
        // The bytes are in the store now; the attachment keeps its name, type and size.
        for a in attachments.iter_mut() {
            if inlined.contains(&a.name) {
                a.data = None;
            }
        }
        counts
    }

    /// Indexes the files of the run's archives and of `origin`'s container (once each);
    /// returns the container, where a conversation's media are looked for first.
    fn index_for(&mut self, origin: &Origin) -> Option<PathBuf> {
        for archive in std::mem::take(&mut self.archives) {
            self.index.add_container_of(&Origin::ZipEntry {
                archive,
                index: 0,
                name: String::new(),
            });
        }
        self.index.add_container_of(origin);
        match origin {
            Origin::ZipEntry { archive, .. } => Some(archive.clone()),
            Origin::File(p) => p.parent().map(Path::to_path_buf),
        }
    }

    /// Stores the bytes of the media an AI OS Chat export document refers to (its parts'
    /// `media` hashes), found as `media/<hash>.<ext>` (or any file named by the hash) in the
    /// same zip or folder. The bytes must hash to the name: bytes that do not are not stored,
    /// the reference is counted missing and a message saying so is returned. Items the store
    /// holds already are not read.
    pub(crate) fn resolve_native(
        &mut self,
        origin: &Origin,
        document: &ExportDocument,
    ) -> (MediaCounts, Vec<String>) {
        let preferred = self.index_for(origin);
        let mut counts = MediaCounts::default();
        let mut errors = Vec::new();
        let parts = document.conversation.messages.iter().flat_map(|m| &m.parts);
        for hash in parts.filter_map(|p| p.media()) {
            let Ok(hash) = hash.parse::<MediaHash>() else {
                counts.missing += 1;
                continue;
            };
            match self.store.read(|r| r.media_info(&hash)) {
                Ok(Some(_)) => {
                    counts.deduplicated += 1;
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "media could not be looked up");
                    counts.missing += 1;
                    continue;
                }
            }
            let found = self
                .index
                .find(hash.as_str(), preferred.as_deref())
                .cloned();
            let Some(loc) = found.filter(|l| !self.rejected.contains(l)) else {
                counts.missing += 1;
                continue;
            };
            if self.done.contains_key(&loc) {
                // Stored earlier in this run (and perhaps not recorded yet).
                counts.deduplicated += 1;
                continue;
            }
            let name = document
                .media
                .iter()
                .find(|e| e.hash == hash.as_str())
                .and_then(|e| e.name.as_deref());
            match self.fetch_verified(&loc, &hash, name) {
                Ok(true) => counts.stored += 1,
                Ok(false) => counts.deduplicated += 1,
                Err(e) => {
                    counts.missing += 1;
                    errors.push(format!("media {}: {e}", loc.display_name()));
                    self.rejected.insert(loc);
                }
            }
        }
        (counts, errors)
    }

    /// Streams the bytes at `loc` into the store if they hash to `expected` (and says
    /// whether they were new to it); else writes nothing and says what they hash to.
    fn fetch_verified(
        &mut self,
        loc: &Location,
        expected: &MediaHash,
        name: Option<&str>,
    ) -> Result<bool, FetchError> {
        let mut writer = self.writer()?.with_name(name);
        let mut hasher = blake3::Hasher::new();
        self.with_bytes(loc, |r| {
            let mut tee = Tee {
                out: &mut writer,
                hasher: &mut hasher,
            };
            io::copy(r, &mut tee).map(|_| ())
        })?;
        let actual = MediaHash::from_bytes(hasher.finalize().as_bytes());
        if &actual != expected {
            // Dropped unfinished: nothing is kept.
            drop(writer);
            return Err(FetchError::Mismatch {
                expected: expected.clone(),
                actual,
            });
        }
        let stored = writer.finish()?;
        self.done.insert(loc.clone(), expected.clone());
        Ok(stored.newly_stored)
    }

    /// Stores base64 bytes held inline; `None` when they do not decode.
    fn store_inline(
        &mut self,
        b64: &str,
        name: Option<&str>,
        counts: &mut MediaCounts,
    ) -> Option<MediaHash> {
        let cleaned: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(cleaned.trim_end_matches('='))
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(cleaned.trim_end_matches('='))
            })
            .ok()?;
        // Through the run's batch when there is one, which knows the items it holds but has
        // not recorded yet (the same picture as a file earlier in the run is not new).
        let stored = match &self.batch {
            Some(batch) => batch.put_bytes(&bytes, name),
            None => self.store.put_media_bytes(&bytes),
        };
        match stored {
            Ok(stored) => {
                if stored.newly_stored {
                    if let (Some(name), None) = (name, &self.batch) {
                        let hash = stored.info.hash.clone();
                        let named = self.store.write(|r| r.name_media(&hash, name));
                        if let Err(e) = named {
                            tracing::warn!(error = %e, "media could not be named");
                        }
                    }
                    counts.stored += 1;
                } else {
                    counts.deduplicated += 1;
                }
                Some(stored.info.hash)
            }
            Err(e) => {
                tracing::warn!(error = %e, "inline media could not be stored");
                None
            }
        }
    }

    /// Stores the bytes at `loc` (once per run; not at all when a hint and the bytes' hash
    /// show the store has them); `None` when they cannot be read.
    fn store_location(
        &mut self,
        loc: &Location,
        name: Option<String>,
        counts: &mut MediaCounts,
    ) -> Option<MediaHash> {
        if let Some(hash) = self.done.get(loc) {
            counts.deduplicated += 1;
            return Some(hash.clone());
        }
        let name = name.or_else(|| self.index.original_name(loc));
        match self.fetch(loc, name.as_deref()) {
            Ok((hash, newly)) => {
                if newly {
                    counts.stored += 1;
                } else {
                    counts.deduplicated += 1;
                }
                self.done.insert(loc.clone(), hash.clone());
                Some(hash)
            }
            Err(e) => {
                tracing::warn!(location = %loc.hint_key(), error = %e, "media could not be read");
                None
            }
        }
    }

    /// Reads the bytes at `loc`: hashed only when a hint says the store has them (and the hash
    /// agrees), else streamed into the store. Returns the hash and whether bytes were written.
    fn fetch(
        &mut self,
        loc: &Location,
        name: Option<&str>,
    ) -> Result<(MediaHash, bool), FetchError> {
        let key = loc.hint_key();
        let hinted = self.store.read(|r| {
            Ok(match r.media_hint(&key)? {
                Some(hash) if r.media_info(&hash)?.is_some() => Some(hash),
                _ => None,
            })
        })?;
        if let Some(hint) = hinted {
            let mut hasher = blake3::Hasher::new();
            self.with_bytes(loc, |r| io::copy(r, &mut HashSink(&mut hasher)).map(|_| ()))?;
            if MediaHash::from_bytes(hasher.finalize().as_bytes()) == hint {
                return Ok((hint, false));
            }
        }
        let mut writer = self.writer()?.with_name(name).with_hint(key);
        self.with_bytes(loc, |r| io::copy(r, &mut writer).map(|_| ()))?;
        let stored = writer.finish()?;
        Ok((stored.info.hash, stored.newly_stored))
    }

    /// Lends a reader of the bytes at `loc` to `f`.
    fn with_bytes(
        &mut self,
        loc: &Location,
        f: impl FnOnce(&mut dyn Read) -> io::Result<()>,
    ) -> Result<(), FetchError> {
        match loc {
            Location::File { path, .. } => {
                let mut file = BufReader::with_capacity(256 * 1024, File::open(path)?);
                f(&mut file)?;
            }
            Location::Zip {
                archive,
                index,
                size,
                compressed,
                ..
            } => {
                let ratio = self.limits.max_ratio;
                if *size > 1024 * 1024 && *size > compressed.saturating_mul(ratio) {
                    return Err(FetchError::Bomb {
                        compressed: *compressed,
                        declared: *size,
                    });
                }
                if self
                    .archive
                    .as_ref()
                    .is_none_or(|(p, _)| p != archive.as_ref())
                {
                    // A large buffer: entries are read 8 KiB at a time, one system call each
                    // with the default buffer (190,000 calls for 1.5 GB of media).
                    let file = BufReader::with_capacity(256 * 1024, File::open(archive.as_ref())?);
                    self.archive = Some((archive.to_path_buf(), zip::ZipArchive::new(file)?));
                }
                let Some((_, zip)) = self.archive.as_mut() else {
                    return Err(FetchError::Io(io::Error::other("archive not open")));
                };
                let entry = zip.by_index(*index)?;
                // An entry may not inflate beyond its declared size.
                let mut limited = entry.take(*size);
                f(&mut limited)?;
            }
        }
        Ok(())
    }
}

/// A `Write` that writes through and hashes what it writes.
struct Tee<'a, W: Write> {
    out: &'a mut W,
    hasher: &'a mut blake3::Hasher,
}

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A `Write` that only hashes.
struct HashSink<'a>(&'a mut blake3::Hasher);

impl Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
