//! Store benchmark: bulk-write throughput (FTS indexing included) and search latency on a
//! generated store.
//!
//! ```text
//! cargo bench -p chat-store                                  # 1,000,000 messages
//! CHAT_BENCH_MESSAGES=100000 cargo bench -p chat-store       # a quicker run
//! ```
//!
//! After the bulk write it feeds the same messages through SQLite alone (a bare FTS5 table, the
//! same with the store's FTS5 settings, a plain table) and prints the writer's rate as a ratio
//! to them: the ceiling this machine puts on any writer that indexes as it writes.
//!
//! The database goes to `bench-data/store-bench.db` at the workspace root (gitignored), or to
//! `$CHAT_BENCH_DIR`. Text is generated: 20-400 words per message (user messages short,
//! assistant ones long) drawn from a 30,000-word vocabulary with a Zipf(1.07) distribution,
//! plus planted terms that hit rare (0.005%), medium (1%) and common (15%) shares of messages.
//! A plain bench binary (not criterion) because one iteration is a million-message import.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chat_model::timestamp::from_millis;
use chat_model::{ParsedConversation, ParsedMessage, Role, Source};
use chat_store::{BulkItem, SearchQuery, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const VOCABULARY: usize = 30_000;
const ZIPF_S: f64 = 1.07;
const CONVERSATIONS_PER_BATCH: usize = 1_000;
const RARE: [&str; 4] = ["xylophonist", "quetzalcoatl", "zymurgical", "obfuscatory"];
const RARE_SHARE: f64 = 0.000_05;
const MEDIUM: [&str; 4] = ["kubernetes", "serotonin", "mortgage", "photosynthesis"];
const MEDIUM_SHARE: f64 = 0.01;
const COMMON: [&str; 2] = ["example", "however"];
const COMMON_SHARE: f64 = 0.15;
const SEARCH_RUNS: usize = 200;
/// The SQLite-alone ceiling's FTS5 table: the store's tokenizer, nothing else.
const FTS5_TABLE: &str =
    "CREATE VIRTUAL TABLE t USING fts5(content, tokenize = 'unicode61 remove_diacritics 2');";

struct TextGen {
    words: Vec<String>,
    cdf: Vec<f64>,
    rng: StdRng,
}

impl TextGen {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        const SYLLABLES: [&str; 24] = [
            "ka", "lo", "ri", "te", "mon", "sa", "vel", "dor", "pi", "qua", "ne", "tor", "ba",
            "lin", "gu", "fe", "ram", "ci", "os", "un", "ber", "tha", "mi", "zu",
        ];
        let mut words = Vec::with_capacity(VOCABULARY);
        let mut seen = std::collections::HashSet::new();
        while words.len() < VOCABULARY {
            let n = rng.random_range(1..=4);
            let w: String = (0..n)
                .map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())])
                .collect();
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let mut acc = 0.0;
        let mut cdf: Vec<f64> = (1..=VOCABULARY)
            .map(|k| {
                acc += 1.0 / (k as f64).powf(ZIPF_S);
                acc
            })
            .collect();
        for c in &mut cdf {
            *c /= acc;
        }
        TextGen { words, cdf, rng }
    }

    fn word(&mut self) -> &str {
        let x: f64 = self.rng.random();
        let i = self.cdf.partition_point(|c| *c < x).min(VOCABULARY - 1);
        &self.words[i]
    }

    fn message(&mut self, role: Role) -> String {
        let len = match role {
            Role::User => self.rng.random_range(20..=80),
            _ => {
                // Skewed towards shorter answers, up to 400 words.
                let u: f64 = self.rng.random();
                60 + (340.0 * u * u) as usize
            }
        };
        let mut text = String::with_capacity(len * 7);
        for i in 0..len {
            if i > 0 {
                text.push(if i % 17 == 0 { '\n' } else { ' ' });
            }
            let w = self.word().to_owned();
            text.push_str(&w);
            if i % 13 == 12 {
                text.push('.');
            }
        }
        let plant = |share: f64, terms: &[&str], rng: &mut StdRng, text: &mut String| {
            if rng.random::<f64>() < share {
                text.push(' ');
                text.push_str(terms[rng.random_range(0..terms.len())]);
            }
        };
        plant(
            RARE_SHARE * RARE.len() as f64,
            &RARE,
            &mut self.rng,
            &mut text,
        );
        plant(
            MEDIUM_SHARE * MEDIUM.len() as f64,
            &MEDIUM,
            &mut self.rng,
            &mut text,
        );
        plant(
            COMMON_SHARE * COMMON.len() as f64,
            &COMMON,
            &mut self.rng,
            &mut text,
        );
        text
    }

    fn conversation(&mut self, index: usize) -> ParsedConversation {
        let n: usize = self.rng.random_range(2..=18);
        let base = 1_600_000_000_000 + index as i64 * 60_000;
        let messages = (0..n)
            .map(|i| {
                let role = if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                };
                ParsedMessage {
                    source_id: format!("msg-{i}"),
                    parent: i.checked_sub(1).map(|p| format!("msg-{p}")),
                    role,
                    content: self.message(role),
                    parts: Vec::new(),
                    model: (role == Role::Assistant).then(|| "gpt-4o".to_owned()),
                    created_at: from_millis(base + i as i64 * 1_000).ok(),
                    hidden: false,
                    interrupted: false,
                }
            })
            .collect::<Vec<_>>();
        let title = (0..3)
            .map(|_| self.word().to_owned())
            .collect::<Vec<_>>()
            .join(" ");
        ParsedConversation {
            source: Source::Chatgpt,
            source_id: format!("conv-{index}"),
            title,
            created_at: from_millis(base).ok(),
            updated_at: None,
            messages,
            active_leaf: None,
            attachments: Vec::new(),
            archived: false,
            model: Some("gpt-4o".into()),
            summary: None,
            extra: serde_json::Value::Null,
            subfolder: None,
        }
    }

    /// The next batch of conversations written in one transaction; `convos` counts them.
    fn batch(&mut self, convos: &mut usize) -> Vec<ParsedConversation> {
        (0..CONVERSATIONS_PER_BATCH)
            .map(|_| {
                *convos += 1;
                self.conversation(*convos)
            })
            .collect()
    }
}

