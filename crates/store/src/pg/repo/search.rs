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
//!   the pairs of neighbouring characters of their CJK runs in a `tsvector` of their own
//!   (written by the store, GIN-indexed): a term's pairs narrow the messages, `LIKE` on the
//!   text decides (a term of one character: every message holding CJK text, newest first).
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
/// The matches a first window is sized to hold, from the expected frequency of the word:
/// half again [`RANK_CANDIDATES`], as matches are not spread evenly and filters drop some.
const WINDOW_AIM: f64 = 1.5 * RANK_CANDIDATES as f64;
/// What visiting a matching row costs, in entries of the `seq` range a window reads instead
/// (measured: about 2.5 µs against 0.045 µs). A window pays when the rows it saves visiting
/// cost more than its range: for a million messages, a word in more than about 6,500.
const ROW_COST_IN_RANGE_ENTRIES: f64 = 50.0;
/// The smallest window, in messages.
const SMALLEST_WINDOW: i64 = 1024;
/// The least a window grows by when it held too few matches.
const WINDOW_GROWTH: usize = 4;

/// `query` (a `tsquery` as text, from [`words`]) as the next parameter of `args`, as SQL.
fn tsquery_param(query: &str, args: &mut Args) -> String {
    args.push(Box::new(query.to_owned()));
    format!("${}::text::tsquery", args.len())
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
            let Some(query) = words::tsquery(&terms)? else {
                return Ok(Vec::new());
            };
            let mut hits = self.search_messages(q, &query, false, limit)?;
            if q.include_hidden {
                hits.extend(self.search_messages(q, &query, true, limit)?);
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

    /// The best `limit` visible (or hidden) messages for `query`, with their snippets: the
    /// best of the newest [`RANK_CANDIDATES`] matches.
    ///
    /// A frequent word's matches are looked for among the newest messages first (a window of
    /// `seq`), which PostgreSQL intersects with the word index before visiting any row: its
    /// newest thousand matches are found without reading its older ones (for a word in 1% of
    /// a million messages, about 1,500 rows visited instead of 10,000). The window is sized
    /// from the planner's estimate of the word's matches (the column's statistics), and a
    /// window holding fewer than [`RANK_CANDIDATES`] matches is widened, to where the matches
    /// seen so far say enough would be, until it holds them or covers every message. So the
    /// result is the same as searching everything at once; only the work differs. A rare
    /// word is searched for among everything at once.
    fn search_messages(
        &self,
        q: &SearchQuery,
        query: &str,
        hidden: bool,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        // With the newest `seq`, parallel workers and JIT compilation are turned off for the
        // rest of this transaction: on a server answering many requests they cost more than
        // they save for a search's few thousand rows (parallel workers: 60 → 40 ms for a word
        // in 1% of a million messages; JIT compiles for ~100 ms when the planner expects a
        // frequent word's rows).
        let row = self.query_opt(
            "searching messages",
            "SELECT set_config('max_parallel_workers_per_gather', '0', true),
                    set_config('jit', 'off', true),
                    (SELECT seq FROM convo_turns ORDER BY seq DESC LIMIT 1)",
            &[],
        )?;
        let Some(newest) = row
            .map(|r| r.try_get::<_, Option<i64>>(2))
            .transpose()?
            .flatten()
        else {
            return Ok(Vec::new());
        };
        let expected = self.expected_matches(query, hidden)?;
        let first = (newest as f64 * WINDOW_AIM / expected.max(1.0)).max(SMALLEST_WINDOW as f64);
        let mut window = if (expected - WINDOW_AIM) * ROW_COST_IN_RANGE_ENTRIES > first {
            first as i64
        } else {
            i64::MAX
        };
        loop {
            let floor = (window < newest).then(|| newest - window);
            let (hits, found) = self.search_window(q, query, hidden, limit, floor)?;
            if found >= RANK_CANDIDATES || floor.is_none() {
                return Ok(hits);
            }
            // Aim at twice the window the density seen so far needs, and at least four
            // times this one.
            let factor = match found {
                0 => WINDOW_GROWTH * 4,
                n => (2 * RANK_CANDIDATES / n).max(WINDOW_GROWTH),
            };
            window = window.saturating_mul(i64::try_from(factor).unwrap_or(i64::MAX));
        }
    }

    /// The planner's estimate of the visible (or hidden) messages matching `query`, from
    /// the statistics `ANALYZE` keeps of the word column (0 when it cannot be read).
    fn expected_matches(&self, query: &str, hidden: bool) -> Result<f64> {
        let hidden = if hidden { "hidden" } else { "NOT hidden" };
        let rows = self.query(
            "searching messages",
            &format!(
                "EXPLAIN SELECT 1 FROM convo_turns WHERE tsv @@ $1::text::tsquery AND {hidden}"
            ),
            &[&query],
        )?;
        let first: Option<String> = rows.first().map(|r| r.try_get(0)).transpose()?;
        Ok(first
            .as_deref()
            .and_then(|plan| plan.split(" rows=").nth(1))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0))
    }

    /// [`Self::search_messages`] among the messages after `floor` (all of them for `None`):
    /// the hits, and how many candidates (at most [`RANK_CANDIDATES`]) were ranked.
    fn search_window(
        &self,
        q: &SearchQuery,
        query: &str,
        hidden: bool,
        limit: usize,
        floor: Option<i64>,
    ) -> Result<(Vec<SearchHit>, usize)> {
        let mut args: Args = Vec::new();
        let query = tsquery_param(query, &mut args);
        let filters = filters(q, true, &mut args);
        let hidden = if hidden { "t0.hidden" } else { "NOT t0.hidden" };
        let window = match floor {
            Some(floor) => {
                args.push(Box::new(floor));
                format!("t0.seq > ${}", args.len())
            }
            None => "true".to_owned(),
        };
        // The newest `RANK_CANDIDATES` matches (found through the index, sorted by `seq`,
        // which reads no `tsvector`), then only those ranked, with the row they were read
        // with (read again by `seq`, they took a tenth longer). The sort is in a subquery
        // without a limit: with the limit beside it, the planner would walk the `seq` index
        // backwards testing every message's `tsvector` until enough matched (500 ms for a 1%
        // word at 1,000,000 messages).
        // The conversation of each match is looked up by its key, newest match first, until
        // enough pass the filters (`LATERAL .. OFFSET 0` keeps the planner from joining by
        // hashing every conversation instead, which took 58 ms of 97 at 45,000
        // conversations; the sorted subquery, from looking up every match's).
        let sql = format!(
            "WITH candidates AS MATERIALIZED (
                SELECT t.seq, t.convo_id, c.title, t.id, t.role, t.created_at, t.tsv
                FROM (SELECT t0.seq, t0.convo_id, t0.id, t0.role, t0.created_at, t0.tsv
                      FROM convo_turns t0
                      WHERE t0.tsv @@ {query} AND {hidden} AND {window}
                      ORDER BY t0.seq DESC OFFSET 0) t
                CROSS JOIN LATERAL (
                    SELECT c0.id, c0.title, c0.source, c0.folder, c0.archived_at,
                           c0.created_at, c0.updated_at
                    FROM convos c0 WHERE c0.id = t.convo_id OFFSET 0) c
                WHERE {filters}
                ORDER BY t.seq DESC LIMIT {RANK_CANDIDATES}),
             best AS (
                SELECT k.seq, k.convo_id, k.title, k.id, k.role, k.created_at,
                       ts_rank(k.tsv, {query}, {RANK_NORMALISATION})::float8 AS score
                FROM candidates k
                ORDER BY score DESC, k.seq DESC LIMIT {limit})
             SELECT b.*, ts_headline('chat_simple', {}, {query}, '{}'),
                    (SELECT count(*) FROM candidates)
             FROM best b JOIN convo_turns t ON t.seq = b.seq
             ORDER BY b.score DESC, b.seq DESC",
            unmarked("t.content"),
            headline_options(false).replace('\'', "''"),
        );
        let rows = self.query("searching messages", &sql, &refs(&args))?;
        let found = match rows.first() {
            Some(row) => usize::try_from(row.try_get::<_, i64>(8)?).unwrap_or(0),
            None => 0,
        };
        let hits = rows
            .iter()
            .map(|row| message_hit(row, headline_snippet(&row.try_get::<_, String>(7)?)))
            .collect::<Result<_>>()?;
        Ok((hits, found))
    }

    /// The best `limit` titles for `terms`.
    fn search_titles(&self, q: &SearchQuery, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let mut args: Args = Vec::new();
        let query = tsquery_param(query, &mut args);
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

    /// The CJK route: visible messages holding every CJK term as a substring (narrowed by
    /// the pairs of characters each term holds, through the `cjk` index, then `LIKE` on the
    /// text), the other words of a mixed query through the word index; titles by `LIKE`.
    /// Newest first.
    fn search_cjk(&self, q: &SearchQuery, terms: &[Term], limit: usize) -> Result<Vec<SearchHit>> {
        let (cjk, latin): (Vec<&Term>, Vec<&Term>) =
            terms.iter().partition(|t| t.text.chars().any(is_cjk));
        let latin: Vec<Term> = latin.into_iter().cloned().collect();
        let mut args: Args = Vec::new();
        let mut conditions = Vec::new();
        match words::cjk_query(&cjk) {
            Some(pairs) => {
                conditions.push(format!("t.cjk @@ {}", tsquery_param(&pairs, &mut args)))
            }
            None => conditions.push("t.cjk IS NOT NULL".to_owned()),
        }
        for t in &cjk {
            args.push(Box::new(format!("%{}%", like_escape(&t.text))));
            conditions.push(format!("t.content LIKE ${} ESCAPE '\\'", args.len()));
        }
        if !latin.is_empty() {
            let Some(query) = words::tsquery(&latin)? else {
                return Ok(Vec::new());
            };
            conditions.push(format!("t.tsv @@ {}", tsquery_param(&query, &mut args)));
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
