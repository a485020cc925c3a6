//! Full-text indexing (and media links) during a bulk write: the connection's triggers off
//! while new rows go in, then one statement per index for all of them.

use rusqlite::config::DbConfig;
use rusqlite::Transaction;

use crate::error::{Context, Error, Result};

/// Turns the connection's triggers off until dropped (`SQLITE_DBCONFIG_ENABLE_TRIGGER`; it
/// recompiles the connection's statements when it changes).
pub(super) struct TriggersOff<'a>(&'a rusqlite::Connection);

impl<'a> TriggersOff<'a> {
    pub(super) fn new(conn: &'a rusqlite::Connection) -> Result<Self> {
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)
            .ctx("turning triggers off for a bulk insert")?;
        Ok(TriggersOff(conn))
    }
}

impl Drop for TriggersOff<'_> {
    fn drop(&mut self) {
        if let Err(e) = self
            .0
            .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, true)
        {
            // Cannot happen for a valid option; the writer's connection is not returned to
            // the pool with triggers off either way (see `BulkWriter`'s drop).
            tracing::error!(error = %e, "could not turn triggers back on");
        }
    }
}

/// Rows inserted while the insert triggers stand aside, to be indexed in one statement per
/// index. Nothing is written until the first conversation that needs writing, so a batch of
/// unchanged conversations leaves the file untouched.
#[derive(Default)]
pub(super) struct Deferred {
    /// Whether `defer_fts` is set in this transaction.
    armed: bool,
    /// Highest `convo_turns.seq` already indexed.
    turns_from: i64,
    /// Highest `convos.seq` already indexed.
    convos_from: i64,
    /// `seq` and CJK runs of inserted visible messages that hold CJK text.
    pub(super) cjk: Vec<(i64, String)>,
}

impl Deferred {
    /// Called before any write: turns the insert triggers off and remembers where new rows
    /// start (INTEGER PRIMARY KEY takes max + 1, and we hold the write lock).
    pub(super) fn arm(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if self.armed {
            return Ok(());
        }
        (self.turns_from, self.convos_from) = tx
            .prepare_cached(
                "SELECT (SELECT coalesce(max(seq), 0) FROM convo_turns),
                        (SELECT coalesce(max(seq), 0) FROM convos)",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("reading the bulk start position")?;
        tx.prepare_cached("UPDATE store_flags SET defer_fts = 1 WHERE id = 1")?
            .execute([])
            .ctx("deferring search indexing")?;
        self.armed = true;
        Ok(())
    }

    /// Indexes every row inserted since [`Deferred::arm`] and turns the triggers back on.
    pub(super) fn flush(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if !self.armed {
            return Ok(());
        }
        tx.prepare_cached(
            "INSERT INTO turns_fts (rowid, content)
             SELECT seq, content FROM convo_turns WHERE seq > ?1 AND hidden = 0",
        )?
        .execute([self.turns_from])
        .ctx("indexing imported messages")?;
        tx.prepare_cached(
            "INSERT INTO turns_hidden_fts (rowid, content)
             SELECT seq, content FROM convo_turns WHERE seq > ?1 AND hidden = 1",
        )?
        .execute([self.turns_from])
        .ctx("indexing imported hidden messages")?;
        if !self.cjk.is_empty() {
            let list = serde_json::to_string(&self.cjk)
                .map_err(|e| Error::InvalidInput(format!("cannot list CJK rows: {e}")))?;
            tx.prepare_cached(
                "INSERT INTO turns_cjk_fts (rowid, content)
                 SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]')
                 FROM json_each(?1)",
            )?
            .execute([list])
            .ctx("indexing imported CJK messages")?;
            self.cjk.clear();
        }
        // The media links the insert trigger would have made (`schema.rs`, migration 4).
        tx.prepare_cached(
            "INSERT OR IGNORE INTO media_links (turn_id, hash)
             SELECT t.id, json_extract(p.value, '$.media') FROM convo_turns t, json_each(t.parts) p
             WHERE t.seq > ?1 AND t.parts IS NOT NULL AND instr(t.parts, '\"media\"') > 0
               AND json_extract(p.value, '$.media') IN (SELECT hash FROM media)",
        )?
        .execute([self.turns_from])
        .ctx("linking imported messages to their media")?;
        tx.prepare_cached(
            "INSERT INTO convos_fts (rowid, title) SELECT seq, title FROM convos WHERE seq > ?1",
        )?
        .execute([self.convos_from])
        .ctx("indexing imported titles")?;
        tx.prepare_cached("UPDATE store_flags SET defer_fts = 0 WHERE id = 1")?
            .execute([])
            .ctx("re-enabling search indexing")?;
        self.armed = false;
        Ok(())
    }
}
