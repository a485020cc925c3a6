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

use crate::chat::protocol::ServerFrame;
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

/// Where a reply's progress goes.
#[derive(Debug)]
pub(crate) enum Outlet {
    /// The `/api/v1/ws` session's outbound channel: JSON text frames of our protocol.
    Frames(mpsc::Sender<String>),
    /// Any other consumer (the AI OS compatibility routes), which words [`ReplyEvent`]s in
    /// its own protocol.
    Events(mpsc::Sender<ReplyEvent>),
}

/// What happens to a reply, in order: `Accepted`, `Delta`s, then `Done` or `Error` (an
/// `Error` may also come alone, when nothing could be stored).
#[derive(Debug, Clone)]
pub(crate) enum ReplyEvent {
    /// The user's message is stored and the assistant's message exists.
    Accepted { assistant_message_id: String },
    /// The next piece of the reply, exactly as the model produced it.
    Delta(String),
    /// The reply is stored (complete, or as far as it got when cancelled): `content` is the
    /// concatenation of the deltas.
    Done { content: String },
    /// Something failed. When the assistant's message was started, it keeps the text received
    /// so far.
    Error { code: &'static str, message: String },
}

/// Everything a generation task needs.
#[derive(Debug)]
pub(crate) struct Job {
    /// The chat service.
    pub(crate) chat: ChatRuntime,
    /// The connection that asked (its own `conversation.updated` events are not echoed).
    pub(crate) conn: u64,
    /// Where the reply's progress goes.
    pub(crate) outbound: Outlet,
    pub(crate) request_id: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) request: Request,
    /// The conversation's generating mark, taken by the session for existing conversations;
    /// `None` for a new conversation (taken here once it exists).
    pub(crate) claim: Option<Claim>,
}

/// The outlet, which stops trying once its consumer is gone (the reply is still stored).
struct Out {
    outlet: Outlet,
    open: bool,
}

impl Out {
    /// Sends a frame of our protocol, or the event a frame-less consumer gets instead.
    async fn send(&mut self, frame: ServerFrame<'_>, event: impl FnOnce() -> ReplyEvent) {
        if !self.open {
            return;
        }
        let sent = match &self.outlet {
            Outlet::Frames(tx) => tx.send(frame.to_text()).await.is_ok(),
            Outlet::Events(tx) => tx.send(event()).await.is_ok(),
        };
        self.open = sent;
    }

    /// A `chat.error` frame, or [`ReplyEvent::Error`].
    async fn error(
        &mut self,
        request_id: Option<&str>,
        conversation_id: Option<&str>,
        message_id: Option<&str>,
        code: &'static str,
        message: &str,
    ) {
        let frame = ServerFrame::Error {
            request_id,
            conversation_id,
            message_id,
            error: code,
            message,
        };
        self.send(frame, || ReplyEvent::Error {
            code,
            message: message.to_owned(),
        })
        .await;
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
        outlet: outbound,
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
            out.error(
                rid,
                asked_conversation.as_deref(),
                None,
                e.code(),
                &e.to_string(),
            )
            .await;
            return;
        }
    };
    let cid = prepared.conversation.id.as_str().to_owned();
    let aid = prepared.assistant_id.as_str().to_owned();
    // A conversation this task just created: nobody else can be generating in it.
    let Some(claim) = claim.or_else(|| chat.claim(&cid, conn)) else {
        out.error(
            rid,
            Some(&cid),
            None,
            "conversation_busy",
            "a reply is already being written in this conversation",
        )
        .await;
        return;
    };
    let user_message_id = prepared.user_message_id.as_ref().map(|m| m.as_str());
    let accepted = ServerFrame::Accepted {
        request_id: rid,
        conversation_id: &cid,
        user_message_id,
        assistant_message_id: &aid,
    };
    out.send(accepted, || ReplyEvent::Accepted {
        assistant_message_id: aid.clone(),
    })
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
    reply.finish(&ending, &mut out).await;
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
                out.error(
                    self.request_id,
                    Some(self.conversation_id),
                    Some(self.message_id),
                    e.code(),
                    &format!("the reply could not be stored: {e}"),
                )
                .await;
                None
            }
        }
    }

    /// `chat.done` (complete or cancelled) or `chat.error` (the model failed).
    async fn finish(&self, ending: &Ending, out: &mut Out) {
        let stored_model = self.stored_model.unwrap_or("");
        let (model, usage, status, finish_reason) = match ending {
            Ending::Done {
                model: served,
                usage,
                finish_reason,
            } => (
                if served.is_empty() {
                    stored_model
                } else {
                    served
                },
                *usage,
                MessageStatus::Complete,
                finish_reason.as_deref(),
            ),
            Ending::Cancelled => (
                stored_model,
                None,
                MessageStatus::Interrupted,
                Some("cancelled"),
            ),
            Ending::Failed(e) => {
                tracing::warn!(conversation = %self.conversation_id, error = %e, "the model failed");
                out.error(
                    self.request_id,
                    Some(self.conversation_id),
                    Some(self.message_id),
                    e.code(),
                    &e.to_string(),
                )
                .await;
                return;
            }
        };
        let done = ServerFrame::Done {
            request_id: self.request_id,
            conversation_id: self.conversation_id,
            message_id: self.message_id,
            content: self.text,
            model,
            usage,
            status: status.as_str(),
            finish_reason,
        };
        out.send(done, || ReplyEvent::Done {
            content: self.text.to_owned(),
        })
        .await;
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
                let frame = ServerFrame::Delta {
                    conversation_id: cid,
                    message_id: aid,
                    delta: &delta,
                };
                out.send(frame, || ReplyEvent::Delta(delta.clone())).await;
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
