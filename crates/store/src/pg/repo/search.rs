//! Full-text search on PostgreSQL: the same terms, filters, snippet guarantees and results as
//! SQLite's (`crate::repo::search`, whose term parser and snippet renderer both use).
//!
//! * Words: a `tsvector` per message written by the store (`crate::pg::words`: SQLite's
//!   unicode61 tokens, no stemming, lower case, accents removed, so `resume` finds `résumé`)
//!   with partial GIN indexes for visible and hidden messages, ranked by `ts_rank`
//!   (normalised by document length, as bm25 favours short documents). Titles have their own
//!   column and index.
//! * User text never becomes query syntax: each term's words (tokenized as the stored vectors
//!   are, `crate::pg::words`) are quoted `tsquery` operands, joined by `<->` within a phrase
//!   and `&` between terms, and the query is one bound parameter.
//! * CJK: unicode61 keeps a run of ideographs as one word, so messages holding CJK text keep
//!   their CJK runs in a column of their own (written by the store) with a `pg_trgm`
//!   index, matched with `LIKE` (trigrams for terms of three characters or more).
//! * Snippets: `ts_headline` marks matches with control characters (removed from the text
//!   first, so the text cannot fake one), then the SQLite path's renderer escapes the HTML and
//!   turns the marks into `<mark>`.

use chat_model::timestamp::to_millis;
use chat_model::{ConversationId, MessageId, Role};
use postgres::Row;

use super::conversations::{archived_sql, refs, Args};
use super::PgRepo;
use crate::columns::{like_escape, ts};
use crate::error::Result;
use crate::pg::words;
use crate::repo::search::{
    is_cjk, make_snippet, parse_terms, render_snippet, Term, MAX_HITS, SNIPPET_TOKENS,
};
use crate::types::{SearchHit, SearchQuery};

/// `ts_rank` normalisation: divide by 1 + the log of the document length.
const RANK_NORMALISATION: i32 = 1;
/// Most matching messages ranked per search: the newest ones. `ts_rank` reads each ranked
/// message's `tsvector` (about 10 µs a message), so ranking every match of a frequent word
/// costs more than the search's whole budget; a term matching more messages than this ranks
/// its newest matches only (see "Search" in `docs/architecture.md`).
const RANK_CANDIDATES: usize = 1000;

/// The `tsquery` of `terms` (built by [`words::tsquery`]) as the next parameter of `args`,
/// as SQL; `None` when no message can match.
fn tsquery(terms: &[Term], args: &mut Args) -> Result<Option<String>> {
    let Some(query) = words::tsquery(terms)? else {
        return Ok(None);
    };
    args.push(Box::new(query));
    Ok(Some(format!("${}::text::tsquery", args.len())))
}

/// The conversation and message filters of a search as SQL over `c` (and `t`), with their
/// parameters appended to `args` (the same rules as SQLite's).
fn filters(q: &SearchQuery, messages: bool, args: &mut Args) -> String {
    let mut sql = archived_sql(q.archived, "c.archived_at");
    if let Some(source) = q.source {
        args.push(Box::new(source.as_str().to_owned()));
        sql.push_str(&format!(" AND c.source = ${}", args.len()));
    }
    if let Some(tag) = &q.tag {
        args.push(Box::new(tag.as_str().to_owned()));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM convo_tags ct JOIN tags tg ON tg.id = ct.tag_id
               WHERE ct.convo_id = c.id AND lower(tg.name) = lower(${}))",
            args.len()
        ));
    }
    if let Some(folder) = q.folder.as_ref().filter(|f| !f.is_root()) {
        args.push(Box::new(folder.as_str().to_owned()));
        args.push(Box::new(format!("{}/%", like_escape(folder.as_str()))));
        sql.push_str(&format!(
            " AND (c.folder = ${} OR c.folder LIKE ${} ESCAPE '\\')",
            args.len() - 1,
            args.len()
        ));
    }
    // Message hits are dated by the message (or, without a time, by its conversation's last
    // update); title hits by the conversation's lifetime overlapping the range.
    let (from, to) = if messages {
        (
            "coalesce(t.created_at, c.updated_at)",
            "coalesce(t.created_at, c.updated_at)",
        )
    } else {
        ("c.updated_at", "c.created_at")
    };
    if let Some(since) = q.since {
        args.push(Box::new(to_millis(since)));
        sql.push_str(&format!(" AND {from} >= ${}", args.len()));
    }
    if let Some(until) = q.until {
        args.push(Box::new(to_millis(until)));
        sql.push_str(&format!(" AND {to} < ${}", args.len()));
    }
    if let (true, Some(role)) = (messages, q.role) {
        args.push(Box::new(role.as_str().to_owned()));
        sql.push_str(&format!(" AND t.role = ${}", args.len()));
    }
    sql
}

