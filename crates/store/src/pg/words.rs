//! PostgreSQL's search columns, computed by the store rather than by the server.
//!
//! Each message's `tsvector` (and each title's) holds the words SQLite's word index holds:
//! the tokens of FTS5's `unicode61 remove_diacritics 2` (lower case, accents removed, no
//! stemming, no stop words), each with its 1-based position. Queries are built from the same
//! tokens ([`tsquery`]), so a term finds exactly the words it finds on SQLite, and a phrase is
//! consecutive positions (`<->`).
//!
//! Why here and not `to_tsvector` in a generated column: `to_tsvector` was three fifths of the
//! `COPY` backend's time in an import, on one core of the server, while this tokenizer runs on
//! the importer's parse thread ([`crate::TokenSet`]) at a fraction of the cost. The price is
//! that every write of a message's text or a title must write its vector too: the columns are
//! `NOT NULL` without a default, so an `INSERT` that forgets one fails, and
//! `Store::integrity_check` recomputes every vector.
//!
//! PostgreSQL's limits on a `tsvector` are kept as `to_tsvector` keeps them: lexemes longer than
//! 2,047 bytes are left out, positions stop at 16,383 and at 256 per lexeme. A text with over
//! a megabyte of distinct words (where `to_tsvector` fails) keeps the words that fit, in byte
//! order; the rest of it is not found by word search.

use std::cell::RefCell;
use std::cmp::Ordering;

use bytes::BytesMut;
use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

use crate::error::{Error, Result};
use crate::pretoken::{Pretokenizer, TokenSet};
use crate::repo::search::{cjk_runs, Term};

/// Longest lexeme a `tsvector` holds, in bytes (PostgreSQL's `MAXSTRLEN`).
const MAX_LEXEME: usize = 2047;
/// Highest position (`MAXENTRYPOS - 1`): later words all get it.
const MAX_POSITION: usize = 16383;
/// Positions kept per lexeme (`MAXNUMPOS`).
const MAX_POSITIONS: usize = 256;
/// Bytes of lexemes and positions a `tsvector` holds (`MAXSTRPOS`), as `tsvectorrecv` counts.
const MAX_BYTES: usize = (1 << 20) - 1;

thread_local! {
    /// This thread's tokenizer for texts no [`TokenSet`] holds (created on first use).
    static TOKENIZER: RefCell<Option<Pretokenizer>> = const { RefCell::new(None) };
}

/// Calls `f` with the tokens of `text`: from `tokens` when it holds them, else tokenized here.
fn tokens_of<T>(text: &str, tokens: Option<&TokenSet>, f: impl FnOnce(&[&[u8]]) -> T) -> Result<T> {
    if let Some(found) = tokens.and_then(|set| set.tokens(text)) {
        return Ok(f(&found));
    }
    TOKENIZER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Pretokenizer::new();
        }
        let tokenizer = slot.as_mut().ok_or_else(|| {
            Error::Corrupt("SQLite's unicode61 tokenizer is not available".to_owned())
        })?;
        let mut set = TokenSet::default();
        tokenizer.add(&mut set, text);
        // An empty text has no entry, and no tokens.
        Ok(f(&set.tokens(text).unwrap_or_default()))
    })
}

/// The order of two lexemes whose first eight bytes, zero-padded, are the same: that of what
/// follows those bytes. Lexemes hold no NUL, so two of eight bytes or fewer are then equal
/// (compared without a call to `memcmp`, which slices make even when empty).
fn cmp_tails(a: &[u8], b: &[u8]) -> Ordering {
    match (a.get(8..), b.get(8..)) {
        (Some(a), Some(b)) if !a.is_empty() || !b.is_empty() => a.cmp(b),
        _ => a.len().cmp(&b.len()),
    }
}

/// A `tsvector` in PostgreSQL's binary form (`tsvectorsend`): the lexeme count, then each
/// lexeme, sorted bytewise, as a NUL-terminated string with its positions. The form is
/// canonical, so two vectors are equal when their bytes are.
#[derive(Clone, PartialEq, Eq, Default)]
pub(crate) struct TsVector {
    wire: Vec<u8>,
}

