//! Store-wide settings: one text value per key (`settings` table). The keys are named by the
//! callers (the summariser's prompt, the AI OS frontend's current session); the store only
//! keeps them.

use rusqlite::{params, OptionalExtension};

use super::SqliteRepo;
use crate::error::{Context, Error, Result};

/// Longest setting key, in bytes.
const MAX_KEY_BYTES: usize = 128;
/// Longest setting value, in bytes.
const MAX_VALUE_BYTES: usize = 64 * 1024;

impl SqliteRepo<'_> {
    /// The value of a setting; `None` when it was never set (or was cleared).
    pub fn get_setting(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |r| r.get::<_, String>(0))
            .optional()
            .ctx("reading a setting")
    }

    /// Every setting, by key.
    pub fn list_settings(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM settings ORDER BY key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .ctx("listing the settings")
    }

    /// Sets a setting, or clears it with `None`. A key over 128 bytes or a value over 64 KiB
    /// is [`Error::InvalidInput`].
    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        check_setting(key, value)?;
        match value {
            Some(v) => {
                self.conn
                    .prepare_cached(
                        "INSERT INTO settings (key, value) VALUES (?1, ?2)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    )?
                    .execute(params![key, v])
                    .ctx("writing a setting")?;
                Ok(())
            }
            None => {
                self.conn
                    .prepare_cached("DELETE FROM settings WHERE key = ?1")?
                    .execute([key])
                    .ctx("clearing a setting")?;
                Ok(())
            }
        }
    }
}

/// The limits of a setting, checked the same way by both backends: a key of 1 to 128 bytes, a
/// value of at most 64 KiB.
pub(crate) fn check_setting(key: &str, value: Option<&str>) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(Error::InvalidInput(format!(
            "a setting's name is 1 to {MAX_KEY_BYTES} bytes"
        )));
    }
    match value {
        Some(v) if v.len() > MAX_VALUE_BYTES => Err(Error::InvalidInput(format!(
            "a setting's value is at most {MAX_VALUE_BYTES} bytes"
        ))),
        _ => Ok(()),
    }
}
