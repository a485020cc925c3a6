//! Full-text search: turning what a user typed into a safe FTS5 query, ranking and snippets.
//!
//! Two routes:
//! * Latin, Cyrillic, Greek, ... text goes to the `unicode61 remove_diacritics 2` indexes
//!   (`turns_fts`, `turns_hidden_fts`, `convos_fts`), ranked by bm25, with FTS5 snippets.
//! * A query holding CJK characters goes to `turns_cjk_fts` (trigram tokenizer), because
//!   unicode61 keeps a whole run of ideographs as one token. Terms of three characters or more
//!   are matched through the trigram index; shorter ones (common in Chinese and Japanese) with
//!   `LIKE` over that table, which only holds messages that contain CJK text.
//!
//! User text never reaches FTS5 syntax: every word becomes a quoted string, so `AND`, `NEAR(`,
//! `title:` or a stray `"` are just words. Balanced `"phrases"` and a trailing `*` (prefix)
//! are honoured.

use chat_model::timestamp::to_millis;
use chat_model::{ConversationId, MessageId, Role};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, OptionalExtension};

use super::SqliteRepo;
use crate::columns::{like_escape, ts};
use crate::error::{Error, Result};
use crate::types::{ArchivedFilter, SearchHit, SearchQuery};

/// At most this many terms of a query are used; the rest is ignored.
const MAX_TERMS: usize = 32;
/// A term longer than this (in characters) is cut.
const MAX_TERM_CHARS: usize = 128;
/// Largest `limit`.
pub(crate) const MAX_HITS: u32 = 500;
/// Tokens of context in an FTS5 snippet.
pub(crate) const SNIPPET_TOKENS: i64 = 16;
/// Characters of context around a match in a snippet made here (CJK route).
const SNIPPET_CHARS: usize = 40;

/// Whether `c` is a CJK character that unicode61 cannot segment (mirrors the GLOB class in
/// the schema's triggers).
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{AC00}'..='\u{D7AF}'
        | '\u{F900}'..='\u{FAFF}')
}

/// The runs of CJK characters of a text, joined by single spaces: what the trigram index
/// holds for messages written by the bulk writer. Other words of such a message are found
/// through `turns_fts`.
pub(crate) fn cjk_runs(text: &str) -> String {
    // Every CJK range above is U+3040..=U+FAFF: three-byte UTF-8 sequences whose lead byte is
    // 0xE3..=0xEF. Jumping from one such byte to the next skips ASCII and other scripts
    // without decoding them (this scan was 5% of an import's writer, char by char).
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut run_end = None;
    let mut at = 0;
    while let Some(offset) = bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|b| (0xE3..=0xEF).contains(b)))
    {
        let start = at + offset;
        // A lead byte always starts a char.
        let Some(c) = text.get(start..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        at = start + c.len_utf8();
        if is_cjk(c) {
            if run_end != Some(start) && !out.is_empty() {
                out.push(' ');
            }
            out.push(c);
            run_end = Some(at);
        }
    }
    out
}

/// One term of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    /// The text (a word or a phrase), without quotes.
    pub text: String,
    /// A trailing `*`: match words starting with it.
    pub prefix: bool,
}