impl std::fmt::Debug for TsVector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsVector")
            .field("bytes", &self.wire.len())
            .finish()
    }
}

impl TsVector {
    /// The vector of `text`, which must be the text as stored (after `pg_text`), from
    /// `tokens` when they hold it.
    pub(crate) fn of(text: &str, tokens: Option<&TokenSet>) -> Result<TsVector> {
        tokens_of(text, tokens, TsVector::from_tokens)
    }

    /// The vector of a text's tokens, in order.
    fn from_tokens(tokens: &[&[u8]]) -> TsVector {
        // Sorted by the lexeme's first eight bytes as a number first: the same order as
        // comparing the bytes (lexemes hold no NUL), without a `memcmp` call for most pairs
        // (that call was two fifths of an import's writer thread).
        let mut entries: Vec<(u64, &[u8], u16)> = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.is_empty() && t.len() <= MAX_LEXEME && !t.contains(&0))
            .map(|(i, t)| {
                let mut head = [0u8; 8];
                let n = t.len().min(8);
                head[..n].copy_from_slice(&t[..n]);
                (
                    u64::from_be_bytes(head),
                    *t,
                    (i + 1).min(MAX_POSITION) as u16,
                )
            })
            .collect();
        entries.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| cmp_tails(a.1, b.1))
                .then(a.2.cmp(&b.2))
        });
        entries.dedup_by(|a, b| a.0 == b.0 && a.2 == b.2 && cmp_tails(a.1, b.1).is_eq());
        let mut wire = Vec::with_capacity(4 + tokens.len() * 8);
        wire.extend_from_slice(&[0; 4]);
        let mut count: u32 = 0;
        let mut size = 0usize;
        let mut rest = entries.as_slice();
        while let Some(&(head, lexeme, _)) = rest.first() {
            let n = rest
                .iter()
                .take_while(|(h, l, _)| *h == head && cmp_tails(l, lexeme).is_eq())
                .count();
            let positions = &rest[..n.min(MAX_POSITIONS)];
            rest = &rest[n..];
            // As `tsvectorrecv` counts: the lexeme, then (aligned to two bytes) a count and
            // the positions.
            let grown = (size + lexeme.len()).next_multiple_of(2) + 2 * (positions.len() + 1);
            if grown > MAX_BYTES {
                break;
            }
            size = grown;
            count += 1;
            wire.extend_from_slice(lexeme);
            wire.push(0);
            wire.extend_from_slice(&(positions.len() as u16).to_be_bytes());
            for &(_, _, p) in positions {
                wire.extend_from_slice(&p.to_be_bytes());
            }
        }
        wire[..4].copy_from_slice(&count.to_be_bytes());
        TsVector { wire }
    }
}

impl ToSql for TsVector {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&self.wire);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TS_VECTOR
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for TsVector {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<TsVector, Box<dyn std::error::Error + Sync + Send>> {
        Ok(TsVector { wire: raw.to_vec() })
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::TS_VECTOR
    }
}

impl TsVector {
    /// A vector of `lexemes` without positions (sorted and deduplicated here).
    fn stripped(mut lexemes: Vec<String>) -> TsVector {
        lexemes.sort_unstable();
        lexemes.dedup();
        let mut wire = Vec::with_capacity(4 + lexemes.len() * 9);
        wire.extend_from_slice(&[0; 4]);
        let mut count: u32 = 0;
        let mut size = 0usize;
        for lexeme in &lexemes {
            size += lexeme.len();
            if size > MAX_BYTES {
                break;
            }
            count += 1;
            wire.extend_from_slice(lexeme.as_bytes());
            wire.extend_from_slice(&[0, 0, 0]);
        }
        wire[..4].copy_from_slice(&count.to_be_bytes());
        TsVector { wire }
    }
}

/// The pairs of neighbouring characters in each run of `runs` (CJK runs joined by spaces).
fn bigrams(runs: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in runs.split(' ') {
        let chars: Vec<char> = run.chars().collect();
        out.extend(chars.windows(2).map(|pair| pair.iter().collect::<String>()));
    }
    out
}

