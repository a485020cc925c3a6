//! The conversations service: every change to a conversation the API offers, each announced to
//! the other clients through the hub. Route modules parse their input, call one method here
//! and map the result.

use std::sync::Arc;
use std::time::Duration;

use chat_llm::{ChatMessage, ChatProvider};
use chat_model::{
    Conversation, ConversationDetail, ConversationId, FolderPath, Message, MessageId, Source, Tag,
    Timestamp,
};
use chat_store::{
    ConversationState, ListQuery, NewConversation, NewMessage, Page, Repo, SavedConversation,
};
use tokio_util::sync::CancellationToken;

use crate::db::Db;
use crate::error::ApiError;
use crate::events::{Event, Hub};

/// Longest wait for a model-written summary.
const SUMMARY_TIMEOUT: Duration = Duration::from_secs(120);
/// The store setting holding the summariser's instructions (absent: the model's default).
const SUMMARY_PROMPT_KEY: &str = "summary.prompt";
/// Longest summariser prompt, in characters.
const MAX_SUMMARY_PROMPT_CHARS: usize = 8000;

/// The summariser's instructions ([`Conversations::summary_prompt`]).
#[derive(Debug, Clone)]
pub(crate) struct SummaryPrompt {
    /// The instructions the model is given.
    pub(crate) prompt: String,
    /// Whether they are the built-in ones (none was stored).
    pub(crate) is_default: bool,
}

/// Some fields of a conversation to change (`PATCH`); `None` leaves a field as it is.
#[derive(Debug, Default)]
pub(crate) struct ConversationChange {
    pub(crate) title: Option<String>,
    pub(crate) folder: Option<FolderPath>,
    /// Archive (`true`) or restore (`false`).
    pub(crate) archived: Option<bool>,
    /// A new summary; `Some(None)` clears it (as does a blank one).
    pub(crate) summary: Option<Option<String>>,
    /// Switch the active branch to the one ending at this message.
    pub(crate) current_message_id: Option<MessageId>,
}

/// Which messages [`Conversations::detail`] returns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Branches {
    /// Every branch, not only the active one.
    pub(crate) all: bool,
    /// Hidden messages too.
    pub(crate) hidden: bool,
}

/// The conversations service. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Conversations {
    db: Db,
    hub: Hub,
    provider: Arc<dyn ChatProvider>,
}

impl Conversations {
    pub(crate) fn new(db: Db, hub: Hub, provider: Arc<dyn ChatProvider>) -> Self {
        Conversations { db, hub, provider }
    }

    /// Tells the other clients that `c` changed.
    fn publish(&self, c: &Conversation) {
        if self.hub.subscribers() > 0 {
            self.hub.publish(Event::ConversationUpdated {
                conversation: c.clone().into(),
            });
        }
    }

    /// A page of conversations (one statement, see [`chat_store::Store::list_conversations`]),
    /// handed to `render` on the thread that read it. The listing's response is rendered
    /// there, so its many small strings are freed by the thread that allocated them: freed
    /// by the server's worker instead, they went back to the reading thread's heap one by
    /// one, which cost the allocator a fifth of a listing's time.
    pub(crate) async fn list<T: Send + 'static>(
        &self,
        query: ListQuery,
        render: impl FnOnce(Page<Conversation>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        self.db
            .blocking(move |store| store.list_conversations(&query).map(render))
            .await
    }

    /// Creates an empty conversation.
    pub(crate) async fn create(&self, new: NewConversation) -> Result<Conversation, ApiError> {
        let c = self
            .db
            .write(move |repo| repo.create_conversation(new))
            .await?;
        self.publish(&c);
        Ok(c)
    }

    /// A conversation with its active branch or every branch.
    pub(crate) async fn detail(
        &self,
        id: ConversationId,
        branches: Branches,
    ) -> Result<ConversationDetail, ApiError> {
        self.db
            .read(move |repo| {
                let conversation = repo.get_conversation(&id)?;
                let messages = if branches.all {
                    repo.message_tree(&id, branches.hidden)?
                } else {
                    repo.active_branch(&id, branches.hidden)?
                };
                Ok(ConversationDetail {
                    conversation,
                    messages,
                })
            })
            .await
    }

