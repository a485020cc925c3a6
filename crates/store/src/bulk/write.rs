//! Writing one conversation of a batch: recognise it by `(source, source_id)`, then skip it
//! (same content hash), insert it (new) or update it in place (changed).

use std::collections::{HashMap, HashSet};

use chat_model::timestamp::{now, to_millis};
use chat_model::{ConversationId, ParsedConversation};
use rusqlite::{params, OptionalExtension, Transaction};

use super::hash::{derive_message_id, join_message_id, message_id_prefix};
use super::index::Deferred;
use super::item::{BulkItem, WriteOutcome, WriteStatus};
use super::prepare::Prepared;
use super::rows::{MessageRow, Stored, INSERT_MESSAGE, UPDATE_MESSAGE};
use crate::error::{Context, Result};

/// Which conversations [`write_one`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// New ones only (and recognising unchanged ones); `None` for one that changed.
    NewOnly,
    /// Any.
    Any,
}

/// The stored row of a conversation being imported again.
struct Existing {
    id: ConversationId,
    hash: Option<Vec<u8>>,
    updated_at: i64,
}

/// Our ids for a conversation's messages, and where each provider id sits among them.
pub(crate) struct Ids<'a> {
    /// How the ids of this conversation's messages start.
    pub(crate) prefix: String,
    /// Our id of each message, in order.
    pub(crate) ids: Vec<String>,
    /// Provider message id → index.
    pub(crate) by_source: HashMap<&'a str, usize>,
}

impl<'a> Ids<'a> {
    pub(crate) fn new(
        conversation_id: &ConversationId,
        c: &'a ParsedConversation,
        prepared: &Prepared,
    ) -> Self {
        let prefix = message_id_prefix(conversation_id);
        let ids = prepared
            .message_ids
            .iter()
            .map(|m| join_message_id(&prefix, m))
            .collect();
        let by_source = c
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| (m.source_id.as_str(), i))
            .collect();
        Ids {
            prefix,
            ids,
            by_source,
        }
    }

    /// The provider's active leaf, else the last message.
    pub(crate) fn leaf(&self, c: &ParsedConversation) -> Option<&String> {
        c.active_leaf
            .as_deref()
            .and_then(|l| self.by_source.get(l).copied())
            .or_else(|| self.ids.len().checked_sub(1))
            .and_then(|i| self.ids.get(i))
    }

    /// Our id of a parent given by its provider id, when it is a message of this batch.
    pub(crate) fn in_batch(&self, parent: &str) -> Option<&String> {
        self.by_source.get(parent).and_then(|&i| self.ids.get(i))
    }
}

/// When the conversation was created and last changed, from what the provider gave.
pub(crate) fn times(c: &ParsedConversation) -> (i64, i64) {
    let first = c.messages.iter().filter_map(|m| m.created_at).min();
    let last = c.messages.iter().filter_map(|m| m.created_at).max();
    let created = c
        .created_at
        .or(first)
        .map_or_else(|| to_millis(now()), to_millis);
    let updated = c
        .updated_at
        .or(last)
        .map_or(created, to_millis)
        .max(created);
    (created, updated)
}

/// Writes `item`, with `prepared` derived from its conversation.
pub(super) fn write_one(
    tx: &Transaction<'_>,
    item: &BulkItem<'_>,
    prepared: &Prepared,
    deferred: &mut Deferred,
    phase: Phase,
) -> Result<Option<WriteOutcome>> {
    let c = item.conversation;
    let existing = tx
        .prepare_cached(
            "SELECT id, content_hash, updated_at FROM convos WHERE source = ?1 AND source_id = ?2",
        )?
        .query_row([c.source.as_str(), c.source_id.as_str()], |r| {
            Ok(Existing {
                id: ConversationId::from_string(r.get::<_, String>(0)?),
                hash: r.get(1)?,
                updated_at: r.get(2)?,
            })
        })
        .optional()
        .ctx("looking up an imported conversation")?;
    let Some(existing) = existing else {
        deferred.arm(tx)?;
        return insert_new(tx, item, prepared, deferred).map(Some);
    };
    if existing.hash.as_deref() == Some(&prepared.hash[..]) {
        return Ok(Some(WriteOutcome {
            conversation_id: existing.id,
            status: WriteStatus::Unchanged,
            messages_written: 0,
        }));
    }
    if phase == Phase::NewOnly {
        return Ok(None);
    }
    deferred.arm(tx)?;
    update_existing(tx, c, prepared, deferred, existing).map(Some)
}