/// The `cjk` column of a message: when it is visible and has CJK text, the pairs of
/// neighbouring characters in its CJK runs (CJK text has no spaces between words, so terms
/// are found as substrings: a term of two characters or more through the pairs it holds,
/// then the text itself with `LIKE`, see `repo::search`). Empty, not NULL, when every run is
/// one character long, so the message is still among those holding CJK text.
pub(crate) fn cjk_column(content: &str, hidden: bool) -> Option<TsVector> {
    if hidden || content.is_ascii() {
        return None;
    }
    let runs = cjk_runs(content);
    cjk_pairs(Some(runs.as_str()).filter(|runs| !runs.is_empty()))
}

/// [`cjk_column`] from the CJK runs a message's text was found to hold (`None`: hidden, or
/// none), as the importer prepares them on its parse thread (`crate::bulk::Prepared::cjk`).
pub(crate) fn cjk_pairs(runs: Option<&str>) -> Option<TsVector> {
    runs.map(|runs| TsVector::stripped(bigrams(runs)))
}

/// The `tsquery` (as text) that a message holding every CJK term of `terms` matches: every
/// pair of neighbouring characters in their CJK runs. `None` when they have no pair (terms of
/// one character), which the index cannot narrow.
pub(crate) fn cjk_query(terms: &[&Term]) -> Option<String> {
    let mut pairs: Vec<String> = terms
        .iter()
        .flat_map(|t| bigrams(&cjk_runs(&t.text)))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut out = String::new();
    for pair in &pairs {
        if !out.is_empty() {
            out.push_str(" & ");
        }
        quoted(pair, &mut out);
    }
    (!out.is_empty()).then_some(out)
}

/// A lexeme as a quoted `tsquery` operand: nothing in it is syntax.
fn quoted(lexeme: &str, out: &mut String) {
    out.push('\'');
    for c in lexeme.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
}

