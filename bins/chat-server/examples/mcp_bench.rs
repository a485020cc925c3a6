#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! MCP search benchmark: `search_conversations` latency as an agent sees it, over streamable
//! HTTP (`/mcp` of a running chat-server) and over stdio (`chat-server mcp` launched as a
//! child process), with the store's own search on the same file as the floor. Clients are the
//! official Rust SDK's (rmcp), speaking protocol 2025-11-25 (sessions), as agents do today.
//!
//! ```sh
//! cargo build --release -p chat-server --example mcp_bench
//! target/release/chat-server --db /tmp/mcp-bench.db --seed-demo 1000000   # prints the terms
//! CHAT_LOG=warn target/release/chat-server --db /tmp/mcp-bench.db --bind 127.0.0.1:18090 &
//! target/release/examples/mcp_bench --db /tmp/mcp-bench.db --url http://127.0.0.1:18090/mcp \
//!     --server target/release/chat-server --term rare=gumilu --term medium=gumilo
//! ```
//!
//! Each round runs `--batch` searches per term on each transport in turn (store, HTTP, stdio),
//! so the transports are measured alternately under the same load; after `--warmup` rounds
//! the latencies of `--rounds` rounds are pooled per transport and term and printed as p50,
//! p95, p99 and the ratio of each transport's p50 to the store's. The store's searches also
//! report the CPU time they took (Linux), a figure other processes' load does not inflate.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, ClientCapabilities, Implementation};
use rmcp::model::{InitializeRequestParams, ProtocolVersion};
use rmcp::service::RunningService;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};

#[derive(Debug)]
struct Args {
    db: String,
    url: Option<String>,
    server: Option<String>,
    terms: Vec<(String, String)>,
    rounds: usize,
    warmup: usize,
    batch: usize,
    limit: u32,
}

fn parse_args() -> Args {
    let mut args = Args {
        db: String::new(),
        url: None,
        server: None,
        terms: Vec::new(),
        rounds: 10,
        warmup: 2,
        batch: 20,
        limit: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => args.db = value,
            "--url" => args.url = Some(value),
            "--server" => args.server = Some(value),
            "--term" => {
                let (name, word) = value.split_once('=').expect("--term NAME=WORDS");
                args.terms.push((name.to_owned(), word.to_owned()));
            }
            "--rounds" => args.rounds = value.parse().unwrap(),
            "--warmup" => args.warmup = value.parse().unwrap(),
            "--batch" => args.batch = value.parse().unwrap(),
            "--limit" => args.limit = value.parse().unwrap(),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(!args.db.is_empty(), "--db FILE is required");
    assert!(
        !args.terms.is_empty(),
        "give at least one --term NAME=WORDS"
    );
    args
}

type Client = RunningService<RoleClient, InitializeRequestParams>;

fn client_info() -> InitializeRequestParams {
    InitializeRequestParams::new(
        ClientCapabilities::default(),
        Implementation::new("mcp-bench", "1"),
    )
    .with_protocol_version(ProtocolVersion::V_2025_11_25)
}

/// One search through an MCP client; returns the number of hits.
async fn mcp_search(client: &Client, query: &str, limit: u32) -> usize {
    let args = json!({ "query": query, "limit": limit });
    let Value::Object(args) = args else {
        unreachable!()
    };
    let result = client
        .call_tool(CallToolRequestParams::new("search_conversations").with_arguments(args))
        .await
        .expect("search_conversations failed");
    assert_ne!(result.is_error, Some(true), "{:?}", result.content);
    result
        .structured_content
        .as_ref()
        .and_then(|v| v["hits"].as_array())
        .map_or(0, Vec::len)
}

/// CPU time this thread has used, from Linux's `/proc/thread-self/schedstat` (zero elsewhere).
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = parse_args();
    // reqwest is built without a default TLS provider (the workspace picks ring); plain HTTP
    // needs none, but the client will not build without one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let store = chat_store::Store::open(&args.db).expect("open the database");
    let mut transports: Vec<(&str, Option<Client>)> = vec![("store", None)];
    if let Some(url) = &args.url {
        let transport = StreamableHttpClientTransport::from_uri(url.as_str());
        transports.push(("http", Some(client_info().serve(transport).await.unwrap())));
    }
    if let Some(server) = &args.server {
        let mut cmd = tokio::process::Command::new(server);
        cmd.args(["mcp", "--db", &args.db]).env("CHAT_LOG", "warn");
        let transport = TokioChildProcess::new(cmd).unwrap();
        transports.push(("stdio", Some(client_info().serve(transport).await.unwrap())));
    }
    let mut samples: BTreeMap<(String, String), Vec<Duration>> = BTreeMap::new();
    let mut hits: BTreeMap<String, usize> = BTreeMap::new();
    let mut cpu_samples: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for round in 0..args.warmup + args.rounds {
        for (name, client) in &transports {
            for (term, words) in &args.terms {
                for _ in 0..args.batch {
                    let started = Instant::now();
                    let n = match client {
                        Some(c) => mcp_search(c, words, args.limit).await,
                        None => {
                            let q = chat_store::SearchQuery {
                                limit: args.limit + 1,
                                ..chat_store::SearchQuery::new(words.as_str())
                            };
                            let s = store.clone();
                            let (n, cpu) = tokio::task::spawn_blocking(move || {
                                let before = thread_cpu();
                                let n = s.read(|r| r.search(&q)).unwrap().len();
                                (n, thread_cpu() - before)
                            })
                            .await
                            .unwrap();
                            if round >= args.warmup {
                                cpu_samples.entry(term.clone()).or_default().push(cpu);
                            }
                            n
                        }
                    };
                    let took = started.elapsed();
                    hits.insert(term.clone(), n.min(args.limit as usize));
                    if round >= args.warmup {
                        samples
                            .entry((term.clone(), (*name).to_owned()))
                            .or_default()
                            .push(took);
                    }
                }
            }
        }
    }
    println!(
        "{} searches per transport and term ({} rounds of {}), top {}",
        args.rounds * args.batch,
        args.rounds,
        args.batch,
        args.limit
    );
    println!("| term | transport | p50 ms | p95 ms | p99 ms | p50 / store p50 | store CPU p50 / p95 ms |");
    println!("|---|---|---|---|---|---|---|");
    for (term, _) in &args.terms {
        let floor = {
            let mut s = samples[&(term.clone(), "store".to_owned())].clone();
            s.sort();
            percentile(&s, 0.5)
        };
        let mut cpu = cpu_samples[term].clone();
        cpu.sort();
        let cpu = format!(
            "{:.2} / {:.2}",
            percentile(&cpu, 0.5),
            percentile(&cpu, 0.95)
        );
        for (name, _) in &transports {
            let mut s = samples[&(term.clone(), (*name).to_owned())].clone();
            s.sort();
            println!(
                "| {term} ({} hits shown) | {name} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
                hits[term],
                percentile(&s, 0.5),
                percentile(&s, 0.95),
                percentile(&s, 0.99),
                percentile(&s, 0.5) / floor,
                if *name == "store" { cpu.as_str() } else { "" }
            );
        }
    }
    for (_, client) in transports {
        if let Some(c) = client {
            c.cancel().await.ok();
        }
    }
}