/// Inserts a conversation new to the store, with all its messages.
fn insert_new(
    tx: &Transaction<'_>,
    item: &BulkItem<'_>,
    prepared: &Prepared,
    deferred: &mut Deferred,
) -> Result<WriteOutcome> {
    let c = item.conversation;
    let id = ConversationId::generate();
    let ids = Ids::new(&id, c, prepared);
    let (created_at, updated_at) = times(c);
    let folder = item
        .folder
        .cloned()
        .unwrap_or_else(|| c.source.default_folder());
    tx.prepare_cached(
        "INSERT INTO convos (id, source, source_id, title, folder, model, created_at,
            updated_at, archived_at, summary, current_turn_id, content_hash, extra)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        id.as_str(),
        c.source.as_str(),
        c.source_id,
        c.title,
        folder.as_str(),
        c.model,
        created_at,
        updated_at,
        c.archived.then_some(updated_at),
        c.summary,
        ids.leaf(c),
        &prepared.hash[..],
        prepared.extra,
    ])
    .ctx("inserting an imported conversation")?;
    let mut insert = tx.prepare_cached(INSERT_MESSAGE)?;
    let mut written = 0u64;
    for (i, (m, mid)) in c.messages.iter().zip(&ids.ids).enumerate() {
        let row = MessageRow {
            id: mid,
            conversation_id: id.as_str(),
            parent_id: m
                .parent
                .as_deref()
                .and_then(|p| ids.in_batch(p))
                .map(String::as_str),
            message: m,
            parts: prepared.parts.get(i).and_then(Option::as_deref),
        };
        let runs = prepared.cjk.get(i).and_then(Option::as_ref);
        written += row.insert(tx, &mut insert, runs, &mut deferred.cjk)?;
    }
    Ok(WriteOutcome {
        conversation_id: id,
        status: WriteStatus::Inserted,
        messages_written: written,
    })
}

/// The messages of a stored conversation, by id, for comparison.
fn stored_messages(tx: &Transaction<'_>, conversation_id: &str) -> Result<HashMap<String, Stored>> {
    let mut stored = HashMap::new();
    let mut stmt = tx.prepare_cached(
        "SELECT id, content, parts, model, created_at, hidden, status
         FROM convo_turns WHERE convo_id = ?1",
    )?;
    let mut rows = stmt.query([conversation_id])?;
    while let Some(r) = rows.next()? {
        stored.insert(
            r.get(0)?,
            Stored {
                content: r.get(1)?,
                parts: r.get(2)?,
                model: r.get(3)?,
                created_at: r.get(4)?,
                hidden: r.get(5)?,
                status: r.get(6)?,
            },
        );
    }
    Ok(stored)
}

/// Updates a stored conversation that changed: new messages added, changed ones updated in
/// place, the row's provider fields (the title only while the user has not renamed it).
fn update_existing(
    tx: &Transaction<'_>,
    c: &ParsedConversation,
    prepared: &Prepared,
    deferred: &mut Deferred,
    existing: Existing,
) -> Result<WriteOutcome> {
    let source = c.source.as_str();
    let cid = existing.id.as_str();
    let ids = Ids::new(&existing.id, c, prepared);
    let stored = stored_messages(tx, cid)?;
    let known: HashSet<&str> = stored.keys().map(String::as_str).collect();
    let mut written = 0u64;
    let mut insert = tx.prepare_cached(INSERT_MESSAGE)?;
    let mut update = tx.prepare_cached(UPDATE_MESSAGE)?;
    for (i, (m, mid)) in c.messages.iter().zip(&ids.ids).enumerate() {
        let mut row = MessageRow {
            id: mid,
            conversation_id: cid,
            parent_id: None,
            message: m,
            parts: prepared.parts.get(i).and_then(Option::as_deref),
        };
        if let Some(s) = stored.get(mid.as_str()) {
            if !s.matches(&row) {
                written += row.update(&mut update)?;
            }
            continue;
        }
        // A parent of this batch or one stored before (the provider may have dropped it).
        let parent = m.parent.as_deref().and_then(|p| {
            let pid = join_message_id(&ids.prefix, &derive_message_id(source, &c.source_id, p));
            (ids.by_source.contains_key(p) || known.contains(pid.as_str())).then_some(pid)
        });
        row.parent_id = parent.as_deref();
        let runs = prepared.cjk.get(i).and_then(Option::as_ref);
        written += row.insert(tx, &mut insert, runs, &mut deferred.cjk)?;
    }
    let (_, updated_at) = times(c);
    tx.prepare_cached(
        "UPDATE convos SET
            title = CASE WHEN title_edited = 1 THEN title ELSE ?2 END,
            model = ?3, summary = coalesce(?4, summary), updated_at = ?5,
            current_turn_id = coalesce(?6, current_turn_id), content_hash = ?7, extra = ?8
         WHERE id = ?1",
    )?
    .execute(params![
        cid,
        c.title,
        c.model,
        c.summary,
        updated_at.max(existing.updated_at),
        ids.leaf(c),
        &prepared.hash[..],
        prepared.extra,
    ])
    .ctx("updating an imported conversation")?;
    Ok(WriteOutcome {
        conversation_id: existing.id,
        status: WriteStatus::Updated,
        messages_written: written,
    })
}
