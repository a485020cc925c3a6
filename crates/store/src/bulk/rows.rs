//! The message rows both write paths share: inserting an imported message (noting the rows
//! the CJK index needs), comparing one with what is stored, and updating it.

use chat_model::timestamp::to_millis;
use chat_model::ParsedMessage;
use rusqlite::{params, CachedStatement, Transaction};

use crate::error::{Context, Result};

/// Inserts one imported message; an id already there is left as it is.
pub(super) const INSERT_MESSAGE: &str =
    "INSERT INTO convo_turns (id, convo_id, parent_id, role, content, parts,
        model, created_at, hidden, source_id, status)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
     ON CONFLICT (id) DO NOTHING";

/// Replaces what an import may change in a stored message.
pub(super) const UPDATE_MESSAGE: &str =
    "UPDATE convo_turns SET content = ?2, parts = ?3, model = ?4, created_at = ?5,
        hidden = ?6, status = ?7 WHERE id = ?1";

/// The `status` column of an imported message.
pub(crate) fn status_of(m: &ParsedMessage) -> &'static str {
    if m.interrupted {
        "interrupted"
    } else {
        "complete"
    }
}

/// One imported message as a `convo_turns` row.
pub(crate) struct MessageRow<'a> {
    /// Our id for it.
    pub(crate) id: &'a str,
    /// Our id for its conversation.
    pub(crate) conversation_id: &'a str,
    /// Our id for its parent, when the parent is known.
    pub(crate) parent_id: Option<&'a str>,
    /// The message.
    pub(crate) message: &'a ParsedMessage,
    /// Its parts as JSON (`Prepared`).
    pub(crate) parts: Option<&'a str>,
}

impl MessageRow<'_> {
    /// Runs [`INSERT_MESSAGE`]; returns the rows inserted (0 when the id was there already).
    ///
    /// A new visible row that holds CJK text is remembered in `cjk` with its CJK runs
    /// (`cjk_runs`, from `Prepared`): only those go to the trigram index (trigram-indexing a
    /// long English answer because it quotes one Japanese word cost 30% of an import's time;
    /// the Latin words are in `turns_fts` already).
    pub(super) fn insert(
        &self,
        tx: &Transaction<'_>,
        insert: &mut CachedStatement<'_>,
        cjk_runs: Option<&String>,
        cjk: &mut Vec<(i64, String)>,
    ) -> Result<u64> {
        let m = self.message;
        let inserted = insert
            .execute(params![
                self.id,
                self.conversation_id,
                self.parent_id,
                m.role.as_str(),
                m.content,
                self.parts,
                m.model,
                m.created_at.map(to_millis),
                m.hidden,
                m.source_id,
                status_of(m),
            ])
            .ctx("inserting an imported message")?;
        if let (1, Some(runs)) = (inserted, cjk_runs) {
            cjk.push((tx.last_insert_rowid(), runs.clone()));
        }
        Ok(inserted as u64)
    }

    /// Runs [`UPDATE_MESSAGE`]; returns the rows changed.
    pub(super) fn update(&self, update: &mut CachedStatement<'_>) -> Result<u64> {
        let m = self.message;
        let changed = update
            .execute(params![
                self.id,
                m.content,
                self.parts,
                m.model,
                m.created_at.map(to_millis),
                m.hidden,
                status_of(m)
            ])
            .ctx("updating an imported message")?;
        Ok(changed as u64)
    }
}

/// A message as stored, for comparison on re-import.
pub(crate) struct Stored {
    pub(crate) content: String,
    pub(crate) parts: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) created_at: Option<i64>,
    pub(crate) hidden: bool,
    pub(crate) status: String,
}

impl Stored {
    /// Whether the row already holds what `row` would write.
    pub(crate) fn matches(&self, row: &MessageRow<'_>) -> bool {
        let m = row.message;
        self.content == m.content
            && self.parts.as_deref() == row.parts
            && self.model == m.model
            && self.created_at == m.created_at.map(to_millis)
            && self.hidden == m.hidden
            && self.status == status_of(m)
    }
}
