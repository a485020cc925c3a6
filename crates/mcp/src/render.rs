//! The one module that calls chat-export: conversations are written by the export's renderers,
//! never by a second one here. Markdown comes as a header plus one section per message (so a
//! page is a run of sections); JSON is the export document holding the page's messages.

use chat_export::markdown::{self, SectionOptions};
use chat_model::{Conversation, ConversationDetail, Message};
use serde::Serialize;

use crate::error::Result;

/// An attachment, picture or recording of a message, as the tools list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaItem {
    /// The message it is attached to.
    pub message_id: String,
    /// `image`, `audio` or `file`.
    pub kind: String,
    /// The file name or the provider's reference; absent for inline bytes without either.
    pub name: Option<String>,
    /// The MIME type, when known.
    pub mime_type: Option<String>,
    /// Size in bytes, when known.
    pub size: Option<u64>,
    /// Where to fetch its bytes from this server (`/api/v1/media/{id}`, same token as the
    /// API); `None` when the export did not hold them (the provider's reference is in `name`).
    pub url: Option<String>,
}

/// The front matter, title and summary, as Markdown.
pub(crate) fn header(c: &Conversation) -> Result<String> {
    let mut out = Vec::new();
    markdown::write_header(&mut out, c)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// One message's Markdown section, with its id (and its parent's) in an HTML comment.
pub(crate) fn section(m: &Message) -> Result<String> {
    let mut out = Vec::new();
    markdown::write_message(&mut out, m, SectionOptions { ids: true })?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The lossless JSON export document of a conversation holding `messages`.
pub(crate) fn json_document(conversation: &Conversation, messages: Vec<Message>) -> Result<String> {
    let detail = ConversationDetail {
        conversation: conversation.clone(),
        messages,
    };
    let mut out = Vec::new();
    chat_export::json::write_conversation(&mut out, &detail)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// How many characters one message adds to a JSON page (its serialised size).
pub(crate) fn json_size(m: &Message) -> usize {
    serde_json::to_string_pretty(m).map_or(0, |s| s.chars().count())
}

/// The media of a message.
pub(crate) fn media(m: &Message) -> Vec<MediaItem> {
    markdown::media(m)
        .into_iter()
        .map(|item| MediaItem {
            message_id: m.id.as_str().to_owned(),
            kind: item.kind.as_str().to_owned(),
            name: item.name,
            mime_type: item.mime_type,
            size: item.size,
            url: item.media_id.map(|id| format!("/api/v1/media/{id}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chat_model::{ConversationId, MessageId, MessageStatus, Part, Role};

    use super::*;

    #[test]
    fn stored_media_get_the_api_url_and_missing_ones_none() {
        let hash = "ab".repeat(32);
        let image = |reference: &str, media: Option<String>| Part::Image {
            reference: Some(reference.into()),
            mime_type: None,
            width: None,
            height: None,
            data: None,
            media,
        };
        let m = Message {
            id: MessageId::from_string("m1"),
            conversation_id: ConversationId::from_string("c1"),
            parent_id: None,
            role: Role::User,
            content: "look".into(),
            parts: vec![
                image("file-service://file-a", Some(hash.clone())),
                image("sediment://file_b", None),
            ],
            model: None,
            created_at: None,
            hidden: false,
            source_id: None,
            status: MessageStatus::Complete,
            rating: None,
        };
        let items = media(&m);
        assert_eq!(items[0].url, Some(format!("/api/v1/media/{hash}")));
        assert_eq!(items[1].url, None);
        assert_eq!(items[1].name.as_deref(), Some("sediment://file_b"));
    }
}
