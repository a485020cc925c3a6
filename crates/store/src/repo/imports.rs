//! Import runs and the items they quarantined.

use chat_model::timestamp::{from_millis, to_millis};
use chat_model::Source;
use rusqlite::{params, Row};

use super::SqliteRepo;
use crate::columns::ts;
use crate::error::{Context, Error, Result};
use crate::types::{ImportJobRecord, ImportRunRecord, QuarantineItem};

impl SqliteRepo<'_> {
    /// Records a new import run.
    pub fn create_import_run(&self, run: &ImportRunRecord) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO import_runs (id, started_at, finished_at, status, inputs, sources,
                    report, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                run.id,
                to_millis(run.started_at),
                run.finished_at.map(to_millis),
                run.status,
                run.inputs.to_string(),
                run.sources.to_string(),
                run.report.as_ref().map(ToString::to_string),
                run.error,
            ])
            .map_err(|e| {
                if Error::is_constraint(&e) {
                    Error::Conflict(format!("import run {} already exists", run.id))
                } else {
                    Error::sqlite("recording an import run", e)
                }
            })?;
        Ok(())
    }

    /// Overwrites an import run's fields (all but `id` and `started_at`).
    pub fn update_import_run(&self, run: &ImportRunRecord) -> Result<()> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE import_runs SET finished_at = ?2, status = ?3, inputs = ?4, sources = ?5,
                    report = ?6, error = ?7 WHERE id = ?1",
            )?
            .execute(params![
                run.id,
                run.finished_at.map(to_millis),
                run.status,
                run.inputs.to_string(),
                run.sources.to_string(),
                run.report.as_ref().map(ToString::to_string),
                run.error,
            ])
            .ctx("updating an import run")?;
        Error::found(n, "import run", run.id.as_str())
    }

    fn import_run_from_row(row: &Row<'_>) -> Result<ImportRunRecord> {
        let report: Option<String> = row.get(6)?;
        Ok(ImportRunRecord {
            id: row.get(0)?,
            started_at: from_millis(row.get(1)?)?,
            finished_at: ts(row.get(2)?)?,
            status: row.get(3)?,
            inputs: serde_json::from_str(&row.get::<_, String>(4)?)?,
            sources: serde_json::from_str(&row.get::<_, String>(5)?)?,
            report: report.map(|r| serde_json::from_str(&r)).transpose()?,
            error: row.get(7)?,
        })
    }

    /// One import run.
    pub fn get_import_run(&self, id: &str) -> Result<ImportRunRecord> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, started_at, finished_at, status, inputs, sources, report, error
             FROM import_runs WHERE id = ?1",
        )?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(row) => Self::import_run_from_row(row),
            None => Err(Error::not_found("import run", id)),
        }
    }

    /// The latest import runs, newest first.
    pub fn list_import_runs(&self, limit: u32) -> Result<Vec<ImportRunRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, started_at, finished_at, status, inputs, sources, report, error
             FROM import_runs ORDER BY started_at DESC, id DESC LIMIT ?1",
        )?;
        let mut rows = stmt.query([i64::from(limit)])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(Self::import_run_from_row(row)?);
        }
        Ok(out)
    }

    /// Keeps an item an import could not read; returns its row id.
    pub fn quarantine_item(&self, item: &QuarantineItem) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO import_quarantine (run_id, input, item, error, hint, source,
                    location, raw, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                item.run_id,
                item.input,
                item.item,
                item.error,
                item.hint,
                item.source.map(Source::as_str),
                item.location,
                item.raw,
                to_millis(item.created_at),
            ])
            .map_err(|e| {
                if Error::is_constraint(&e) {
                    Error::not_found("import run", item.run_id.as_str())
                } else {
                    Error::sqlite("quarantining an item", e)
                }
            })?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The quarantined items of a run, in the order they were kept.
    pub fn list_quarantine(&self, run_id: &str) -> Result<Vec<QuarantineItem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, run_id, input, item, error, hint, source, location, raw, created_at
             FROM import_quarantine WHERE run_id = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([run_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(QuarantineItem {
                id: row.get(0)?,
                run_id: row.get(1)?,
                input: row.get(2)?,
                item: row.get(3)?,
                error: row.get(4)?,
                hint: row.get(5)?,
                source: row
                    .get::<_, Option<String>>(6)?
                    .map(|s| s.parse())
                    .transpose()?,
                location: row.get(7)?,
                raw: row.get(8)?,
                created_at: from_millis(row.get(9)?)?,
            });
        }
        Ok(out)
    }

    /// Deletes one quarantined item.
    pub fn delete_quarantine(&self, id: i64) -> Result<()> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM import_quarantine WHERE id = ?1")?
            .execute([id])?;
        Error::found(n, "quarantined item", id.to_string())
    }

    /// See [`crate::Repo::put_import_job`].
    pub fn put_import_job(&self, job: &ImportJobRecord) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO import_jobs (id, created_at, updated_at, state) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at,
                    state = excluded.state",
            )?
            .execute(params![
                job.id,
                to_millis(job.created_at),
                to_millis(job.updated_at),
                job.state.to_string()
            ])
            .ctx("saving an import job")?;
        Ok(())
    }

    fn import_job_from_row(row: &Row<'_>) -> Result<ImportJobRecord> {
        Ok(ImportJobRecord {
            id: row.get(0)?,
            created_at: from_millis(row.get(1)?)?,
            updated_at: from_millis(row.get(2)?)?,
            state: serde_json::from_str(&row.get::<_, String>(3)?)?,
        })
    }

    /// See [`crate::Repo::get_import_job`].
    pub fn get_import_job(&self, id: &str) -> Result<ImportJobRecord> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, created_at, updated_at, state FROM import_jobs WHERE id = ?1",
        )?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(row) => Self::import_job_from_row(row),
            None => Err(Error::not_found("import job", id)),
        }
    }

    /// See [`crate::Repo::list_import_jobs`].
    pub fn list_import_jobs(&self, limit: u32) -> Result<Vec<ImportJobRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, created_at, updated_at, state FROM import_jobs
             ORDER BY created_at DESC, id DESC LIMIT ?1",
        )?;
        let mut rows = stmt.query([i64::from(limit)])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(Self::import_job_from_row(row)?);
        }
        Ok(out)
    }
}
