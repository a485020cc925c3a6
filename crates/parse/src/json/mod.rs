//! Streaming over large JSON exports, one top-level element at a time.
//!
//! [`ArrayStream`] reads a `BufRead` in chunks and cuts out the raw bytes of each element of the
//! top-level array without parsing them: a small state machine tracks strings, escapes and
//! nesting depth (iteratively, so no input can overflow the stack), and `memchr` skips through
//! string contents. Memory is bounded by the largest element, whatever the file size. Each
//! element is then deserialised on its own with [`Element::parse`], so one bad conversation
//! becomes one [`ItemError`] while the rest of the file still imports.
//!
//! Accepted top levels: an array; an object that wraps the array under one of the configured
//! keys (`{"conversations": [...]}`); any other object, yielded as a single element. A UTF-8
//! byte-order mark is skipped. A file that ends inside an element gives
//! [`ParseError::Truncated`] with the offset where that element starts, after every complete
//! element before it has been yielded.

use std::io::{self, BufRead};

use serde::de::DeserializeOwned;

use crate::{ItemError, ItemRef, Location, ParseError};

mod scan;

use scan::{Scan, ScanEnd};

/// Default ceiling for one element: larger ones become an item error instead of exhausting memory.
pub const DEFAULT_MAX_ELEMENT_BYTES: usize = 1 << 30;

/// What the top level of the input turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Not known yet (nothing read).
    Unknown,
    /// A top-level array.
    Array,
    /// An object wrapping the array under a key.
    WrappedArray,
    /// A single object, yielded as one element.
    SingleObject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    /// Inside the array, before an element or the closing bracket.
    BeforeElement,
    /// Inside the array, after an element.
    AfterElement,
    /// The single object has been read (the next call returns `None`).
    SingleDone,
    /// The array of a wrapper object is closed: skip what is left of the wrapper.
    WrapperTail,
    Done,
}

/// One element cut out of the input.
#[derive(Debug)]
pub struct Element<'a> {
    /// Position in the array (0-based). For messages only: never an id.
    pub index: u64,
    /// Byte offset of the element's first byte in the input.
    pub offset: u64,
    /// The element's raw JSON bytes (empty when it was over the size limit).
    pub bytes: &'a [u8],
    /// Set when the element was larger than the limit and its bytes were dropped.
    pub oversize: bool,
    input: &'a str,
}

/// Walks the top-level array of a JSON input element by element. See the module docs.
#[derive(Debug)]
pub struct ArrayStream<R> {
    reader: R,
    input: String,
    offset: u64,
    state: State,
    shape: Shape,
    index: u64,
    buf: Vec<u8>,
    wrapper_keys: Vec<String>,
    max_element: usize,
    /// The element being cut out went over `max_element`; its bytes are being dropped.
    dropped: bool,
}

impl<R: BufRead> ArrayStream<R> {
    /// A stream over `reader`; `input` names it in errors.
    pub fn new(reader: R, input: impl Into<String>) -> Self {
        ArrayStream {
            reader,
            input: input.into(),
            offset: 0,
            state: State::Start,
            shape: Shape::Unknown,
            index: 0,
            buf: Vec::new(),
            wrapper_keys: Vec::new(),
            max_element: DEFAULT_MAX_ELEMENT_BYTES,
            dropped: false,
        }
    }

    /// Keys under which a top-level object may wrap the array, e.g. `["conversations"]`.
    pub fn with_wrapper_keys(mut self, keys: &[&str]) -> Self {
        self.wrapper_keys = keys.iter().map(|k| (*k).to_owned()).collect();
        self
    }

