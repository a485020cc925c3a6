//! The reading tools.

use chat_model::{timestamp, Conversation, Source};
use chat_store::{ListQuery, SearchQuery};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::{tool, tool_router};

use super::{blocking, slice};
use crate::args::{
    folder_arg, tag_arg, time_range, Archived, Branch, ContextArgs, Format, GetConversationArgs,
    ListArgs, PageArgs, SearchArgs, CONTEXT_CHARS, CONTEXT_MESSAGES, LIST_LIMIT, MAX_QUERY_CHARS,
    NAMES_LIMIT, PAGE_CHARS, SEARCH_DEPTH, SEARCH_LIMIT,
};
use crate::cursor::{fingerprint, other_query, wrong_tool, Cursor};
use crate::error::{Error, Result, ToolFailure};
use crate::library::{ArchivedFilter, Library};
use crate::output::{
    plain_snippet, ContextInfo, ConversationSummary, FolderEntry, FoldersResult, Hit, ListResult,
    PageInfo, SearchResult, TagEntry, TagsResult,
};
use crate::pages::{self, Page, Position};
use crate::render;
use crate::server::ChatMcp;

/// A page of a conversation with what the next call needs.
#[derive(Debug)]
pub(crate) struct PageRead {
    pub conversation: Conversation,
    pub page: Page,
    pub branch: Branch,
    pub format: Format,
    pub next_cursor: Option<String>,
}

/// The page options of a get_conversation call: from its arguments, or from its cursor
/// (arguments given beside a cursor must agree with it, but for max_chars).
struct PageOptions {
    branch: Branch,
    hidden: bool,
    format: Format,
    max_chars: u32,
    start: Option<Position>,
}

impl PageOptions {
    fn new(
        id: &str,
        branch: Option<Branch>,
        hidden: Option<bool>,
        format: Option<Format>,
        max_chars: Option<i64>,
        cursor: Option<String>,
    ) -> Result<PageOptions> {
        let max = PAGE_CHARS.check(max_chars)?;
        let Some(cursor) = cursor else {
            return Ok(PageOptions {
                branch: branch.unwrap_or_default(),
                hidden: hidden.unwrap_or(false),
                format: format.unwrap_or_default(),
                max_chars: max,
                start: None,
            });
        };
        let Cursor::Page {
            c,
            m,
            o,
            b,
            h,
            f,
            n,
        } = Cursor::decode(&cursor)?
        else {
            return Err(wrong_tool("get_conversation"));
        };
        if c != fingerprint(&id) {
            return Err(Error::InvalidArgument(
                "this cursor belongs to another conversation: pass the id it was made for, or \
                 leave cursor out to start this one from the beginning"
                    .to_owned(),
            ));
        }
        let clash = |what: &str| {
            Error::InvalidArgument(format!(
                "{what} differs from the first page's; a cursor continues with the same \
                 {what}: leave {what} out, or leave cursor out to start again"
            ))
        };
        if branch.is_some_and(|x| x != b) {
            return Err(clash("branch"));
        }
        if hidden.is_some_and(|x| x != h) {
            return Err(clash("include_hidden"));
        }
        if format.is_some_and(|x| x != f) {
            return Err(clash("format"));
        }
        Ok(PageOptions {
            branch: b,
            hidden: h,
            format: f,
            max_chars: if max_chars.is_some() { max } else { n },
            start: Some(Position {
                message_id: m,
                offset: o,
            }),
        })
    }
}

