//! Exports with media: the conversations and the bytes of every media item they refer to.
//!
//! * [`write_zip`]: one zip archive. In JSON, `conversations.json` (the lossless documents,
//!   each listing its media in [`ExportDocument::media`]) and `media/<hash>.<ext>`; it imports
//!   back identical, media included. In Markdown, one `<title>-<id>.md` per conversation and
//!   the same `media/` folder, linked from the files.
//! * [`write_markdown_dir`]: one Markdown file per conversation in a folder, with the media
//!   in its `media/` folder, linked.
//!
//! Each item is written once however many messages refer to it, under its hash and an
//! extension chosen from the type sniffed from its bytes (never from an imported name), so no
//! name from an export reaches the file system. The bytes are streamed from the store
//! ([`Store::media_bytes`]) in bounded memory; the JSON array is streamed into its entry one
//! conversation at a time. What stays in memory is one small record per distinct item (hash,
//! type, size), so each is written once. A reference whose bytes the store lacks stays in the
//! document (its hash) and is counted missing; Markdown shows a note instead of a link.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chat_model::{ConversationDetail, MediaHash, Message};
use chat_store::{MediaInfo, Store};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::error::Result;
use crate::json::{ArrayWriter, ExportDocument, MediaEntry};
use crate::markdown::{self, LinkedMedia, MediaLinks};
use crate::Format;

/// The name of the JSON document array inside an export zip.
pub const JSON_ENTRY: &str = "conversations.json";
/// The folder of the media inside an export zip or Markdown folder.
pub const MEDIA_DIR: &str = "media";

/// What an export with media wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BundleWritten {
    /// Conversations written.
    pub conversations: u64,
    /// Distinct media items written (each once).
    pub media: u64,
    /// Bytes of media written.
    pub media_bytes: u64,
    /// Distinct items referred to whose bytes the store does not hold.
    pub missing: u64,
}

/// The file extension for bytes of type `mime` (sniffed by the store). Types a browser or a
/// file manager would treat as a page, a script or an archive to open get `bin`.
pub fn extension(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/bmp" => "bmp",
        "image/tiff" => "tif",
        "image/avif" => "avif",
        "image/heif" | "image/heic" => "heic",
        "image/svg+xml" => "svg",
        "audio/mpeg" => "mp3",
        "audio/x-wav" | "audio/wav" => "wav",
        "audio/ogg" => "ogg",
        "audio/m4a" | "audio/mp4" | "audio/x-m4a" => "m4a",
        "audio/aac" => "aac",
        "audio/x-flac" | "audio/flac" => "flac",
        "audio/webm" => "weba",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "video/quicktime" => "mov",
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        _ => "bin",
    }
}

/// Where the bytes of an item go inside an export: `media/<hash>.<ext>`.
pub fn media_path(info: &MediaInfo) -> String {
    format!("{MEDIA_DIR}/{}.{}", info.hash, extension(&info.mime))
}

/// Whether bytes of this type are compressed already (stored as they are in the zip).
fn compressed_already(mime: &str) -> bool {
    matches!(
        mime,
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "image/avif"
            | "image/heif"
            | "image/heic"
            | "audio/mpeg"
            | "audio/ogg"
            | "audio/m4a"
            | "audio/mp4"
            | "audio/x-m4a"
            | "audio/aac"
            | "audio/x-flac"
            | "audio/flac"
            | "audio/webm"
            | "application/zip"
            | "application/gzip"
    ) || mime.starts_with("video/")
}

/// The media hashes `messages` refer to, in order of appearance, each once.
fn referenced<'a>(messages: impl IntoIterator<Item = &'a Message>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    messages
        .into_iter()
        .flat_map(|m| m.parts.iter().filter_map(|p| p.media()))
        .filter(|h| seen.insert(*h))
        .collect()
}

/// The media of an export: what the store knows of each item referred to, and whether its
/// bytes have been written yet.
struct Catalog<'s> {
    store: &'s Store,
    /// By hash: the item (`None`: not stored, or not a valid hash).
    items: HashMap<String, Option<MediaInfo>>,
    /// Items looked up and not yet written, in order.
    pending: Vec<String>,
}

impl<'s> Catalog<'s> {
    fn new(store: &'s Store) -> Self {
        Catalog {
            store,
            items: HashMap::new(),
            pending: Vec::new(),
        }
    }

    /// What the store knows of `hash` (looked up once).
    fn info(&mut self, hash: &str) -> Result<Option<&MediaInfo>> {
        if !self.items.contains_key(hash) {
            let info = match hash.parse::<MediaHash>() {
                Ok(h) => self.store.read(|r| r.media_info(&h))?,
                Err(_) => None,
            };
            self.items.insert(hash.to_owned(), info);
            self.pending.push(hash.to_owned());
        }
        Ok(self.items.get(hash).and_then(Option::as_ref))
    }

    /// The links for the media of `messages` (only items the store holds).
    fn links<'a>(&mut self, messages: impl IntoIterator<Item = &'a Message>) -> Result<MediaLinks> {
        let mut links = MediaLinks::default();
        for hash in referenced(messages) {
            if let Some(info) = self.info(hash)? {
                let linked = LinkedMedia {
                    path: media_path(info),
                    name: info.name.clone(),
                };
                links.insert(hash, linked);
            }
        }
        Ok(links)
    }

    /// The entries of a document's media list (items the store holds).
    fn entries(&mut self, detail: &ConversationDetail) -> Result<Vec<MediaEntry>> {
        let mut out = Vec::new();
        for hash in referenced(&detail.messages) {
            if let Some(info) = self.info(hash)? {
                out.push(MediaEntry {
                    hash: hash.to_owned(),
                    name: info.name.clone(),
                    mime: info.mime.clone(),
                    size: info.size,
                    path: media_path(info),
                });
            }
        }
        Ok(out)
    }

    /// Writes every item looked up and not yet written, each through `write` (which gets the
    /// item and a reader of its bytes), and counts them.
    fn write_pending(
        &mut self,
        written: &mut BundleWritten,
        mut write: impl FnMut(&MediaInfo, &mut dyn io::Read) -> Result<u64>,
    ) -> Result<()> {
        for hash in std::mem::take(&mut self.pending) {
            let Some(Some(info)) = self.items.get(&hash) else {
                written.missing += 1;
                continue;
            };
            let mut bytes = self.store.media_bytes(&info.hash, 0, u64::MAX)?;
            written.media_bytes += write(info, &mut bytes)?;
            written.media += 1;
        }
        Ok(())
    }
}