    /// The largest element kept in memory; larger ones are skipped with an item error.
    pub fn with_max_element_bytes(mut self, max: usize) -> Self {
        self.max_element = max;
        self
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    /// How many complete elements have been yielded.
    pub fn elements_read(&self) -> u64 {
        self.index
    }

    /// The top-level shape, once the first byte has been read.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The input's name.
    pub fn input_name(&self) -> &str {
        &self.input
    }

    fn io_err(&self, source: io::Error) -> ParseError {
        ParseError::Io {
            input: self.input.clone(),
            offset: self.offset,
            source,
        }
    }

    fn syntax(&self, message: impl Into<String>) -> ParseError {
        ParseError::Syntax {
            input: self.input.clone(),
            offset: self.offset,
            message: message.into(),
        }
    }

    fn truncated(&self, offset: u64) -> ParseError {
        ParseError::Truncated {
            input: self.input.clone(),
            offset,
            items_complete: self.index,
        }
    }

    /// The next significant byte, without consuming it; `None` at the end of input.
    fn peek_significant(&mut self) -> Result<Option<u8>, ParseError> {
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_err(e)),
            };
            if chunk.is_empty() {
                return Ok(None);
            }
            let mut skip = 0;
            if self.offset == 0 && chunk.starts_with(b"\xEF\xBB\xBF") {
                skip = 3;
            }
            let ws = chunk[skip..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            let total = skip + ws;
            if total < chunk.len() {
                let b = chunk[total];
                self.consume(total);
                return Ok(Some(b));
            }
            self.consume(total);
        }
    }

    fn consume(&mut self, n: usize) {
        self.reader.consume(n);
        self.offset += n as u64;
    }

    /// The next element, or `None` after the last one.
    pub fn next_element(&mut self) -> Result<Option<Element<'_>>, ParseError> {
        loop {
            match self.state {
                State::Done | State::SingleDone => {
                    self.state = State::Done;
                    return Ok(None);
                }
                State::Start => match self.peek_significant()? {
                    None => {
                        return Err(ParseError::Empty {
                            input: self.input.clone(),
                        })
                    }
                    Some(b'[') => {
                        self.consume(1);
                        self.shape = Shape::Array;
                        self.state = State::BeforeElement;
                    }
                    Some(b'{') => {
                        let start = self.offset;
                        self.buf.clear();
                        let watch = !self.wrapper_keys.is_empty();
                        match self.scan_value(true, watch)? {
                            ScanEnd::Complete => {
                                self.shape = Shape::SingleObject;
                                self.state = State::SingleDone;
                                return Ok(Some(self.element(start, false)));
                            }
                            ScanEnd::WrapperArray => {
                                self.shape = Shape::WrappedArray;
                                self.state = State::BeforeElement;
                            }
                            ScanEnd::Eof => return Err(self.truncated(start)),
                        }
                    }
                    Some(b) => {
                        return Err(self.syntax(format!(
                            "expected a JSON array or object, found {:?}",
                            char::from(b)
                        )))
                    }
                },
                State::BeforeElement => match self.peek_significant()? {
                    None => return Err(self.truncated(self.offset)),
                    Some(b']') => {
                        self.consume(1);
                        self.finish_array();
                    }
                    Some(b',') if self.index > 0 => {
                        // A stray comma (e.g. `[a,,b]`): tolerate it.
                        self.consume(1);
                    }
                    Some(_) => {
                        let start = self.offset;
                        self.buf.clear();
                        self.dropped = false;
                        match self.scan_value(true, false)? {
                            ScanEnd::Complete | ScanEnd::WrapperArray => {
                                let oversize = self.dropped || self.buf.len() > self.max_element;
                                if oversize {
                                    self.buf = Vec::new();
                                }
                                self.state = State::AfterElement;
                                let el = self.element(start, oversize);
                                return Ok(Some(el));
                            }
                            ScanEnd::Eof => return Err(self.truncated(start)),
                        }
                    }
                },
                State::AfterElement => match self.peek_significant()? {
                    None => return Err(self.truncated(self.offset)),
                    Some(b',') => {
                        self.consume(1);
                        self.state = State::BeforeElement;
                    }
                    Some(b']') => {
                        self.consume(1);
                        self.finish_array();
                    }
                    Some(b) => {
                        return Err(self.syntax(format!(
                            "expected ',' or ']' after item #{}, found {:?}",
                            self.index.saturating_sub(1),
                            char::from(b)
                        )))
                    }
                },
                State::WrapperTail => {
                    // Skip the rest of the wrapper object: we are at depth 1 inside it.
                    match self.scan_with(&mut Scan::inside(1), false)? {
                        ScanEnd::Eof => return Err(self.truncated(self.offset)),
                        _ => self.state = State::Done,
                    }
                }
            }
        }
    }

    fn finish_array(&mut self) {
        self.state = if self.shape == Shape::WrappedArray {
            State::WrapperTail
        } else {
            State::Done
        };
    }

    fn element(&mut self, offset: u64, oversize: bool) -> Element<'_> {
        let index = self.index;
        self.index += 1;
        Element {
            index,
            offset,
            bytes: &self.buf,
            oversize,
            input: &self.input,
        }
    }

    /// Cuts out one value starting at the current (significant) byte.
    fn scan_value(&mut self, keep: bool, watch_keys: bool) -> Result<ScanEnd, ParseError> {
        self.scan_with(&mut Scan::value(watch_keys), keep)
    }

    fn scan_with(&mut self, scan: &mut Scan, keep: bool) -> Result<ScanEnd, ParseError> {
        let mut started = scan.resumed();
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_err(e)),
            };
            if chunk.is_empty() {
                // A bare scalar may end at end of input.
                return Ok(if scan.scalar && started {
                    ScanEnd::Complete
                } else {
                    ScanEnd::Eof
                });
            }
            let (take, end) = scan.step(chunk, &self.buf, &self.wrapper_keys, &mut started);
            let keep_now = keep && !self.dropped;
            if keep_now {
                self.buf.extend_from_slice(&chunk[..take]);
            }
            self.consume(take);
            match end {
                Some(true) => return Ok(ScanEnd::WrapperArray),
                Some(false) => return Ok(ScanEnd::Complete),
                None => {}
            }
            if keep && !self.dropped && self.buf.len() > self.max_element {
                // Over the limit: drop what we have and keep scanning to the element's end.
                self.dropped = true;
                self.buf = Vec::new();
            }
        }
    }
}

