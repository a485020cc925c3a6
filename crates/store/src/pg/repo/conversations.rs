//! Conversations: create, read, list, rename, file, archive, summarise, delete.

use chat_model::timestamp::{now, to_millis};
use chat_model::{Conversation, ConversationId, FolderPath, Source, Timestamp};
use postgres::types::ToSql;
use postgres::Row;

use super::rows::{conversation, pg_text, CONVERSATION_COLUMNS};
use super::PgRepo;
use crate::columns::like_escape;
use crate::error::{Error, Result};
use crate::pg::words::TsVector;
use crate::types::{ArchivedFilter, Cursor, ListQuery, NewConversation, Page};

/// Largest list page.
const MAX_PAGE: u32 = 1000;

/// The archive filter as SQL over `column`.
pub(super) fn archived_sql(filter: ArchivedFilter, column: &str) -> String {
    match filter {
        ArchivedFilter::No => format!("{column} IS NULL"),
        ArchivedFilter::Yes => format!("{column} IS NOT NULL"),
        ArchivedFilter::All => "true".to_owned(),
    }
}

/// Query parameters of any type, owned, for statements built piece by piece.
pub(crate) type Args = Vec<Box<dyn ToSql + Sync>>;

/// `args` as the slice the client takes.
pub(crate) fn refs(args: &Args) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| &**a as &(dyn ToSql + Sync)).collect()
}

impl PgRepo<'_> {
    /// See [`crate::Repo::get_conversation`].
    pub(crate) fn get_conversation(&self, id: &ConversationId) -> Result<Conversation> {
        let row = self.query_opt(
            "reading a conversation",
            &format!("SELECT {CONVERSATION_COLUMNS} FROM convos c WHERE c.id = $1"),
            &[&id.as_str()],
        )?;
        match row {
            Some(row) => conversation(&row),
            None => Err(Error::not_found("conversation", id.as_str())),
        }
    }

    /// See [`crate::Repo::create_conversation`].
    pub(crate) fn create_conversation(&self, new: NewConversation) -> Result<Conversation> {
        let id = ConversationId::generate();
        let at = to_millis(now());
        let folder = new.folder.unwrap_or_else(|| new.source.default_folder());
        let title = pg_text(&new.title.unwrap_or_default()).into_owned();
        self.execute(
            "creating a conversation",
            "INSERT INTO convos (id, source, title, folder, created_at, updated_at, title_tsv)
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
            &[
                &id.as_str(),
                &new.source.as_str(),
                &title,
                &folder.as_str(),
                &at,
                &TsVector::of(&title, None)?,
            ],
        )?;
        for tag in &new.tags {
            self.add_tag(&id, tag)?;
        }
        self.get_conversation(&id)
    }

    /// See [`crate::Repo::list_conversations`].
    pub(crate) fn list_conversations(&self, q: &ListQuery) -> Result<Page<Conversation>> {
        let (sql, args, limit) = list_statement(q);
        let rows = self.query("listing conversations", &sql, &refs(&args))?;
        list_page(&rows, limit)
    }

    fn update_conversation_row(
        &self,
        id: &ConversationId,
        sql: &str,
        arg: &(dyn ToSql + Sync),
    ) -> Result<Conversation> {
        let n = self.execute("updating a conversation", sql, &[&id.as_str(), arg])?;
        Error::found(n as usize, "conversation", id.as_str())?;
        self.get_conversation(id)
    }

    /// See [`crate::Repo::rename`].
    pub(crate) fn rename(&self, id: &ConversationId, title: &str) -> Result<Conversation> {
        let title = pg_text(title.trim());
        let n = self.execute(
            "renaming a conversation",
            "UPDATE convos SET title = $2, title_tsv = $3, title_edited = true WHERE id = $1",
            &[&id.as_str(), &title, &TsVector::of(&title, None)?],
        )?;
        Error::found(n as usize, "conversation", id.as_str())?;
        self.get_conversation(id)
    }

    /// See [`crate::Repo::move_to_folder`].
    pub(crate) fn move_to_folder(
        &self,
        id: &ConversationId,
        folder: &FolderPath,
    ) -> Result<Conversation> {
        self.update_conversation_row(
            id,
            "UPDATE convos SET folder = $2 WHERE id = $1",
            &folder.as_str(),
        )
    }

    /// See [`crate::Repo::archive`].
    pub(crate) fn archive(&self, id: &ConversationId) -> Result<Conversation> {
        self.update_conversation_row(
            id,
            "UPDATE convos SET archived_at = coalesce(archived_at, $2) WHERE id = $1",
            &to_millis(now()),
        )
    }

    /// See [`crate::Repo::restore`].
    pub(crate) fn restore(&self, id: &ConversationId) -> Result<Conversation> {
        self.update_conversation_row(
            id,
            "UPDATE convos SET archived_at = $2 WHERE id = $1",
            &None::<i64>,
        )
    }

    /// See [`crate::Repo::set_summary`].
    pub(crate) fn set_summary(
        &self,
        id: &ConversationId,
        summary: Option<&str>,
    ) -> Result<Conversation> {
        self.update_conversation_row(
            id,
            "UPDATE convos SET summary = $2 WHERE id = $1",
            &summary.map(|s| pg_text(s).into_owned()),
        )
    }

    /// See [`crate::Repo::archive_older_than`].
    pub(crate) fn archive_older_than(
        &self,
        before: Timestamp,
        source: Option<Source>,
    ) -> Result<u64> {
        self.execute(
            "archiving old conversations",
            "UPDATE convos SET archived_at = $3
             WHERE archived_at IS NULL AND updated_at < $1
               AND ($2::text IS NULL OR source = $2::text)",
            &[
                &to_millis(before),
                &source.map(Source::as_str),
                &to_millis(now()),
            ],
        )
    }

    /// See [`crate::Repo::delete_conversation`].
    pub(crate) fn delete_conversation(&self, id: &ConversationId) -> Result<()> {
        let n = self.execute(
            "deleting a conversation",
            "DELETE FROM convos WHERE id = $1",
            &[&id.as_str()],
        )?;
        Error::found(n as usize, "conversation", id.as_str())
    }

    /// See [`crate::Repo::delete_source`].
    pub(crate) fn delete_source(&self, source: Source) -> Result<Vec<ConversationId>> {
        let rows = self.query(
            "deleting a source's conversations",
            "DELETE FROM convos WHERE source = $1 RETURNING id",
            &[&source.as_str()],
        )?;
        rows.iter()
            .map(|r| Ok(ConversationId::from_string(r.try_get::<_, String>(0)?)))
            .collect()
    }
}

