//! Walking every conversation with its whole message tree, page by page, for exports.

use std::collections::VecDeque;

use chat_model::{Conversation, ConversationDetail};

use crate::error::{Error, Result};
use crate::store::Store;
use crate::types::{Cursor, ListQuery};

/// Conversations read per page.
const PAGE: u32 = 200;

impl Store {
    /// Every conversation `query` selects (its `cursor` and `limit` are the walk's own),
    /// newest first, each with its whole message tree, hidden messages included. Each page of
    /// conversations and each tree is one short read transaction, so no connection is held for
    /// the whole walk and at most one page of conversations and one tree are in memory. A
    /// conversation deleted between its page and its tree is passed over; conversations
    /// changed during the walk may appear in their older or newer state.
    ///
    /// The CLI's bulk exports and the API's `GET /export` both walk with this.
    pub fn conversation_details(&self, query: ListQuery) -> ConversationWalk {
        ConversationWalk {
            store: self.clone(),
            query: ListQuery {
                limit: PAGE,
                cursor: None,
                ..query
            },
            page: VecDeque::new(),
            next: Some(None),
        }
    }
}

/// The iterator of [`Store::conversation_details`]. An `Err` item is a store failure; the walk
/// ends after it.
#[derive(Debug)]
pub struct ConversationWalk {
    store: Store,
    query: ListQuery,
    /// Conversations of the current page not yet read whole.
    page: VecDeque<Conversation>,
    /// Where the next page starts: `Some(None)` before the first, `None` after the last.
    next: Option<Option<Cursor>>,
}

impl ConversationWalk {
    /// Reads the next page; false when there is none.
    fn fill(&mut self) -> Result<bool> {
        let Some(cursor) = self.next.take() else {
            return Ok(false);
        };
        let query = ListQuery {
            cursor,
            ..self.query.clone()
        };
        let page = self.store.read(|repo| repo.list_conversations(&query))?;
        self.next = page.next_cursor.map(Some);
        self.page.extend(page.items);
        Ok(true)
    }
}

impl Iterator for ConversationWalk {
    type Item = Result<ConversationDetail>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(conversation) = self.page.pop_front() else {
                match self.fill() {
                    Ok(true) => continue,
                    Ok(false) => return None,
                    Err(e) => {
                        self.next = None;
                        return Some(Err(e));
                    }
                }
            };
            match self
                .store
                .read(|repo| repo.message_tree(&conversation.id, true))
            {
                Ok(messages) => {
                    return Some(Ok(ConversationDetail {
                        conversation,
                        messages,
                    }))
                }
                // Deleted since its page was read.
                Err(Error::NotFound { .. }) => continue,
                Err(e) => {
                    self.page.clear();
                    self.next = None;
                    return Some(Err(e));
                }
            }
        }
    }
}
