//! The PostgreSQL repository: the same methods as SQLite's (`crate::repo`), one file per kind
//! of record, bound to one transaction of [`super::PgStore`].
//!
//! Rules and checks that do not depend on SQL (a saved state's message order, the walk up a
//! branch, search terms, snippets, statistics by month) are the SQLite repository's own
//! functions, shared, so both backends apply them the same way.

pub(crate) mod conversations;
mod extras;
mod imports;
mod media;
mod messages;
mod ratings;
pub(crate) mod rows;
mod save;
mod search;
mod settings;
mod tags;

use std::cell::RefCell;

use chat_model::{ConversationId, MessageId};
use postgres::types::ToSql;
use postgres::{Row, Statement};

use super::conn::{pg_error, PgConn};
use crate::error::{Error, Result};

/// Prepared statements kept per connection; the cache is emptied when it is full (statements
/// built for rare filter combinations do not pile up).
const STATEMENT_CACHE: usize = 256;

/// Query parameters.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// Repository functions on one PostgreSQL transaction.
#[derive(Clone, Copy)]
pub(crate) struct PgRepo<'c> {
    conn: &'c RefCell<PgConn>,
    target: &'c str,
}

impl std::fmt::Debug for PgRepo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgRepo")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl<'c> PgRepo<'c> {
    pub(crate) fn new(conn: &'c RefCell<PgConn>, target: &'c str) -> Self {
        PgRepo { conn, target }
    }

    pub(crate) fn err(&self, context: &'static str, e: postgres::Error) -> Error {
        pg_error(self.target, context, e)
    }

    /// The prepared statement for `sql`, from the connection's cache.
    fn statement(&self, sql: &str) -> Result<Statement> {
        self.cached(sql)
            .map_err(|e| pg_error(self.target, "preparing a statement", e))
    }

    /// [`Self::statement`] with the client's error.
    fn cached(&self, sql: &str) -> std::result::Result<Statement, postgres::Error> {
        let mut c = self.conn.borrow_mut();
        if let Some(s) = c.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = c.client.prepare(sql)?;
        if c.statements.len() >= STATEMENT_CACHE {
            c.statements.clear();
        }
        c.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// Every row of `sql`, with the client's error, for a caller that tries another
    /// connection when this one turns out dead.
    pub(crate) fn query_or_client_error(
        &self,
        sql: &str,
        params: &Params<'_>,
    ) -> std::result::Result<Vec<Row>, postgres::Error> {
        let s = self.cached(sql)?;
        self.conn.borrow_mut().client.query(&s, params)
    }

    /// Every row of `sql`.
    pub(crate) fn query(
        &self,
        context: &'static str,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<Vec<Row>> {
        let s = self.statement(sql)?;
        self.conn
            .borrow_mut()
            .client
            .query(&s, params)
            .map_err(|e| self.err(context, e))
    }

    /// The row of `sql`, if any.
    pub(crate) fn query_opt(
        &self,
        context: &'static str,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<Option<Row>> {
        let s = self.statement(sql)?;
        self.conn
            .borrow_mut()
            .client
            .query_opt(&s, params)
            .map_err(|e| self.err(context, e))
    }

    /// Runs `sql`; returns the rows changed.
    pub(crate) fn execute(
        &self,
        context: &'static str,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<u64> {
        let s = self.statement(sql)?;
        self.conn
            .borrow_mut()
            .client
            .execute(&s, params)
            .map_err(|e| self.err(context, e))
    }

    /// The conversation's current leaf; [`Error::NotFound`] when it does not exist.
    pub(crate) fn ensure_conversation(&self, id: &ConversationId) -> Result<Option<String>> {
        self.query_opt(
            "looking up a conversation",
            "SELECT current_turn_id FROM convos WHERE id = $1",
            &[&id.as_str()],
        )?
        .map(|r| r.try_get::<_, Option<String>>(0))
        .transpose()?
        .ok_or_else(|| Error::not_found("conversation", id.as_str()))
    }

    /// The conversation a message belongs to.
    pub(crate) fn message_conversation(&self, id: &MessageId) -> Result<String> {
        self.query_opt(
            "looking up a message",
            "SELECT convo_id FROM convo_turns WHERE id = $1",
            &[&id.as_str()],
        )?
        .map(|r| r.try_get::<_, String>(0))
        .transpose()?
        .ok_or_else(|| Error::not_found("message", id.as_str()))
    }

    /// Rows of a table, for tests.
    #[cfg(feature = "testing")]
    pub(crate) fn count_rows(&self, table: &str) -> Result<i64> {
        let row = self.query(
            "counting rows",
            &format!("SELECT count(*) FROM {table}"),
            &[],
        )?;
        Ok(row.first().map(|r| r.try_get(0)).transpose()?.unwrap_or(0))
    }
}
