//! The one module that calls chat-store: every read and write the tools make, each in one
//! transaction. Synchronous, as the store is; the tools run these on the blocking pool.
//!
//! Keeping the store's API behind these few functions means a change of that API (or a second
//! backend behind it) touches this file only.

use std::collections::{HashMap, HashSet};

use chat_model::{
    Conversation, ConversationId, FolderPath, Message, MessageId, Part, Role, Source, Tag,
    Timestamp,
};
use chat_store::{
    FolderInfo, ListQuery, NewConversation, NewMessage as StoreMessage, Page, SearchHit,
    SearchQuery,
};

use crate::args::Branch;
use crate::error::Result;

pub(crate) use chat_store::{ArchivedFilter, Cursor as ListCursor, Store};

/// A search hit with its conversation.
#[derive(Debug)]
pub(crate) struct Found {
    pub hit: SearchHit,
    pub conversation: Conversation,
}

/// The branch through a message.
#[derive(Debug)]
pub(crate) struct Around {
    pub conversation: Conversation,
    /// Root to leaf, through the message.
    pub branch: Vec<Message>,
    /// The message's index in `branch`.
    pub at: usize,
    /// Which messages of `branch` lie on the active branch.
    pub on_active: Vec<bool>,
}

/// A message of a conversation an agent saves.
#[derive(Debug)]
pub(crate) struct NewMessage {
    pub role: Role,
    pub content: String,
    pub created_at: Option<Timestamp>,
    pub model: Option<String>,
}

/// The store, seen from the tools.
#[derive(Debug, Clone)]
pub(crate) struct Library {
    store: Store,
}

impl Library {
    pub(crate) fn new(store: Store) -> Self {
        Library { store }
    }

    /// Ranked hits, best first, each with its conversation (for source, folder and dates).
    pub(crate) fn search(&self, q: &SearchQuery) -> Result<Vec<Found>> {
        Ok(self.store.read(|repo| {
            let hits = repo.search(q)?;
            let mut convos: HashMap<ConversationId, Conversation> = HashMap::new();
            let mut out = Vec::with_capacity(hits.len());
            for hit in hits {
                let conversation = match convos.get(&hit.conversation_id) {
                    Some(c) => c.clone(),
                    None => {
                        let c = repo.get_conversation(&hit.conversation_id)?;
                        convos.insert(c.id.clone(), c.clone());
                        c
                    }
                };
                out.push(Found { hit, conversation });
            }
            Ok(out)
        })?)
    }

    /// A conversation with the messages of a branch selection, in reading order.
    pub(crate) fn messages(
        &self,
        id: &str,
        branch: Branch,
        hidden: bool,
    ) -> Result<(Conversation, Vec<Message>)> {
        let id = ConversationId::from(id);
        Ok(self.store.read(|repo| {
            let conversation = repo.get_conversation(&id)?;
            let messages = match branch {
                Branch::Active => repo.active_branch(&id, hidden)?,
                Branch::All => repo.message_tree(&id, hidden)?,
            };
            Ok((conversation, messages))
        })?)
    }

    /// The branch through a message: root to the message, then on down the active branch
    /// where the message lies on it, else through the latest reply at each step. Hidden
    /// messages other than the one asked for are left out unless `hidden`.
    pub(crate) fn around(&self, message_id: &str, hidden: bool) -> Result<Around> {
        let id = MessageId::from(message_id);
        Ok(self.store.read(|repo| {
            let target = repo.get_message(&id)?;
            let conversation = repo.get_conversation(&target.conversation_id)?;
            let tree = repo.message_tree(&conversation.id, true)?;
            let active = repo.active_branch(&conversation.id, true)?;
            let active_ids: HashSet<&MessageId> = active.iter().map(|m| &m.id).collect();
            let branch: Vec<Message> = branch_through(&tree, &active, &target.id)
                .into_iter()
                .filter(|m| hidden || !m.hidden || m.id == target.id)
                .collect();
            let at = branch.iter().position(|m| m.id == target.id).unwrap_or(0);
            let on_active = branch.iter().map(|m| active_ids.contains(&m.id)).collect();
            Ok(Around {
                conversation,
                branch,
                at,
                on_active,
            })
        })?)
    }

    /// A page of conversations, newest first.
    pub(crate) fn list(&self, q: &ListQuery) -> Result<Page<Conversation>> {
        Ok(self.store.read(|repo| repo.list_conversations(q))?)
    }

    /// Reads the store's list cursor.
    pub(crate) fn list_cursor(s: &str) -> Result<ListCursor> {
        Ok(ListCursor::decode(s)?)
    }

    /// Folders with counts, one entry per folder and source.
    pub(crate) fn folders(&self) -> Result<Vec<FolderInfo>> {
        Ok(self.store.read(|repo| repo.list_folders())?)
    }