impl ChatMcp {
    /// One page of a conversation (shared by get_conversation and resource reads).
    pub(crate) async fn page_of(
        &self,
        id: &str,
        branch: Option<Branch>,
        hidden: Option<bool>,
        format: Option<Format>,
        max_chars: Option<i64>,
        cursor: Option<String>,
    ) -> Result<PageRead> {
        let o = PageOptions::new(id, branch, hidden, format, max_chars, cursor)?;
        let library = self.library.clone();
        let owned_id = id.to_owned();
        blocking(move || {
            let (conversation, messages) = library.messages(&owned_id, o.branch, o.hidden)?;
            let page = pages::page(
                &conversation,
                &messages,
                o.format,
                o.max_chars as usize,
                o.start.as_ref(),
            )?;
            let next_cursor = page.next.as_ref().map(|p| {
                Cursor::Page {
                    c: fingerprint(&owned_id),
                    m: p.message_id.clone(),
                    o: p.offset,
                    b: o.branch,
                    h: o.hidden,
                    f: o.format,
                    n: o.max_chars,
                }
                .encode()
            });
            Ok(PageRead {
                conversation,
                page,
                branch: o.branch,
                format: o.format,
                next_cursor,
            })
        })
        .await
    }
}

/// What a search asks the store, from the tool's arguments.
fn search_query(args: &SearchArgs) -> Result<SearchQuery> {
    let text = args.query.trim();
    let chars = text.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(Error::InvalidArgument(format!(
            "the query is {chars} characters long; the most is {MAX_QUERY_CHARS}: search for \
             a few distinctive words"
        )));
    }
    if !text.chars().any(char::is_alphanumeric) {
        return Err(Error::InvalidArgument(
            "the query has no words to search for: give one or more words, e.g. \
             \"deploy friday\""
                .to_owned(),
        ));
    }
    let (since, until) = time_range(args.since.as_deref(), args.until.as_deref())?;
    Ok(SearchQuery {
        source: args.source.map(Source::from),
        tag: args.tag.as_deref().map(tag_arg).transpose()?,
        folder: args.folder.as_deref().map(folder_arg).transpose()?,
        since,
        until,
        role: args.role.map(Into::into),
        ..SearchQuery::new(text)
    })
}

fn archived_filter(a: Option<Archived>) -> ArchivedFilter {
    match a.unwrap_or_default() {
        Archived::Exclude => ArchivedFilter::No,
        Archived::Only => ArchivedFilter::Yes,
        Archived::Include => ArchivedFilter::All,
    }
}

/// A page of a short list the store returns whole (folders, tags), paged by offset: the
/// entries and the cursor for the next page.
async fn offset_page<T: Send + 'static>(
    tool: &'static str,
    args: &PageArgs,
    all: impl FnOnce() -> Result<Vec<T>> + Send + 'static,
) -> Result<(Vec<T>, Option<String>)> {
    let limit = NAMES_LIMIT.check(args.limit)?;
    let key = fingerprint(&tool);
    let offset = match &args.cursor {
        Some(c) => Cursor::offset_for(c, key, tool)?,
        None => 0,
    };
    let (page, more) = slice(blocking(all).await?, offset, limit);
    let next = more.then(|| {
        Cursor::Offset {
            q: key,
            o: offset + limit,
        }
        .encode()
    });
    Ok((page, next))
}

/// The status line under a page: where it is and how to go on.
fn page_status(id: &str, read: &PageRead) -> String {
    let p = &read.page;
    let span = if p.total == 0 {
        "The conversation has no messages in this selection.".to_owned()
    } else {
        format!("Messages {}–{} of {}.", p.first + 1, p.end, p.total)
    };
    match &read.next_cursor {
        Some(next) => format!(
            "{span} More follows: call get_conversation with {{\"id\": {}, \"cursor\": {}}}.",
            serde_json::Value::from(id),
            serde_json::Value::from(next.as_str())
        ),
        None => format!("{span} This is the end of the conversation."),
    }
}

