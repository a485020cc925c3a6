//! Tags, and the folder list.

use chat_model::{ConversationId, FolderPath, Tag};

use super::SqliteRepo;
use crate::columns::u64_of;
use crate::error::{Context, Result};
use crate::types::FolderInfo;

impl SqliteRepo<'_> {
    /// Tags a conversation (tags compare case-insensitively; the first spelling is kept).
    pub fn add_tag(&self, id: &ConversationId, tag: &Tag) -> Result<()> {
        self.ensure_conversation(id)?;
        self.conn
            .prepare_cached("INSERT INTO tags (name) VALUES (?1) ON CONFLICT (name) DO NOTHING")?
            .execute([tag.as_str()])?;
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO convo_tags (convo_id, tag_id)
                 SELECT ?1, id FROM tags WHERE name = ?2",
            )?
            .execute([id.as_str(), tag.as_str()])
            .ctx("tagging a conversation")?;
        Ok(())
    }

    /// Removes a tag from a conversation (nothing happens if it did not carry it).
    pub fn remove_tag(&self, id: &ConversationId, tag: &Tag) -> Result<()> {
        self.ensure_conversation(id)?;
        self.conn
            .prepare_cached(
                "DELETE FROM convo_tags
                 WHERE convo_id = ?1 AND tag_id = (SELECT id FROM tags WHERE name = ?2)",
            )?
            .execute([id.as_str(), tag.as_str()])
            .ctx("untagging a conversation")?;
        Ok(())
    }

    /// Every tag in use with the number of conversations carrying it, by name.
    pub fn list_tags(&self) -> Result<Vec<(Tag, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT tg.name, count(*) FROM tags tg JOIN convo_tags ct ON ct.tag_id = tg.id
             GROUP BY tg.id ORDER BY tg.name",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push((Tag::new(&row.get::<_, String>(0)?)?, u64_of(row.get(1)?)));
        }
        Ok(out)
    }

    /// Folders with their conversation counts, one entry per folder and source (so
    /// `source` is always set), ordered by path then source.
    pub fn list_folders(&self) -> Result<Vec<FolderInfo>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT folder, source, sum(archived_at IS NULL), sum(archived_at IS NOT NULL)
             FROM convos GROUP BY folder, source ORDER BY folder, source",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(FolderInfo {
                path: FolderPath::new(&row.get::<_, String>(0)?)?,
                source: Some(row.get::<_, String>(1)?.parse()?),
                count: u64_of(row.get(2)?),
                archived_count: u64_of(row.get(3)?),
            });
        }
        Ok(out)
    }
}