impl Element<'_> {
    /// Deserialises the element. Lone UTF-16 surrogate escapes (`"\ud83d"`, cut from an emoji)
    /// become U+FFFD instead of failing. Errors name the JSON path and byte offset.
    ///
    /// The error is returned unboxed on purpose: it is the cold path (one per bad item), and
    /// parsers pass it straight to [`crate::Sink::item_error`], which takes it by value.
    #[allow(clippy::result_large_err)]
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ItemError> {
        if self.oversize {
            return Err(self.error(
                "this item is larger than the configured size limit and was skipped",
                "raise the element size limit, or split the export",
                None,
                None,
            ));
        }
        // The fast path: one SIMD UTF-8 check of the whole element, then `from_str`, which
        // trusts it (`from_slice` checks every string on its own, with the scalar checker:
        // a seventh of the parse thread's time on a metadata-heavy ChatGPT export). The
        // path-tracking reader below only runs to explain a failure.
        if let Some(v) = simdutf8::basic::from_utf8(self.bytes)
            .ok()
            .and_then(|text| serde_json::from_str::<T>(text).ok())
        {
            return Ok(v);
        }
        match deserialize::<T>(self.bytes) {
            Ok(v) => Ok(v),
            Err((first_path, first_err)) => {
                if has_lone_surrogate_escape(self.bytes) {
                    let repaired = repair_lone_surrogates(self.bytes);
                    if let Ok(v) = deserialize::<T>(&repaired) {
                        return Ok(v);
                    }
                }
                let offset = self.offset + line_col_to_offset(self.bytes, &first_err);
                let (message, hint) = describe_json_error(&first_err);
                Err(self.error(message, hint, Some(first_path), Some(offset)))
            }
        }
    }

    /// An [`ItemError`] about this element, carrying its raw bytes.
    pub fn error(
        &self,
        message: impl Into<String>,
        hint: impl Into<String>,
        json_path: Option<String>,
        offset: Option<u64>,
    ) -> ItemError {
        ItemError {
            item: ItemRef {
                index: Some(self.index),
                id: None,
                title: None,
            },
            message: message.into(),
            location: Location {
                byte_offset: Some(offset.unwrap_or(self.offset)),
                json_path,
            },
            hint: hint.into(),
            raw: if self.oversize {
                None
            } else {
                Some(self.bytes.to_vec())
            },
        }
    }

    /// The input's name.
    pub fn input_name(&self) -> &str {
        self.input
    }
}

fn deserialize<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, (String, serde_json::Error)> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = json_path(&e.path().to_string());
        (path, e.into_inner())
    })?;
    de.end().map_err(|e| ("$".to_owned(), e))?;
    Ok(value)
}

/// `serde_path_to_error`'s `a.b[0]` as `$.a.b[0]`.
fn json_path(path: &str) -> String {
    if path == "." || path.is_empty() {
        "$".to_owned()
    } else if path.starts_with('[') {
        format!("${path}")
    } else {
        format!("$.{path}")
    }
}

fn describe_json_error(err: &serde_json::Error) -> (String, &'static str) {
    let text = err.to_string();
    // serde_json appends " at line X column Y"; the location is reported separately.
    let text = match text.rfind(" at line ") {
        Some(pos) => text[..pos].to_owned(),
        None => text,
    };
    let hint = if text.contains("recursion limit") {
        "this item is nested too deeply to be a real conversation; it was kept for inspection"
    } else if text.contains("invalid unicode") || text.contains("UTF-8") {
        "this item holds bytes that are not valid UTF-8; the file may be damaged, download the \
         export again"
    } else {
        "this item does not have the shape this export format uses; it was kept so a newer \
         version of the importer can retry it"
    };
    (text, hint)
}

