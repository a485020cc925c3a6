//! Claude projects (`projects.json`, `projects/<uuid>.json`, `projects-000.zip`), each read as
//! one conversation that the importer files in a folder of the project's name.
//!
//! A project holds a description, instructions (`prompt_template`) and documents (`docs[]`,
//! with their full text). The store keeps conversations, and it is conversations that are
//! listed, searched and exported, so a project becomes one: titled "`<name>` — project", its
//! [`ParsedConversation::subfolder`] the project's name, its messages the description and the
//! instructions (visible system messages) and one visible user message per document, whose
//! text is the document's content and whose [`Part::Attachment`] names the file. Everything
//! it holds is thus shown, searchable and exported like any conversation; a conversation of the
//! same export that names the project (`project: {uuid, name}`, or `project_uuid`) lands in
//! the same folder. The project's own id becomes `project:<uuid>`, so a re-import updates it.

use std::collections::HashSet;

use chat_model::{Attachment, ParsedConversation, ParsedMessage, Part, Role, Source};
use chat_parse::stable_id;
use serde_json::{Map, Value};

use crate::convert::{mime_type, parse_time, str_field, timestamp, unique_id};
use chat_parse::{has_text, take_str};

/// The id prefix of conversations that hold a Claude project.
pub const PROJECT_ID_PREFIX: &str = "project:";

/// The `extra.format` of a conversation that holds a Claude project.
const PROJECT_FORMAT: &str = "claude.project";

/// How a conversation read from a Claude export relates to a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectLink<'a> {
    /// It is the project with this uuid (its subfolder is the project's folder name).
    Project {
        /// The project's uuid.
        uuid: &'a str,
    },
    /// It belongs to the project with this uuid (its export names the project).
    Member {
        /// The project's uuid.
        uuid: &'a str,
    },
    /// Neither.
    None,
}

/// How `conversation` relates to a Claude project, for the importer, which files a
/// conversation that names only its project's uuid in the folder of the project read earlier.
pub fn project_link(conversation: &ParsedConversation) -> ProjectLink<'_> {
    if conversation.source != Source::Claude {
        return ProjectLink::None;
    }
    let extra = &conversation.extra;
    if extra.get("format").and_then(Value::as_str) == Some(PROJECT_FORMAT) {
        if let Some(uuid) = conversation.source_id.strip_prefix(PROJECT_ID_PREFIX) {
            return ProjectLink::Project { uuid };
        }
    }
    let uuid = extra
        .pointer("/project/uuid")
        .or_else(|| extra.get("project_uuid"))
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty());
    match uuid {
        Some(uuid) => ProjectLink::Member { uuid },
        None => ProjectLink::None,
    }
}

/// The project a conversation names, from its `project: {uuid, name}` field (kept in `extra`).
pub(crate) fn named_project(extra: &Map<String, Value>) -> Option<String> {
    extra
        .get("project")
        .and_then(Value::as_object)
        .and_then(|p| str_field(p, "name"))
        .filter(|n| !n.trim().is_empty())
}

/// Whether a top-level object of a Claude export is a project: it has `prompt_template` or
/// `is_starter_project` (every real project file has both), or `docs` with a `description`;
/// and a `uuid` or a `name`. A bare `{uuid, name, docs}` row is too little to call a project.
pub(crate) fn is_project(object: &Map<String, Value>) -> bool {
    let shaped = object.contains_key("prompt_template")
        || object.contains_key("is_starter_project")
        || (object.get("docs").is_some_and(Value::is_array) && object.contains_key("description"));
    shaped && (object.contains_key("uuid") || object.contains_key("name"))
}

/// Whether a project holds nothing to keep: no description, no instructions, no documents. Such
/// a project (common: many people make one only to group chats, and the export does not say
/// which chats) is passed over rather than imported as a blank conversation.
pub(crate) fn is_empty_project(object: &Map<String, Value>) -> bool {
    let blank = |key: &str| !object.get(key).is_some_and(has_text);
    blank("description") && blank("prompt_template") && blank("docs")
}

