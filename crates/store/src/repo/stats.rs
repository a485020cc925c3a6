//! Statistics: conversations and messages per month and source.

use std::collections::BTreeMap;

use chat_model::Source;

use super::SqliteRepo;
use crate::columns::u64_of;
use crate::error::{Context, Result};
use crate::types::{LibraryStats, MonthStats};

impl SqliteRepo<'_> {
    /// Conversations (by creation month) and messages (by the month they were written, else
    /// their conversation's) per month (UTC, `YYYY-MM`) and source, oldest month first. The
    /// totals count everything; a month of a source this build does not know is left out of
    /// the list.
    pub fn stats(&self) -> Result<LibraryStats> {
        let mut rows: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
        let counts = [
            "SELECT strftime('%Y-%m', created_at / 1000, 'unixepoch'), source, count(*)
             FROM convos GROUP BY 1, 2",
            "SELECT strftime('%Y-%m', coalesce(t.created_at, c.created_at) / 1000, 'unixepoch'),
                    c.source, count(*)
             FROM convo_turns t JOIN convos c ON c.id = t.convo_id GROUP BY 1, 2",
        ];
        for (column, sql) in counts.into_iter().enumerate() {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let mut found = stmt.query([]).ctx("counting for the statistics")?;
            while let Some(r) = found.next()? {
                let key = (
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get(1)?,
                );
                let entry = rows.entry(key).or_default();
                let n = u64_of(r.get(2)?);
                if column == 0 {
                    entry.0 = n;
                } else {
                    entry.1 = n;
                }
            }
        }
        Ok(assemble(rows))
    }
}

/// Counts per `(month, source)` (conversations, messages) as [`LibraryStats`]. Both backends
/// count with their own SQL and assemble with this.
pub(crate) fn assemble(rows: BTreeMap<(String, String), (u64, u64)>) -> LibraryStats {
    let mut stats = LibraryStats {
        conversations: 0,
        messages: 0,
        months: Vec::with_capacity(rows.len()),
    };
    for ((month, source), (conversations, messages)) in rows {
        stats.conversations += conversations;
        stats.messages += messages;
        let Ok(source) = source.parse::<Source>() else {
            continue;
        };
        stats.months.push(MonthStats {
            month,
            source,
            conversations,
            messages,
        });
    }
    stats
}
