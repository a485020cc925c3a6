//! Copying a whole store into another, SQLite to PostgreSQL and back: conversations with
//! their message trees, ratings, tags, folders, archive state and fork origins, the rows'
//! import bookkeeping (content hash, renamed title), import runs with their quarantined items,
//! the API's import jobs, the store-wide settings (the summariser's prompt, ...), and media.
//!
//! * Media go first, so the messages that refer to them link to them as they are written.
//!   Bytes stream from one store to the other (files ⇄ chunks), never whole in memory; the
//!   target hashes what it receives and the copy fails if that is not the source's hash. An
//!   item the target holds already is not written again. (An import's media hints stay
//!   behind: they only spare a re-import of the same export some hashing.)
//! * It streams: conversations are read a page and a tree at a time
//!   ([`Store::conversation_details`]) and written [`BATCH`] per transaction.
//! * It is idempotent: everything is written by id (insert or update), so a copy that was
//!   killed midway, run again, completes the target without duplicates.
//! * Fork origins are set in a second pass, once every conversation exists in the target.
//! * It verifies: every conversation of the source is read back from the target and compared
//!   by hash ([`conversation_hash`]), and every media item's bytes are read back from the
//!   target and hashed again ([`media_hashes`]); the counts must match. Any difference is an
//!   error.

use std::collections::BTreeMap;
use std::io::Read;

use chat_model::{ConversationDetail, ConversationId, MediaHash};
use chat_store::{ArchivedFilter, ConversationExtras, ListQuery, MediaInfo, Store};

use crate::ImportError;

/// Conversations written per transaction.
pub const BATCH: usize = 100;

/// Where a copy stands, for a progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyProgress {
    /// Conversations copied so far (first pass) or verified (last pass).
    pub conversations: u64,
    /// Their messages.
    pub messages: u64,
    /// `copying` or `verifying`.
    pub phase: &'static str,
}

/// What a finished copy wrote and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// Conversations copied (and verified).
    pub conversations: u64,
    /// Messages copied.
    pub messages: u64,
    /// Import runs copied.
    pub import_runs: u64,
    /// Quarantined items copied.
    pub quarantined: u64,
    /// Import jobs copied.
    pub import_jobs: u64,
    /// Settings copied.
    pub settings: u64,
    /// Media items in the source (each now in the target, verified by hash).
    pub media: u64,
    /// Of those, the ones whose bytes this run wrote (the others were there already).
    pub media_written: u64,
    /// The bytes it wrote.
    pub media_bytes: u64,
}

/// Media listed per read.
const MEDIA_PAGE: u32 = 256;

/// Every media item of a store, a page at a time.
fn each_media(
    store: &Store,
    mut f: impl FnMut(MediaInfo) -> Result<(), ImportError>,
) -> Result<(), ImportError> {
    let mut after: Option<MediaHash> = None;
    loop {
        let page = store.read(|r| r.list_media(after.as_ref(), MEDIA_PAGE))?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(last.hash.clone());
        for info in page {
            f(info)?;
        }
    }
}

/// Copies every media item `to` lacks, streaming its bytes, and checks the hash it arrives as.
fn copy_media(from: &Store, to: &Store, report: &mut CopyReport) -> Result<(), ImportError> {
    each_media(from, |info| {
        report.media += 1;
        if to.read(|r| r.media_info(&info.hash))?.is_some() {
            return Ok(());
        }
        let mut bytes = from.media_bytes(&info.hash, 0, u64::MAX)?;
        let mut writer = to.media_writer()?;
        let size = std::io::copy(&mut bytes, &mut writer)
            .map_err(|e| ImportError::Internal(format!("copying media {}: {e}", info.hash)))?;
        let stored = writer.finish()?;
        if stored.info.hash != info.hash {
            return Err(ImportError::Internal(format!(
                "media {} arrived as {} in the target: the source's bytes do not match their \
                 hash; run the copy again, and if it recurs check the source's disk",
                info.hash, stored.info.hash
            )));
        }
        if let Some(name) = &info.name {
            to.write(|r| r.name_media(&info.hash, name))?;
        }
        report.media_written += 1;
        report.media_bytes += size;
        Ok(())
    })
}

