//! The export's JSON shapes, as lenient typed serde structs.
//!
//! Every scalar field goes through a `L*` newtype that accepts any JSON type and keeps only the
//! one it expects (a number where a string was expected becomes its decimal text; an object
//! where a string was expected becomes `None`), so an odd field never costs a whole
//! conversation. Content is open-ended (new `content_type`s appear every few months), so it is
//! kept as a [`serde_json::Value`]; the rest is typed, which is what makes the parser fast: no
//! `Value` tree for the mapping, the nodes or the metadata.

use std::fmt;
use std::marker::PhantomData;

use chat_model::Timestamp;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A string, when the field holds one (numbers become their text); `None` otherwise.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct LStr(pub Option<String>);

/// A boolean, when the field holds one.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct LBool(pub Option<bool>);

/// A timestamp (epoch seconds, milliseconds or an ISO string), when the field holds one.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct LTime(pub Option<Timestamp>);

/// A struct, when the field holds an object; `None` for any other type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LObj<T>(pub Option<T>);

impl<T> Default for LObj<T> {
    fn default() -> Self {
        LObj(None)
    }
}

/// The elements of an array, when the field holds one; empty otherwise.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct LVec(pub Vec<Value>);

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Implements the "anything else is None" half of a lenient visitor.
macro_rules! ignore_others {
    (no_str) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        ignore_others!(common);
    };
    (no_num) => {
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
    };
    (no_bool) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
    };
    (no_seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            drain_seq(seq)?;
            Ok(Default::default())
        }
    };
    (no_map) => {
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            drain_map(map)?;
            Ok(Default::default())
        }
    };
    (common) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
    };
}

struct LStrVisitor;

impl<'de> Visitor<'de> for LStrVisitor {
    type Value = LStr;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<LStr, E> {
        Ok(LStr(Some(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<LStr, E> {
        Ok(LStr(Some(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<LStr, E> {
        Ok(LStr(Some(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<LStr, E> {
        Ok(LStr(Some(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<LStr, E> {
        Ok(LStr(Some(v.to_string())))
    }
    ignore_others!(no_bool);
    ignore_others!(no_seq);
    ignore_others!(no_map);
    ignore_others!(common);
}

impl<'de> Deserialize<'de> for LStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LStrVisitor)
    }
}

struct LBoolVisitor;

impl<'de> Visitor<'de> for LBoolVisitor {
    type Value = LBool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<LBool, E> {
        Ok(LBool(Some(v)))
    }
    ignore_others!(no_num);
    ignore_others!(no_seq);
    ignore_others!(no_map);
    ignore_others!(no_str);
}

impl<'de> Deserialize<'de> for LBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LBoolVisitor)
    }
}

/// Epoch seconds (or milliseconds, from 1e11 up, as `chat_parse::time` reads them) to a
/// millisecond timestamp. Done here in integer milliseconds: going through nanoseconds in an
/// `f64` loses the last millisecond of values such as `1700000105.25`.
fn epoch(v: f64) -> Option<Timestamp> {
    if !v.is_finite() {
        return None;
    }
    let millis = if v.abs() >= 1e11 { v } else { v * 1000.0 };
    // Half a microsecond of slack absorbs the binary representation of decimal fractions.
    let millis = (millis + 0.0005).floor();
    if !(-2_208_988_800_000.0..=253_402_300_799_000.0).contains(&millis) {
        return None;
    }
    chat_model::timestamp::from_millis(millis as i64).ok()
}

struct LTimeVisitor;

impl<'de> Visitor<'de> for LTimeVisitor {
    type Value = LTime;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<LTime, E> {
        Ok(LTime(chat_parse::time::from_str(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<LTime, E> {
        Ok(LTime(epoch(v as f64)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<LTime, E> {
        Ok(LTime(epoch(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<LTime, E> {
        Ok(LTime(epoch(v)))
    }
    ignore_others!(no_bool);
    ignore_others!(no_seq);
    ignore_others!(no_map);
    ignore_others!(common);
}

impl<'de> Deserialize<'de> for LTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LTimeVisitor)
    }
}

struct LObjVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for LObjVisitor<T> {
    type Value = LObj<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LObj<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|v| LObj(Some(v)))
    }
    ignore_others!(no_bool);
    ignore_others!(no_num);
    ignore_others!(no_seq);
    ignore_others!(no_str);
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LObj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LObjVisitor(PhantomData))
    }
}

struct LVecVisitor;

impl<'de> Visitor<'de> for LVecVisitor {
    type Value = LVec;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LVec, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        Ok(LVec(out))
    }
    ignore_others!(no_bool);
    ignore_others!(no_num);
    ignore_others!(no_map);
    ignore_others!(no_str);
}

impl<'de> Deserialize<'de> for LVec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LVecVisitor)
    }
}

/// One conversation. Fields the parser does not model are kept in `extra`, in file order.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    pub id: Option<String>,
    pub conversation_id: Option<String>,
    pub title: Option<String>,
    pub create_time: Option<Timestamp>,
    pub update_time: Option<Timestamp>,
    /// `None` when the entry has no `mapping` object (a project or folder row).
    pub mapping: Option<Vec<(String, Node)>>,
    pub current_node: Option<String>,
    pub default_model_slug: Option<String>,
    pub is_archived: bool,
    pub extra: Map<String, Value>,
}

struct ConversationVisitor;

impl<'de> Visitor<'de> for ConversationVisitor {
    type Value = Conversation;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ChatGPT conversation object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Conversation, A::Error> {
        let mut c = Conversation::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "id" => c.id = map.next_value::<LStr>()?.0,
                "conversation_id" => c.conversation_id = map.next_value::<LStr>()?.0,
                "title" => c.title = map.next_value::<LStr>()?.0,
                "create_time" => c.create_time = map.next_value::<LTime>()?.0,
                "update_time" => c.update_time = map.next_value::<LTime>()?.0,
                "current_node" => c.current_node = map.next_value::<LStr>()?.0,
                "default_model_slug" => c.default_model_slug = map.next_value::<LStr>()?.0,
                "is_archived" => c.is_archived = map.next_value::<LBool>()?.0.unwrap_or(false),
                "mapping" => c.mapping = map.next_value_seed(MappingSeed)?,
                other => {
                    let value = map.next_value::<Value>()?;
                    c.extra.insert(other.to_owned(), value);
                }
            }
        }
        Ok(c)
    }
}

impl<'de> Deserialize<'de> for Conversation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ConversationVisitor)
    }
}

/// Reads `mapping` in file order; `None` when it is not an object.
struct MappingSeed;

impl<'de> DeserializeSeed<'de> for MappingSeed {
    type Value = Option<Vec<(String, Node)>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(MappingVisitor)
    }
}

struct MappingVisitor;

impl<'de> Visitor<'de> for MappingVisitor {
    type Value = Option<Vec<(String, Node)>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut nodes = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some((key, node)) = map.next_entry::<String, LObj<Node>>()? {
            nodes.push((key, node.0.unwrap_or_default()));
        }
        Ok(Some(nodes))
    }
    ignore_others!(no_bool);
    ignore_others!(no_num);
    ignore_others!(no_seq);
    ignore_others!(no_str);
}

/// One node of the mapping tree. `children` is ignored on purpose: it is rebuilt from `parent`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Node {
    #[serde(default)]
    pub parent: LStr,
    #[serde(default)]
    pub message: LObj<Message>,
}

/// One message.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Message {
    #[serde(default)]
    pub author: LObj<Author>,
    #[serde(default)]
    pub create_time: LTime,
    #[serde(default)]
    pub content: Value,
    #[serde(default)]
    pub recipient: LStr,
    #[serde(default)]
    pub metadata: LObj<Metadata>,
}