/// CPU time (user + system) of this process, from `/proc/self/stat` (Linux; zero elsewhere).
/// On a shared machine it is steadier than the wall clock: time lost to other processes does
/// not count, I/O waits do not count either.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    let ticks: u64 = f.iter().sum();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// What SQLite alone does on this machine with the same messages and none of chat-store's code:
/// one prepared statement, one transaction per ~10,000 messages (as the bulk writer batches),
/// WAL with `synchronous = NORMAL` and a 512 MiB page cache (as the bulk writer runs), into a
/// table made by `create`. Returns messages per second of the inserts alone.
fn sqlite_alone(dir: &Path, name: &str, create: &str, insert: &str, target: usize) -> f64 {
    let path = dir.join(format!("ceiling-{name}.db"));
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -524288;
         PRAGMA wal_autocheckpoint = 16384; {create}"
    ))
    .unwrap();
    let mut gen = TextGen::new(42);
    let (mut messages, mut convos) = (0usize, 0usize);
    let mut write_time = Duration::ZERO;
    while messages < target {
        let batch: Vec<String> = gen
            .batch(&mut convos)
            .into_iter()
            .flat_map(|c| c.messages)
            .map(|m| m.content)
            .collect();
        let t = Instant::now();
        let tx = conn.transaction().unwrap();
        {
            let mut stmt = tx.prepare_cached(insert).unwrap();
            for text in &batch {
                stmt.execute([text]).unwrap();
            }
        }
        tx.commit().unwrap();
        write_time += t.elapsed();
        messages += batch.len();
    }
    drop(conn);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    messages as f64 / write_time.as_secs_f64()
}

/// What the bulk-write part measured.
struct Written {
    messages: usize,
    /// Messages per second of write time.
    rate: f64,
}

/// Writes about `target` generated messages through the bulk writer and prints the rates.
fn bulk_write(store: &Store, target: usize) -> Written {
    let mut writer = store.bulk_writer().unwrap();
    let mut gen = TextGen::new(42);
    let (mut messages, mut convos, mut bytes) = (0usize, 0usize, 0usize);
    let mut write_time = Duration::ZERO;
    let mut gen_time = Duration::ZERO;
    let mut write_cpu = Duration::ZERO;
    while messages < target {
        let t = Instant::now();
        let batch = gen.batch(&mut convos);
        gen_time += t.elapsed();
        let items: Vec<BulkItem<'_>> = batch
            .iter()
            .map(|c| BulkItem {
                conversation: c,
                folder: None,
                prepared: None,
            })
            .collect();
        let (t, c) = (Instant::now(), cpu_time());
        let out = writer.write_batch(&items).unwrap();
        write_time += t.elapsed();
        write_cpu += cpu_time().saturating_sub(c);
        messages += out
            .iter()
            .map(|o| o.messages_written as usize)
            .sum::<usize>();
        bytes += batch
            .iter()
            .flat_map(|c| &c.messages)
            .map(|m| m.content.len())
            .sum::<usize>();
    }
    let t = Instant::now();
    drop(writer); // restores the pool connection's settings and checkpoints (PASSIVE)
    store.checkpoint().unwrap();
    let checkpoint = t.elapsed();
    let rate = messages as f64 / write_time.as_secs_f64();
    let cpu_rate = messages as f64 / write_cpu.as_secs_f64().max(1e-9);
    println!(
        "bulk write: {messages} messages in {convos} conversations ({:.0} MiB of text) in {:.1} s \
         = {rate:.0} messages/s (text generation {:.1} s excluded; WAL checkpoint {:.1} s); \
         CPU {:.1} s = {cpu_rate:.0} messages per CPU-second",
        bytes as f64 / 1048576.0,
        write_time.as_secs_f64(),
        gen_time.as_secs_f64(),
        checkpoint.as_secs_f64(),
        write_cpu.as_secs_f64(),
    );
    Written { messages, rate }
}