    /// Saves a conversation's full state (see `Repo::save_conversation_state`).
    pub(crate) async fn save(
        &self,
        state: ConversationState,
    ) -> Result<SavedConversation, ApiError> {
        let saved = self
            .db
            .write(move |repo| repo.save_conversation_state(state))
            .await?;
        self.publish(&saved.conversation);
        Ok(saved)
    }

    /// Changes some fields, in one transaction.
    pub(crate) async fn change(
        &self,
        id: ConversationId,
        change: ConversationChange,
    ) -> Result<Conversation, ApiError> {
        let c = self
            .db
            .write(move |repo| {
                let mut c = repo.get_conversation(&id)?;
                if let Some(title) = &change.title {
                    c = repo.rename(&id, title)?;
                }
                if let Some(folder) = &change.folder {
                    c = repo.move_to_folder(&id, folder)?;
                }
                match change.archived {
                    Some(true) => c = repo.archive(&id)?,
                    Some(false) => c = repo.restore(&id)?,
                    None => {}
                }
                if let Some(summary) = &change.summary {
                    let summary = summary.as_deref().map(str::trim).filter(|s| !s.is_empty());
                    c = repo.set_summary(&id, summary)?;
                }
                if let Some(leaf) = &change.current_message_id {
                    repo.set_current_leaf(&id, leaf)?;
                    c = repo.get_conversation(&id)?;
                }
                Ok(c)
            })
            .await?;
        self.publish(&c);
        Ok(c)
    }

    /// Deletes a conversation with its messages, ratings and tag links.
    pub(crate) async fn delete(&self, id: ConversationId) -> Result<(), ApiError> {
        let deleted = id.clone();
        self.db
            .write(move |repo| repo.delete_conversation(&deleted))
            .await?;
        self.hub.publish(Event::ConversationDeleted {
            id: id.into_string(),
        });
        Ok(())
    }

    /// Deletes every conversation of a source (with their messages, ratings and tag links);
    /// returns how many went. Each deletion is announced.
    pub(crate) async fn delete_source(&self, source: Source) -> Result<u64, ApiError> {
        let ids = self
            .db
            .write(move |repo| repo.delete_source(source))
            .await?;
        if self.hub.subscribers() > 0 {
            for id in &ids {
                self.hub.publish(Event::ConversationDeleted {
                    id: id.as_str().to_owned(),
                });
            }
        }
        Ok(ids.len() as u64)
    }

    /// Archives every conversation (optionally of one source) not updated since `before`.
    pub(crate) async fn archive_older_than(
        &self,
        before: Timestamp,
        source: Option<Source>,
    ) -> Result<u64, ApiError> {
        self.db
            .write(move |repo| repo.archive_older_than(before, source))
            .await
    }

    /// Adds a message, which needs content or parts. A parent that does not exist is a bad
    /// request (`invalid_parent`), not a missing conversation.
    pub(crate) async fn add_message(
        &self,
        id: ConversationId,
        new: NewMessage,
    ) -> Result<Message, ApiError> {
        if new.content.trim().is_empty() && new.parts.is_empty() {
            return Err(ApiError::invalid("a message needs content or parts"));
        }
        let has_parent = new.parent_id.is_some();
        let (message, c) = self
            .db
            .write(move |repo| {
                repo.get_conversation(&id)?;
                let m = repo.add_message(&id, new)?;
                Ok((m, repo.get_conversation(&id)?))
            })
            .await
            .map_err(|e| match e {
                // The conversation exists (checked first), so a missing message is the parent.
                ApiError::NotFound {
                    code: "message_not_found",
                    message,
                } if has_parent => {
                    ApiError::bad_request("invalid_parent", format!("parent_id: {message}"))
                }
                e => e,
            })?;
        self.publish(&c);
        Ok(message)
    }

