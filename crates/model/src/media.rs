//! Media: the bytes behind a message's images, audio and files, kept once per content hash.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{ModelError, Part};

/// The id of stored media bytes: their BLAKE3 hash as 64 lower-case hex digits. The same bytes
/// always get the same id, so they are stored once whatever names and messages refer to them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MediaHash(String);

/// Length of a [`MediaHash`] in hex digits.
pub const MEDIA_HASH_LEN: usize = 64;

impl MediaHash {
    /// The hash as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// From the 32 bytes of a BLAKE3 digest.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        use std::fmt::Write as _;
        let mut hex = String::with_capacity(MEDIA_HASH_LEN);
        for b in bytes {
            let _ = write!(hex, "{b:02x}");
        }
        MediaHash(hex)
    }
}

impl FromStr for MediaHash {
    type Err = ModelError;

    /// Accepts exactly 64 lower-case hex digits, nothing else (no upper case, no padding).
    fn from_str(s: &str) -> Result<Self, ModelError> {
        if s.len() == MEDIA_HASH_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(MediaHash(s.to_owned()))
        } else {
            Err(ModelError::InvalidMediaHash(s.chars().take(80).collect()))
        }
    }
}

impl TryFrom<String> for MediaHash {
    type Error = ModelError;

    fn try_from(s: String) -> Result<Self, ModelError> {
        s.parse()
    }
}

impl From<MediaHash> for String {
    fn from(h: MediaHash) -> String {
        h.0
    }
}

impl fmt::Display for MediaHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of media a part refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// An image part.
    Image,
    /// An audio part.
    Audio,
    /// A file attached to the message.
    File,
}

/// A part that may have bytes in the media store, lent mutably so the import can record where
/// its bytes went ([`Part::media_slot`]).
#[derive(Debug)]
pub struct MediaSlot<'a> {
    /// The kind of part.
    pub kind: MediaKind,
    /// How the export refers to the bytes (a pointer, a file id or name).
    pub reference: Option<&'a str>,
    /// The file's name, when the part has one.
    pub name: Option<&'a str>,
    /// Bytes held inline (base64), when the export has them there.
    pub data: Option<&'a mut Option<String>>,
    /// The stored bytes' hash, once stored.
    pub media: &'a mut Option<String>,
}

impl Part {
    /// The part's media slot, for images, audio and attachments.
    pub fn media_slot(&mut self) -> Option<MediaSlot<'_>> {
        match self {
            Part::Image {
                reference,
                data,
                media,
                ..
            } => Some(MediaSlot {
                kind: MediaKind::Image,
                reference: reference.as_deref(),
                name: None,
                data: Some(data),
                media,
            }),
            Part::Audio {
                reference, media, ..
            } => Some(MediaSlot {
                kind: MediaKind::Audio,
                reference: reference.as_deref(),
                name: None,
                data: None,
                media,
            }),
            Part::Attachment {
                name,
                reference,
                media,
                ..
            } => Some(MediaSlot {
                kind: MediaKind::File,
                reference: reference.as_deref(),
                name: Some(name.as_str()),
                data: None,
                media,
            }),
            _ => None,
        }
    }

    /// The hash of the part's stored bytes, when it has some.
    pub fn media(&self) -> Option<&str> {
        match self {
            Part::Image { media, .. }
            | Part::Audio { media, .. }
            | Part::Attachment { media, .. } => media.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_hashes_are_64_lower_case_hex_digits() {
        let good = "a".repeat(64);
        assert_eq!(good.parse::<MediaHash>().unwrap().as_str(), good);
        for bad in [
            "".to_owned(),
            "A".repeat(64),
            "a".repeat(63),
            "a".repeat(65),
            format!("{}g", "a".repeat(63)),
            "../../etc/passwd".to_owned(),
            format!("{}%2e", "a".repeat(61)),
        ] {
            assert!(bad.parse::<MediaHash>().is_err(), "{bad:?}");
        }
        assert_eq!(MediaHash::from_bytes(&[0xab; 32]).as_str(), "ab".repeat(32));
        let json = serde_json::to_string(&MediaHash::from_bytes(&[1; 32])).unwrap();
        assert!(serde_json::from_str::<MediaHash>(&json).is_ok());
        assert!(serde_json::from_str::<MediaHash>("\"nope\"").is_err());
    }

    #[test]
    fn media_slots_exist_for_images_audio_and_attachments_only() {
        let mut image = Part::Image {
            reference: Some("file-service://file-1".into()),
            mime_type: None,
            width: None,
            height: None,
            data: None,
            media: None,
        };
        let slot = image.media_slot().unwrap();
        assert_eq!(slot.kind, MediaKind::Image);
        assert_eq!(slot.reference, Some("file-service://file-1"));
        *slot.media = Some("ab".repeat(32));
        assert_eq!(image.media(), Some("ab".repeat(32).as_str()));
        assert!(Part::Reasoning { text: "x".into() }.media_slot().is_none());
    }
}
