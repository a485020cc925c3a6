//! What stored bytes are, from the bytes themselves: the MIME type (never the file's name) and,
//! for images, the dimensions from the header (never a full decode).

/// How many leading bytes the writer keeps for sniffing. JPEG puts its dimensions after the
/// EXIF block, which may be up to 64 KiB.
pub(crate) const HEAD_LEN: usize = 128 * 1024;

/// The type of bytes starting with `head`, and an image's width and height.
pub(crate) fn sniff(head: &[u8]) -> (String, Option<u32>, Option<u32>) {
    // `infer` calls SVG "text/xml": markup is looked at again, so SVG is known as such.
    let mime = match infer::get(head).map(|kind| kind.mime_type()) {
        Some(mime) if !mime.contains("xml") && mime != "text/html" => mime.to_owned(),
        _ => text_type(head).to_owned(),
    };
    let (width, height) = if mime.starts_with("image/") && mime != "image/svg+xml" {
        match imagesize::blob_size(head) {
            Ok(size) => (
                u32::try_from(size.width).ok(),
                u32::try_from(size.height).ok(),
            ),
            Err(_) => (None, None),
        }
    } else {
        (None, None)
    };
    (mime, width, height)
}

/// Bytes `infer` does not recognise: SVG, HTML, XML, plain text or opaque bytes.
fn text_type(head: &[u8]) -> &'static str {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let lead: Vec<u8> = body[start..]
        .iter()
        .take(1024)
        .map(u8::to_ascii_lowercase)
        .collect();
    let has = |needle: &[u8]| lead.windows(needle.len()).any(|w| w == needle);
    if lead.starts_with(b"<") && has(b"<svg") {
        "image/svg+xml"
    } else if lead.starts_with(b"<!doctype html") || lead.starts_with(b"<html") || has(b"<script") {
        "text/html"
    } else if lead.starts_with(b"<?xml") {
        "application/xml"
    } else if !body.contains(&0) && simple_utf8(body) {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

/// Whether `bytes` is UTF-8, allowing a sequence cut at the end (the head is a prefix).
fn simple_utf8(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        // A 1x1 PNG.
        let png: &[u8] = &[
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0,
            0, 0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(sniff(png), ("image/png".into(), Some(3), Some(2)));
        assert_eq!(sniff(b"<svg xmlns='x'></svg>").0, "image/svg+xml");
        assert_eq!(sniff(b"\n<?xml version='1.0'?><svg/>").0, "image/svg+xml");
        assert_eq!(sniff(b"<!DOCTYPE html><p>hi").0, "text/html");
        assert_eq!(sniff(b"<div><script>alert(1)</script>").0, "text/html");
        assert_eq!(sniff(b"%PDF-1.7\n").0, "application/pdf");
        assert_eq!(sniff("plain text, é".as_bytes()).0, "text/plain");
        assert_eq!(sniff(&[0, 1, 2, 0xff]).0, "application/octet-stream");
    }
}
