//! The frames of the WebSocket protocol: JSON text frames, each an object with a `type`.

use chat_llm::Usage;
use serde::{Deserialize, Deserializer, Serialize};

/// Deserialises a present field (even `null`) as `Some`, so "absent" and "null" differ.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// What a client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub(crate) enum ClientFrame {
    /// A user message, and a reply to it.
    #[serde(rename = "chat.send")]
    Send {
        /// Echoed in `chat.accepted` and `chat.error`.
        request_id: Option<String>,
        /// `null` starts a new native conversation.
        conversation_id: Option<String>,
        /// The message, stored byte for byte.
        content: String,
        /// Absent: continue from the current leaf. Present: the parent of the new message (an
        /// edit branch); `null` makes it a new root (editing the first message).
        #[serde(default, deserialize_with = "present")]
        parent_id: Option<Option<String>>,
        /// The model to ask (default: the provider's).
        model: Option<String>,
    },
    /// Another reply to the same parent as an assistant message (a new sibling).
    #[serde(rename = "chat.regenerate")]
    Regenerate {
        /// Echoed in `chat.accepted` and `chat.error`.
        request_id: Option<String>,
        /// The conversation.
        conversation_id: String,
        /// The assistant message to answer again.
        message_id: String,
        /// The model to ask (default: the provider's).
        model: Option<String>,
    },
    /// Stops the reply streaming in a conversation; what arrived is kept.
    #[serde(rename = "chat.cancel")]
    Cancel {
        /// The conversation.
        conversation_id: String,
    },
    /// Answered with `pong`.
    #[serde(rename = "ping")]
    Ping {},
}

/// What the server sends (besides the hub's events, which carry their own `type`).
#[derive(Debug, Serialize)]
#[serde(tag = "type")]
pub(crate) enum ServerFrame<'a> {
    /// The request was stored; the reply starts.
    #[serde(rename = "chat.accepted")]
    Accepted {
        request_id: Option<&'a str>,
        conversation_id: &'a str,
        /// The stored user message; for a regeneration, the message being answered.
        user_message_id: Option<&'a str>,
        /// The assistant message being written.
        assistant_message_id: &'a str,
    },
    /// The next piece of the reply, exactly as the model produced it.
    #[serde(rename = "chat.delta")]
    Delta {
        conversation_id: &'a str,
        message_id: &'a str,
        delta: &'a str,
    },
    /// The reply ended and is stored: `complete`, or `interrupted` when it was cancelled.
    #[serde(rename = "chat.done")]
    Done {
        request_id: Option<&'a str>,
        conversation_id: &'a str,
        message_id: &'a str,
        /// The whole reply: the concatenated deltas.
        content: &'a str,
        model: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        usage: Option<Usage>,
        /// `complete` or `interrupted`.
        status: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        finish_reason: Option<&'a str>,
    },
    /// Something failed; the connection stays open.
    #[serde(rename = "chat.error")]
    Error {
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        conversation_id: Option<&'a str>,
        /// The assistant message that was cut short, when one was started.
        #[serde(skip_serializing_if = "Option::is_none")]
        message_id: Option<&'a str>,
        /// A stable snake_case code.
        error: &'a str,
        /// What happened, for a person.
        message: &'a str,
    },
    /// The answer to `ping`.
    #[serde(rename = "pong")]
    Pong,
}

impl ServerFrame<'_> {
    /// The frame as JSON text.
    pub(crate) fn to_text(&self) -> String {
        // Serialising these plain structs cannot fail; an empty object keeps the socket sane
        // if it ever did.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// A `chat.error` frame as text.
pub(crate) fn error_text(
    request_id: Option<&str>,
    conversation_id: Option<&str>,
    error: &str,
    message: &str,
) -> String {
    ServerFrame::Error {
        request_id,
        conversation_id,
        message_id: None,
        error,
        message,
    }
    .to_text()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn parent_id_absent_null_and_given_differ() {
        let f: ClientFrame = serde_json::from_str(
            r#"{"type":"chat.send","request_id":"r","conversation_id":null,"content":"x"}"#,
        )
        .unwrap();
        let ClientFrame::Send { parent_id, .. } = f else {
            panic!()
        };
        assert_eq!(parent_id, None);
        let f: ClientFrame = serde_json::from_str(
            r#"{"type":"chat.send","conversation_id":"c","content":"x","parent_id":null}"#,
        )
        .unwrap();
        let ClientFrame::Send { parent_id, .. } = f else {
            panic!()
        };
        assert_eq!(parent_id, Some(None));
        let f: ClientFrame = serde_json::from_str(
            r#"{"type":"chat.send","conversation_id":"c","content":"x","parent_id":"m"}"#,
        )
        .unwrap();
        let ClientFrame::Send { parent_id, .. } = f else {
            panic!()
        };
        assert_eq!(parent_id, Some(Some("m".to_owned())));
    }

    #[test]
    fn ping_may_carry_extra_fields_and_unknown_types_fail() {
        assert!(matches!(
            serde_json::from_str::<ClientFrame>(r#"{"type":"ping","t":1}"#).unwrap(),
            ClientFrame::Ping {}
        ));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"nope"}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"chat.send"}"#).is_err());
    }

    #[test]
    fn server_frames_carry_their_type() {
        let v: serde_json::Value = serde_json::from_str(&ServerFrame::Pong.to_text()).unwrap();
        assert_eq!(v, serde_json::json!({"type": "pong"}));
        let v: serde_json::Value =
            serde_json::from_str(&error_text(Some("r"), None, "invalid_json", "bad")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "chat.error", "request_id": "r", "error": "invalid_json", "message": "bad"})
        );
    }
}