    /// Forks the conversation at a message into a new native conversation.
    pub(crate) async fn fork(
        &self,
        id: ConversationId,
        at: MessageId,
    ) -> Result<Conversation, ApiError> {
        let c = self.db.write(move |repo| repo.fork(&id, &at)).await?;
        self.publish(&c);
        Ok(c)
    }

    /// Tags (`add`) or untags a conversation.
    pub(crate) async fn tag(
        &self,
        id: ConversationId,
        tag: Tag,
        add: bool,
    ) -> Result<Conversation, ApiError> {
        let retag = move |repo: &Repo<'_>| {
            if add {
                repo.add_tag(&id, &tag)?;
            } else {
                repo.remove_tag(&id, &tag)?;
            }
            repo.get_conversation(&id)
        };
        let c = self.db.write(retag).await?;
        self.publish(&c);
        Ok(c)
    }

    /// The summariser's instructions: the stored ones, else the model's default.
    pub(crate) async fn summary_prompt(&self) -> Result<SummaryPrompt, ApiError> {
        let stored = self
            .db
            .read(|repo| repo.get_setting(SUMMARY_PROMPT_KEY))
            .await?;
        Ok(match stored {
            Some(prompt) => SummaryPrompt {
                prompt,
                is_default: false,
            },
            None => SummaryPrompt {
                prompt: chat_llm::DEFAULT_SUMMARY_PROMPT.to_owned(),
                is_default: true,
            },
        })
    }

    /// Stores the summariser's instructions (used by every summary from now on); `None`
    /// returns to the default. A blank prompt, or one over 8,000 characters, is refused.
    pub(crate) async fn set_summary_prompt(&self, prompt: Option<String>) -> Result<(), ApiError> {
        let prompt = match prompt {
            Some(p) if p.trim().is_empty() => {
                return Err(ApiError::invalid("the prompt is empty"));
            }
            Some(p) if p.chars().count() > MAX_SUMMARY_PROMPT_CHARS => {
                return Err(ApiError::invalid(format!(
                    "the prompt is at most {MAX_SUMMARY_PROMPT_CHARS} characters"
                )));
            }
            other => other,
        };
        self.db
            .write(move |repo| repo.set_setting(SUMMARY_PROMPT_KEY, prompt.as_deref()))
            .await
    }

    /// Writes a summary of the active branch with the model, following the stored
    /// instructions ([`Conversations::summary_prompt`]; without a model, an extractive
    /// summary) and stores it.
    pub(crate) async fn summarize(&self, id: ConversationId) -> Result<Conversation, ApiError> {
        let read_id = id.clone();
        let (messages, prompt): (Vec<ChatMessage>, Option<String>) = self
            .db
            .read(move |repo| {
                let messages = repo
                    .active_branch(&read_id, false)?
                    .iter()
                    .filter(|m| !m.content.trim().is_empty())
                    .map(ChatMessage::from)
                    .collect();
                Ok((messages, repo.get_setting(SUMMARY_PROMPT_KEY)?))
            })
            .await?;
        if messages.is_empty() {
            return Err(ApiError::bad_request(
                "empty_conversation",
                "the conversation has no messages to summarize",
            ));
        }
        let cancel = CancellationToken::new();
        let summary = tokio::time::timeout(
            SUMMARY_TIMEOUT,
            self.provider
                .summarize_with(&messages, prompt.as_deref(), cancel.clone()),
        )
        .await
        .map_err(|_| {
            cancel.cancel();
            ApiError::Upstream {
                code: "model_timeout",
                message: format!(
                    "the model did not write a summary within {}s",
                    SUMMARY_TIMEOUT.as_secs()
                ),
            }
        })??;
        let c = self
            .db
            .write(move |repo| repo.set_summary(&id, Some(summary.trim())))
            .await?;
        self.publish(&c);
        Ok(c)
    }
}
