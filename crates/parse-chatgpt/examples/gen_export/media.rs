//! `--media-mb`: the media of a 2026 ChatGPT export (`file-*.dat` / `file_*.dat` at the root
//! of the zip): which items there are, and their bytes.
//!
//! Every item starts with a real header, so the importer's type sniffing and image dimensions
//! work: PNG, JPEG and WebP images, WAV, MP3 and OGG audio. The rest is incompressible
//! pseudo-random bytes (real exports are mostly already-compressed media), generated as they
//! are written: an item of any size costs 64 KiB of memory.
//!
//! Sizes are mixed: images of 100 KB–2 MB (log-uniform, so most are small), audio clips of
//! 5–30 MB (one item in twenty), and, for every 700 MB asked for, one recording of 100–160 MB
//! to show that memory stays bounded whatever the item's size.

use std::io::{self, Write};

use crate::rng::Rng;

/// The kind of bytes an item holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Webp,
    Wav,
    Mp3,
    Ogg,
}

impl Format {
    pub fn is_image(self) -> bool {
        matches!(self, Format::Png | Format::Jpeg | Format::Webp)
    }

    /// The MIME type ChatGPT records in `metadata.attachments`.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Jpeg => "image/jpeg",
            Format::Webp => "image/webp",
            Format::Wav => "audio/wav",
            Format::Mp3 => "audio/mpeg",
            Format::Ogg => "audio/ogg",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Jpeg => "jpg",
            Format::Webp => "webp",
            Format::Wav => "wav",
            Format::Mp3 => "mp3",
            Format::Ogg => "ogg",
        }
    }
}

/// One `.dat` item of the export.
#[derive(Clone, Debug)]
pub struct Asset {
    /// The file id: `file-<base62>` (uploads, `file-service://`) or `file_<32 hex>` (generated
    /// images and voice, `sediment://`). The zip entry is `<id>.dat`.
    pub id: String,
    pub format: Format,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    /// Where the bytes' pseudo-random body starts (unique per item, so no two items share
    /// their bytes).
    pub seed: u64,
    /// The name `conversation_asset_file_names.json` gives it.
    pub original_name: String,
    /// A generated image (assistant side, `sediment://`), else an upload or a voice clip.
    pub generated: bool,
}

impl Asset {
    /// The `asset_pointer` a message holds.
    pub fn pointer(&self) -> String {
        if self.id.starts_with("file_") {
            format!("sediment://{}", self.id)
        } else {
            format!("file-service://{}", self.id)
        }
    }

