//! Import runs, the items they quarantined, and the API's import jobs.

use chat_model::timestamp::{from_millis, to_millis};
use chat_model::Source;
use postgres::Row;

use super::rows::pg_text;
use super::PgRepo;
use crate::columns::ts;
use crate::error::{Error, Result};
use crate::types::{ImportJobRecord, ImportRunRecord, QuarantineItem};

const RUN_COLUMNS: &str = "id, started_at, finished_at, status, inputs, sources, report, error";

fn run_from_row(row: &Row) -> Result<ImportRunRecord> {
    let report: Option<String> = row.try_get(6)?;
    Ok(ImportRunRecord {
        id: row.try_get(0)?,
        started_at: from_millis(row.try_get(1)?)?,
        finished_at: ts(row.try_get(2)?)?,
        status: row.try_get(3)?,
        inputs: serde_json::from_str(&row.try_get::<_, String>(4)?)?,
        sources: serde_json::from_str(&row.try_get::<_, String>(5)?)?,
        report: report.map(|r| serde_json::from_str(&r)).transpose()?,
        error: row.try_get(7)?,
    })
}

fn job_from_row(row: &Row) -> Result<ImportJobRecord> {
    Ok(ImportJobRecord {
        id: row.try_get(0)?,
        created_at: from_millis(row.try_get(1)?)?,
        updated_at: from_millis(row.try_get(2)?)?,
        state: serde_json::from_str(&row.try_get::<_, String>(3)?)?,
    })
}

/// JSON as text PostgreSQL holds (`\u0000` is escaped in JSON text, so only a raw NUL in a
/// string could be one; `to_string` never writes one).
fn json_text(v: &serde_json::Value) -> String {
    pg_text(&v.to_string()).into_owned()
}