/// Who wrote a message.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Author {
    #[serde(default)]
    pub role: LStr,
    #[serde(default)]
    pub name: LStr,
}

/// The parts of a message's `metadata` the parser uses; the rest is operational (request ids,
/// search result dumps) and skipped.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Metadata {
    #[serde(default)]
    pub model_slug: LStr,
    #[serde(default)]
    pub finish_details: LObj<FinishDetails>,
    #[serde(default)]
    pub is_visually_hidden_from_conversation: LBool,
    #[serde(default)]
    pub is_user_system_message: LBool,
    #[serde(default)]
    pub attachments: LVec,
    #[serde(default)]
    pub citations: LVec,
    #[serde(default)]
    pub content_references: LVec,
}

/// Why generation stopped.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FinishDetails {
    #[serde(default, rename = "type")]
    pub kind: LStr,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn odd_field_types_do_not_fail_the_conversation() {
        let json = r#"{"id": 7, "title": {"x": 1}, "create_time": "2024-01-01T00:00:00Z",
            "is_archived": "yes", "mapping": {"a": {"parent": [1], "message": "text"},
            "b": 3, "c": {"parent": "a", "message": {"author": null, "metadata": [],
            "create_time": true, "content": {"content_type": "text", "parts": ["hi"]}}}},
            "other": [1, {"k": null}]}"#;
        let c: Conversation = serde_json::from_str(json).unwrap();
        assert_eq!(c.id.as_deref(), Some("7"));
        assert_eq!(c.title, None);
        assert!(c.create_time.is_some());
        assert!(!c.is_archived);
        let mapping = c.mapping.unwrap();
        assert_eq!(mapping.len(), 3);
        assert!(mapping[0].1.message.0.is_none());
        assert_eq!(mapping[2].1.parent.0.as_deref(), Some("a"));
        assert_eq!(c.extra["other"][1]["k"], Value::Null);
    }

    #[test]
    fn a_missing_or_null_mapping_is_none() {
        let c: Conversation = serde_json::from_str(r#"{"id": "p", "mapping": null}"#).unwrap();
        assert!(c.mapping.is_none());
        let c: Conversation = serde_json::from_str(r#"{"id": "p"}"#).unwrap();
        assert!(c.mapping.is_none());
    }
}