#[tool_router(router = read_router, vis = "pub(crate)")]
impl ChatMcp {
    /// Full-text search across every imported and native conversation.
    #[tool(
        name = "search_conversations",
        description = "Search the user's whole chat history (ChatGPT, Claude, Gemini, Copilot \
            and native chats) by words. Returns ranked hits, best first: conversation id, \
            title, source, folder, date, the matching message's id and role, and a plain-text \
            snippet. Open a hit with get_message_context (its message_id) or get_conversation \
            (its conversation_id). Use filters to narrow down, and next_cursor for more hits.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search_conversations(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<Json<SearchResult>, ToolFailure> {
        let limit = SEARCH_LIMIT.check(args.limit)?;
        let mut q = search_query(&args)?;
        let key = fingerprint(&SearchArgs {
            limit: None,
            cursor: None,
            ..args.clone()
        });
        let offset = match &args.cursor {
            Some(c) => Cursor::offset_for(c, key, "search_conversations")?,
            None => 0,
        };
        let want = offset.saturating_add(limit).min(SEARCH_DEPTH);
        q.limit = want + 1;
        let library = self.library.clone();
        let found = blocking(move || library.search(&q)).await?;
        let more = found.len() > want as usize && want < SEARCH_DEPTH;
        let hits = found
            .into_iter()
            .skip(offset as usize)
            .take(want.saturating_sub(offset) as usize)
            .map(|f| Hit {
                conversation_id: f.conversation.id.as_str().to_owned(),
                title: f.conversation.title.clone(),
                source: f.conversation.source.as_str().to_owned(),
                folder: f.conversation.folder.as_str().to_owned(),
                date: timestamp::to_rfc3339(f.hit.created_at.unwrap_or(f.conversation.updated_at)),
                message_id: f.hit.message_id.map(|m| m.as_str().to_owned()),
                role: f.hit.role.map(|r| r.as_str().to_owned()),
                snippet: plain_snippet(&f.hit.snippet),
            })
            .collect();
        Ok(Json(SearchResult {
            hits,
            next_cursor: more.then(|| Cursor::Offset { q: key, o: want }.encode()),
        }))
    }

    /// One conversation, rendered, in pages.
    #[tool(
        name = "get_conversation",
        description = "Read one conversation, rendered as Markdown (default) or the lossless \
            JSON export. Long conversations come in pages of at most max_chars characters: \
            the answer says which messages the page holds, and while next_cursor is present, \
            call again with the same id and that cursor to read on; nothing is cut without \
            saying so. Attachments and media of the page are listed by name. branch \"all\" \
            adds every edit and regeneration; include_hidden adds system prompts, tool calls \
            and reasoning.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_conversation(
        &self,
        Parameters(args): Parameters<GetConversationArgs>,
    ) -> Result<CallToolResult, ToolFailure> {
        let read = self
            .page_of(
                &args.id,
                args.branch,
                args.include_hidden,
                args.format,
                args.max_chars,
                args.cursor,
            )
            .await?;
        let status = page_status(&args.id, &read);
        let p = &read.page;
        let info = PageInfo {
            conversation: ConversationSummary::from(&read.conversation),
            format: serde_json::to_value(read.format)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            branch: if read.branch == Branch::All {
                "all"
            } else {
                "active"
            }
            .to_owned(),
            messages_from: if p.total == 0 { 0 } else { p.first + 1 },
            messages_to: p.end,
            messages_total: p.total,
            next_cursor: read.next_cursor.clone(),
            media: p.media.clone(),
        };
        let mut result = CallToolResult::success(vec![
            ContentBlock::text(read.page.text),
            ContentBlock::text(status),
        ]);
        result.structured_content = serde_json::to_value(info).ok();
        Ok(result)
    }

    /// The messages around one message.
    #[tool(
        name = "get_message_context",
        description = "Show the messages around one message (a search hit's message_id) on \
            its branch: a few before and after it (before/after, default 3 each), as Markdown \
            with the conversation's title and source. Messages too long for max_chars are \
            shortened, saying where, with a cursor for get_conversation to read them whole.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_message_context(
        &self,
        Parameters(args): Parameters<ContextArgs>,
    ) -> Result<CallToolResult, ToolFailure> {
        let before = CONTEXT_MESSAGES.check(args.before)? as usize;
        let after = CONTEXT_MESSAGES.check(args.after)? as usize;
        let max_chars = CONTEXT_CHARS.check(args.max_chars)? as usize;
        let library = self.library.clone();
        let id = args.message_id.clone();
        let around = blocking(move || library.around(&id, false)).await?;
        let (at, len) = (around.at, around.branch.len());
        let lo = at.saturating_sub(before);
        let hi = (at + after + 1).min(len);
        let text = super::context::render(&around, lo..hi, max_chars)?;
        let shown = &around.branch[lo..hi];
        let info = ContextInfo {
            conversation: ConversationSummary::from(&around.conversation),
            message_id: args.message_id,
            message_ids: shown.iter().map(|m| m.id.as_str().to_owned()).collect(),
            earlier: lo,
            later: len - hi,
            media: shown.iter().flat_map(render::media).collect(),
        };
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = serde_json::to_value(info).ok();
        Ok(result)
    }

    /// Conversations, newest first, filtered and paged.
    #[tool(
        name = "list_conversations",
        description = "List conversations, most recently updated first, optionally only one \
            source, folder or tag, or updated within since/until. Returns ids, titles, sources, \
            folders, tags, dates and message counts; pass next_cursor back for the next page.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_conversations(
        &self,
        Parameters(args): Parameters<ListArgs>,
    ) -> Result<Json<ListResult>, ToolFailure> {
        let limit = LIST_LIMIT.check(args.limit)?;
        let (since, until) = time_range(args.since.as_deref(), args.until.as_deref())?;
        let key = fingerprint(&ListArgs {
            limit: None,
            cursor: None,
            ..args.clone()
        });
        let cursor = match &args.cursor {
            None => None,
            Some(c) => match Cursor::decode(c)? {
                Cursor::List { q, s } if q == key => Some(Library::list_cursor(&s)?),
                Cursor::List { .. } => return Err(other_query("list_conversations").into()),
                _ => return Err(wrong_tool("list_conversations").into()),
            },
        };
        let query = ListQuery {
            source: args.source.map(Source::from),
            folder: args.folder.as_deref().map(folder_arg).transpose()?,
            tag: args.tag.as_deref().map(tag_arg).transpose()?,
            archived: archived_filter(args.archived),
            updated_after: since,
            updated_before: until,
            limit,
            cursor,
        };
        let library = self.library.clone();
        let page = blocking(move || library.list(&query)).await?;
        Ok(Json(ListResult {
            conversations: page.items.iter().map(ConversationSummary::from).collect(),
            next_cursor: page.next_cursor.map(|c| {
                Cursor::List {
                    q: key,
                    s: c.encode(),
                }
                .encode()
            }),
        }))
    }

    /// Folders with conversation counts.
    #[tool(
        name = "list_folders",
        description = "List the folders conversations are filed in, with how many \
            conversations each holds (archived counted apart), one entry per folder and \
            source. Imports land in imported/<source>. Use a path as the folder filter of \
            search_conversations or list_conversations.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_folders(
        &self,
        Parameters(args): Parameters<PageArgs>,
    ) -> Result<Json<FoldersResult>, ToolFailure> {
        let library = self.library.clone();
        let (page, next_cursor) =
            offset_page("list_folders", &args, move || library.folders()).await?;
        let folders = page
            .into_iter()
            .map(|f| FolderEntry {
                path: f.path.as_str().to_owned(),
                source: f.source.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                count: f.count,
                archived_count: f.archived_count,
            })
            .collect();
        Ok(Json(FoldersResult {
            folders,
            next_cursor,
        }))
    }

    /// Tags with conversation counts.
    #[tool(
        name = "list_tags",
        description = "List the tags in use, with how many conversations carry each. Use a \
            tag as the tag filter of search_conversations or list_conversations.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_tags(
        &self,
        Parameters(args): Parameters<PageArgs>,
    ) -> Result<Json<TagsResult>, ToolFailure> {
        let library = self.library.clone();
        let (page, next_cursor) = offset_page("list_tags", &args, move || library.tags()).await?;
        let tags = page
            .into_iter()
            .map(|(tag, count)| TagEntry {
                tag: tag.as_str().to_owned(),
                count,
            })
            .collect();
        Ok(Json(TagsResult { tags, next_cursor }))
    }
}