/// `ts_headline` options: the marks, and about as much context as SQLite's snippets.
fn headline_options(whole: bool) -> String {
    if whole {
        "StartSel=\"\u{2}\", StopSel=\"\u{3}\", HighlightAll=true".to_owned()
    } else {
        format!(
            "StartSel=\"\u{2}\", StopSel=\"\u{3}\", MaxWords={SNIPPET_TOKENS}, MinWords={}, \
             ShortWord=0, MaxFragments=1, FragmentDelimiter=\" … \"",
            SNIPPET_TOKENS / 2
        )
    }
}

/// Text without the snippet marks, as SQL.
///
/// `<` and `>` become the control characters 4 and 5 (originals removed), because
/// `ts_headline`'s parser drops whatever looks like an HTML tag; [`headline_snippet`] turns them
/// back before escaping.
fn unmarked(column: &str) -> String {
    format!("translate({column}, '<>' || chr(2) || chr(3) || chr(4) || chr(5), chr(4) || chr(5))")
}

/// A `ts_headline` result (see [`unmarked`]) as an escaped snippet with `<mark>`s.
fn headline_snippet(raw: &str) -> String {
    let text: String = raw
        .chars()
        .map(|c| match c {
            '\u{4}' => '<',
            '\u{5}' => '>',
            c => c,
        })
        .collect();
    render_snippet(&text)
}

/// A message hit from a row of `seq, convo_id, title, id, role, created_at, score, snippet`.
fn message_hit(row: &Row, snippet: String) -> Result<SearchHit> {
    Ok(SearchHit {
        conversation_id: ConversationId::from_string(row.try_get::<_, String>(1)?),
        title: row.try_get(2)?,
        message_id: Some(MessageId::from_string(row.try_get::<_, String>(3)?)),
        role: Some(row.try_get::<_, String>(4)?.parse::<Role>()?),
        created_at: ts(row.try_get(5)?)?,
        snippet,
        score: row.try_get::<_, f64>(6)?,
    })
}

