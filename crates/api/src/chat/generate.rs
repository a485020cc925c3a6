//! One reply: store the request, stream the model, store the outcome.
//!
//! A generation task owns the persistence of its reply, so the text is stored however the
//! stream ends: the user's message and an empty assistant message (status `interrupted`) are
//! written in one transaction before the model is called; the finished reply replaces the
//! assistant's content with status `complete`; a cancel, a disconnect (the session cancels the
//! token) or a model error stores the text received so far, still `interrupted`. Deltas are
//! forwarded exactly as the provider yields them and the stored content is their
//! concatenation, so what the client rendered, `chat.done`'s `content` and the database agree
//! byte for byte.

use std::time::Duration;

use chat_llm::{ChatEvent, ChatMessage, ChatProvider, ChatRequest, Usage};
use chat_model::{Conversation, ConversationId, MessageId, MessageStatus, Role, Source};
use chat_store::{NewConversation, NewMessage, Repo};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::chat::protocol::{error_text, ServerFrame};
use crate::chat::{ChatRuntime, Claim};
use crate::events::{Event, Hub};

/// Longest wait for a model-written title; the offline title is used after it.
const TITLE_TIMEOUT: Duration = Duration::from_secs(60);

/// What the client asked for.
#[derive(Debug)]
pub(crate) enum Request {
    /// `chat.send`.
    Send {
        conversation_id: Option<String>,
        content: String,
        /// Absent: the current leaf; `Some(None)`: a new root; `Some(Some(id))`: that parent.
        parent_id: Option<Option<String>>,
    },
    /// `chat.regenerate`.
    Regenerate {
        conversation_id: String,
        message_id: String,
    },
}

impl Request {
    fn conversation_id(&self) -> Option<&str> {
        match self {
            Request::Send {
                conversation_id, ..
            } => conversation_id.as_deref(),
            Request::Regenerate {
                conversation_id, ..
            } => Some(conversation_id),
        }
    }
}

/// Everything a generation task needs.
#[derive(Debug)]
pub(crate) struct Job {
    /// The chat service.
    pub(crate) chat: ChatRuntime,
    /// The connection that asked (its own `conversation.updated` events are not echoed).
    pub(crate) conn: u64,
    /// The session's outbound channel.
    pub(crate) outbound: mpsc::Sender<String>,
    pub(crate) request_id: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) request: Request,
    /// The conversation's generating mark, taken by the session for existing conversations;
    /// `None` for a new conversation (taken here once it exists).
    pub(crate) claim: Option<Claim>,
}

/// The outbound channel, which stops trying once the session is gone (the reply is still
/// stored).
struct Out {
    tx: mpsc::Sender<String>,
    open: bool,
}

impl Out {
    async fn send(&mut self, text: String) {
        if self.open && self.tx.send(text).await.is_err() {
            self.open = false;
        }
    }
}

/// What was stored before the model is called.
#[derive(Debug)]
struct Prepared {
    conversation: Conversation,
    /// The user's new message, or for a regeneration the message being answered.
    user_message_id: Option<MessageId>,
    assistant_id: MessageId,
    /// The active branch up to the user's message, visible messages with text only.
    context: Vec<ChatMessage>,
}

/// How the model's stream ended.
enum Ending {
    Done {
        model: String,
        usage: Option<Usage>,
        finish_reason: Option<String>,
    },
    Cancelled,
    Failed(chat_llm::Error),
}

fn publish(hub: &Hub, origin: Option<u64>, c: Conversation) {
    if hub.subscribers() > 0 {
        hub.publish_from(
            origin,
            Event::ConversationUpdated {
                conversation: c.into(),
            },
        );
    }
}