    pub fn entry_name(&self) -> String {
        format!("{}.dat", self.id)
    }
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Plans the items: `budget` bytes of media in all (the last item is cut to fit).
pub fn plan_assets(rng: &mut Rng, budget: u64) -> Vec<Asset> {
    let big = budget / 700_000_000;
    let mut assets = Vec::new();
    let mut total = 0u64;
    while total < budget {
        let n = assets.len() as u64;
        let (format, size) = if n < big {
            // One long recording per 700 MB, spread over the export by the shuffle below.
            let f = if n.is_multiple_of(2) {
                Format::Wav
            } else {
                Format::Ogg
            };
            (f, 100_000_000 + rng.below(60_000_000))
        } else if rng.chance(0.05) {
            let f = [Format::Wav, Format::Mp3, Format::Ogg][rng.below(3) as usize];
            (f, 5_000_000 + rng.below(25_000_000))
        } else {
            let f = [Format::Jpeg, Format::Png, Format::Webp, Format::Jpeg][rng.below(4) as usize];
            // Log-uniform 100 KB–2 MB: ln(20) ≈ 3.0.
            let x = (rng.below(1 << 20) as f64 / (1u64 << 20) as f64) * 20f64.ln();
            (f, (100_000.0 * x.exp()) as u64)
        };
        let size = size.min(budget - total).max(4096);
        total += size;
        assets.push(new_asset(rng, format, size));
    }
    // Fisher–Yates, so the big recordings are not all at the start of the export.
    for i in (1..assets.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        assets.swap(i, j);
    }
    assets
}

fn new_asset(rng: &mut Rng, format: Format, size: u64) -> Asset {
    let generated = format.is_image() && rng.chance(0.25);
    let sediment = generated || !format.is_image() || rng.chance(0.3);
    let id = if sediment {
        format!("file_00000000{:016x}{:08x}", rng.next(), rng.next() >> 32)
    } else {
        let s: String = (0..22)
            .map(|_| BASE62[rng.below(62) as usize] as char)
            .collect();
        format!("file-{s}")
    };
    let (width, height) = if format.is_image() {
        let dims: &[(u32, u32)] = &[
            (1024, 1024),
            (1536, 1024),
            (1024, 1536),
            (4032, 3024),
            (1170, 2532),
            (1920, 1080),
            (768, 1560),
        ];
        dims[rng.below(dims.len() as u64) as usize]
    } else {
        (0, 0)
    };
    let stem = rng.uuid();
    let original_name = match (format.is_image(), generated) {
        (true, true) if format == Format::Webp => format!("dalle-generations/{stem}.webp"),
        (true, true) => format!("{stem}.{}", format.extension()),
        (true, false) => format!("IMG_{}.{}", 1000 + rng.below(9000), format.extension()),
        (false, _) => format!("{}/audio/{stem}.{}", rng.uuid(), format.extension()),
    };
    Asset {
        id,
        format,
        size,
        width,
        height,
        seed: rng.next(),
        original_name,
        generated,
    }
}

/// CRC-32 (IEEE), for the PNG header's chunk.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// The item's header: what a real file of its format starts with, as far as a type sniffer
/// and a dimension reader look.
pub fn header(a: &Asset) -> Vec<u8> {
    let (w, h) = (a.width, a.height);
    let riff_size = (a.size.saturating_sub(8)).min(u64::from(u32::MAX)) as u32;
    let mut out = Vec::new();
    match a.format {
        Format::Png => {
            out.extend_from_slice(b"\x89PNG\r\n\x1a\n\0\0\0\x0d");
            let mut ihdr = b"IHDR".to_vec();
            ihdr.extend_from_slice(&w.to_be_bytes());
            ihdr.extend_from_slice(&h.to_be_bytes());
            ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
            out.extend_from_slice(&ihdr);
            out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
            let idat = (a.size.saturating_sub(33 + 8 + 12)).min(u64::from(u32::MAX)) as u32;
            out.extend_from_slice(&idat.to_be_bytes());
            out.extend_from_slice(b"IDAT");
        }
        Format::Jpeg => {
            out.extend_from_slice(
                b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
            );
            out.extend_from_slice(b"\xff\xc0\x00\x11\x08");
            out.extend_from_slice(&(h as u16).to_be_bytes());
            out.extend_from_slice(&(w as u16).to_be_bytes());
            out.extend_from_slice(b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01");
            out.extend_from_slice(b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00");
        }
        Format::Webp => {
            out.extend_from_slice(b"RIFF");
            out.extend_from_slice(&riff_size.to_le_bytes());
            out.extend_from_slice(b"WEBPVP8X\x0a\0\0\0\0\0\0\0");
            out.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
            out.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
            out.extend_from_slice(b"VP8 ");
            out.extend_from_slice(&riff_size.saturating_sub(30).to_le_bytes());
        }
        Format::Wav => {
            out.extend_from_slice(b"RIFF");
            out.extend_from_slice(&riff_size.to_le_bytes());
            // PCM, mono, 24 kHz, 16 bits (what voice mode records).
            out.extend_from_slice(
                b"WAVEfmt \x10\0\0\0\x01\0\x01\0\xc0\x5d\0\0\x80\xbb\0\0\x02\0\x10\0data",
            );
            out.extend_from_slice(&riff_size.saturating_sub(36).to_le_bytes());
        }
        Format::Mp3 => {
            // An ID3v2.4 tag with no frames, then an MPEG-1 layer III frame header.
            out.extend_from_slice(b"ID3\x04\0\0\0\0\0\0\xff\xfb\x90\x64");
        }
        Format::Ogg => {
            out.extend_from_slice(b"OggS\0\x02\0\0\0\0\0\0\0\0");
            out.extend_from_slice(&(a.seed as u32).to_le_bytes());
            out.extend_from_slice(
                b"\0\0\0\0\0\0\0\0\x01\x13OpusHead\x01\x01\x38\x01\xc0\x5d\0\0\0\0\0",
            );
        }
    }
    out
}

/// Writes the item's bytes (header, then pseudo-random bytes up to its size) to `w`.
pub fn write_asset(a: &Asset, w: &mut impl Write) -> io::Result<()> {
    let head = header(a);
    let head = &head[..head.len().min(a.size as usize)];
    w.write_all(head)?;
    let mut left = a.size - head.len() as u64;
    let mut rng = Rng(a.seed);
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let n = (left as usize).min(buf.len());
        for chunk in buf[..n].chunks_mut(8) {
            let r = rng.next().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
        w.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}
