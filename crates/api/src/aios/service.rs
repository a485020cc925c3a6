//! What the AI OS routes keep between requests: the frontend's *current session* and the
//! typing notices passed between `/ws` clients.
//!
//! The original module served one person and kept one current session in its agent service:
//! the conversation `/api/chat/history` shows and `/ws` and `POST /api/chat/message` (without
//! a `session_id`) continue, the one last set (`set-session`) or started (`start-session`, or
//! the first message after `clear`). So here: one current session per server, whatever the
//! token or connection, kept in the store's settings so a restart keeps it. A current session
//! that was deleted since counts as none.

use std::collections::HashSet;
use std::sync::Arc;

use chat_model::{Conversation, ConversationDetail, ConversationId, MessageId, RatingValue};
use chat_store::{ArchivedFilter, BranchOutline, ListQuery, NewConversation, Repo, SearchQuery};
use tokio::sync::{broadcast, Mutex};

use crate::conversations::service::Conversations;
use crate::db::Db;
use crate::error::ApiError;

/// The store setting that holds the current session's id.
const CURRENT_KEY: &str = "aios.current_session";
/// Typing notices kept for slow `/ws` clients before they lag.
const TYPING_CAPACITY: usize = 64;
/// Characters of a list row's preview.
const PREVIEW_CHARS: u32 = 120;
/// Most search hits read to find the conversations a search matches.
const SEARCH_HITS: u32 = 500;

/// A conversation with its active branch in brief: a row of the AI OS list.
pub(crate) type Row = (Conversation, BranchOutline);

/// The list rows of `conversations`, in their order.
fn rows(repo: &Repo<'_>, conversations: Vec<Conversation>) -> chat_store::Result<Vec<Row>> {
    conversations
        .into_iter()
        .map(|c| {
            let outline = repo.branch_outline(&c.id, PREVIEW_CHARS)?;
            Ok((c, outline))
        })
        .collect()
}

/// A `/ws` client started or stopped typing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Typing {
    /// The connection (sent to the others as `client_id`).
    pub(crate) conn: u64,
    /// Started (`true`) or stopped.
    pub(crate) started: bool,
}

/// The AI OS routes' service. Cheap to clone; every clone is the same service.
#[derive(Debug, Clone)]
pub(crate) struct AiosService {
    db: Db,
    conversations: Conversations,
    /// Makes "the current session, or a new one" one step, so two first messages at once
    /// do not start two sessions.
    lock: Arc<Mutex<()>>,
    typing: broadcast::Sender<Typing>,
}

impl AiosService {
    pub(crate) fn new(db: Db, conversations: Conversations) -> Self {
        let (typing, _) = broadcast::channel(TYPING_CAPACITY);
        AiosService {
            db,
            conversations,
            lock: Arc::new(Mutex::new(())),
            typing,
        }
    }

    /// The current session, when one is set and still exists.
    pub(crate) async fn current(&self) -> Result<Option<Conversation>, ApiError> {
        self.db
            .read(|repo| {
                let Some(id) = repo.get_setting(CURRENT_KEY)? else {
                    return Ok(None);
                };
                match repo.get_conversation(&ConversationId::from_string(id)) {
                    Ok(c) => Ok(Some(c)),
                    Err(chat_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await
    }

    /// Makes an existing conversation the current session (404 when it does not exist).
    pub(crate) async fn set(&self, id: ConversationId) -> Result<Conversation, ApiError> {
        let _one = self.lock.lock().await;
        self.db
            .write(move |repo| {
                let c = repo.get_conversation(&id)?;
                repo.set_setting(CURRENT_KEY, Some(id.as_str()))?;
                Ok(c)
            })
            .await
    }

    /// No current session: the next message starts a new one. Nothing is deleted.
    pub(crate) async fn clear(&self) -> Result<(), ApiError> {
        let _one = self.lock.lock().await;
        self.db
            .write(|repo| repo.set_setting(CURRENT_KEY, None))
            .await
    }

    /// Starts a new native conversation (announced like any other) and makes it current.
    pub(crate) async fn start(&self) -> Result<Conversation, ApiError> {
        let _one = self.lock.lock().await;
        self.start_locked().await
    }

    async fn start_locked(&self) -> Result<Conversation, ApiError> {
        let c = self
            .conversations
            .create(NewConversation::default())
            .await?;
        let id = c.id.clone();
        self.db
            .write(move |repo| repo.set_setting(CURRENT_KEY, Some(id.as_str())))
            .await?;
        Ok(c)
    }

    /// The current session, or a new one started when there is none.
    pub(crate) async fn current_or_start(&self) -> Result<Conversation, ApiError> {
        let _one = self.lock.lock().await;
        match self.current().await? {
            Some(c) => Ok(c),
            None => self.start_locked().await,
        }
    }

    /// The newest `limit` conversations (by last change), with their branches in brief.
    pub(crate) async fn list(
        &self,
        archived: ArchivedFilter,
        limit: u32,
    ) -> Result<Vec<Row>, ApiError> {
        self.db
            .read(move |repo| {
                let query = ListQuery {
                    archived,
                    limit,
                    ..ListQuery::default()
                };
                rows(repo, repo.list_conversations(&query)?.items)
            })
            .await
    }

    /// The conversations our full-text search finds for `text` (in a message or a title),
    /// best match first, at most `limit`, with their branches in brief.
    pub(crate) async fn search(
        &self,
        text: String,
        archived: ArchivedFilter,
        limit: usize,
    ) -> Result<Vec<Row>, ApiError> {
        self.db
            .read(move |repo| {
                let query = SearchQuery {
                    archived,
                    limit: SEARCH_HITS,
                    ..SearchQuery::new(text)
                };
                let mut seen = HashSet::new();
                let mut found = Vec::new();
                for hit in repo.search(&query)? {
                    if found.len() == limit {
                        break;
                    }
                    if seen.insert(hit.conversation_id.clone()) {
                        found.push(repo.get_conversation(&hit.conversation_id)?);
                    }
                }
                rows(repo, found)
            })
            .await
    }

    /// Rates a message (of `conversation`, when given: a message of another conversation is
    /// not found) and says whether the fine-tuning export now includes it.
    pub(crate) async fn rate(
        &self,
        message: MessageId,
        conversation: Option<ConversationId>,
        value: RatingValue,
        reason: Option<String>,
    ) -> Result<bool, ApiError> {
        self.db
            .write(move |repo| {
                let m = repo.get_message(&message)?;
                if conversation
                    .as_ref()
                    .is_some_and(|c| *c != m.conversation_id)
                {
                    return Err(chat_store::Error::NotFound {
                        entity: "message",
                        id: message.into_string(),
                    });
                }
                repo.rate_message(&message, value, reason.as_deref())?;
                let detail = ConversationDetail {
                    conversation: repo.get_conversation(&m.conversation_id)?,
                    messages: repo.message_tree(&m.conversation_id, true)?,
                };
                Ok(chat_export::finetune::includes(&detail, &message))
            })
            .await
    }

    /// Tells the other `/ws` clients that `conn` started or stopped typing.
    pub(crate) fn typing(&self, conn: u64, started: bool) {
        // An error only means no other client listens.
        let _ = self.typing.send(Typing { conn, started });
    }

    /// Receives the typing notices of every `/ws` client from now on.
    pub(crate) fn typing_notices(&self) -> broadcast::Receiver<Typing> {
        self.typing.subscribe()
    }
}
