//! Restoring AI OS Chat export documents: the conversation is saved with its own ids, as a
//! whole, unless what is stored is already identical.

use chat_model::ConversationDetail;
use chat_store::{Repo, Store, WriteStatus};

use crate::report::{ErrorEntry, InputReport};

/// Restores one document (or, in a dry run, says what restoring it would do). `relink`: the
/// store holds media it refers to; the messages of an unchanged conversation are then linked
/// to those they are not linked to yet (restored before the bytes came), and it counts as
/// updated when links were made (as a grown export whose new media are linked).
pub(super) fn restore(
    store: &Store,
    detail: &ConversationDetail,
    dry_run: bool,
    relink: bool,
) -> chat_store::Result<WriteStatus> {
    if dry_run {
        return store.read(|repo| native_status(repo, detail));
    }
    store.write(|repo| {
        let status = native_status(repo, detail)?;
        if status != WriteStatus::Unchanged {
            repo.save_conversation(detail)?;
        } else if relink && repo.link_media(&detail.conversation.id)? > 0 {
            return Ok(WriteStatus::Updated);
        }
        Ok(status)
    })
}

/// Counts a restore in the input's report. A conflict with a stored conversation fails the
/// item; any other store error ends the run.
pub(super) fn count(
    input: &mut InputReport,
    detail: &ConversationDetail,
    outcome: chat_store::Result<WriteStatus>,
) -> Result<(), chat_store::Error> {
    if input.source.is_none() {
        input.source = Some(detail.conversation.source);
    }
    match outcome {
        Ok(status) => {
            let messages = match status {
                WriteStatus::Unchanged => 0,
                _ => detail.messages.len() as u64,
            };
            input.counts.add_write(status, messages);
            Ok(())
        }
        Err(e @ (chat_store::Error::Conflict(_) | chat_store::Error::InvalidInput(_))) => {
            input.counts.seen += 1;
            input.counts.failed += 1;
            input.errors.push(ErrorEntry {
                item: format!(
                    "\"{}\" (id {})",
                    detail.conversation.title, detail.conversation.id
                ),
                error: e.to_string(),
                hint: "this conversation clashes with one already in the database; delete one \
                       of them, then import again"
                    .to_owned(),
                quarantine_id: None,
            });
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Whether restoring a document would insert, update or change nothing: equal to what is
/// stored (conversation, whole tree, tags, ratings) means unchanged.
fn native_status(repo: &Repo<'_>, detail: &ConversationDetail) -> chat_store::Result<WriteStatus> {
    match repo.get_conversation(&detail.conversation.id) {
        Ok(mut stored) => {
            let messages = repo.message_tree(&stored.id, true)?;
            stored.message_count = detail.conversation.message_count;
            let same = stored == detail.conversation && messages == detail.messages;
            Ok(if same {
                WriteStatus::Unchanged
            } else {
                WriteStatus::Updated
            })
        }
        Err(chat_store::Error::NotFound { .. }) => Ok(WriteStatus::Inserted),
        Err(e) => Err(e),
    }
}