/// Every media item of a store by hash, with the BLAKE3 hash of the bytes the store actually
/// returns for it (equal to the key unless the bytes are damaged), its size and type.
pub fn media_hashes(store: &Store) -> Result<BTreeMap<String, (String, u64, String)>, ImportError> {
    let mut out = BTreeMap::new();
    each_media(store, |info| {
        let mut hasher = blake3::Hasher::new();
        let mut bytes = store.media_bytes(&info.hash, 0, u64::MAX)?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = bytes
                .read(&mut buf)
                .map_err(|e| ImportError::Internal(format!("reading media {}: {e}", info.hash)))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        out.insert(
            info.hash.to_string(),
            (hasher.finalize().to_hex().to_string(), info.size, info.mime),
        );
        Ok(())
    })?;
    Ok(out)
}

/// A conversation's hash over everything a copy carries: the conversation with its tags, every
/// message with its rating, and the row's extras. Equal in two stores means copied exactly.
pub fn conversation_hash(detail: &ConversationDetail, extras: &ConversationExtras) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&serde_json::to_vec(detail).unwrap_or_default());
    h.update(&[u8::from(extras.title_edited)]);
    for field in [&extras.model, &extras.extra] {
        h.update(field.as_deref().unwrap_or("\u{0}").as_bytes());
        h.update(&[0xff]);
    }
    h.update(extras.content_hash.as_deref().unwrap_or(b"\x00none"));
    h.digest128()
}

/// A conversation with its whole tree (hidden messages included) and its extras.
fn read_whole(
    r: &chat_store::Repo<'_>,
    id: &ConversationId,
) -> chat_store::Result<(ConversationDetail, ConversationExtras)> {
    let detail = ConversationDetail {
        conversation: r.get_conversation(id)?,
        messages: r.message_tree(id, true)?,
    };
    Ok((detail, r.conversation_extras(id)?))
}

fn everything() -> ListQuery {
    ListQuery {
        archived: ArchivedFilter::All,
        ..ListQuery::default()
    }
}

/// Copies everything in `from` into `to` and verifies it (see the module's documentation);
/// `progress` is called after each batch.
pub fn copy_store(
    from: &Store,
    to: &Store,
    progress: &mut dyn FnMut(&CopyProgress),
) -> Result<CopyReport, ImportError> {
    let mut report = CopyReport::default();
    let mut forks: Vec<ConversationId> = Vec::new();
    let mut batch: Vec<(ConversationDetail, ConversationExtras)> = Vec::with_capacity(BATCH);
    let mut state = CopyProgress {
        phase: "copying",
        ..CopyProgress::default()
    };
    copy_media(from, to, &mut report)?;
    for detail in from.conversation_details(everything()) {
        let detail = detail?;
        let extras = from.read(|r| r.conversation_extras(&detail.conversation.id))?;
        if detail.conversation.forked_from.is_some() {
            forks.push(detail.conversation.id.clone());
        }
        state.conversations += 1;
        state.messages += detail.messages.len() as u64;
        batch.push((detail, extras));
        if batch.len() == BATCH {
            write_batch(to, &mut batch)?;
            progress(&state);
        }
    }
    write_batch(to, &mut batch)?;
    progress(&state);
    // Fork origins, now that every origin exists.
    for chunk in forks.chunks(BATCH) {
        let details = from.read(|r| {
            chunk
                .iter()
                .map(|id| read_whole(r, id))
                .collect::<chat_store::Result<Vec<_>>>()
        })?;
        to.write(|r| {
            for (detail, extras) in &details {
                r.save_conversation(detail)?;
                r.set_conversation_extras(&detail.conversation.id, extras)?;
            }
            Ok(())
        })?;
    }
    report.conversations = state.conversations;
    report.messages = state.messages;
    copy_imports(from, to, &mut report)?;
    verify(from, to, &report, progress)?;
    Ok(report)
}

/// Writes a batch in one transaction, fork origins left out (the second pass sets them).
fn write_batch(
    to: &Store,
    batch: &mut Vec<(ConversationDetail, ConversationExtras)>,
) -> Result<(), ImportError> {
    if batch.is_empty() {
        return Ok(());
    }
    to.write(|r| {
        for (detail, extras) in batch.iter_mut() {
            let origin = detail.conversation.forked_from.take();
            let saved = r.save_conversation(detail);
            detail.conversation.forked_from = origin;
            saved?;
            r.set_conversation_extras(&detail.conversation.id, extras)?;
        }
        Ok(())
    })?;
    batch.clear();
    Ok(())
}

