//! Tags, the folder list, and statistics.

use std::collections::BTreeMap;

use chat_model::{ConversationId, FolderPath, Tag};

use super::rows::count;
use super::PgRepo;
use crate::error::Result;
use crate::repo::stats::assemble;
use crate::types::{FolderInfo, LibraryStats};

impl PgRepo<'_> {
    /// See [`crate::Repo::add_tag`].
    pub(crate) fn add_tag(&self, id: &ConversationId, tag: &Tag) -> Result<()> {
        self.ensure_conversation(id)?;
        self.execute(
            "creating a tag",
            "INSERT INTO tags (name) VALUES ($1) ON CONFLICT (lower(name)) DO NOTHING",
            &[&tag.as_str()],
        )?;
        self.execute(
            "tagging a conversation",
            "INSERT INTO convo_tags (convo_id, tag_id)
             SELECT $1, id FROM tags WHERE lower(name) = lower($2)
             ON CONFLICT DO NOTHING",
            &[&id.as_str(), &tag.as_str()],
        )?;
        Ok(())
    }

    /// See [`crate::Repo::remove_tag`].
    pub(crate) fn remove_tag(&self, id: &ConversationId, tag: &Tag) -> Result<()> {
        self.ensure_conversation(id)?;
        self.execute(
            "untagging a conversation",
            "DELETE FROM convo_tags
             WHERE convo_id = $1 AND tag_id = (SELECT id FROM tags WHERE lower(name) = lower($2))",
            &[&id.as_str(), &tag.as_str()],
        )?;
        Ok(())
    }

    /// See [`crate::Repo::list_tags`].
    pub(crate) fn list_tags(&self) -> Result<Vec<(Tag, u64)>> {
        let rows = self.query(
            "listing tags",
            "SELECT tg.name, count(*) FROM tags tg JOIN convo_tags ct ON ct.tag_id = tg.id
             GROUP BY tg.id, tg.name ORDER BY lower(tg.name), tg.name",
            &[],
        )?;
        rows.iter()
            .map(|r| Ok((Tag::new(&r.try_get::<_, String>(0)?)?, count(r, 1)?)))
            .collect()
    }

    /// See [`crate::Repo::list_folders`].
    pub(crate) fn list_folders(&self) -> Result<Vec<FolderInfo>> {
        let rows = self.query(
            "listing folders",
            "SELECT folder, source, count(*) FILTER (WHERE archived_at IS NULL),
                    count(*) FILTER (WHERE archived_at IS NOT NULL)
             FROM convos GROUP BY folder, source ORDER BY folder, source COLLATE \"C\"",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(FolderInfo {
                    path: FolderPath::new(&r.try_get::<_, String>(0)?)?,
                    source: Some(r.try_get::<_, String>(1)?.parse()?),
                    count: count(r, 2)?,
                    archived_count: count(r, 3)?,
                })
            })
            .collect()
    }

    /// See [`crate::Repo::stats`].
    pub(crate) fn stats(&self) -> Result<LibraryStats> {
        let mut rows: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
        let month = |column: &str| {
            format!("to_char(to_timestamp(({column}) / 1000) AT TIME ZONE 'UTC', 'YYYY-MM')")
        };
        let counts = [
            format!(
                "SELECT {}, source, count(*) FROM convos GROUP BY 1, 2",
                month("created_at")
            ),
            format!(
                "SELECT {}, c.source, count(*)
                 FROM convo_turns t JOIN convos c ON c.id = t.convo_id GROUP BY 1, 2",
                month("coalesce(t.created_at, c.created_at)")
            ),
        ];
        for (column, sql) in counts.iter().enumerate() {
            for r in self.query("counting for the statistics", sql, &[])? {
                let key = (
                    r.try_get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.try_get(1)?,
                );
                let entry = rows.entry(key).or_default();
                let n = count(&r, 2)?;
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