    /// Tags in use with their conversation counts.
    pub(crate) fn tags(&self) -> Result<Vec<(Tag, u64)>> {
        Ok(self.store.read(|repo| repo.list_tags())?)
    }

    /// Adds and removes tags in one transaction.
    pub(crate) fn retag(&self, id: &str, add: &[Tag], remove: &[Tag]) -> Result<Conversation> {
        let id = ConversationId::from(id);
        Ok(self.store.write(|repo| {
            repo.get_conversation(&id)?;
            for tag in add {
                repo.add_tag(&id, tag)?;
            }
            for tag in remove {
                repo.remove_tag(&id, tag)?;
            }
            repo.get_conversation(&id)
        })?)
    }

    /// Appends a visible note (an assistant message marked as a note, written by `author`)
    /// after the conversation's current message.
    pub(crate) fn add_note(
        &self,
        id: &str,
        text: &str,
        author: Option<&str>,
    ) -> Result<(Conversation, Message)> {
        let id = ConversationId::from(id);
        Ok(self.store.write(|repo| {
            let message = repo.add_message(
                &id,
                StoreMessage {
                    parts: vec![Part::note(author)],
                    model: author.map(str::to_owned),
                    ..StoreMessage::new(Role::Assistant, text)
                },
            )?;
            Ok((repo.get_conversation(&id)?, message))
        })?)
    }

    /// Files a new native conversation with its messages, in one transaction.
    pub(crate) fn save(
        &self,
        title: &str,
        folder: Option<FolderPath>,
        tags: Vec<Tag>,
        messages: Vec<NewMessage>,
    ) -> Result<Conversation> {
        Ok(self.store.write(|repo| {
            let c = repo.create_conversation(NewConversation {
                title: Some(title.trim().to_owned()),
                folder,
                tags,
                source: Source::Native,
            })?;
            for m in messages {
                repo.add_message(
                    &c.id,
                    StoreMessage {
                        created_at: m.created_at,
                        model: m.model,
                        ..StoreMessage::new(m.role, m.content)
                    },
                )?;
            }
            repo.get_conversation(&c.id)
        })?)
    }
}

/// The branch of `tree` through `target`: its ancestors, itself, then its descendants,
/// following the active branch where it can and the latest reply elsewhere. Cycle-safe.
fn branch_through(tree: &[Message], active: &[Message], target: &MessageId) -> Vec<Message> {
    let by_id: HashMap<&MessageId, &Message> = tree.iter().map(|m| (&m.id, m)).collect();
    let on_active: HashSet<&MessageId> = active.iter().map(|m| &m.id).collect();
    let mut seen: HashSet<&MessageId> = HashSet::new();
    let mut up = Vec::new();
    let mut cursor = by_id.get(target).copied();
    while let Some(m) = cursor {
        if !seen.insert(&m.id) {
            break;
        }
        up.push(m);
        cursor = m.parent_id.as_ref().and_then(|p| by_id.get(p).copied());
    }
    up.reverse();
    let mut children: HashMap<&MessageId, Vec<&Message>> = HashMap::new();
    for m in tree {
        if let Some(p) = &m.parent_id {
            children.entry(p).or_default().push(m);
        }
    }
    let mut down = Vec::new();
    let mut at = target;
    while let Some(replies) = children.get(at) {
        let next = replies
            .iter()
            .find(|m| on_active.contains(&m.id))
            .or_else(|| replies.last())
            .copied();
        match next {
            Some(m) if seen.insert(&m.id) => {
                down.push(m);
                at = &m.id;
            }
            _ => break,
        }
    }
    up.into_iter().chain(down).cloned().collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::testing::message;

    fn msg(id: &str, parent: Option<&str>) -> Message {
        message(id, parent, Role::User, id.to_owned())
    }

    fn ids(v: &[Message]) -> Vec<&str> {
        v.iter().map(|m| m.id.as_str()).collect()
    }

    #[test]
    fn the_branch_through_a_message_follows_the_active_path_then_the_latest_reply() {
        // a - b1 - c1 (active)      a - b2 - c2, c3 (c3 latest)
        let tree = vec![
            msg("a", None),
            msg("b1", Some("a")),
            msg("b2", Some("a")),
            msg("c1", Some("b1")),
            msg("c2", Some("b2")),
            msg("c3", Some("b2")),
        ];
        let active = vec![msg("a", None), msg("b1", Some("a")), msg("c1", Some("b1"))];
        let through = |t: &str| ids(&branch_through(&tree, &active, &MessageId::from(t))).join(" ");
        assert_eq!(through("a"), "a b1 c1");
        assert_eq!(through("b2"), "a b2 c3");
        assert_eq!(through("c2"), "a b2 c2");
        // A cycle ends the walk instead of looping.
        let cyclic = vec![msg("x", Some("y")), msg("y", Some("x"))];
        assert_eq!(
            ids(&branch_through(&cyclic, &[], &MessageId::from("x"))),
            ["y", "x"]
        );
    }
}
