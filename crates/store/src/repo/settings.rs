//! Store-wide settings: one text value per key (`settings` table). The keys are named by the
//! callers (the summariser's prompt, the AI OS frontend's current session); the store only
//! keeps them.

use rusqlite::{params, OptionalExtension};

use super::Repo;
use crate::error::{Context, Error, Result};

/// Longest setting key, in bytes.
const MAX_KEY_BYTES: usize = 128;
/// Longest setting value, in bytes.
const MAX_VALUE_BYTES: usize = 64 * 1024;

impl Repo<'_> {
    /// The value of a setting; `None` when it was never set (or was cleared).
    pub fn get_setting(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |r| r.get::<_, String>(0))
            .optional()
            .ctx("reading a setting")
    }

    /// Sets a setting, or clears it with `None`. A key over 128 bytes or a value over 64 KiB
    /// is [`Error::InvalidInput`].
    pub fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(Error::InvalidInput(format!(
                "a setting's name is 1 to {MAX_KEY_BYTES} bytes"
            )));
        }
        match value {
            Some(v) if v.len() > MAX_VALUE_BYTES => Err(Error::InvalidInput(format!(
                "a setting's value is at most {MAX_VALUE_BYTES} bytes"
            ))),
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