impl PgRepo<'_> {
    /// See [`crate::Repo::search`].
    pub(crate) fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let terms = parse_terms(&q.text);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let limit = match q.limit {
            0 => 20,
            n => n.min(MAX_HITS),
        } as usize;
        let mut hits = if terms.iter().any(|t| t.text.chars().any(is_cjk)) {
            self.search_cjk(q, &terms, limit)?
        } else {
            let mut hits = self.search_messages(q, &terms, false, limit)?;
            if q.include_hidden {
                hits.extend(self.search_messages(q, &terms, true, limit)?);
            }
            if q.role.is_none() {
                hits.extend(self.search_titles(q, &terms, limit)?);
            }
            hits
        };
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(limit);
        Ok(hits)
    }

    /// The best `limit` visible (or hidden) messages for `terms`, with their snippets.
    fn search_messages(
        &self,
        q: &SearchQuery,
        terms: &[Term],
        hidden: bool,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        let mut args: Args = Vec::new();
        let Some(query) = tsquery(terms, &mut args)? else {
            return Ok(Vec::new());
        };
        let filters = filters(q, true, &mut args);
        let hidden = if hidden { "t.hidden" } else { "NOT t.hidden" };
        // The newest `RANK_CANDIDATES` matches (found through the index, ordered by `seq`,
        // which reads no `tsvector`), then only those ranked. `seq + 0`: ordered by the
        // `seq` index itself, the planner would walk it backwards testing every message's
        // `tsvector` until enough matched (500 ms for a 1% word at 1,000,000 messages).
        let sql = format!(
            "WITH candidates AS MATERIALIZED (
                SELECT t.seq, c.title
                FROM convo_turns t JOIN convos c ON c.id = t.convo_id
                WHERE t.tsv @@ {query} AND {hidden} AND {filters}
                ORDER BY t.seq + 0 DESC LIMIT {RANK_CANDIDATES}),
             best AS (
                SELECT t.seq, t.convo_id, k.title, t.id, t.role, t.created_at,
                       ts_rank(t.tsv, {query}, {RANK_NORMALISATION})::float8 AS score
                FROM candidates k JOIN convo_turns t ON t.seq = k.seq
                ORDER BY score DESC, t.seq DESC LIMIT {limit})
             SELECT b.*, ts_headline('chat_simple', {}, {query}, '{}')
             FROM best b JOIN convo_turns t ON t.seq = b.seq
             ORDER BY b.score DESC, b.seq DESC",
            unmarked("t.content"),
            headline_options(false).replace('\'', "''"),
        );
        self.query("searching messages", &sql, &refs(&args))?
            .iter()
            .map(|row| message_hit(row, headline_snippet(&row.try_get::<_, String>(7)?)))
            .collect()
    }

    /// The best `limit` titles for `terms`.
    fn search_titles(
        &self,
        q: &SearchQuery,
        terms: &[Term],
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        let mut args: Args = Vec::new();
        let Some(query) = tsquery(terms, &mut args)? else {
            return Ok(Vec::new());
        };
        let filters = filters(q, false, &mut args);
        let sql = format!(
            "SELECT c.id, c.title, ts_rank(c.title_tsv, {query}, {RANK_NORMALISATION})::float8 AS score,
                    ts_headline('chat_simple', {}, {query}, '{}')
             FROM convos c WHERE c.title_tsv @@ {query} AND {filters}
             ORDER BY score DESC, c.id DESC LIMIT {limit}",
            unmarked("c.title"),
            headline_options(true).replace('\'', "''"),
        );
        self.query("searching titles", &sql, &refs(&args))?
            .iter()
            .map(|row| {
                Ok(SearchHit {
                    conversation_id: ConversationId::from_string(row.try_get::<_, String>(0)?),
                    title: row.try_get(1)?,
                    message_id: None,
                    role: None,
                    created_at: None,
                    snippet: headline_snippet(&row.try_get::<_, String>(3)?),
                    score: row.try_get(2)?,
                })
            })
            .collect()
    }

    /// The CJK route: `LIKE` over the CJK runs of visible messages (trigram-indexed), the
    /// other words of a mixed query through the word index; titles by `LIKE`. Newest first.
    fn search_cjk(&self, q: &SearchQuery, terms: &[Term], limit: usize) -> Result<Vec<SearchHit>> {
        let (cjk, latin): (Vec<&Term>, Vec<&Term>) =
            terms.iter().partition(|t| t.text.chars().any(is_cjk));
        let latin: Vec<Term> = latin.into_iter().cloned().collect();
        let mut args: Args = Vec::new();
        let mut conditions = vec!["t.cjk IS NOT NULL".to_owned()];
        for t in &cjk {
            args.push(Box::new(format!("%{}%", like_escape(&t.text))));
            conditions.push(format!("t.cjk LIKE ${} ESCAPE '\\'", args.len()));
        }
        if !latin.is_empty() {
            let Some(query) = tsquery(&latin, &mut args)? else {
                return Ok(Vec::new());
            };
            conditions.push(format!("t.tsv @@ {query}"));
        }
        let message_filters = filters(q, true, &mut args);
        let sql = format!(
            "SELECT t.seq, t.convo_id, c.title, t.id, t.role, t.created_at, 0::float8, t.content
             FROM convo_turns t JOIN convos c ON c.id = t.convo_id
             WHERE {} AND {message_filters}
             ORDER BY t.seq DESC LIMIT {limit}",
            conditions.join(" AND ")
        );
        let mut out = Vec::new();
        for row in self.query("searching CJK text", &sql, &refs(&args))? {
            let text: String = row.try_get(7)?;
            out.push(message_hit(&row, make_snippet(&text, terms))?);
        }
        if q.role.is_none() {
            let mut args: Args = Vec::new();
            let mut likes = Vec::new();
            for t in terms {
                args.push(Box::new(format!("%{}%", like_escape(&t.text))));
                likes.push(format!("c.title LIKE ${} ESCAPE '\\'", args.len()));
            }
            let title_filters = filters(q, false, &mut args);
            let sql = format!(
                "SELECT c.id, c.title FROM convos c WHERE {} AND {title_filters}
                 ORDER BY c.updated_at DESC LIMIT {limit}",
                likes.join(" AND ")
            );
            for row in self.query("searching CJK titles", &sql, &refs(&args))? {
                let title: String = row.try_get(1)?;
                out.push(SearchHit {
                    conversation_id: ConversationId::from_string(row.try_get::<_, String>(0)?),
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
