//! What one run knows across its inputs: which conversations it has read (a conversation in
//! several inputs is imported once, the copy with the most messages), which Claude projects it
//! has read (a conversation naming only its project's uuid lands in that project's folder),
//! and the folder each conversation is filed in.
//!
//! Claude delivers a large export as several batches (`…-batch-0000.zip`, `…-batch-0001.zip`,
//! or the zips a manifest lists), and the same conversation can be in more than one of them,
//! with more messages in a later one. [`ContextSink`] sits between a parser and the pipeline's
//! sink and passes on a conversation only when no copy with at least as many messages was read
//! earlier in the run; a smaller or equal later copy is counted as skipped. A larger later copy
//! is passed on and updates the one already written (the store adds its new messages), so
//! the run ends with the larger copy whatever the order of the inputs. The run remembers
//! 16 bytes and a count per conversation: tens of megabytes for a million conversations.

use std::collections::HashMap;

use chat_model::{FolderPath, ParsedConversation};
use chat_parse::{Flow, ItemError, ItemRef, Sink, Skipped};
use chat_parse_claude::{project_link, ProjectLink};

/// State shared by every input of a run (lives on the parse thread).
#[derive(Debug, Default)]
pub(crate) struct RunContext {
    /// Messages of the largest copy read so far, per (source, source id) hash.
    seen: HashMap<u128, usize>,
    /// Folder names of the Claude projects read so far, per project uuid.
    projects: HashMap<String, String>,
}

impl RunContext {
    /// A sink that forwards to `inner` what this run has not read yet. `workspace`, when the
    /// input's layout names one (a VS Code workspace folder), becomes every conversation's
    /// subfolder.
    pub(crate) fn sink<'a>(
        &'a mut self,
        inner: &'a mut dyn Sink,
        workspace: Option<&'a str>,
    ) -> ContextSink<'a> {
        ContextSink {
            context: self,
            inner,
            workspace,
        }
    }

    /// Whether `conversation` should be passed on: no copy with at least as many messages was
    /// read before in this run. Records it when it is passed on.
    fn first_or_larger(&mut self, conversation: &ParsedConversation) -> bool {
        let key = xxhash_rust::xxh3::xxh3_128(
            format!(
                "{}\u{0}{}",
                conversation.source.as_str(),
                conversation.source_id
            )
            .as_bytes(),
        );
        let messages = conversation.messages.len();
        match self.seen.get(&key) {
            Some(&earlier) if earlier >= messages => false,
            _ => {
                self.seen.insert(key, messages);
                true
            }
        }
    }

    /// Files a Claude conversation that names only its project's uuid in that project's
    /// folder, and remembers the folders of projects.
    fn file_in_project(&mut self, conversation: &mut ParsedConversation) {
        match project_link(conversation) {
            ProjectLink::Project { uuid } => {
                if let Some(folder) = &conversation.subfolder {
                    self.projects.insert(uuid.to_owned(), folder.clone());
                }
            }
            ProjectLink::Member { uuid } => {
                if conversation.subfolder.is_none() {
                    conversation.subfolder = self.projects.get(uuid).cloned();
                }
            }
            ProjectLink::None => {}
        }
    }
}

/// Forwards a parser's output to the pipeline, dropping copies of conversations already read
/// in the run with as many messages or more (see the module docs).
pub(crate) struct ContextSink<'a> {
    context: &'a mut RunContext,
    inner: &'a mut dyn Sink,
    workspace: Option<&'a str>,
}

impl std::fmt::Debug for ContextSink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextSink")
            .field("workspace", &self.workspace)
            .finish_non_exhaustive()
    }
}

impl Sink for ContextSink<'_> {
    fn conversation(&mut self, mut conversation: ParsedConversation) -> Flow {
        if let Some(workspace) = self.workspace {
            conversation.subfolder = Some(workspace.to_owned());
        }
        self.context.file_in_project(&mut conversation);
        if self.context.first_or_larger(&conversation) {
            return self.inner.conversation(conversation);
        }
        self.inner.skipped(Skipped {
            item: ItemRef {
                index: None,
                id: Some(conversation.source_id),
                title: Some(conversation.title),
            },
            reason: "read earlier in this run with as many messages or more (a conversation in \
                     two batches of one export)"
                .to_owned(),
        })
    }

    fn item_error(&mut self, error: ItemError) -> Flow {
        self.inner.item_error(error)
    }

    fn skipped(&mut self, skipped: Skipped) -> Flow {
        self.inner.skipped(skipped)
    }

    fn progress(&mut self, bytes_read: u64) {
        self.inner.progress(bytes_read);
    }
}