/// Writes the conversations of `details` and the bytes of their media as one zip archive into
/// `out` (which need not seek: the archive is streamed, so `out` may be a network response).
/// `format` is [`Format::Json`] (imports back) or [`Format::Markdown`]; fine-tuning JSONL
/// carries no media and is written as JSON. Returns what was written and `out`.
pub fn write_zip<W: Write>(
    store: &Store,
    format: Format,
    details: impl IntoIterator<Item = chat_store::Result<ConversationDetail>>,
    out: W,
) -> Result<(BundleWritten, W)> {
    let mut zip = ZipWriter::new_stream(out);
    let text = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true);
    let mut catalog = Catalog::new(store);
    let mut written = BundleWritten::default();
    if format == Format::Markdown {
        let mut names = HashSet::new();
        for detail in details {
            let detail = detail?;
            let links = catalog.links(markdown::shown_messages(&detail))?;
            let name = unique_name(&mut names, Format::Markdown.file_name(&detail.conversation));
            zip.start_file(name, text)?;
            markdown::write_conversation_linked(&mut zip, &detail, Some(&links))?;
            written.conversations += 1;
            catalog.write_pending(&mut written, |info, bytes| {
                media_entry(&mut zip, info, bytes)
            })?;
        }
    } else {
        zip.start_file(JSON_ENTRY, text)?;
        let mut array = ArrayWriter::new(&mut zip)?;
        for detail in details {
            let detail = detail?;
            let media = catalog.entries(&detail)?;
            let mut document = ExportDocument::new(detail);
            document.media = media;
            array.push_document(&document)?;
            written.conversations += 1;
        }
        array.finish()?;
        catalog.write_pending(&mut written, |info, bytes| {
            media_entry(&mut zip, info, bytes)
        })?;
    }
    let out = zip.finish()?.into_inner();
    Ok((written, out))
}

/// Writes one item as a zip entry.
fn media_entry<W: Write>(
    zip: &mut ZipWriter<zip::write::StreamWriter<W>>,
    info: &MediaInfo,
    bytes: &mut dyn io::Read,
) -> Result<u64> {
    let method = if compressed_already(&info.mime) {
        CompressionMethod::Stored
    } else {
        CompressionMethod::Deflated
    };
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(info.size >= u64::from(u32::MAX));
    zip.start_file(media_path(info), options)?;
    Ok(io::copy(bytes, zip)?)
}

/// `name`, or `name` with `-2`, `-3`… before its extension when a file of the export has it
/// already (two conversations with the same title and id prefix).
fn unique_name(names: &mut HashSet<String>, name: String) -> String {
    if names.insert(name.clone()) {
        return name;
    }
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name.as_str(), ""));
    let mut n = 2u64;
    loop {
        let candidate = format!("{stem}-{n}.{ext}");
        if names.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// Writes one Markdown file per conversation of `details` into `dir` (created if missing),
/// with the media they show in `dir/media/` (made only when there are some), linked. Returns
/// what was written.
pub fn write_markdown_dir(
    store: &Store,
    details: impl IntoIterator<Item = chat_store::Result<ConversationDetail>>,
    dir: &Path,
) -> Result<BundleWritten> {
    std::fs::create_dir_all(dir)?;
    let media_dir = dir.join(MEDIA_DIR);
    let mut catalog = Catalog::new(store);
    let mut written = BundleWritten::default();
    let mut names = HashSet::new();
    for detail in details {
        let detail = detail?;
        let links = catalog.links(markdown::shown_messages(&detail))?;
        let name = unique_name(&mut names, Format::Markdown.file_name(&detail.conversation));
        let mut out = BufWriter::new(File::create(dir.join(name))?);
        markdown::write_conversation_linked(&mut out, &detail, Some(&links))?;
        out.flush()?;
        written.conversations += 1;
        catalog.write_pending(&mut written, |info, bytes| {
            // `media_path` is `media/<hex>.<ext>`: nothing from the export is in it.
            std::fs::create_dir_all(&media_dir)?;
            let path = dir.join(media_path(info));
            let mut file = BufWriter::with_capacity(256 * 1024, File::create(&path)?);
            let n = io::copy(bytes, &mut file)?;
            file.flush()?;
            Ok(n)
        })?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_never_make_a_page_or_a_script() {
        assert_eq!(extension("image/png"), "png");
        assert_eq!(extension("audio/x-wav"), "wav");
        for risky in [
            "text/html",
            "application/xml",
            "application/json",
            "application/javascript",
            "application/zip",
            "application/octet-stream",
        ] {
            assert_eq!(extension(risky), "bin", "{risky}");
        }
    }

    #[test]
    fn clashing_file_names_get_a_counter() {
        let mut names = HashSet::new();
        assert_eq!(unique_name(&mut names, "a-1.md".into()), "a-1.md");
        assert_eq!(unique_name(&mut names, "a-1.md".into()), "a-1-2.md");
        assert_eq!(unique_name(&mut names, "a-1.md".into()), "a-1-3.md");
    }
}