/// Runs one reply to its end.
pub(crate) async fn run(job: Job) {
    let Job {
        chat,
        conn,
        outbound,
        request_id,
        model,
        request,
        claim,
    } = job;
    let mut out = Out {
        tx: outbound,
        open: true,
    };
    let rid = request_id.as_deref();
    let asked_conversation = request.conversation_id().map(str::to_owned);
    let provider = chat.provider().clone();
    let stored_model = model
        .clone()
        .or_else(|| Some(provider.default_model().to_owned()).filter(|m| !m.is_empty()));

    let prepared = match chat
        .db()
        .write({
            let stored_model = stored_model.clone();
            move |repo| prepare(repo, request, stored_model)
        })
        .await
    {
        Ok(p) => p,
        Err(e) => {
            out.send(error_text(
                rid,
                asked_conversation.as_deref(),
                e.code(),
                &e.to_string(),
            ))
            .await;
            return;
        }
    };
    let cid = prepared.conversation.id.as_str().to_owned();
    let aid = prepared.assistant_id.as_str().to_owned();
    // A conversation this task just created: nobody else can be generating in it.
    let Some(claim) = claim.or_else(|| chat.claim(&cid, conn)) else {
        out.send(error_text(
            rid,
            Some(&cid),
            "conversation_busy",
            "a reply is already being written in this conversation",
        ))
        .await;
        return;
    };
    out.send(
        ServerFrame::Accepted {
            request_id: rid,
            conversation_id: &cid,
            user_message_id: prepared.user_message_id.as_ref().map(|m| m.as_str()),
            assistant_message_id: &aid,
        }
        .to_text(),
    )
    .await;
    publish(chat.hub(), Some(conn), prepared.conversation.clone());

    let chat_request = ChatRequest {
        model: model.clone(),
        messages: prepared.context.clone(),
        ..ChatRequest::default()
    };
    let (text, ending) = stream_reply(
        provider.as_ref(),
        chat_request,
        &claim.cancel,
        &mut out,
        &cid,
        &aid,
    )
    .await;
    let reply = Reply {
        request_id: rid,
        conversation_id: &cid,
        message_id: &aid,
        text: &text,
        stored_model: stored_model.as_deref(),
    };
    let Some(conversation) = reply.store(&chat, &ending, claim, &mut out).await else {
        return;
    };
    out.send(reply.final_frame(&ending)).await;
    publish(chat.hub(), Some(conn), conversation.clone());

    if conversation.source == Source::Native && conversation.title.trim().is_empty() {
        let mut messages = prepared.context;
        if !text.trim().is_empty() {
            messages.push(ChatMessage::assistant(text));
        }
        give_title(&chat, provider.as_ref(), conversation.id, messages).await;
    }
}

/// A reply the model has finished (or stopped) writing.
struct Reply<'a> {
    request_id: Option<&'a str>,
    conversation_id: &'a str,
    message_id: &'a str,
    text: &'a str,
    /// The model stored with the message.
    stored_model: Option<&'a str>,
}

