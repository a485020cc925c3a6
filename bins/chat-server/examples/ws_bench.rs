#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! WebSocket chat benchmark: N concurrent clients against a running `chat-server` (start it
//! with the offline provider and `CHAT_OFFLINE_DELAY_MS=0`).
//!
//! ```sh
//! ulimit -n 65536
//! CHAT_OFFLINE_DELAY_MS=0 target/release/chat-server --db /tmp/b.db --bind 127.0.0.1:8090 &
//! cargo run --release -p chat-server --example ws_bench -- \
//!     --url ws://127.0.0.1:8090/api/v1/ws --clients 1000 --messages 5 --think-ms 1000 --pid $!
//! ```
//!
//! Records: server RSS with no connections and with N idle connections (memory per
//! connection), then every client sends `--messages` chat messages in one conversation,
//! pausing a random 0..2×`--think-ms` between them, and the time from sending to the first
//! `chat.delta` and to `chat.done` is measured per message. `--no-events` connects with
//! `?events=false`, so clients do not receive every other client's `conversation.updated`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use awc::ws;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
struct Args {
    url: String,
    clients: usize,
    messages: usize,
    think_ms: u64,
    threads: usize,
    pid: Option<u32>,
    quiet: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        url: "ws://127.0.0.1:8090/api/v1/ws".to_owned(),
        clients: 100,
        messages: 5,
        think_ms: 0,
        threads: 2,
        pid: None,
        quiet: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--no-events" {
            args.quiet = true;
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value,
            "--clients" => args.clients = value.parse().unwrap(),
            "--messages" => args.messages = value.parse().unwrap(),
            "--think-ms" => args.think_ms = value.parse().unwrap(),
            "--threads" => args.threads = value.parse().unwrap(),
            "--pid" => args.pid = Some(value.parse().unwrap()),
            other => panic!("unknown flag {other}"),
        }
    }
    if args.quiet {
        args.url.push_str("?events=false");
    }
    args
}

/// Resident set size of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[derive(Default)]
struct Results {
    first_delta: Vec<Duration>,
    done: Vec<Duration>,
    errors: usize,
    events: usize,
}

type Conn = actix_codec::Framed<awc::BoxedSocket, ws::Codec>;

