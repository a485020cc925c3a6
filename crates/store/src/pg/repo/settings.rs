//! Store-wide settings: one text value per key (`settings` table), as on SQLite.

use super::rows::pg_text;
use super::PgRepo;
use crate::error::Result;
use crate::repo::settings::check_setting;

impl PgRepo<'_> {
    /// See [`crate::Repo::get_setting`].
    pub(crate) fn get_setting(&self, key: &str) -> Result<Option<String>> {
        let row = self.query_opt(
            "reading a setting",
            "SELECT value FROM settings WHERE key = $1",
            &[&pg_text(key).as_ref()],
        )?;
        Ok(row.map(|r| r.try_get::<_, String>(0)).transpose()?)
    }

    /// See [`crate::Repo::list_settings`].
    pub(crate) fn list_settings(&self) -> Result<Vec<(String, String)>> {
        let rows = self.query(
            "listing the settings",
            "SELECT key, value FROM settings ORDER BY key",
            &[],
        )?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// See [`crate::Repo::set_setting`].
    pub(crate) fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        check_setting(key, value)?;
        let key = pg_text(key);
        match value {
            Some(v) => self.execute(
                "writing a setting",
                "INSERT INTO settings (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key.as_ref(), &pg_text(v).as_ref()],
            )?,
            None => self.execute(
                "clearing a setting",
                "DELETE FROM settings WHERE key = $1",
                &[&key.as_ref()],
            )?,
        };
        Ok(())
    }
}