impl Reply<'_> {
    /// Stores the text (complete, or interrupted when the stream did not finish) and frees
    /// the conversation; the conversation as it now is, or `None` after telling the client
    /// that the reply could not be stored.
    async fn store(
        &self,
        chat: &ChatRuntime,
        ending: &Ending,
        claim: Claim,
        out: &mut Out,
    ) -> Option<Conversation> {
        let status = match ending {
            Ending::Done { .. } => MessageStatus::Complete,
            _ => MessageStatus::Interrupted,
        };
        let stored = chat
            .db()
            .write({
                let aid = MessageId::from_string(self.message_id.to_owned());
                let cid = ConversationId::from_string(self.conversation_id.to_owned());
                let text = self.text.to_owned();
                move |repo| {
                    repo.update_message_content(&aid, &text, status)?;
                    repo.get_conversation(&cid)
                }
            })
            .await;
        // Free the conversation before answering, so the client may send the next message as
        // soon as it sees `chat.done`.
        drop(claim);
        match stored {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(conversation = %self.conversation_id, message = %self.message_id, error = %e, "could not store a reply");
                out.send(
                    ServerFrame::Error {
                        request_id: self.request_id,
                        conversation_id: Some(self.conversation_id),
                        message_id: Some(self.message_id),
                        error: e.code(),
                        message: &format!("the reply could not be stored: {e}"),
                    }
                    .to_text(),
                )
                .await;
                None
            }
        }
    }

    /// `chat.done` (complete or cancelled) or `chat.error` (the model failed).
    fn final_frame(&self, ending: &Ending) -> String {
        let done = |model: &str, usage, status: MessageStatus, finish_reason| {
            ServerFrame::Done {
                request_id: self.request_id,
                conversation_id: self.conversation_id,
                message_id: self.message_id,
                content: self.text,
                model,
                usage,
                status: status.as_str(),
                finish_reason,
            }
            .to_text()
        };
        let stored_model = self.stored_model.unwrap_or("");
        match ending {
            Ending::Done {
                model: served,
                usage,
                finish_reason,
            } => done(
                if served.is_empty() {
                    stored_model
                } else {
                    served
                },
                *usage,
                MessageStatus::Complete,
                finish_reason.as_deref(),
            ),
            Ending::Cancelled => done(
                stored_model,
                None,
                MessageStatus::Interrupted,
                Some("cancelled"),
            ),
            Ending::Failed(e) => {
                tracing::warn!(conversation = %self.conversation_id, error = %e, "the model failed");
                ServerFrame::Error {
                    request_id: self.request_id,
                    conversation_id: Some(self.conversation_id),
                    message_id: Some(self.message_id),
                    error: e.code(),
                    message: &e.to_string(),
                }
                .to_text()
            }
        }
    }
}

/// Streams the reply to `out`; returns the text received and how it ended.
async fn stream_reply(
    provider: &dyn ChatProvider,
    request: ChatRequest,
    cancel: &CancellationToken,
    out: &mut Out,
    cid: &str,
    aid: &str,
) -> (String, Ending) {
    let mut text = String::new();
    let mut stream = tokio::select! {
        biased;
        () = cancel.cancelled() => return (text, Ending::Cancelled),
        started = provider.stream_chat(request, cancel.clone()) => match started {
            Ok(stream) => stream,
            Err(e) if e.is_cancelled() => return (text, Ending::Cancelled),
            Err(e) => return (text, Ending::Failed(e)),
        },
    };
    loop {
        let event = tokio::select! {
            biased;
            () = cancel.cancelled() => return (text, Ending::Cancelled),
            event = stream.next() => event,
        };
        match event {
            Some(Ok(ChatEvent::Delta(delta))) => {
                if delta.is_empty() {
                    continue;
                }
                text.push_str(&delta);
                out.send(
                    ServerFrame::Delta {
                        conversation_id: cid,
                        message_id: aid,
                        delta: &delta,
                    }
                    .to_text(),
                )
                .await;
            }
            Some(Ok(ChatEvent::Done {
                model,
                usage,
                finish_reason,
            })) => {
                return (
                    text,
                    Ending::Done {
                        model,
                        usage,
                        finish_reason,
                    },
                )
            }
            // Reasoning is not part of the reply.
            Some(Ok(_)) => {}
            Some(Err(e)) if e.is_cancelled() => return (text, Ending::Cancelled),
            Some(Err(e)) => return (text, Ending::Failed(e)),
            None => {
                let partial = text.clone();
                return (
                    text,
                    Ending::Failed(chat_llm::Error::Interrupted {
                        detail: "the stream ended without a final event".to_owned(),
                        partial,
                    }),
                );
            }
        }
    }
}