/// A project as a conversation (see the module docs).
pub(crate) fn project(mut object: Map<String, Value>) -> ParsedConversation {
    let name = str_field(&object, "name")
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "Untitled project".to_owned());
    let uuid = str_field(&object, "uuid");
    let created_raw = object.remove("created_at");
    let source_id = match &uuid {
        Some(uuid) => format!("{PROJECT_ID_PREFIX}{uuid}"),
        None => format!(
            "{PROJECT_ID_PREFIX}{}",
            stable_id(&[
                "claude-project",
                &name,
                &created_raw
                    .as_ref()
                    .map(Value::to_string)
                    .unwrap_or_default()
            ])
        ),
    };
    let mut extra = Map::new();
    let created_at = timestamp(created_raw, "created_at", &mut extra);
    let updated_at = timestamp(object.remove("updated_at"), "updated_at", &mut extra);

    let mut messages = Vec::new();
    let mut used = HashSet::new();
    let description = take_str(&mut object, "description");
    push(
        &mut messages,
        &mut used,
        "description",
        Role::System,
        description,
        Vec::new(),
        created_at,
    );
    if let Some(template) = take_str(&mut object, "prompt_template").filter(|t| !t.is_empty()) {
        push(
            &mut messages,
            &mut used,
            "prompt_template",
            Role::System,
            Some(template),
            Vec::new(),
            created_at,
        );
    }
    let mut attachments = Vec::new();
    let docs = match object.remove("docs") {
        Some(Value::Array(docs)) => docs,
        Some(other) => {
            extra.insert("docs".to_owned(), other);
            Vec::new()
        }
        None => Vec::new(),
    };
    for doc in docs {
        document(doc, &mut messages, &mut used, &mut attachments);
    }

    object.remove("name");
    object.remove("uuid");
    extra.insert("format".to_owned(), Value::from(PROJECT_FORMAT));
    extra.insert("name".to_owned(), Value::from(name.clone()));
    extra.extend(object);
    let active_leaf = messages.last().map(|m: &ParsedMessage| m.source_id.clone());
    ParsedConversation {
        source: Source::Claude,
        source_id,
        title: format!("{name} — project"),
        created_at,
        updated_at: updated_at.or(created_at),
        messages,
        active_leaf,
        attachments,
        archived: false,
        model: None,
        summary: None,
        extra: Value::Object(extra),
        subfolder: Some(name),
    }
}

/// Appends a message that follows the previous one.
fn push(
    messages: &mut Vec<ParsedMessage>,
    used: &mut HashSet<String>,
    id: &str,
    role: Role,
    content: Option<String>,
    parts: Vec<Part>,
    created_at: Option<chat_model::Timestamp>,
) -> String {
    let id = unique_id(id.to_owned(), used);
    messages.push(ParsedMessage {
        source_id: id.clone(),
        parent: messages.last().map(|m| m.source_id.clone()),
        role,
        content: content.unwrap_or_default(),
        parts,
        model: None,
        created_at,
        hidden: false,
        interrupted: false,
    });
    id
}

/// One `docs[]` entry: a user message holding the document's text, naming the file.
fn document(
    doc: Value,
    messages: &mut Vec<ParsedMessage>,
    used: &mut HashSet<String>,
    attachments: &mut Vec<Attachment>,
) {
    let Value::Object(mut doc) = doc else {
        let parts = vec![Part::Raw {
            kind: "claude.project_doc".to_owned(),
            value: doc,
        }];
        push(messages, used, "doc", Role::User, None, parts, None);
        return;
    };
    let name = take_str(&mut doc, "filename")
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "(unnamed document)".to_owned());
    let content = take_str(&mut doc, "content").unwrap_or_default();
    let id = match take_str(&mut doc, "uuid").filter(|u| !u.is_empty()) {
        Some(uuid) => format!("doc:{uuid}"),
        None => format!("doc:{}", stable_id(&[&name, &content])),
    };
    let created_at = doc.get("created_at").and_then(parse_time);
    if created_at.is_some() {
        doc.remove("created_at");
    }
    let mime = name
        .rsplit_once('.')
        .map(|(_, ext)| mime_type(ext.to_owned()))
        .filter(|m| m.contains('/'));
    let size = Some(content.len() as u64);
    let mut parts = vec![Part::Attachment {
        name: name.clone(),
        size,
        mime_type: mime.clone(),
        extracted_text: None,
        media: None,
        reference: None,
    }];
    if doc.values().any(has_text) {
        parts.push(Part::Raw {
            kind: "claude.project_doc".to_owned(),
            value: Value::Object(doc),
        });
    }
    let id = push(
        messages,
        used,
        &id,
        Role::User,
        Some(content),
        parts,
        created_at,
    );
    attachments.push(Attachment {
        message_source_id: Some(id),
        name,
        size,
        mime_type: mime,
        data: None,
    });
}