/// The folder a new conversation is filed in: the run's folder (`--folder`, else the source's
/// `imported/<source>`), and below it the conversation's subfolder when it has one. `None`
/// means the source's default folder.
pub(crate) fn folder_for(
    conversation: &ParsedConversation,
    folder: Option<&FolderPath>,
) -> Option<FolderPath> {
    let Some(sub) = conversation.subfolder.as_deref() else {
        return folder.cloned();
    };
    let base = folder
        .cloned()
        .unwrap_or_else(|| conversation.source.default_folder());
    base.child(sub).or(Some(base))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_parse::CollectSink;

    fn conversation(source: &str, id: &str, messages: usize) -> ParsedConversation {
        let messages: Vec<serde_json::Value> = (0..messages)
            .map(|i| serde_json::json!({"source_id": format!("m{i}"), "role": "user", "content": "x"}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "source": source, "source_id": id, "title": id, "messages": messages,
            "active_leaf": null
        }))
        .unwrap_or_else(|e| panic!("a test conversation: {e}"))
    }

    #[test]
    fn a_conversation_read_twice_is_passed_on_only_when_it_grew() {
        let mut context = RunContext::default();
        let mut out = CollectSink::new();
        {
            let mut sink = context.sink(&mut out, None);
            sink.conversation(conversation("claude", "a", 2));
            sink.conversation(conversation("claude", "a", 2));
            sink.conversation(conversation("claude", "a", 1));
            sink.conversation(conversation("claude", "a", 3));
            sink.conversation(conversation("chatgpt", "a", 1));
        }
        let kept: Vec<(String, usize)> = out
            .conversations
            .iter()
            .map(|c| (c.source.as_str().to_owned(), c.messages.len()))
            .collect();
        assert_eq!(
            kept,
            [
                ("claude".to_owned(), 2),
                ("claude".to_owned(), 3),
                ("chatgpt".to_owned(), 1)
            ]
        );
        assert_eq!(out.skipped.len(), 2);
    }

    #[test]
    fn members_of_a_project_read_earlier_land_in_its_folder() {
        let mut context = RunContext::default();
        let mut out = CollectSink::new();
        let mut project = conversation("claude", "project:p1", 1);
        project.extra = serde_json::json!({"format": "claude.project"});
        project.subfolder = Some("Thesis".into());
        let mut member = conversation("claude", "c1", 1);
        member.extra = serde_json::json!({"project_uuid": "p1"});
        let mut stranger = conversation("claude", "c2", 1);
        stranger.extra = serde_json::json!({"project_uuid": "p2"});
        {
            let mut sink = context.sink(&mut out, None);
            sink.conversation(project);
            sink.conversation(member);
            sink.conversation(stranger);
        }
        let folders: Vec<Option<&str>> = out
            .conversations
            .iter()
            .map(|c| c.subfolder.as_deref())
            .collect();
        assert_eq!(folders, [Some("Thesis"), Some("Thesis"), None]);
        let base = FolderPath::new("mine").ok();
        let filed = folder_for(&out.conversations[1], base.as_ref());
        assert_eq!(filed.as_ref().map(FolderPath::as_str), Some("mine/Thesis"));
        let filed = folder_for(&out.conversations[1], None);
        assert_eq!(
            filed.as_ref().map(FolderPath::as_str),
            Some("imported/claude/Thesis")
        );
        assert_eq!(folder_for(&out.conversations[2], None), None);
    }

    #[test]
    fn a_workspace_names_the_subfolder_of_every_conversation() {
        let mut context = RunContext::default();
        let mut out = CollectSink::new();
        {
            let mut sink = context.sink(&mut out, Some("proj"));
            sink.conversation(conversation("copilot", "s1", 1));
        }
        assert_eq!(out.conversations[0].subfolder.as_deref(), Some("proj"));
    }
}
