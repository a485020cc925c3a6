//! A deterministic demo-data generator for benchmarks (`chat-server --seed-demo N`).

use chat_model::timestamp::from_millis;
use chat_model::{
    Conversation, ConversationDetail, ConversationId, Message, MessageId, MessageStatus, Role,
    Source, Tag,
};

/// Conversations written per transaction.
const BATCH: usize = 200;
/// The first conversation's time: 2023-11-14.
const BASE_MS: i64 = 1_700_000_000_000;

const WORDS: &[&str] = &[
    "rust",
    "database",
    "async",
    "thread",
    "memory",
    "index",
    "query",
    "server",
    "client",
    "request",
    "response",
    "error",
    "handler",
    "config",
    "deploy",
    "docker",
    "kernel",
    "python",
    "function",
    "closure",
    "iterator",
    "vector",
    "string",
    "parse",
    "token",
    "stream",
    "buffer",
    "socket",
    "latency",
    "throughput",
    "benchmark",
    "profile",
    "cache",
    "lock",
    "mutex",
    "channel",
    "future",
    "runtime",
    "compile",
    "borrow",
    "lifetime",
    "trait",
    "generic",
    "macro",
    "module",
    "crate",
    "package",
    "version",
    "release",
    "test",
    "assert",
    "mock",
    "fixture",
    "snapshot",
    "recipe",
    "garden",
    "travel",
    "budget",
    "invoice",
    "meeting",
    "email",
    "summary",
    "draft",
    "essay",
    "poem",
    "story",
    "history",
    "physics",
    "algebra",
    "matrix",
    "gradient",
    "model",
    "prompt",
    "context",
    "embedding",
    "vector",
    "search",
    "ranking",
    "snippet",
    "title",
    "folder",
    "archive",
    "export",
    "import",
    "backup",
    "restore",
    "sqlite",
    "postgres",
    "schema",
    "table",
    "column",
    "row",
    "join",
    "filter",
    "sort",
    "page",
    "cursor",
    "limit",
    "offset",
    "the",
    "a",
    "and",
    "of",
    "to",
    "in",
    "is",
    "it",
    "that",
    "for",
    "with",
    "as",
    "on",
    "how",
    "why",
    "what",
    "can",
    "should",
    "would",
    "please",
    "explain",
    "write",
    "fix",
    "improve",
    "compare",
    "list",
];

/// Size of the generated vocabulary: the words above, then made-up words.
const VOCABULARY: u64 = 30_000;
const SYLLABLES: [&str; 16] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "pa", "do", "fe", "gu", "hi", "ju", "bo",
];

/// The word of frequency rank `rank` (0-based): the fixed words first, then made-up ones.
pub fn word_at(rank: u64) -> String {
    if let Some(w) = WORDS.get(rank as usize) {
        return (*w).to_owned();
    }
    let mut n = rank;
    let mut out = String::new();
    loop {
        out.push_str(SYLLABLES[(n % 16) as usize]);
        n /= 16;
        if n == 0 {
            break;
        }
    }
    out
}

/// A small xorshift generator: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A rank with a roughly Zipfian distribution: log-uniform over the vocabulary.
    fn rank(&mut self) -> u64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((VOCABULARY as f64).powf(u) as u64).saturating_sub(1)
    }

    fn words(&mut self, n: u64) -> String {
        let mut out = String::new();
        for i in 0..n {
            if i > 0 {
                out.push(if i % 12 == 0 { '\n' } else { ' ' });
            }
            out.push_str(&word_at(self.rank()));
        }
        out
    }
}

/// Writes about `messages` messages in conversations of 2 to 40 messages; returns the counts.
pub fn seed(store: &chat_store::Store, messages: u64) -> anyhow::Result<(u64, u64)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let tags: Vec<Tag> = ["work", "rust", "ideas", "travel", "later"]
        .iter()
        .filter_map(|t| Tag::new(t).ok())
        .collect();
    let (mut written, mut convos) = (0u64, 0u64);
    let mut batch = Vec::with_capacity(BATCH);
    while written < messages {
        let n = (2 + rng.below(39)).min(messages - written).max(1);
        let source = Source::ALL[rng.below(Source::ALL.len() as u64) as usize];
        let id = ConversationId::generate();
        let created = BASE_MS
            + i64::try_from(convos).unwrap_or(0) * 600_000
            + i64::try_from(rng.below(600_000)).unwrap_or(0);
        let mut msgs = Vec::with_capacity(n as usize);
        let mut parent: Option<MessageId> = None;
        for i in 0..n {
            let mid = MessageId::generate();
            let role = if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            };
            let len = if role == Role::User {
                5 + rng.below(25)
            } else {
                30 + rng.below(120)
            };
            msgs.push(Message {
                id: mid.clone(),
                conversation_id: id.clone(),
                parent_id: parent.replace(mid),
                role,
                content: rng.words(len),
                parts: Vec::new(),
                model: (role == Role::Assistant).then(|| "demo-model".to_owned()),
                created_at: Some(from_millis(
                    created + i64::try_from(i).unwrap_or(0) * 30_000,
                )?),
                hidden: false,
                source_id: None,
                status: MessageStatus::Complete,
                rating: None,
            });
        }
        let updated = created + i64::try_from(n).unwrap_or(0) * 30_000;
        let title_len = 3 + rng.below(4);
        let conversation = Conversation {
            id: id.clone(),
            source,
            source_id: (source != Source::Native).then(|| format!("demo-{convos}")),
            title: rng.words(title_len),
            folder: source.default_folder(),
            created_at: from_millis(created)?,
            updated_at: from_millis(updated)?,
            archived_at: if rng.below(20) == 0 {
                Some(from_millis(updated)?)
            } else {
                None
            },
            summary: None,
            current_message_id: None,
            forked_from: None,
            tags: if rng.below(10) == 0 {
                vec![tags[rng.below(tags.len() as u64) as usize].clone()]
            } else {
                Vec::new()
            },
            message_count: 0,
        };
        batch.push(ConversationDetail {
            conversation,
            messages: msgs,
        });
        written += n;
        convos += 1;
        if batch.len() >= BATCH {
            flush(store, &mut batch)?;
        }
    }
    flush(store, &mut batch)?;
    Ok((convos, written))
}

fn flush(store: &chat_store::Store, batch: &mut Vec<ConversationDetail>) -> anyhow::Result<()> {
    let items = std::mem::take(batch);
    store.write(|repo| {
        for d in &items {
            repo.save_conversation(d)?;
        }
        Ok(())
    })?;
    Ok(())
}
