//! Size and shape extremes, generated in the test: a conversation of 100,000 nodes in one chain,
//! a wide one, and long cycles. Walks are iterative, so none of these may overflow or hang.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt::Write;
use std::time::{Duration, Instant};

use common::{active_path, check_invariants, run};

/// A conversation whose node `i` has parent `parent(i)`; `current` names the current node.
fn conversation(n: usize, parent: impl Fn(usize) -> Option<usize>, current: &str) -> Vec<u8> {
    let mut s = String::with_capacity(n * 200);
    s.push_str(r#"[{"id": "big", "title": "Big", "mapping": {"#);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        let p = parent(i).map_or("null".to_owned(), |p| format!("\"n{p}\""));
        let role = if i % 2 == 0 { "user" } else { "assistant" };
        write!(
            s,
            r#""n{i}": {{"id": "n{i}", "parent": {p}, "children": [], "message": {{"id": "n{i}", "author": {{"role": "{role}"}}, "create_time": {}, "content": {{"content_type": "text", "parts": ["m{i}"]}}}}}}"#,
            1_700_000_000 + i
        )
        .unwrap();
    }
    write!(s, r#"}}, "current_node": "{current}"}}]"#).unwrap();
    s.into_bytes()
}

#[test]
fn a_chain_of_100_000_nodes_parses() {
    let n = 100_000;
    // Written leaf first, so the file order is the reverse of the tree order.
    let bytes = conversation(n, |i| (i + 1 < n).then_some(i + 1), "n0");
    let started = Instant::now();
    let (sink, result) = run("chain.json", &bytes);
    result.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    check_invariants(&sink);
    let c = &sink.conversations[0];
    assert_eq!(c.messages.len(), n);
    assert_eq!(c.messages[0].source_id, format!("n{}", n - 1));
    assert_eq!(active_path(c).len(), n);
}

#[test]
fn a_wide_tree_of_100_000_siblings_parses() {
    let n = 100_000;
    let bytes = conversation(n, |i| (i > 0).then_some(0), "missing");
    let (sink, result) = run("wide.json", &bytes);
    result.unwrap();
    let c = &sink.conversations[0];
    assert_eq!(c.messages.len(), n);
    // current_node dangles: the latest leaf.
    assert_eq!(
        c.active_leaf.as_deref(),
        Some(format!("n{}", n - 1).as_str())
    );
}

#[test]
fn a_cycle_through_every_node_does_not_hang() {
    let n = 50_000;
    let bytes = conversation(n, |i| Some((i + 1) % n), "n7");
    let started = Instant::now();
    let (sink, result) = run("cycle.json", &bytes);
    result.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    check_invariants(&sink);
    let c = &sink.conversations[0];
    assert_eq!(c.messages.len(), n);
    // The smallest key ("n0") becomes the root, deterministically.
    assert_eq!(c.messages[0].source_id, "n0");
    assert_eq!(c.messages[0].parent, None);
    assert_eq!(active_path(c).len(), n - 6);
}