/// The next frame for this client's own requests. Library events (other clients' changes) are
/// counted in `events` and skipped without being parsed: the server serialises `type` first,
/// and this keeps the client's share of the box small.
async fn next_json(conn: &mut Conn, events: &mut usize) -> Option<Value> {
    loop {
        match conn.next().await? {
            Ok(ws::Frame::Text(b)) if b.starts_with(br#"{"type":"conversation."#) => *events += 1,
            Ok(ws::Frame::Text(b)) => return serde_json::from_slice(&b).ok(),
            Ok(ws::Frame::Ping(p)) => {
                let _ = conn.send(ws::Message::Pong(p)).await;
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// A WebSocket client with TCP_NODELAY and no connection limit.
fn client() -> awc::Client {
    // The connector's default pool allows 100 connections; a WebSocket holds one each.
    // Browsers set TCP_NODELAY on their sockets; without it, a client's small frame can
    // wait ~40 ms behind Nagle's algorithm and the server's delayed ACK, which would
    // measure the client's TCP stack rather than the server.
    let tcp = actix_tls::connect::Connector::default().service();
    let nodelay = actix_service::fn_service(move |req| {
        let tcp = tcp.clone();
        async move {
            let conn: actix_tls::connect::Connection<_, actix_rt::net::TcpStream> =
                actix_service::Service::call(&tcp, req).await?;
            conn.io_ref().set_nodelay(true).expect("TCP_NODELAY");
            Ok::<_, actix_tls::connect::ConnectError>(conn)
        }
    });
    awc::Client::builder()
        .connector(awc::Connector::new().connector(nodelay).limit(0))
        .timeout(Duration::from_secs(60))
        .finish()
}

/// Client `i` sends its messages one after another, each when the previous reply is done,
/// and records the timings.
async fn chat(i: usize, mut conn: Conn, args: Args) -> Results {
    let mut conversation = Value::Null;
    let mut local = Results::default();
    for m in 0..args.messages {
        if args.think_ms > 0 {
            let jitter = (i * 7919 + m * 104_729) as u64 % (2 * args.think_ms);
            // A real client (a browser tab) keeps reading while its user
            // types, so events do not pile up in the socket meanwhile.
            let until = tokio::time::Instant::now() + Duration::from_millis(jitter);
            while let Ok(frame) =
                tokio::time::timeout_at(until, next_json(&mut conn, &mut local.events)).await
            {
                if frame.is_none() {
                    local.errors += 1;
                    break;
                }
            }
        }
        let frame = json!({"type": "chat.send", "request_id": format!("{i}-{m}"),
            "conversation_id": conversation, "content": format!("message {m} from client {i}\n```\ncode\n```")});
        let start = Instant::now();
        if conn
            .send(ws::Message::Text(frame.to_string().into()))
            .await
            .is_err()
        {
            local.errors += 1;
            break;
        }
        let mut first = None;
        loop {
            let Some(f) = next_json(&mut conn, &mut local.events).await else {
                local.errors += 1;
                break;
            };
            match f["type"].as_str() {
                Some("chat.accepted") => {
                    conversation = f["conversation_id"].clone();
                }
                Some("chat.delta") if first.is_none() => {
                    first = Some(start.elapsed());
                }
                Some("chat.done") => {
                    local.done.push(start.elapsed());
                    if let Some(d) = first {
                        local.first_delta.push(d);
                    }
                    break;
                }
                Some("chat.error") => {
                    eprintln!("error: {f}");
                    local.errors += 1;
                    break;
                }
                _ => {}
            }
        }
    }
    let _ = conn.send(ws::Message::Close(None)).await;
    local
}

/// One thread's `n` clients: connect them all, wait for the start, then chat.
fn run_thread(
    n: usize,
    args: Args,
    connected: Arc<std::sync::Barrier>,
    go: Arc<std::sync::Barrier>,
    results: Arc<Mutex<Results>>,
) {
    actix_rt::System::new().block_on(async move {
        let client = client();
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            let (_, conn) = client
                .ws(args.url.as_str())
                .max_frame_size(1 << 20)
                .connect()
                .await
                .expect("connect");
            conns.push(conn);
        }
        // Let the main thread measure memory with idle connections.
        actix_rt::task::spawn_blocking(move || {
            connected.wait();
            go.wait();
        })
        .await
        .unwrap();
        let tasks: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, conn)| actix_rt::spawn(chat(i, conn, args.clone())))
            .collect();
        for t in tasks {
            if let Ok(local) = t.await {
                let mut r = results.lock().unwrap();
                r.first_delta.extend(local.first_delta);
                r.done.extend(local.done);
                r.errors += local.errors;
                r.events += local.events;
            }
        }
    });
}

fn main() {
    let args = parse_args();
    let rss_before = args.pid.and_then(rss_kib);
    let connected = Arc::new(std::sync::Barrier::new(args.threads + 1));
    let go = Arc::new(std::sync::Barrier::new(args.threads + 1));
    let results = Arc::new(Mutex::new(Results::default()));
    let mut handles = Vec::new();
    for t in 0..args.threads {
        let args = args.clone();
        let connected = Arc::clone(&connected);
        let go = Arc::clone(&go);
        let results = Arc::clone(&results);
        let n = args.clients / args.threads + usize::from(t < args.clients % args.threads);
        handles.push(std::thread::spawn(move || {
            run_thread(n, args, connected, go, results)
        }));
    }
    connected.wait();
    std::thread::sleep(Duration::from_millis(1500));
    let rss_idle = args.pid.and_then(rss_kib);
    let started = Instant::now();
    go.wait();
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = started.elapsed();
    let mut r = results.lock().unwrap();
    r.first_delta.sort();
    r.done.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("clients                 {}", args.clients);
    println!("messages sent           {}", args.clients * args.messages);
    println!("replies completed       {}", r.done.len());
    println!("errors                  {}", r.errors);
    println!("library events received {}", r.events);
    println!("wall time               {:.2} s", elapsed.as_secs_f64());
    println!(
        "messages/s              {:.0}",
        r.done.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "first delta p50/p99/max {:.1} / {:.1} / {:.1} ms",
        ms(percentile(&r.first_delta, 0.5)),
        ms(percentile(&r.first_delta, 0.99)),
        ms(percentile(&r.first_delta, 1.0))
    );
    println!(
        "chat.done  p50/p99      {:.1} / {:.1} ms",
        ms(percentile(&r.done, 0.5)),
        ms(percentile(&r.done, 0.99))
    );
    if let (Some(before), Some(idle)) = (rss_before, rss_idle) {
        println!("server RSS, 0 conns     {} KiB", before);
        println!("server RSS, N idle      {} KiB", idle);
        println!(
            "memory per connection   {:.1} KiB",
            (idle.saturating_sub(before)) as f64 / args.clients as f64
        );
    }
}
