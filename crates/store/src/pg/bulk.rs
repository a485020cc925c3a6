//! The importers' writer on PostgreSQL: each batch is one transaction (behind the write lock,
//! like every write), new conversations and their messages go in with binary `COPY`, changed
//! ones are updated in place with the same rules as SQLite's writer (`crate::bulk`, whose
//! hash, ids and comparisons this shares). A killed import leaves whole batches only, and
//! running it again finds what it wrote by `(source, source_id)` and the content hash.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chat_model::timestamp::to_millis;
use chat_model::{ConversationId, ParsedConversation};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use r2d2::PooledConnection;

use super::conn::{CellManager, WRITE_LOCK};
use super::repo::rows::{pg_text, pg_text_opt};
use crate::bulk::hash::{derive_message_id, join_message_id};
use crate::bulk::item::{BulkItem, WriteOutcome, WriteStatus};
use crate::bulk::prepare::Prepared;
use crate::bulk::rows::{status_of, MessageRow, Stored};
use crate::bulk::write::{times, Ids};
use crate::error::{pg_error, Error, Result};
use crate::pg::words::{cjk_pairs, TsVector};
use crate::pretoken::TokenSet;

/// Column types of a `convos` COPY row (see [`PgBulkWriter::copy_new`]).
const CONVO_TYPES: &[Type] = &[
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::BYTEA,
    Type::TEXT,
    Type::TS_VECTOR,
];
/// Column types of a `convo_turns` COPY row.
const TURN_TYPES: &[Type] = &[
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::BOOL,
    Type::TEXT,
    Type::TEXT,
    Type::TS_VECTOR,
    Type::TS_VECTOR,
];

/// Settings of a batch's transaction (`SET LOCAL`: they end with it).
///
/// `synchronous_commit = off`: the commit returns before its WAL reaches the disk (the WAL
/// writer flushes it within a few hundred milliseconds). The database stays consistent
/// whatever happens: a crash of the *server* in that window loses the last batches whole, as
/// if the import had been killed there, and running the import again writes them (the
/// re-import rules find what is already stored). A killed importer loses nothing it was told
/// was committed.
const BATCH_SETTINGS: &str = "SET LOCAL synchronous_commit = off;";

/// The stored row of a conversation being imported again.
struct Existing {
    id: ConversationId,
    hash: Option<Vec<u8>>,
    updated_at: i64,
}

/// Writes parsed conversations in batches on one pooled connection.
pub(crate) struct PgBulkWriter {
    conn: PooledConnection<CellManager>,
    target: Arc<str>,
}

impl std::fmt::Debug for PgBulkWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBulkWriter").finish_non_exhaustive()
    }
}

impl PgBulkWriter {
    pub(crate) fn new(conn: PooledConnection<CellManager>, target: Arc<str>) -> Self {
        PgBulkWriter { conn, target }
    }