/// The byte offset inside `bytes` of serde_json's line/column (1-based), or 0.
fn line_col_to_offset(bytes: &[u8], err: &serde_json::Error) -> u64 {
    let (line, col) = (err.line(), err.column());
    if line == 0 {
        return 0;
    }
    let mut pos = 0usize;
    for _ in 1..line {
        match memchr::memchr(b'\n', &bytes[pos..]) {
            Some(p) => pos += p + 1,
            None => break,
        }
    }
    (pos + col.saturating_sub(1)).min(bytes.len()) as u64
}

fn hex4(bytes: &[u8]) -> Option<u16> {
    let s = std::str::from_utf8(bytes.get(..4)?).ok()?;
    u16::from_str_radix(s, 16).ok()
}

fn has_lone_surrogate_escape(bytes: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, b"\\u")
        .any(|p| hex4(&bytes[p + 2..]).is_some_and(|cp| (0xD800..=0xDFFF).contains(&cp)))
}

/// Replaces `\uXXXX` escapes of unpaired UTF-16 surrogates with `\uFFFD`; paired ones stay.
pub fn repair_lone_surrogates(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'u') => {
                let cp = hex4(&bytes[(i + 2).min(bytes.len())..]);
                match cp {
                    Some(0xD800..=0xDBFF) => {
                        let next_is_low = bytes.get(i + 6..i + 8) == Some(b"\\u")
                            && hex4(&bytes[(i + 8).min(bytes.len())..])
                                .is_some_and(|lo| (0xDC00..=0xDFFF).contains(&lo));
                        if next_is_low {
                            out.extend_from_slice(&bytes[i..i + 12]);
                            i += 12;
                        } else {
                            out.extend_from_slice(b"\\uFFFD");
                            i += 6;
                        }
                    }
                    Some(0xDC00..=0xDFFF) => {
                        out.extend_from_slice(b"\\uFFFD");
                        i += 6;
                    }
                    _ => {
                        out.extend_from_slice(&bytes[i..(i + 2).min(bytes.len())]);
                        i += 2;
                    }
                }
            }
            Some(_) => {
                out.extend_from_slice(&bytes[i..i + 2]);
                i += 2;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn collect(input: &[u8], wrappers: &[&str]) -> (Vec<(u64, String)>, Option<ParseError>) {
        let mut s = ArrayStream::new(input, "test.json").with_wrapper_keys(wrappers);
        let mut out = Vec::new();
        loop {
            match s.next_element() {
                Ok(Some(el)) => out.push((el.offset, String::from_utf8_lossy(el.bytes).into())),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn streams_array_elements_with_offsets() {
        let (els, err) = collect(
            b"\xEF\xBB\xBF [ {\"a\": \"x]}\\\"\"}, [1,2] , 3, \"s\" ]",
            &[],
        );
        assert!(err.is_none(), "{err:?}");
        let texts: Vec<&str> = els.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["{\"a\": \"x]}\\\"\"}", "[1,2]", "3", "\"s\""]);
        assert_eq!(els[0].0, 6);
    }

    #[test]
    fn empty_array_and_empty_file() {
        let (els, err) = collect(b"[]", &[]);
        assert!(els.is_empty() && err.is_none());
        let (_, err) = collect(b"  \n", &[]);
        assert!(matches!(err, Some(ParseError::Empty { .. })));
    }

    #[test]
    fn truncated_file_yields_complete_elements_then_the_offset() {
        let input = b"[{\"id\":1},{\"id\":2},{\"id\":3, \"t\": \"cut her";
        let (els, err) = collect(input, &[]);
        assert_eq!(els.len(), 2);
        match err {
            Some(ParseError::Truncated {
                offset,
                items_complete,
                ..
            }) => {
                assert_eq!(offset, 19);
                assert_eq!(items_complete, 2);
            }
            other => panic!("expected truncation, got {other:?}"),
        }
        let (els, err) = collect(b"[{\"id\":1},", &[]);
        assert_eq!(els.len(), 1);
        assert!(matches!(err, Some(ParseError::Truncated { .. })));
    }

    #[test]
    fn wrapper_objects_stream_their_array_and_single_objects_are_one_element() {
        let input = b"{\"version\": {\"x\": [1]}, \"conversations\": [{\"id\":1}, {\"id\":2}], \"tail\": [3]}";
        let (els, err) = collect(input, &["conversations"]);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(els.len(), 2);
        let (els, err) = collect(b"{\"id\": 1, \"mapping\": {}}", &["conversations"]);
        assert!(err.is_none());
        assert_eq!(els.len(), 1);
        assert_eq!(els[0].1, "{\"id\": 1, \"mapping\": {}}");
    }

    #[test]
    fn tiny_read_buffers_give_the_same_elements() {
        let input: &[u8] =
            b"{\"meta\":1, \"conversations\" : [ {\"a\":\"\\\\\"}, {\"b\":[[[]]]}, 12 ]}";
        let reader = io::BufReader::with_capacity(1, input);
        let mut s = ArrayStream::new(reader, "t").with_wrapper_keys(&["conversations"]);
        let mut texts = Vec::new();
        while let Some(el) = s.next_element().unwrap() {
            texts.push(String::from_utf8_lossy(el.bytes).into_owned());
        }
        assert_eq!(texts, ["{\"a\":\"\\\\\"}", "{\"b\":[[[]]]}", "12"]);
    }

    #[test]
    fn deep_nesting_is_an_item_error_not_a_crash() {
        let mut input = b"[".to_vec();
        input.extend(std::iter::repeat_n(b'[', 100_000));
        input.extend(std::iter::repeat_n(b']', 100_000));
        input.extend(b", {\"ok\": true}]");
        let mut s = ArrayStream::new(input.as_slice(), "deep.json");
        let first = s.next_element().unwrap().unwrap();
        let err = first.parse::<Value>().unwrap_err();
        assert!(err.message.contains("recursion"), "{}", err.message);
        let second = s.next_element().unwrap().unwrap();
        assert_eq!(second.parse::<Value>().unwrap()["ok"], true);
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let input =
            br#"[{"t": "cut \ud83d", "u": "ok \ud83d\ude00", "v": "\udc00x", "w": "\\ud83d"}]"#;
        let mut s = ArrayStream::new(&input[..], "s.json");
        let el = s.next_element().unwrap().unwrap();
        let v: Value = el.parse().unwrap();
        assert_eq!(v["t"], "cut \u{FFFD}");
        assert_eq!(v["u"], "ok 😀");
        assert_eq!(v["v"], "\u{FFFD}x");
        assert_eq!(v["w"], "\\ud83d");
    }

    #[test]
    fn item_errors_carry_path_offset_and_raw_bytes() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Conv {
            title: String,
            create_time: f64,
        }
        let input = b"[{\"title\": \"a\", \"create_time\": 1.0},\n{\"title\": \"b\", \"create_time\": \"x\"}]";
        let mut s = ArrayStream::new(&input[..], "c.json");
        assert!(s.next_element().unwrap().unwrap().parse::<Conv>().is_ok());
        let el = s.next_element().unwrap().unwrap();
        let err = el.parse::<Conv>().unwrap_err();
        assert_eq!(err.location.json_path.as_deref(), Some("$.create_time"));
        assert_eq!(err.item.index, Some(1));
        let off = err.location.byte_offset.unwrap();
        assert!(off > 37 && off < input.len() as u64, "{off}");
        assert_eq!(err.raw.as_deref(), Some(el.bytes));
    }

    #[test]
    fn invalid_utf8_is_an_item_error() {
        let input = b"[{\"t\": \"\xff\xfe\"}, {\"t\": \"fine\"}]";
        let mut s = ArrayStream::new(&input[..], "u.json");
        assert!(s.next_element().unwrap().unwrap().parse::<Value>().is_err());
        assert!(s.next_element().unwrap().unwrap().parse::<Value>().is_ok());
    }

    #[test]
    fn oversize_elements_are_skipped_with_an_error() {
        let input = b"[{\"big\": \"0123456789012345678901234567890123456789\"}, {\"s\": 1}]";
        let reader = io::BufReader::with_capacity(8, &input[..]);
        let mut s = ArrayStream::new(reader, "o.json").with_max_element_bytes(16);
        let el = s.next_element().unwrap().unwrap();
        assert!(el.oversize);
        assert!(el.parse::<Value>().is_err());
        let el = s.next_element().unwrap().unwrap();
        assert_eq!(el.parse::<Value>().unwrap()["s"], 1);
    }

    #[test]
    fn garbage_top_level_is_a_syntax_error() {
        let (_, err) = collect(b"hello", &[]);
        assert!(matches!(err, Some(ParseError::Syntax { .. })));
        let (els, err) = collect(b"[1 2]", &[]);
        assert_eq!(els.len(), 1);
        assert!(matches!(err, Some(ParseError::Syntax { .. })));
    }
}