/// The statement of a list page (see [`crate::Repo::list_conversations`]): SQL, parameters,
/// and the page size (the statement asks for one row more, to know whether a page follows).
pub(crate) fn list_statement(q: &ListQuery) -> (String, Args, u32) {
    let limit = match q.limit {
        0 => 50,
        n => n.min(MAX_PAGE),
    };
    let mut sql = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM convos c WHERE {}",
        archived_sql(q.archived, "c.archived_at")
    );
    let mut args: Args = Vec::new();
    if let Some(source) = q.source {
        args.push(Box::new(source.as_str().to_owned()));
        sql.push_str(&format!(" AND c.source = ${}", args.len()));
    }
    if let Some(folder) = q.folder.as_ref().filter(|f| !f.is_root()) {
        args.push(Box::new(folder.as_str().to_owned()));
        let exact = args.len();
        args.push(Box::new(format!("{}/%", like_escape(folder.as_str()))));
        sql.push_str(&format!(
            " AND (c.folder = ${exact} OR c.folder LIKE ${} ESCAPE '\\')",
            args.len()
        ));
    }
    if let Some(tag) = &q.tag {
        args.push(Box::new(tag.as_str().to_owned()));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM convo_tags ct JOIN tags tg ON tg.id = ct.tag_id
                   WHERE ct.convo_id = c.id AND lower(tg.name) = lower(${}))",
            args.len()
        ));
    }
    if let Some(after) = q.updated_after {
        args.push(Box::new(to_millis(after)));
        sql.push_str(&format!(" AND c.updated_at >= ${}", args.len()));
    }
    if let Some(before) = q.updated_before {
        args.push(Box::new(to_millis(before)));
        sql.push_str(&format!(" AND c.updated_at < ${}", args.len()));
    }
    if let Some(cursor) = &q.cursor {
        args.push(Box::new(cursor.updated_at));
        let at = args.len();
        args.push(Box::new(cursor.id.clone()));
        sql.push_str(&format!(
            " AND (c.updated_at, c.id) < (${at}, ${})",
            args.len()
        ));
    }
    sql.push_str(&format!(
        " ORDER BY c.updated_at DESC, c.id DESC LIMIT {}",
        limit + 1
    ));
    (sql, args, limit)
}

/// The page of the rows of [`list_statement`].
pub(crate) fn list_page(rows: &[Row], limit: u32) -> Result<Page<Conversation>> {
    let mut items = rows.iter().map(conversation).collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|c| Cursor {
            updated_at: to_millis(c.updated_at),
            id: c.id.as_str().to_owned(),
        })
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}