/// Stores the request and an empty assistant message, in one transaction.
fn prepare(
    repo: &Repo<'_>,
    request: Request,
    model: Option<String>,
) -> chat_store::Result<Prepared> {
    let assistant_turn = |parent: MessageId| NewMessage {
        parent_id: Some(parent),
        model: model.clone(),
        status: MessageStatus::Interrupted,
        ..NewMessage::new(Role::Assistant, String::new())
    };
    let (cid, user_message_id, assistant) = match request {
        Request::Send {
            conversation_id,
            content,
            parent_id,
        } => {
            let cid = match conversation_id {
                Some(id) => repo.get_conversation(&ConversationId::from_string(id))?.id,
                None => repo.create_conversation(NewConversation::default())?.id,
            };
            let parent = match parent_id {
                None => None,
                Some(Some(p)) => Some(MessageId::from_string(p)),
                Some(None) => {
                    // A new root (the first message edited): `add_message` follows the
                    // current leaf when given no parent, so clear the leaf first.
                    repo.clear_current_leaf(&cid)?;
                    None
                }
            };
            let user = repo.add_message(
                &cid,
                NewMessage {
                    parent_id: parent,
                    ..NewMessage::new(Role::User, content)
                },
            )?;
            let assistant = repo.add_message(&cid, assistant_turn(user.id.clone()))?;
            (cid, Some(user.id), assistant)
        }
        Request::Regenerate {
            conversation_id,
            message_id,
        } => {
            let cid = repo
                .get_conversation(&ConversationId::from_string(conversation_id))?
                .id;
            let mid = MessageId::from_string(message_id);
            let target = repo.get_message(&mid)?;
            if target.conversation_id != cid {
                return Err(chat_store::Error::NotFound {
                    entity: "message",
                    id: mid.into_string(),
                });
            }
            if target.role != Role::Assistant {
                return Err(chat_store::Error::InvalidInput(
                    "only an assistant message can be regenerated; to change a user message, \
                     send it again with its parent_id"
                        .to_owned(),
                ));
            }
            let Some(parent) = target.parent_id else {
                return Err(chat_store::Error::InvalidInput(
                    "this assistant message answers nothing (it has no parent)".to_owned(),
                ));
            };
            let assistant = repo.add_message(&cid, assistant_turn(parent.clone()))?;
            (cid, Some(parent), assistant)
        }
    };
    let context = repo
        .active_branch(&cid, false)?
        .iter()
        .filter(|m| m.id != assistant.id)
        .filter(|m| matches!(m.role, Role::User | Role::Assistant | Role::System))
        .filter(|m| !m.content.trim().is_empty())
        .map(ChatMessage::from)
        .collect();
    Ok(Prepared {
        conversation: repo.get_conversation(&cid)?,
        user_message_id,
        assistant_id: assistant.id,
        context,
    })
}

/// Names a new native conversation after its first exchange: the model's title (the offline
/// title when the model fails or is slow), announced to every client.
async fn give_title(
    chat: &ChatRuntime,
    provider: &dyn ChatProvider,
    id: ConversationId,
    messages: Vec<ChatMessage>,
) {
    let cancel = chat.closing().child_token();
    let title = match tokio::time::timeout(TITLE_TIMEOUT, provider.title(&messages, cancel.clone()))
        .await
    {
        Ok(Ok(t)) if !t.trim().is_empty() => t,
        Ok(Ok(_)) => chat_llm::offline_title(&messages),
        Ok(Err(e)) => {
            tracing::warn!(conversation = %id, error = %e, "the model could not write a title");
            chat_llm::offline_title(&messages)
        }
        Err(_) => {
            cancel.cancel();
            tracing::warn!(conversation = %id, "the model took too long to write a title");
            chat_llm::offline_title(&messages)
        }
    };
    if title.trim().is_empty() {
        return;
    }
    let renamed = chat
        .db()
        .write(move |repo| {
            let c = repo.get_conversation(&id)?;
            // The user may have named it meanwhile.
            if !c.title.trim().is_empty() {
                return Ok(None);
            }
            repo.rename(&id, &title).map(Some)
        })
        .await;
    match renamed {
        Ok(Some(c)) => publish(chat.hub(), None, c),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not store a conversation title"),
    }
}
