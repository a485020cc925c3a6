//! The byte-level state machine that cuts one JSON value out of a stream of chunks.

/// Scanner state carried across chunk boundaries while cutting out one value.
#[derive(Debug, Default)]
pub(super) struct Scan {
    depth: u32,
    in_string: bool,
    escape: bool,
    /// The value is a bare scalar (number, literal): it ends before a delimiter.
    pub(super) scalar: bool,
    /// Watching for a wrapper key at depth 1 of a top-level object.
    watch_keys: bool,
    /// In the watched object: where the last depth-1 string started in `buf`, and where it ended.
    key_start: Option<usize>,
    last_key: Option<(usize, usize)>,
    /// A wrapper key followed by `:` was seen; the next value decides.
    key_matched: bool,
}

pub(super) enum ScanEnd {
    /// The value ended; its bytes are in `buf` (unless discarding).
    Complete,
    /// A wrapper key's array opened (the `[` has been consumed).
    WrapperArray,
    /// The input ended first.
    Eof,
}

fn is_delim(b: u8) -> bool {
    matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace()
}

impl Scan {
    /// A scan of a value from its first byte, watching for wrapper keys when asked.
    pub(super) fn value(watch_keys: bool) -> Self {
        Scan {
            watch_keys,
            ..Scan::default()
        }
    }

    /// A scan that resumes inside an open object or array, `depth` levels down.
    pub(super) fn inside(depth: u32) -> Self {
        Scan {
            depth,
            ..Scan::default()
        }
    }

    /// Whether the scan started inside a container (see [`Scan::inside`]).
    pub(super) fn resumed(&self) -> bool {
        self.depth > 0
    }

    /// Scans `chunk`, which continues the value whose first bytes are in `buf`, until the value
    /// ends. Returns how many bytes of the chunk belong to it and, when it ended, whether what
    /// ended is a wrapper key's array opening (`Some(true)`) or the value itself (`Some(false)`).
    /// `started` says whether a significant byte of the value has been seen.
    pub(super) fn step(
        &mut self,
        chunk: &[u8],
        buf: &[u8],
        wrapper_keys: &[String],
        started: &mut bool,
    ) -> (usize, Option<bool>) {
        let len = chunk.len();
        let base = buf.len();
        let mut i = 0;
        while i < len {
            if self.escape {
                self.escape = false;
                i += 1;
                continue;
            }
            if self.in_string {
                match memchr::memchr2(b'"', b'\\', &chunk[i..]) {
                    None => i = len,
                    Some(p) => {
                        i += p;
                        if chunk[i] == b'\\' {
                            self.escape = true;
                            i += 1;
                        } else {
                            self.in_string = false;
                            i += 1;
                            if self.watch_keys && self.depth == 1 {
                                if let Some(ks) = self.key_start.take() {
                                    self.last_key = Some((ks, base + i));
                                }
                            }
                            if self.depth == 0 {
                                return (i, Some(false));
                            }
                        }
                    }
                }
                continue;
            }
            let b = chunk[i];
            if self.scalar {
                if is_delim(b) {
                    return (i, Some(false));
                }
                i += 1;
                continue;
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    if self.watch_keys && self.depth == 1 {
                        self.key_start = Some(base + i);
                    }
                }
                b'{' | b'[' => {
                    if self.key_matched && b == b'[' && self.depth == 1 {
                        // `"conversations": [` at depth 1: stream that array.
                        return (i + 1, Some(true));
                    }
                    self.key_matched = false;
                    self.depth = self.depth.saturating_add(1);
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return (i + 1, Some(false));
                    }
                }
                b':' if self.watch_keys && self.depth == 1 => {
                    self.key_matched = false;
                    if let Some((ks, ke)) = self.last_key.take() {
                        // The key's bytes may be partly in `buf` and partly in this chunk.
                        let key = key_bytes(buf, chunk, base, ks, ke);
                        self.key_matched = wrapper_keys
                            .iter()
                            .any(|k| key.as_slice() == format!("\"{k}\"").as_bytes());
                    }
                }
                b',' if self.depth == 1 => {
                    self.key_matched = false;
                    self.last_key = None;
                }
                _ if !*started && !b.is_ascii_whitespace() => {
                    self.scalar = true;
                }
                _ => {}
            }
            *started = true;
            i += 1;
        }
        (len, None)
    }
}

/// Bytes of a key that started at `ks` and ended at `ke` (positions counted as if `chunk` were
/// appended to `buf` at `base`).
fn key_bytes(buf: &[u8], chunk: &[u8], base: usize, ks: usize, ke: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(ke.saturating_sub(ks));
    for pos in ks..ke {
        let b = if pos < base {
            buf.get(pos)
        } else {
            chunk.get(pos - base)
        };
        if let Some(b) = b {
            out.push(*b);
        }
    }
    out
}
