//! The writing tools, served only when the server was started with writes enabled.

use chat_model::Tag;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router, Peer, RoleServer};

use super::blocking;
use crate::args::{
    folder_arg, tag_arg, text_arg, time_arg, NoteArgs, SaveArgs, TagArgs, MAX_SAVED_MESSAGES,
    MAX_TAGS,
};
use crate::error::{Error, Result, ToolFailure};
use crate::library::NewMessage;
use crate::output::{ConversationResult, ConversationSummary, NoteResult};
use crate::server::ChatMcp;

/// Longest title of a saved conversation, in characters.
const MAX_TITLE_CHARS: usize = 500;

fn tags(name: &str, values: &[String]) -> Result<Vec<Tag>> {
    if values.len() > MAX_TAGS {
        return Err(Error::InvalidArgument(format!(
            "{name} lists {} tags; the most is {MAX_TAGS}",
            values.len()
        )));
    }
    values.iter().map(|t| tag_arg(t)).collect()
}

fn non_empty(name: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::InvalidArgument(format!("{name} is empty")));
    }
    text_arg(name, value)
}

/// The connected client's name, to record who wrote a note.
fn client_name(peer: &Peer<RoleServer>) -> Option<String> {
    peer.peer_info()
        .map(|info| info.client_info.name.trim().to_owned())
        .filter(|n| !n.is_empty())
}

/// The messages of save_conversation, checked.
fn saved_messages(args: &SaveArgs) -> Result<Vec<NewMessage>> {
    if args.messages.is_empty() || args.messages.len() > MAX_SAVED_MESSAGES {
        return Err(Error::InvalidArgument(format!(
            "messages holds {} messages; give 1 to {MAX_SAVED_MESSAGES}",
            args.messages.len()
        )));
    }
    args.messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let at = format!("messages[{i}]");
            text_arg(&format!("{at}.content"), &m.content)?;
            Ok(NewMessage {
                role: m.role.into(),
                content: m.content.clone(),
                created_at: time_arg(&format!("{at}.created_at"), m.created_at.as_deref())?,
                model: m.model.clone().filter(|s| !s.trim().is_empty()),
            })
        })
        .collect()
}

#[tool_router(router = write_router, vis = "pub(crate)")]
impl ChatMcp {
    /// Adds and removes tags.
    #[tool(
        name = "tag_conversation",
        description = "Add tags to a conversation and/or remove tags from it (tags are how \
            the user groups conversations; see list_tags). Returns the conversation with its \
            tags as they now are. Only when the user asked for it.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn tag_conversation(
        &self,
        Parameters(args): Parameters<TagArgs>,
    ) -> Result<Json<ConversationResult>, ToolFailure> {
        let add = tags("add", &args.add)?;
        let remove = tags("remove", &args.remove)?;
        if add.is_empty() && remove.is_empty() {
            return Err(Error::InvalidArgument(
                "nothing to do: list tags in add and/or remove".to_owned(),
            )
            .into());
        }
        let library = self.library.clone();
        let c = blocking(move || library.retag(&args.id, &add, &remove)).await?;
        self.changed(&c);
        Ok(Json(ConversationResult {
            conversation: ConversationSummary::from(&c),
        }))
    }

    /// Appends a note.
    #[tool(
        name = "add_note",
        description = "Add a note to the end of a conversation: a visible message marked as a \
            note, recorded as written by this agent, that later searches find. For conclusions, \
            follow-ups or corrections the user wants kept with the conversation. Only when the \
            user asked for it.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn add_note(
        &self,
        Parameters(args): Parameters<NoteArgs>,
        peer: Peer<RoleServer>,
    ) -> Result<Json<NoteResult>, ToolFailure> {
        non_empty("text", &args.text)?;
        let author = client_name(&peer);
        let library = self.library.clone();
        let (c, m) = blocking(move || {
            library.add_note(&args.conversation_id, &args.text, author.as_deref())
        })
        .await?;
        self.changed(&c);
        Ok(Json(NoteResult {
            conversation: ConversationSummary::from(&c),
            message_id: m.id.as_str().to_owned(),
        }))
    }

    /// Files an agent's own conversation.
    #[tool(
        name = "save_conversation",
        description = "File a finished conversation of this agent in the user's history, as \
            a new conversation of source native with the given title, messages (in order), \
            tags and folder, so it can be searched later with everything else. Returns the \
            new conversation's id. Only when the user asked for it.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn save_conversation(
        &self,
        Parameters(args): Parameters<SaveArgs>,
    ) -> Result<Json<ConversationResult>, ToolFailure> {
        non_empty("title", &args.title)?;
        let title_chars = args.title.trim().chars().count();
        if title_chars > MAX_TITLE_CHARS {
            return Err(Error::InvalidArgument(format!(
                "title is {title_chars} characters long; the most is {MAX_TITLE_CHARS}"
            ))
            .into());
        }
        let messages = saved_messages(&args)?;
        let tags = tags("tags", &args.tags)?;
        let folder = args.folder.as_deref().map(folder_arg).transpose()?;
        let library = self.library.clone();
        let c = blocking(move || library.save(&args.title, folder, tags, messages)).await?;
        self.changed(&c);
        Ok(Json(ConversationResult {
            conversation: ConversationSummary::from(&c),
        }))
    }
}