/// The same messages through SQLite alone, in the same run: the ceiling the bulk writer works
/// under on this machine.
fn compare_with_sqlite_alone(dir: &Path, target: usize, rate: f64) {
    let fts_alone = sqlite_alone(
        dir,
        "fts5",
        FTS5_TABLE,
        "INSERT INTO t (content) VALUES (?1)",
        target,
    );
    // The same table with the store's FTS5 settings (schema.rs): larger in-memory hash, fewer
    // merges.
    let fts_tuned = sqlite_alone(
        dir,
        "fts5-tuned",
        &format!(
            "{FTS5_TABLE}
             INSERT INTO t (t, rank) VALUES ('automerge', 8);
             INSERT INTO t (t, rank) VALUES ('crisismerge', 32);
             INSERT INTO t (t, rank) VALUES ('hashsize', 67108864);"
        ),
        "INSERT INTO t (content) VALUES (?1)",
        target,
    );
    let table_alone = sqlite_alone(
        dir,
        "table",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, content TEXT NOT NULL);",
        "INSERT INTO t (content) VALUES (?1)",
        target,
    );
    println!(
        "SQLite alone, same messages: a bare FTS5 table {fts_alone:.0} messages/s ({fts_tuned:.0} \
         with the store's FTS5 settings); a plain table {table_alone:.0} messages/s; the bulk \
         writer (two tables with their indexes and four FTS5 indexes) runs at {:.2}x the bare FTS5 table and \
         {:.2}x the tuned one",
        rate / fts_alone,
        rate / fts_tuned
    );
}

/// Search latency for rare, medium and common terms over the `messages` written.
fn searches(store: &Store, messages: usize) {
    for (class, terms) in [
        ("rare", &RARE[..]),
        ("medium", &MEDIUM[..]),
        ("common", &COMMON[..]),
    ] {
        let matches: i64 = store
            .read(|r| {
                let mut total = 0;
                for term in terms {
                    total += r.connection().query_row(
                        "SELECT count(*) FROM turns_fts WHERE turns_fts MATCH ?1",
                        [format!("\"{term}\"")],
                        |x| x.get::<_, i64>(0),
                    )?;
                }
                Ok(total / terms.len() as i64)
            })
            .unwrap();
        let runs = if class == "common" {
            SEARCH_RUNS / 4
        } else {
            SEARCH_RUNS
        };
        let mut times = Vec::with_capacity(runs);
        let mut hits = 0;
        for i in 0..runs {
            let q = SearchQuery::new(terms[i % terms.len()]);
            let t = Instant::now();
            let found = store.read(|r| r.search(&q)).unwrap();
            times.push(t.elapsed());
            hits = found.len();
            assert!(found.iter().all(|h| h.snippet.contains("<mark>")));
        }
        times.sort();
        println!(
            "search {class:>6}: ~{matches} matching messages per term ({:.4}%), top {hits} with \
             snippets: p50 {:.2} ms, p95 {:.2} ms ({runs} runs)",
            matches as f64 * 100.0 / messages as f64,
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.95)),
        );
    }
}

fn main() {
    // `cargo bench -- --list` / test harness probes: do nothing.
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let target: usize = std::env::var("CHAT_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::var_os("CHAT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench-data"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("store-bench.db");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    println!(
        "chat-store bench: {target} messages into {}",
        path.display()
    );

    let store = Store::open(&path).unwrap();
    let written = bulk_write(&store, target);
    compare_with_sqlite_alone(&dir, target, written.rate);
    if std::env::var_os("CHAT_BENCH_WRITE_ONLY").is_some() {
        return;
    }
    let t = Instant::now();
    store.optimize().unwrap();
    println!(
        "fts optimize after bulk: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("database file: {:.0} MiB", size as f64 / 1048576.0);
    searches(&store, written.messages);
}
