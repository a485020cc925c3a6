//! Parts from a log's attachments, binary assets and tool results.

use std::collections::{HashMap, HashSet};

use chat_model::{Attachment, Part};
use chat_parse::{has_text, take_str};
use serde_json::{Map, Value};

use super::events::Built;
use super::folder::basename;

/// A binary asset's type and base64 bytes.
#[derive(Debug)]
pub(super) struct Asset {
    pub mime: Option<String>,
    pub data: String,
}

/// One `user.message` attachment: a part naming it (an image part when it is an image),
/// a conversation attachment for files and blobs, and its other fields raw. Returns the path
/// it names, if any.
pub(super) fn attachment(
    attachment: Value,
    parts: &mut Vec<Part>,
    out: &mut Vec<Attachment>,
) -> Option<String> {
    let Value::Object(mut a) = attachment else {
        parts.push(Part::Raw {
            kind: "copilot.attachment".to_owned(),
            value: attachment,
        });
        return None;
    };
    let kind = a
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let path = a
        .get("path")
        .or_else(|| a.get("filePath"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let name = take_str(&mut a, "displayName")
        .or_else(|| path.as_deref().map(|p| basename(p).to_owned()))
        .unwrap_or_else(|| format!("{} attachment", if kind.is_empty() { "an" } else { &kind }));
    let mime = take_str(&mut a, "mimeType");
    let size = a.get("byteLength").and_then(Value::as_u64);
    let asset = a.get("assetId").and_then(Value::as_str).map(str::to_owned);
    let data = take_str(&mut a, "data");
    match kind.as_str() {
        "file" | "blob" | "image" if mime.as_deref().is_some_and(|m| m.starts_with("image/")) => {
            parts.push(Part::Image {
                reference: asset.clone().or_else(|| path.clone()),
                mime_type: mime,
                width: None,
                height: None,
                data,
                media: None,
            });
        }
        "file" | "blob" | "directory" | "selection" => {
            let extracted = (kind == "selection")
                .then(|| take_str(&mut a, "text"))
                .flatten();
            parts.push(Part::Attachment {
                name: name.clone(),
                size,
                mime_type: mime.clone(),
                extracted_text: extracted,
                media: None,
                reference: None,
            });
            if kind != "selection" && kind != "directory" {
                out.push(Attachment {
                    message_source_id: None,
                    name,
                    size,
                    mime_type: mime,
                    data,
                });
            }
        }
        _ => {}
    }
    a.remove("byteLength");
    if a.values().any(has_text) {
        parts.push(Part::Raw {
            kind: "copilot.attachment".to_owned(),
            value: Value::Object(a),
        });
    }
    path
}

/// Puts each binary asset's bytes on the image parts and attachments that name it; an
/// asset nothing names becomes a conversation attachment of its own.
pub(super) fn join_assets(out: &mut Built, assets: &HashMap<String, Asset>) {
    if assets.is_empty() {
        return;
    }
    let mut named: HashSet<String> = HashSet::new();
    for m in &mut out.messages {
        for part in &mut m.parts {
            if let Part::Image {
                reference: Some(r),
                mime_type,
                data,
                ..
            } = part
            {
                if let Some(asset) = assets.get(r.as_str()) {
                    named.insert(r.clone());
                    if data.is_none() {
                        *data = Some(asset.data.clone());
                    }
                    if mime_type.is_none() {
                        mime_type.clone_from(&asset.mime);
                    }
                }
            }
            if let Part::Raw { kind, value } = part {
                if kind == "copilot.attachment" {
                    if let Some(id) = value.get("assetId").and_then(Value::as_str) {
                        named.insert(id.to_owned());
                    }
                }
            }
        }
    }
    // Attachments (files, blobs) name their asset through the raw part kept beside them.
    for m in &out.messages {
        let ids: Vec<&str> = m
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::Raw { kind, value } if kind == "copilot.attachment" => {
                    value.get("assetId").and_then(Value::as_str)
                }
                _ => None,
            })
            .collect();
        for id in ids {
            let Some(asset) = assets.get(id) else {
                continue;
            };
            if let Some(a) = out.attachments.iter_mut().find(|a| {
                a.message_source_id.as_deref() == Some(m.source_id.as_str()) && a.data.is_none()
            }) {
                a.data = Some(asset.data.clone());
                if a.mime_type.is_none() {
                    a.mime_type.clone_from(&asset.mime);
                }
            }
        }
    }
    let mut left: Vec<(&String, &Asset)> = assets
        .iter()
        .filter(|(id, _)| !named.contains(id.as_str()))
        .collect();
    left.sort_by(|a, b| a.0.cmp(b.0));
    for (id, asset) in left {
        out.attachments.push(Attachment {
            message_source_id: None,
            name: id.clone(),
            size: None,
            mime_type: asset.mime.clone(),
            data: Some(asset.data.clone()),
        });
    }
}

pub(super) fn push_paragraph(out: &mut String, text: &str) {
    if text.trim().is_empty() || out.contains(text) {
        return;
    }
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(text);
}

/// A tool's result: `content`, `detailedContent` when it says more, and `contents[]` (text and
/// terminal output as text, images as image parts, anything else raw).
pub(super) fn tool_output(
    result: &mut Map<String, Value>,
    text: &mut String,
    parts: &mut Vec<Part>,
) {
    if let Some(content) = take_str(result, "content") {
        push_paragraph(text, &content);
    }
    if let Some(detailed) = take_str(result, "detailedContent") {
        push_paragraph(text, &detailed);
    }
    let Some(Value::Array(contents)) = result.remove("contents") else {
        return;
    };
    for item in contents {
        let Value::Object(mut item) = item else {
            if let Value::String(s) = &item {
                push_paragraph(text, s);
            }
            continue;
        };
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        match kind.as_str() {
            "text" | "terminal" => {
                let body = take_str(&mut item, "text").or_else(|| take_str(&mut item, "output"));
                if let Some(body) = body {
                    push_paragraph(text, &body);
                }
            }
            "image" => {
                parts.push(Part::Image {
                    reference: take_str(&mut item, "uri"),
                    mime_type: take_str(&mut item, "mimeType"),
                    width: None,
                    height: None,
                    data: take_str(&mut item, "data"),
                    media: None,
                });
                continue;
            }
            _ => {}
        }
        if item.iter().any(|(k, v)| k != "type" && has_text(v)) {
            parts.push(Part::Raw {
                kind: "copilot.tool.content".to_owned(),
                value: Value::Object(item),
            });
        }
    }
}