/// The `tsquery` (as text, for a `$n::tsquery` parameter) that finds messages holding every
/// term: each term's tokens as quoted lexemes, a phrase as consecutive positions (`<->`), a
/// prefix term's last token with `:*`. `None` when no message can match: a term without
/// tokens, or with one longer than any stored lexeme.
pub(crate) fn tsquery(terms: &[Term]) -> Result<Option<String>> {
    let mut out = String::new();
    for term in terms {
        let operand = tokens_of(&term.text, None, |tokens| {
            if tokens.is_empty() || tokens.iter().any(|t| t.len() > MAX_LEXEME) {
                return None;
            }
            let mut s = String::from("(");
            for (i, token) in tokens.iter().enumerate() {
                if i > 0 {
                    s.push_str(" <-> ");
                }
                quoted(&String::from_utf8_lossy(token), &mut s);
                if term.prefix && i + 1 == tokens.len() {
                    s.push_str(":*");
                }
            }
            s.push(')');
            Some(s)
        })?;
        let Some(operand) = operand else {
            return Ok(None);
        };
        if !out.is_empty() {
            out.push_str(" & ");
        }
        out.push_str(&operand);
    }
    Ok((!out.is_empty()).then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexemes(v: &TsVector) -> Vec<(String, Vec<u16>)> {
        let mut rest = &v.wire[4..];
        let mut out = Vec::new();
        while !rest.is_empty() {
            let end = rest.iter().position(|&b| b == 0).unwrap();
            let lexeme = String::from_utf8(rest[..end].to_vec()).unwrap();
            rest = &rest[end + 1..];
            let n = u16::from_be_bytes([rest[0], rest[1]]) as usize;
            let positions = (0..n)
                .map(|i| u16::from_be_bytes([rest[2 + 2 * i], rest[3 + 2 * i]]))
                .collect();
            rest = &rest[2 + 2 * n..];
            out.push((lexeme, positions));
        }
        let count = u32::from_be_bytes(v.wire[..4].try_into().unwrap()) as usize;
        assert_eq!(count, out.len());
        out
    }

    #[test]
    fn words_are_folded_sorted_and_positioned() {
        let v = TsVector::of("Résumé of the RESUME, the end", None).unwrap();
        assert_eq!(
            lexemes(&v),
            vec![
                ("end".to_owned(), vec![6]),
                ("of".to_owned(), vec![2]),
                ("resume".to_owned(), vec![1, 4]),
                ("the".to_owned(), vec![3, 5]),
            ]
        );
        assert_eq!(lexemes(&TsVector::of("", None).unwrap()), vec![]);
    }

    #[test]
    fn lexemes_are_in_byte_order() {
        let text = "zeta alphabetically alphabet alpha ä a aaaaaaaab aaaaaaaa aaaaaaaaa éz ez \
                    東京 z9 Z 0 10 9";
        let got: Vec<String> = lexemes(&TsVector::of(text, None).unwrap())
            .into_iter()
            .map(|(l, _)| l)
            .collect();
        let mut want = got.clone();
        want.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        want.dedup();
        assert_eq!(got, want);
        assert_eq!(got.len(), 15, "{got:?}");
    }

    #[test]
    fn limits_are_kept() {
        let many = "word ".repeat(20_000);
        let v = lexemes(&TsVector::of(&many, None).unwrap());
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].1.len(), MAX_POSITIONS);
        let late = format!("{} late", "x ".repeat(20_000));
        let v = lexemes(&TsVector::of(&late, None).unwrap());
        assert_eq!(v[0], ("late".to_owned(), vec![MAX_POSITION as u16]));
        let long = format!("{} short", "a".repeat(MAX_LEXEME + 1));
        assert_eq!(
            lexemes(&TsVector::of(&long, None).unwrap()),
            vec![("short".to_owned(), vec![2])]
        );
        // Over a megabyte of distinct words: what fits, and no more than PostgreSQL takes.
        let huge: String = (0..200_000).map(|i| format!("w{i:07} ")).collect();
        let v = TsVector::of(&huge, None).unwrap();
        let kept = lexemes(&v);
        assert!(
            kept.len() > 50_000 && kept.len() < 200_000,
            "{}",
            kept.len()
        );
        assert!(v.wire.len() <= MAX_BYTES + 4 + kept.len() * 2);
    }

    #[test]
    fn tokens_computed_ahead_give_the_same_vector() {
        let text = "Ünïcode words, and café";
        let mut set = TokenSet::default();
        Pretokenizer::new().unwrap().add(&mut set, text);
        assert_eq!(
            TsVector::of(text, Some(&set)).unwrap(),
            TsVector::of(text, None).unwrap()
        );
    }

    #[test]
    fn queries_quote_every_lexeme() {
        let t = |text: &str, prefix| Term {
            text: text.to_owned(),
            prefix,
        };
        assert_eq!(
            tsquery(&[t("it's", false), t("Café au", true)])
                .unwrap()
                .as_deref(),
            Some("('it' <-> 's') & ('cafe' <-> 'au':*)")
        );
        assert_eq!(
            tsquery(&[t("a'b\\c", false)]).unwrap().as_deref(),
            Some("('a' <-> 'b' <-> 'c')")
        );
        assert_eq!(tsquery(&[t("ok", false), t("--", false)]).unwrap(), None);
        assert_eq!(tsquery(&[]).unwrap(), None);
    }

    #[test]
    fn cjk_pairs_of_visible_messages_only() {
        let pairs = |text: &str| cjk_column(text, false).map(|v| lexemes(&v));
        assert_eq!(pairs("plain"), None);
        assert_eq!(pairs("café"), None);
        assert_eq!(cjk_column("東京", true), None);
        assert_eq!(
            pairs("東京都 and 大阪, 東京"),
            Some(vec![
                ("京都".to_owned(), vec![]),
                ("大阪".to_owned(), vec![]),
                ("東京".to_owned(), vec![]),
            ])
        );
        // One-character runs: no pairs, but the message holds CJK text.
        assert_eq!(pairs("a 東 b"), Some(vec![]));
    }

    #[test]
    fn cjk_queries_need_every_pair() {
        let t = |text: &str| Term {
            text: text.to_owned(),
            prefix: false,
        };
        let (a, b, one) = (t("東京都"), t("大阪 x"), t("東"));
        assert_eq!(
            cjk_query(&[&a, &b]).as_deref(),
            Some("'京都' & '大阪' & '東京'")
        );
        assert_eq!(cjk_query(&[&one]), None);
    }
}