/// Splits user input into terms. Never fails; returns nothing for input with no words.
pub(crate) fn parse_terms(input: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut rest = input;
    while terms.len() < MAX_TERMS {
        rest = rest.trim_start();
        let Some(first) = rest.chars().next() else {
            break;
        };
        let (raw, after) = if first == '"' {
            match rest[1..].find('"') {
                Some(end) => (&rest[1..1 + end], &rest[end + 2..]),
                // An unbalanced quote is dropped; what follows is read as words.
                None => {
                    rest = &rest[1..];
                    continue;
                }
            }
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        rest = after;
        let prefix = first != '"' && raw.ends_with('*');
        let text: String = raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .filter(|c| *c != '"' && !c.is_control())
            .take(MAX_TERM_CHARS)
            .collect();
        let text = text.trim_end_matches('*').to_owned();
        if text.chars().any(char::is_alphanumeric) {
            terms.push(Term { text, prefix });
        }
    }
    terms
}

/// The FTS5 query for terms: each one a quoted string (so no FTS5 syntax gets through),
/// all required.
pub(crate) fn fts_query(terms: &[Term]) -> String {
    let mut out = String::new();
    for t in terms {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push('"');
        out.push_str(&t.text);
        out.push('"');
        if t.prefix {
            out.push('*');
        }
    }
    out
}

/// HTML-escapes a snippet whose matches FTS5 wrapped in `\u{2}` .. `\u{3}`, turning those into
/// `<mark>` .. `</mark>`. Marks are always balanced, whatever the text held.
pub(crate) fn render_snippet(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 32);
    let mut open = false;
    for c in raw.chars() {
        match c {
            '\u{2}' if !open => {
                out.push_str("<mark>");
                open = true;
            }
            '\u{3}' if open => {
                out.push_str("</mark>");
                open = false;
            }
            '\u{2}' | '\u{3}' => {}
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    if open {
        out.push_str("</mark>");
    }
    out
}

/// Finds `needle` in `hay`, ignoring ASCII case; returns the byte range.
fn find_ci(hay: &str, needle: &str, from: usize) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    let hb = hay.as_bytes();
    let nb = needle.as_bytes();
    (from..=hb.len().checked_sub(nb.len())?)
        .filter(|&i| hay.is_char_boundary(i) && hay.is_char_boundary(i + nb.len()))
        .find(|&i| hb[i..i + nb.len()].eq_ignore_ascii_case(nb))
        .map(|i| (i, i + nb.len()))
}

/// A snippet made here for text FTS5 did not rank (CJK route): some characters around the
/// first match, every match in it marked.
pub(crate) fn make_snippet(text: &str, terms: &[Term]) -> String {
    let first = terms
        .iter()
        .filter_map(|t| find_ci(text, &t.text, 0))
        .min_by_key(|r| r.0);
    let (start, end) = match first {
        Some((s, _)) => {
            let start = text[..s]
                .char_indices()
                .rev()
                .nth(SNIPPET_CHARS / 2)
                .map_or(0, |(i, _)| i);
            let end = text[s..]
                .char_indices()
                .nth(SNIPPET_CHARS * 2)
                .map_or(text.len(), |(i, _)| s + i);
            (start, end)
        }
        None => (
            0,
            text.char_indices()
                .nth(SNIPPET_CHARS * 2)
                .map_or(text.len(), |(i, _)| i),
        ),
    };
    let window = &text[start..end];
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for t in terms {
        let mut from = 0;
        while let Some((s, e)) = find_ci(window, &t.text, from) {
            ranges.push((s, e));
            from = e;
        }
    }
    ranges.sort_unstable();
    let mut raw = String::with_capacity(window.len() + 8);
    if start > 0 {
        raw.push('…');
    }
    let mut pos = 0;
    for (s, e) in ranges {
        if s < pos {
            continue;
        }
        raw.push_str(&window[pos..s]);
        raw.push('\u{2}');
        raw.push_str(&window[s..e]);
        raw.push('\u{3}');
        pos = e;
    }
    raw.push_str(&window[pos..]);
    if end < text.len() {
        raw.push('…');
    }
    render_snippet(&raw)
}

/// Whether an error came from FTS5 parsing a query (which sanitising should prevent, but a
/// user must never see one).
fn is_fts_syntax(e: &rusqlite::Error) -> bool {
    let msg = e.to_string();
    msg.contains("fts5") || msg.contains("malformed MATCH")
}

/// The conversation and message filters of a search, as SQL over `c` (and `t`).
struct Filters {
    sql: String,
    args: Vec<Value>,
}

impl Filters {
    fn new(q: &SearchQuery, with_role: bool, first_param: usize) -> Filters {
        let mut sql = q.archived.sql("c.archived_at");
        let mut args = Vec::new();
        let mut n = first_param;
        if let Some(source) = q.source {
            args.push(Value::Text(source.as_str().to_owned()));
            sql.push_str(&format!(" AND c.source = ?{n}"));
            n += 1;
        }
        if let Some(tag) = &q.tag {
            args.push(Value::Text(tag.as_str().to_owned()));
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM convo_tags ct JOIN tags tg ON tg.id = ct.tag_id
                   WHERE ct.convo_id = c.id AND tg.name = ?{n})"
            ));
            n += 1;
        }
        if let Some(folder) = q.folder.as_ref().filter(|f| !f.is_root()) {
            args.push(Value::Text(folder.as_str().to_owned()));
            args.push(Value::Text(format!("{}/%", like_escape(folder.as_str()))));
            sql.push_str(&format!(
                " AND (c.folder = ?{n} OR c.folder LIKE ?{} ESCAPE '\\')",
                n + 1
            ));
            n += 2;
        }
        // Message hits are dated by the message (or, without a time, by its conversation's
        // last update); title hits by the conversation's lifetime overlapping the range.
        let (from, to) = if with_role {
            (
                "coalesce(t.created_at, c.updated_at)",
                "coalesce(t.created_at, c.updated_at)",
            )
        } else {
            ("c.updated_at", "c.created_at")
        };
        if let Some(since) = q.since {
            args.push(Value::Integer(to_millis(since)));
            sql.push_str(&format!(" AND {from} >= ?{n}"));
            n += 1;
        }
        if let Some(until) = q.until {
            args.push(Value::Integer(to_millis(until)));
            sql.push_str(&format!(" AND {to} < ?{n}"));
            n += 1;
        }
        if let (true, Some(role)) = (with_role, q.role) {
            args.push(Value::Text(role.as_str().to_owned()));
            sql.push_str(&format!(" AND t.role = ?{n}"));
        }
        Filters { sql, args }
    }

    fn none(q: &SearchQuery) -> bool {
        q.archived == ArchivedFilter::All
            && q.source.is_none()
            && q.tag.is_none()
            && q.folder.is_none()
            && q.since.is_none()
            && q.until.is_none()
            && q.role.is_none()
    }
}

