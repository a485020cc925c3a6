//! An incremental decoder for server-sent events (the `text/event-stream` format).
//!
//! Follows the WHATWG parsing rules that matter for model servers: lines end with `\n`, `\r\n`
//! or a lone `\r` (even when the `\r` and `\n` arrive in different reads); a line starting with
//! `:` is a comment; `data:` loses one leading space; several `data` lines of one event are
//! joined with `\n`; a blank line dispatches the event; other fields (`event`, `id`, `retry`)
//! are ignored. Bytes are buffered until a line is complete, so a read may split a line, a
//! UTF-8 character or a `\r\n` pair anywhere.

/// Turns a byte stream into the `data` payloads of its events.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    /// Bytes of the line being read.
    line: Vec<u8>,
    /// The data of the event being assembled.
    data: String,
    /// Whether the event being assembled has a `data` field (which may be empty).
    has_data: bool,
    /// The previous line ended with `\r`, so a `\n` at the start of the next read belongs to it.
    after_cr: bool,
}

impl SseDecoder {
    /// Feeds the next bytes; returns the data of every event they complete, in order.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut events = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(&mut events),
                b'\r' => {
                    self.end_line(&mut events);
                    self.after_cr = true;
                }
                _ => self.line.push(b),
            }
        }
        events
    }

    /// Ends the input. Leniently treats an unterminated last line and event as complete
    /// (some servers close the connection right after `data: [DONE]`).
    pub(crate) fn finish(&mut self) -> Vec<String> {
        let mut events = Vec::new();
        if !self.line.is_empty() {
            self.end_line(&mut events);
        }
        self.dispatch(&mut events);
        events
    }

    fn end_line(&mut self, events: &mut Vec<String>) {
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            self.dispatch(events);
            return;
        }
        if line.first() == Some(&b':') {
            return;
        }
        let (field, value) = match line.iter().position(|&c| c == b':') {
            Some(i) => {
                let value = &line[i + 1..];
                let value = value.strip_prefix(b" ").unwrap_or(value);
                (&line[..i], value)
            }
            None => (&line[..], &[][..]),
        };
        if field == b"data" {
            if self.has_data {
                self.data.push('\n');
            }
            self.data.push_str(&String::from_utf8_lossy(value));
            self.has_data = true;
        }
    }

    fn dispatch(&mut self, events: &mut Vec<String>) {
        if self.has_data {
            events.push(std::mem::take(&mut self.data));
            self.has_data = false;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> Vec<String> {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            out.extend(d.push(chunk));
        }
        out.extend(d.finish());
        out
    }

    #[test]
    fn events_survive_any_split() {
        let input = "data: one\r\n\r\n: keep-alive\n\ndata: two\ndata:  three\n\nevent: x\r\nid: 5\r\ndata: é€😀\r\r\ndata: [DONE]\n\n".as_bytes();
        let want = vec!["one", "two\n three", "é€😀", "[DONE]"];
        for piece in 1..input.len() {
            assert_eq!(decode_in_pieces(input, piece), want, "piece {piece}");
        }
    }

    #[test]
    fn unterminated_last_event_is_kept() {
        assert_eq!(
            decode_in_pieces(b"data: a\n\ndata: [DONE]", 3),
            ["a", "[DONE]"]
        );
    }

    #[test]
    fn empty_data_is_an_event_but_a_comment_is_not() {
        assert_eq!(decode_in_pieces(b"data:\n\n:c\n\n", 64), [""]);
    }
}