impl PgRepo<'_> {
    /// See [`crate::Repo::create_import_run`].
    pub(crate) fn create_import_run(&self, run: &ImportRunRecord) -> Result<()> {
        let n = self.execute(
            "recording an import run",
            "INSERT INTO import_runs (id, started_at, finished_at, status, inputs, sources,
                report, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO NOTHING",
            &[
                &run.id,
                &to_millis(run.started_at),
                &run.finished_at.map(to_millis),
                &run.status,
                &json_text(&run.inputs),
                &json_text(&run.sources),
                &run.report.as_ref().map(json_text),
                &run.error.as_deref().map(pg_text),
            ],
        )?;
        if n == 0 {
            return Err(Error::Conflict(format!(
                "import run {} already exists",
                run.id
            )));
        }
        Ok(())
    }

    /// See [`crate::Repo::update_import_run`].
    pub(crate) fn update_import_run(&self, run: &ImportRunRecord) -> Result<()> {
        let n = self.execute(
            "updating an import run",
            "UPDATE import_runs SET finished_at = $2, status = $3, inputs = $4, sources = $5,
                report = $6, error = $7 WHERE id = $1",
            &[
                &run.id,
                &run.finished_at.map(to_millis),
                &run.status,
                &json_text(&run.inputs),
                &json_text(&run.sources),
                &run.report.as_ref().map(json_text),
                &run.error.as_deref().map(pg_text),
            ],
        )?;
        Error::found(n as usize, "import run", run.id.as_str())
    }

    /// See [`crate::Repo::get_import_run`].
    pub(crate) fn get_import_run(&self, id: &str) -> Result<ImportRunRecord> {
        let row = self.query_opt(
            "reading an import run",
            &format!("SELECT {RUN_COLUMNS} FROM import_runs WHERE id = $1"),
            &[&id],
        )?;
        match row {
            Some(row) => run_from_row(&row),
            None => Err(Error::not_found("import run", id)),
        }
    }

    /// See [`crate::Repo::list_import_runs`].
    pub(crate) fn list_import_runs(&self, limit: u32) -> Result<Vec<ImportRunRecord>> {
        self.query(
            "listing import runs",
            &format!(
                "SELECT {RUN_COLUMNS} FROM import_runs ORDER BY started_at DESC, id DESC LIMIT $1"
            ),
            &[&i64::from(limit)],
        )?
        .iter()
        .map(run_from_row)
        .collect()
    }

    /// See [`crate::Repo::quarantine_item`].
    pub(crate) fn quarantine_item(&self, item: &QuarantineItem) -> Result<i64> {
        let row = self.query_opt(
            "quarantining an item",
            "INSERT INTO import_quarantine (run_id, input, item, error, hint, source,
                location, raw, created_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
             WHERE EXISTS (SELECT 1 FROM import_runs WHERE id = $1)
             RETURNING id",
            &[
                &item.run_id,
                &pg_text(&item.input),
                &pg_text(&item.item),
                &pg_text(&item.error),
                &item.hint.as_deref().map(pg_text),
                &item.source.map(Source::as_str),
                &item.location.as_deref().map(pg_text),
                &item.raw,
                &to_millis(item.created_at),
            ],
        )?;
        match row {
            Some(row) => Ok(row.try_get(0)?),
            None => Err(Error::not_found("import run", item.run_id.as_str())),
        }
    }

    /// See [`crate::Repo::list_quarantine`].
    pub(crate) fn list_quarantine(&self, run_id: &str) -> Result<Vec<QuarantineItem>> {
        let rows = self.query(
            "listing quarantined items",
            "SELECT id, run_id, input, item, error, hint, source, location, raw, created_at
             FROM import_quarantine WHERE run_id = $1 ORDER BY id",
            &[&run_id],
        )?;
        rows.iter()
            .map(|row| {
                Ok(QuarantineItem {
                    id: row.try_get(0)?,
                    run_id: row.try_get(1)?,
                    input: row.try_get(2)?,
                    item: row.try_get(3)?,
                    error: row.try_get(4)?,
                    hint: row.try_get(5)?,
                    source: row
                        .try_get::<_, Option<String>>(6)?
                        .map(|s| s.parse())
                        .transpose()?,
                    location: row.try_get(7)?,
                    raw: row.try_get(8)?,
                    created_at: from_millis(row.try_get(9)?)?,
                })
            })
            .collect()
    }

    /// See [`crate::Repo::delete_quarantine`].
    pub(crate) fn delete_quarantine(&self, id: i64) -> Result<()> {
        let n = self.execute(
            "deleting a quarantined item",
            "DELETE FROM import_quarantine WHERE id = $1",
            &[&id],
        )?;
        Error::found(n as usize, "quarantined item", id.to_string())
    }

    /// See [`crate::Repo::put_import_job`].
    pub(crate) fn put_import_job(&self, job: &ImportJobRecord) -> Result<()> {
        self.execute(
            "saving an import job",
            "INSERT INTO import_jobs (id, created_at, updated_at, state) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at,
                state = excluded.state",
            &[
                &job.id,
                &to_millis(job.created_at),
                &to_millis(job.updated_at),
                &json_text(&job.state),
            ],
        )?;
        Ok(())
    }

    /// See [`crate::Repo::get_import_job`].
    pub(crate) fn get_import_job(&self, id: &str) -> Result<ImportJobRecord> {
        let row = self.query_opt(
            "reading an import job",
            "SELECT id, created_at, updated_at, state FROM import_jobs WHERE id = $1",
            &[&id],
        )?;
        match row {
            Some(row) => job_from_row(&row),
            None => Err(Error::not_found("import job", id)),
        }
    }

    /// See [`crate::Repo::list_import_jobs`].
    pub(crate) fn list_import_jobs(&self, limit: u32) -> Result<Vec<ImportJobRecord>> {
        self.query(
            "listing import jobs",
            "SELECT id, created_at, updated_at, state FROM import_jobs
             ORDER BY created_at DESC, id DESC LIMIT $1",
            &[&i64::from(limit)],
        )?
        .iter()
        .map(job_from_row)
        .collect()
    }
}