/// Import runs (inserted or updated by id), their quarantined items (replaced when the target
/// holds another set), the API's import jobs and the settings (by key).
fn copy_imports(from: &Store, to: &Store, report: &mut CopyReport) -> Result<(), ImportError> {
    let runs = from.read(|r| r.list_import_runs(u32::MAX))?;
    for run in &runs {
        let items = from.read(|r| r.list_quarantine(&run.id))?;
        to.write(|r| {
            match r.get_import_run(&run.id) {
                Ok(_) => r.update_import_run(run)?,
                Err(chat_store::Error::NotFound { .. }) => r.create_import_run(run)?,
                Err(e) => return Err(e),
            }
            let held = r.list_quarantine(&run.id)?;
            let same = held.len() == items.len()
                && held.iter().zip(&items).all(|(a, b)| {
                    (&a.input, &a.item, &a.error, &a.raw) == (&b.input, &b.item, &b.error, &b.raw)
                });
            if !same {
                for item in &held {
                    r.delete_quarantine(item.id)?;
                }
                for item in &items {
                    r.quarantine_item(item)?;
                }
            }
            Ok(())
        })?;
        report.import_runs += 1;
        report.quarantined += items.len() as u64;
    }
    let jobs = from.read(|r| r.list_import_jobs(u32::MAX))?;
    to.write(|r| jobs.iter().try_for_each(|job| r.put_import_job(job)))?;
    report.import_jobs = jobs.len() as u64;
    let settings = from.read(|r| r.list_settings())?;
    to.write(|r| {
        settings
            .iter()
            .try_for_each(|(key, value)| r.set_setting(key, Some(value)))
    })?;
    report.settings = settings.len() as u64;
    Ok(())
}

/// Reads every conversation of the source back from the target and compares hashes and
/// counts.
fn verify(
    from: &Store,
    to: &Store,
    report: &CopyReport,
    progress: &mut dyn FnMut(&CopyProgress),
) -> Result<(), ImportError> {
    let mut state = CopyProgress {
        phase: "verifying",
        ..CopyProgress::default()
    };
    for detail in from.conversation_details(everything()) {
        let id = detail?.conversation.id;
        let (original, extras) = from.read(|r| read_whole(r, &id))?;
        let (copied, copied_extras) = to.read(|r| read_whole(r, &id))?;
        if conversation_hash(&copied, &copied_extras) != conversation_hash(&original, &extras) {
            return Err(ImportError::Internal(format!(
                "verification failed: conversation {id} differs in the target; run the copy again"
            )));
        }
        state.conversations += 1;
        state.messages += original.messages.len() as u64;
        if state.conversations.is_multiple_of(BATCH as u64) {
            progress(&state);
        }
    }
    let target = to.conversation_details(everything()).count() as u64;
    if target != state.conversations || state.conversations != report.conversations {
        return Err(ImportError::Internal(format!(
            "verification failed: the source holds {} conversations, the target {target} \
             (the target must start empty or hold an earlier copy of this source)",
            state.conversations
        )));
    }
    let (runs, jobs) = to.read(|r| {
        Ok((
            r.list_import_runs(u32::MAX)?.len(),
            r.list_import_jobs(u32::MAX)?.len(),
        ))
    })?;
    if runs as u64 != report.import_runs || jobs as u64 != report.import_jobs {
        return Err(ImportError::Internal(format!(
            "verification failed: {runs} import runs and {jobs} jobs in the target, {} and {} in the source",
            report.import_runs, report.import_jobs
        )));
    }
    let (source_media, target_media) = (media_hashes(from)?, media_hashes(to)?);
    if let Some((hash, _)) = source_media
        .iter()
        .find(|(hash, held)| target_media.get(*hash) != Some(held) || held.0 != **hash)
    {
        return Err(ImportError::Internal(format!(
            "verification failed: media {hash} differs between the stores; run the copy again"
        )));
    }
    if target_media.len() != source_media.len() {
        return Err(ImportError::Internal(format!(
            "verification failed: the source holds {} media items, the target {} (the target \
             must start empty or hold an earlier copy of this source)",
            source_media.len(),
            target_media.len()
        )));
    }
    progress(&state);
    Ok(())
}

/// Every conversation's [`conversation_hash`] by id, for comparing two stores.
pub fn store_hashes(
    store: &Store,
) -> Result<std::collections::BTreeMap<String, u128>, ImportError> {
    let mut out = std::collections::BTreeMap::new();
    for detail in store.conversation_details(everything()) {
        let id = detail?.conversation.id;
        let (detail, extras) = store.read(|r| read_whole(r, &id))?;
        out.insert(id.into_string(), conversation_hash(&detail, &extras));
    }
    Ok(out)
}