/// A message hit before its snippet is made.
struct Candidate {
    seq: i64,
    score: f64,
    conversation_id: String,
    title: String,
    message_id: String,
    role: String,
    created_at: Option<i64>,
}

impl SqliteRepo<'_> {
    /// Searches visible messages (and hidden ones if asked) and titles; returns the best
    /// `limit` hits, best first. Whatever `q.text` holds, the result is hits or nothing, never
    /// a syntax error; text with no words returns nothing.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let terms = parse_terms(&q.text);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let limit = match q.limit {
            0 => 20,
            n => n.min(MAX_HITS),
        } as usize;
        let cjk = terms.iter().any(|t| t.text.chars().any(is_cjk));
        let mut hits = if cjk {
            self.search_cjk(q, &terms, limit)?
        } else {
            let query = fts_query(&terms);
            let mut hits = self.search_messages("turns_fts", q, &query, limit)?;
            if q.include_hidden {
                hits.extend(self.search_messages("turns_hidden_fts", q, &query, limit)?);
            }
            if q.role.is_none() {
                hits.extend(self.search_titles(q, &query, limit)?);
            }
            hits
        };
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(limit);
        Ok(hits)
    }

    /// Best-ranked rowids of an FTS5 table for `query`, at most `k`.
    ///
    /// Ranked by `bm25()` in SQLite's own `ORDER BY ... LIMIT`, which keeps only the best `k`
    /// while scoring, rather than by FTS5's `rank` column, whose sorted path sorts every match
    /// first: the same order at about half the CPU for a term in 16,650 of 1,000,000 messages
    /// (24.6 instead of 45.9 ms; docs/benchmarks.md, "MCP search").
    fn ranked(&self, fts: &str, query: &str, k: usize) -> Result<Vec<(i64, f64)>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT rowid, bm25({fts}) AS score FROM {fts} WHERE {fts} MATCH ?1
             ORDER BY score LIMIT ?2"
        ))?;
        let rows = stmt.query_map(rusqlite::params![query, k as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?))
        });
        match rows.and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>()) {
            Ok(v) => Ok(v),
            Err(e) if is_fts_syntax(&e) => {
                tracing::debug!(error = %e, query, "search query refused by FTS5");
                Ok(Vec::new())
            }
            Err(e) => Err(Error::sqlite("searching", e)),
        }
    }

    /// Filters ranked message rowids through the conversation/message filters, deepening the
    /// candidate list until `limit` pass or the matches run out.
    fn filter_messages(
        &self,
        q: &SearchQuery,
        limit: usize,
        mut ranked: impl FnMut(usize) -> Result<Vec<(i64, f64)>>,
    ) -> Result<Vec<Candidate>> {
        let filters = Filters::new(q, true, 2);
        let sql = format!(
            "SELECT t.convo_id, c.title, t.id, t.role, t.created_at
             FROM convo_turns t JOIN convos c ON c.id = t.convo_id
             WHERE t.seq = ?1 AND {}",
            filters.sql
        );
        let mut k = if Filters::none(q) {
            limit
        } else {
            (limit * 4).max(64)
        };
        loop {
            let candidates = ranked(k)?;
            let exhausted = candidates.len() < k;
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut out = Vec::with_capacity(limit);
            for (seq, rank) in candidates {
                let mut args = Vec::with_capacity(filters.args.len() + 1);
                args.push(Value::Integer(seq));
                args.extend(filters.args.iter().cloned());
                let row = stmt
                    .query_row(params_from_iter(args), |r| {
                        Ok(Candidate {
                            seq,
                            score: -rank,
                            conversation_id: r.get(0)?,
                            title: r.get(1)?,
                            message_id: r.get(2)?,
                            role: r.get(3)?,
                            created_at: r.get(4)?,
                        })
                    })
                    .optional()?;
                if let Some(c) = row {
                    out.push(c);
                    if out.len() == limit {
                        return Ok(out);
                    }
                }
            }
            if exhausted {
                return Ok(out);
            }
            k = k.saturating_mul(8);
        }
    }

    fn hit(c: Candidate, snippet: String) -> Result<SearchHit> {
        Ok(SearchHit {
            conversation_id: ConversationId::from_string(c.conversation_id),
            title: c.title,
            message_id: Some(MessageId::from_string(c.message_id)),
            role: Some(c.role.parse::<Role>()?),
            created_at: ts(c.created_at)?,
            snippet,
            score: c.score,
        })
    }

    fn search_messages(
        &self,
        fts: &str,
        q: &SearchQuery,
        query: &str,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        let found = self.filter_messages(q, limit, |k| self.ranked(fts, query, k))?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT snippet({fts}, 0, char(2), char(3), '…', {SNIPPET_TOKENS})
             FROM {fts} WHERE {fts} MATCH ?1 AND rowid = ?2"
        ))?;
        let mut out = Vec::with_capacity(found.len());
        for c in found {
            let raw: String = stmt
                .query_row(rusqlite::params![query, c.seq], |r| r.get(0))
                .optional()?
                .unwrap_or_default();
            out.push(Self::hit(c, render_snippet(&raw))?);
        }
        Ok(out)
    }

    fn search_titles(&self, q: &SearchQuery, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let filters = Filters::new(q, false, 2);
        let sql = format!(
            "SELECT c.id, c.title, highlight(convos_fts, 0, char(2), char(3))
             FROM convos_fts JOIN convos c ON c.seq = convos_fts.rowid
             WHERE convos_fts MATCH ?1 AND convos_fts.rowid = ?{} AND {}",
            filters.args.len() + 2,
            filters.sql
        );
        let k = (limit * 4).max(64);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut out = Vec::new();
        for (seq, rank) in self.ranked("convos_fts", query, k)? {
            let mut args = vec![Value::Text(query.to_owned())];
            args.extend(filters.args.iter().cloned());
            args.push(Value::Integer(seq));
            let row = stmt
                .query_row(params_from_iter(args), |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .optional()?;
            if let Some((id, title, marked)) = row {
                out.push(SearchHit {
                    conversation_id: ConversationId::from_string(id),
                    title,
                    message_id: None,
                    role: None,
                    created_at: None,
                    snippet: render_snippet(&marked),
                    score: -rank,
                });
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The CJK route: trigram MATCH for terms of three characters or more, `LIKE` for shorter
    /// ones, over the visible messages that hold CJK text; titles by `LIKE`.
    fn search_cjk(&self, q: &SearchQuery, terms: &[Term], limit: usize) -> Result<Vec<SearchHit>> {
        // CJK terms go to the trigram index; the other words of a mixed query must also match,
        // through the word index (the trigram index holds only the CJK runs of a message).
        let (cjk_terms, latin_terms): (Vec<&Term>, Vec<&Term>) =
            terms.iter().partition(|t| t.text.chars().any(is_cjk));
        let latin: Vec<Term> = latin_terms.into_iter().cloned().collect();
        let long: Vec<Term> = cjk_terms
            .iter()
            .copied()
            .filter(|t| t.text.chars().count() >= 3)
            .map(|t| Term {
                text: t.text.clone(),
                prefix: false,
            })
            .collect();
        let short: Vec<String> = cjk_terms
            .iter()
            .filter(|t| t.text.chars().count() < 3)
            .map(|t| format!("%{}%", like_escape(&t.text)))
            .collect();
        let mut likes: String = (0..short.len())
            .map(|i| format!(" AND content LIKE ?{} ESCAPE '\\'", i + 3))
            .collect();
        if !latin.is_empty() {
            likes.push_str(&format!(
                " AND rowid IN (SELECT rowid FROM turns_fts WHERE turns_fts MATCH ?{})",
                short.len() + 3
            ));
        }
        let (sql, order) = if long.is_empty() {
            (
                format!("SELECT rowid, 0.0 FROM turns_cjk_fts WHERE ?1 IS NULL{likes}"),
                "ORDER BY rowid DESC",
            )
        } else {
            (
                format!(
                    "SELECT rowid, bm25(turns_cjk_fts) AS score FROM turns_cjk_fts
                     WHERE turns_cjk_fts MATCH ?1{likes}"
                ),
                "ORDER BY score",
            )
        };
        let sql = format!("{sql} {order} LIMIT ?2");
        let match_arg = if long.is_empty() {
            Value::Null
        } else {
            Value::Text(fts_query(&long))
        };
        let ranked = |k: usize| -> Result<Vec<(i64, f64)>> {
            let mut args = vec![match_arg.clone(), Value::Integer(k as i64)];
            args.extend(short.iter().map(|s| Value::Text(s.clone())));
            if !latin.is_empty() {
                args.push(Value::Text(fts_query(&latin)));
            }
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(args), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?))
            });
            match rows.and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>()) {
                Ok(v) => Ok(v),
                Err(e) if is_fts_syntax(&e) => Ok(Vec::new()),
                Err(e) => Err(Error::sqlite("searching CJK text", e)),
            }
        };
        let found = self.filter_messages(q, limit, ranked)?;
        let mut content = self
            .conn
            .prepare_cached("SELECT content FROM convo_turns WHERE seq = ?1")?;
        let mut out = Vec::with_capacity(found.len());
        for c in found {
            let text: String = content.query_row([c.seq], |r| r.get(0))?;
            let snippet = make_snippet(&text, terms);
            out.push(Self::hit(c, snippet)?);
        }
        if q.role.is_none() {
            let filters = Filters::new(q, false, terms.len() + 1);
            let likes: Vec<String> = (1..=terms.len())
                .map(|i| format!("c.title LIKE ?{i} ESCAPE '\\'"))
                .collect();
            let sql = format!(
                "SELECT c.id, c.title FROM convos c WHERE {} AND {}
                 ORDER BY c.updated_at DESC LIMIT {limit}",
                likes.join(" AND "),
                filters.sql
            );
            let mut args: Vec<Value> = terms
                .iter()
                .map(|t| Value::Text(format!("%{}%", like_escape(&t.text))))
                .collect();
            args.extend(filters.args);
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params_from_iter(args))?;
            while let Some(row) = rows.next()? {
                let title: String = row.get(1)?;
                out.push(SearchHit {
                    conversation_id: ConversationId::from_string(row.get::<_, String>(0)?),
                    snippet: make_snippet(&title, terms),
                    title,
                    message_id: None,
                    role: None,
                    created_at: None,
                    score: 0.0,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// The char-by-char definition the byte scan must agree with.
    fn cjk_runs_by_chars(text: &str) -> String {
        let mut out = String::new();
        let mut in_run = false;
        for c in text.chars() {
            if is_cjk(c) {
                if !in_run && !out.is_empty() {
                    out.push(' ');
                }
                out.push(c);
            }
            in_run = is_cjk(c);
        }
        out
    }

    #[test]
    fn cjk_runs_keep_only_cjk_runs_joined_by_spaces() {
        assert_eq!(cjk_runs("I said 日本語 and 한국어!"), "日本語 한국어");
        assert_eq!(cjk_runs("ひらがなカタカナ漢字"), "ひらがなカタカナ漢字");
        assert_eq!(cjk_runs("plain ASCII"), "");
        // Other three-byte chars (… ’ € ｡) split runs and are not kept.
        for text in [
            "東京…大阪",
            "’引用’ — €5 ｡終",
            "a東b京c",
            "ﬁ鿿㐀䶿가힣豈﫿",
            "𝄞音楽🎵日本",
            "",
            "é東ü京",
            "中\u{301}文",
        ] {
            assert_eq!(cjk_runs(text), cjk_runs_by_chars(text), "{text:?}");
        }
    }

    #[rstest]
    #[case::plain("rust async", r#""rust" "async""#)]
    #[case::unbalanced("\"unbalanced", r#""unbalanced""#)]
    #[case::operators("AND OR", r#""AND" "OR""#)]
    #[case::star_alone("*", "")]
    #[case::near("NEAR(", r#""NEAR(""#)]
    #[case::column("title:", r#""title:""#)]
    #[case::prefix("tok*", r#""tok"*"#)]
    #[case::phrase("say \"hello   world\" now", r#""say" "hello world" "now""#)]
    #[case::empty("", "")]
    #[case::punctuation("( ) - + ^", "")]
    fn user_text_becomes_quoted_terms(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(fts_query(&parse_terms(input)), expected);
    }

    #[test]
    fn long_input_is_capped() {
        let text = "word ".repeat(5000);
        assert_eq!(parse_terms(&text).len(), MAX_TERMS);
    }

    #[test]
    fn snippets_are_escaped_and_marks_balanced() {
        assert_eq!(
            render_snippet("a <b> & \u{2}x\u{3} \u{3}y\u{2}z"),
            "a &lt;b&gt; &amp; <mark>x</mark> y<mark>z</mark>"
        );
    }

    #[test]
    fn cjk_snippets_mark_matches() {
        let terms = parse_terms("東京");
        assert_eq!(
            make_snippet("私は東京に住む", &terms),
            "私は<mark>東京</mark>に住む"
        );
    }
}