    /// Writes (or, without `commit`, previews) a batch in one transaction. The search
    /// columns of texts `tokens` holds are made from those tokens (see [`super::words`]).
    pub(crate) fn write_batch(
        &mut self,
        items: &[BulkItem<'_>],
        tokens: Option<&TokenSet>,
        commit: bool,
    ) -> Result<Vec<WriteOutcome>> {
        let target = Arc::clone(&self.target);
        let target: &str = &target;
        let err = |context| move |e| pg_error(target, context, e);
        let prepared: Vec<Cow<'_, Prepared>> = items
            .iter()
            .map(|item| match item.prepared {
                Some(p) if p.fits(item.conversation) => Ok(Cow::Borrowed(p)),
                _ => Prepared::new(item.conversation).map(Cow::Owned),
            })
            .collect::<Result<_>>()?;
        let mut cell = self.conn.0.borrow_mut();
        let client = &mut cell.client;
        let mut tx = client.transaction().map_err(err("starting a bulk write"))?;
        tx.batch_execute(&format!(
            "SELECT pg_advisory_xact_lock({WRITE_LOCK}); {BATCH_SETTINGS}"
        ))
        .map_err(err("waiting for the write lock"))?;
        let out = Self::run(&mut tx, target, items, &prepared, tokens)?;
        if commit {
            tx.commit().map_err(err("committing a bulk write"))?;
        } else {
            tx.rollback()
                .map_err(err("rolling back a previewed bulk write"))?;
        }
        Ok(out)
    }

    fn run(
        tx: &mut postgres::Transaction<'_>,
        target: &str,
        items: &[BulkItem<'_>],
        prepared: &[Cow<'_, Prepared>],
        tokens: Option<&TokenSet>,
    ) -> Result<Vec<WriteOutcome>> {
        let existing = lookup(tx, target, items)?;
        let mut out: Vec<Option<WriteOutcome>> = vec![None; items.len()];
        let mut new = Vec::new();
        let mut later = Vec::new();
        let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if !seen.insert(item.key()) {
                later.push(i);
                continue;
            }
            match existing.get(&item.key()) {
                None => new.push(i),
                Some(e) if e.hash.as_deref() == Some(&prepared[i].hash[..]) => {
                    out[i] = Some(WriteOutcome {
                        conversation_id: e.id.clone(),
                        status: WriteStatus::Unchanged,
                        messages_written: 0,
                    });
                }
                Some(_) => later.push(i),
            }
        }
        if !new.is_empty() {
            for (i, outcome) in copy_new(tx, target, items, prepared, &new, tokens)? {
                out[i] = Some(outcome);
            }
        }
        for i in later {
            // Looked up again: a second appearance in this batch finds the first.
            let item = &items[i];
            let found = lookup(tx, target, std::slice::from_ref(item))?;
            out[i] = Some(match found.into_values().next() {
                Some(e) if e.hash.as_deref() == Some(&prepared[i].hash[..]) => WriteOutcome {
                    conversation_id: e.id,
                    status: WriteStatus::Unchanged,
                    messages_written: 0,
                },
                Some(e) => update_existing(tx, target, item.conversation, &prepared[i], e, tokens)?,
                None => copy_new(tx, target, items, prepared, &[i], tokens)?
                    .pop()
                    .map(|(_, o)| o)
                    .ok_or_else(|| Error::Corrupt("a bulk item was not written".into()))?,
            });
        }
        out.into_iter()
            .map(|o| o.ok_or_else(|| Error::Corrupt("a bulk item was not written".into())))
            .collect()
    }
}

/// The stored conversations of `items`, by `(source, source_id)`.
fn lookup<'a>(
    tx: &mut postgres::Transaction<'_>,
    target: &str,
    items: &[BulkItem<'a>],
) -> Result<HashMap<(&'a str, &'a str), Existing>> {
    let sources: Vec<&str> = items.iter().map(|i| i.key().0).collect();
    let ids: Vec<&str> = items.iter().map(|i| i.key().1).collect();
    let rows = tx
        .query(
            "SELECT c.source, c.source_id, c.id, c.content_hash, c.updated_at
             FROM convos c JOIN unnest($1::text[], $2::text[]) AS k(source, source_id)
               ON c.source = k.source AND c.source_id = k.source_id",
            &[&sources, &ids],
        )
        .map_err(|e| pg_error(target, "looking up imported conversations", e))?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let source: String = row.try_get(0)?;
        let source_id: String = row.try_get(1)?;
        let Some(key) = items
            .iter()
            .map(BulkItem::key)
            .find(|k| k.0 == source && k.1 == source_id)
        else {
            continue;
        };
        found.insert(
            key,
            Existing {
                id: ConversationId::from_string(row.try_get::<_, String>(2)?),
                hash: row.try_get(3)?,
                updated_at: row.try_get(4)?,
            },
        );
    }
    Ok(found)
}

/// Inserts the conversations `which` (new to the store) with all their messages, with two
/// binary `COPY`s. A message id given twice in one conversation is written once (the first),
/// as SQLite's `ON CONFLICT DO NOTHING` does.
fn copy_new(
    tx: &mut postgres::Transaction<'_>,
    target: &str,
    items: &[BulkItem<'_>],
    prepared: &[Cow<'_, Prepared>],
    which: &[usize],
    tokens: Option<&TokenSet>,
) -> Result<Vec<(usize, WriteOutcome)>> {
    let err = |context| move |e| pg_error(target, context, e);
    let ids: Vec<(ConversationId, Ids<'_>)> = which
        .iter()
        .map(|&i| {
            let id = ConversationId::generate();
            let ids = Ids::new(&id, items[i].conversation, &prepared[i]);
            (id, ids)
        })
        .collect();
    {
        let sink = tx
            .copy_in(
                "COPY convos (id, source, source_id, title, folder, model, created_at,
                    updated_at, archived_at, summary, current_turn_id, content_hash, extra,
                    title_tsv)
                 FROM STDIN (FORMAT binary)",
            )
            .map_err(err("starting to copy conversations"))?;
        let mut w = BinaryCopyInWriter::new(sink, CONVO_TYPES);
        for (n, &i) in which.iter().enumerate() {
            let (id, ids) = &ids[n];
            let c = items[i].conversation;
            let (created_at, updated_at) = times(c);
            let folder = items[i]
                .folder
                .cloned()
                .unwrap_or_else(|| c.source.default_folder());
            let title = pg_text(&c.title);
            let title_tsv = TsVector::of(&title, tokens)?;
            let row: [&(dyn ToSql + Sync); 14] = [
                &id.as_str(),
                &c.source.as_str(),
                &pg_text(&c.source_id),
                &title,
                &folder.as_str(),
                &pg_text_opt(c.model.as_deref()),
                &created_at,
                &updated_at,
                &c.archived.then_some(updated_at),
                &pg_text_opt(c.summary.as_deref()),
                &ids.leaf(c).map(String::as_str),
                &&prepared[i].hash[..],
                &prepared[i].extra.as_deref().map(pg_text),
                &title_tsv,
            ];
            w.write(&row).map_err(err("copying a conversation"))?;
        }
        w.finish().map_err(err("copying conversations"))?;
    }
    let mut written = vec![0u64; which.len()];
    {
        let sink = tx
            .copy_in(
                "COPY convo_turns (id, convo_id, parent_id, role, content, parts, model,
                    created_at, hidden, source_id, status, tsv, cjk)
                 FROM STDIN (FORMAT binary)",
            )
            .map_err(err("starting to copy messages"))?;
        let mut w = BinaryCopyInWriter::new(sink, TURN_TYPES);
        for (n, &i) in which.iter().enumerate() {
            let (id, ids) = &ids[n];
            let c = items[i].conversation;
            let mut once: HashSet<&str> = HashSet::with_capacity(c.messages.len());
            for (k, (m, mid)) in c.messages.iter().zip(&ids.ids).enumerate() {
                if !once.insert(mid.as_str()) {
                    continue;
                }
                let parent = m.parent.as_deref().and_then(|p| ids.in_batch(p));
                let parts = prepared[i].parts.get(k).and_then(Option::as_deref);
                let content = pg_text(&m.content);
                let tsv = TsVector::of(&content, tokens)?;
                let cjk = cjk_pairs(prepared[i].cjk.get(k).and_then(Option::as_deref));
                let row: [&(dyn ToSql + Sync); 13] = [
                    &mid.as_str(),
                    &id.as_str(),
                    &parent.map(String::as_str),
                    &m.role.as_str(),
                    &content,
                    &parts.map(pg_text),
                    &pg_text_opt(m.model.as_deref()),
                    &m.created_at.map(to_millis),
                    &m.hidden,
                    &pg_text(&m.source_id),
                    &status_of(m),
                    &tsv,
                    &cjk,
                ];
                w.write(&row).map_err(err("copying a message"))?;
                written[n] += 1;
            }
        }
        w.finish().map_err(err("copying messages"))?;
    }
    Ok(which
        .iter()
        .zip(ids)
        .zip(written)
        .map(|((&i, (id, _)), n)| {
            (
                i,
                WriteOutcome {
                    conversation_id: id,
                    status: WriteStatus::Inserted,
                    messages_written: n,
                },
            )
        })
        .collect())
}

/// The messages of a stored conversation, by id, for comparison.
fn stored_messages(
    tx: &mut postgres::Transaction<'_>,
    target: &str,
    conversation_id: &str,
) -> Result<HashMap<String, Stored>> {
    let rows = tx
        .query(
            "SELECT id, content, parts, model, created_at, hidden, status
             FROM convo_turns WHERE convo_id = $1",
            &[&conversation_id],
        )
        .map_err(|e| pg_error(target, "reading stored messages", e))?;
    let mut stored = HashMap::with_capacity(rows.len());
    for r in rows {
        stored.insert(
            r.try_get(0)?,
            Stored {
                content: r.try_get(1)?,
                parts: r.try_get(2)?,
                model: r.try_get(3)?,
                created_at: r.try_get(4)?,
                hidden: r.try_get(5)?,
                status: r.try_get(6)?,
            },
        );
    }
    Ok(stored)
}

/// Updates a stored conversation that changed: new messages added, changed ones updated in
/// place, the row's provider fields (the title only while the user has not renamed it).
fn update_existing(
    tx: &mut postgres::Transaction<'_>,
    target: &str,
    c: &ParsedConversation,
    prepared: &Prepared,
    existing: Existing,
    tokens: Option<&TokenSet>,
) -> Result<WriteOutcome> {
    let err = |context| move |e| pg_error(target, context, e);
    let source = c.source.as_str();
    let cid = existing.id.as_str();
    let ids = Ids::new(&existing.id, c, prepared);
    let stored = stored_messages(tx, target, cid)?;
    let insert = tx
        .prepare(
            "INSERT INTO convo_turns (id, convo_id, parent_id, role, content, parts,
                model, created_at, hidden, source_id, status, tsv, cjk)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (id) DO NOTHING",
        )
        .map_err(err("preparing to insert messages"))?;
    let update = tx
        .prepare(
            "UPDATE convo_turns SET content = $2, parts = $3, model = $4, created_at = $5,
                hidden = $6, status = $7, tsv = $8, cjk = $9 WHERE id = $1",
        )
        .map_err(err("preparing to update messages"))?;
    let mut written = 0u64;
    for (i, (m, mid)) in c.messages.iter().zip(&ids.ids).enumerate() {
        let parts = prepared.parts.get(i).and_then(Option::as_deref);
        let row = MessageRow {
            id: mid,
            conversation_id: cid,
            parent_id: None,
            message: m,
            parts,
        };
        let content = pg_text(&m.content);
        let parts = parts.map(pg_text);
        if let Some(s) = stored.get(mid.as_str()) {
            let pg_row = MessageRow {
                parts: parts.as_deref(),
                ..row
            };
            if !s.matches(&pg_row) {
                written += tx
                    .execute(
                        &update,
                        &[
                            &mid.as_str(),
                            &content,
                            &parts,
                            &pg_text_opt(m.model.as_deref()),
                            &m.created_at.map(to_millis),
                            &m.hidden,
                            &status_of(m),
                            &TsVector::of(&content, tokens)?,
                            &cjk_pairs(prepared.cjk.get(i).and_then(Option::as_deref)),
                        ],
                    )
                    .map_err(err("updating an imported message"))?;
            }
            continue;
        }
        // A parent of this batch or one stored before (the provider may have dropped it).
        let parent = m.parent.as_deref().and_then(|p| {
            let pid = join_message_id(&ids.prefix, &derive_message_id(source, &c.source_id, p));
            (ids.by_source.contains_key(p) || stored.contains_key(&pid)).then_some(pid)
        });
        written += tx
            .execute(
                &insert,
                &[
                    &mid.as_str(),
                    &cid,
                    &parent,
                    &m.role.as_str(),
                    &content,
                    &parts,
                    &pg_text_opt(m.model.as_deref()),
                    &m.created_at.map(to_millis),
                    &m.hidden,
                    &pg_text(&m.source_id),
                    &status_of(m),
                    &TsVector::of(&content, tokens)?,
                    &cjk_pairs(prepared.cjk.get(i).and_then(Option::as_deref)),
                ],
            )
            .map_err(err("inserting an imported message"))?;
    }
    let (_, updated_at) = times(c);
    let title = pg_text(&c.title);
    tx.execute(
        "UPDATE convos SET
            title = CASE WHEN title_edited THEN title ELSE $2 END,
            title_tsv = CASE WHEN title_edited THEN title_tsv ELSE $9 END,
            model = $3, summary = coalesce($4, summary), updated_at = $5,
            current_turn_id = coalesce($6, current_turn_id), content_hash = $7, extra = $8
         WHERE id = $1",
        &[
            &cid,
            &title,
            &pg_text_opt(c.model.as_deref()),
            &pg_text_opt(c.summary.as_deref()),
            &updated_at.max(existing.updated_at),
            &ids.leaf(c).map(String::as_str),
            &&prepared.hash[..],
            &prepared.extra.as_deref().map(pg_text),
            &TsVector::of(&title, tokens)?,
        ],
    )
    .map_err(err("updating an imported conversation"))?;
    Ok(WriteOutcome {
        conversation_id: existing.id,
        status: WriteStatus::Updated,
        messages_written: written,
    })
}
