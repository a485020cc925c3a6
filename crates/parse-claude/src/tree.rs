//! The message tree: parent links from `parent_message_uuid` or array order, cycle breaking and
//! a parents-first order. Everything is iterative: no input can overflow the stack or hang.

use std::collections::HashMap;

/// The uuid Claude gives the first message's parent: "no parent".
pub(crate) const ROOT_UUID: &str = "00000000-0000-4000-8000-000000000000";

/// What a message says about its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParentLink {
    /// No `parent_message_uuid` (older exports): the previous message in array order.
    Absent,
    /// `parent_message_uuid` as given.
    Declared(String),
}

/// Parent indices for messages with the given uuids (as exported; `None` when missing) and
/// links. A declared parent that is not in the list, is the all-zero uuid, or is the message
/// itself makes a root; cycles are broken by making their earliest message a root.
pub(crate) fn parents(uuids: &[Option<&str>], links: &[ParentLink]) -> Vec<Option<usize>> {
    let mut by_uuid: HashMap<&str, usize> = HashMap::with_capacity(uuids.len());
    for (i, uuid) in uuids.iter().enumerate() {
        if let Some(uuid) = uuid {
            by_uuid.entry(uuid).or_insert(i);
        }
    }
    let mut parent: Vec<Option<usize>> = links
        .iter()
        .enumerate()
        .map(|(i, link)| match link {
            ParentLink::Absent => i.checked_sub(1),
            ParentLink::Declared(p) if p == ROOT_UUID => None,
            ParentLink::Declared(p) => by_uuid.get(p.as_str()).copied().filter(|&p| p != i),
        })
        .collect();
    break_cycles(&mut parent);
    parent
}

/// Makes the earliest message of every cycle a root.
fn break_cycles(parent: &mut [Option<usize>]) {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let n = parent.len();
    let mut state = vec![NEW; n];
    // Position of each node on the current path, valid while it is ON_PATH.
    let mut position = vec![0usize; n];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..n {
        if state[start] != NEW {
            continue;
        }
        path.clear();
        let mut current = Some(start);
        while let Some(node) = current {
            match state[node] {
                DONE => break,
                ON_PATH => {
                    // path[position[node]..] is a cycle.
                    let cycle = &path[position[node]..];
                    if let Some(&earliest) = cycle.iter().min() {
                        parent[earliest] = None;
                    }
                    break;
                }
                _ => {
                    state[node] = ON_PATH;
                    position[node] = path.len();
                    path.push(node);
                    current = parent[node];
                }
            }
        }
        for &node in &path {
            state[node] = DONE;
        }
    }
}

/// An order in which every message comes after its parent, otherwise array order. `parent`
/// must be acyclic (as [`parents`] returns it).
pub(crate) fn parents_first(parent: &[Option<usize>]) -> Vec<usize> {
    let n = parent.len();
    let mut emitted = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut stack = Vec::new();
    for i in 0..n {
        let mut current = Some(i);
        while let Some(node) = current {
            // `stack.len() <= n` guards against a cycle that slipped through.
            if emitted[node] || stack.len() > n {
                break;
            }
            stack.push(node);
            current = parent[node];
        }
        while let Some(node) = stack.pop() {
            if !emitted[node] {
                emitted[node] = true;
                order.push(node);
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(p: &str) -> ParentLink {
        ParentLink::Declared(p.to_owned())
    }

    #[test]
    fn absent_links_chain_in_array_order() {
        let uuids = [Some("a"), Some("b"), None];
        let links = [ParentLink::Absent, ParentLink::Absent, ParentLink::Absent];
        assert_eq!(parents(&uuids, &links), [None, Some(0), Some(1)]);
    }

    #[test]
    fn unknown_zero_and_self_parents_are_roots() {
        let uuids = [Some("a"), Some("b"), Some("c")];
        let links = [declared(ROOT_UUID), declared("zzz"), declared("c")];
        assert_eq!(parents(&uuids, &links), [None, None, None]);
    }

    #[test]
    fn cycles_are_broken_at_their_earliest_message() {
        let uuids = [Some("a"), Some("b"), Some("c"), Some("d")];
        let links = [declared("c"), declared("a"), declared("b"), declared("c")];
        let p = parents(&uuids, &links);
        assert_eq!(p, [None, Some(0), Some(1), Some(2)]);
        assert_eq!(parents_first(&p), [0, 1, 2, 3]);
    }

    #[test]
    fn children_before_parents_in_the_array_are_reordered() {
        let uuids = [Some("child"), Some("root")];
        let links = [declared("root"), declared(ROOT_UUID)];
        let p = parents(&uuids, &links);
        assert_eq!(parents_first(&p), [1, 0]);
    }

    #[test]
    fn a_long_chain_does_not_overflow() {
        let n = 200_000;
        let names: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let uuids: Vec<Option<&str>> = names.iter().map(|s| Some(s.as_str())).collect();
        // Every message points at the next one: one long reversed chain.
        let links: Vec<ParentLink> = (0..n)
            .map(|i| {
                if i + 1 < n {
                    declared(&names[i + 1])
                } else {
                    declared(ROOT_UUID)
                }
            })
            .collect();
        let p = parents(&uuids, &links);
        let order = parents_first(&p);
        assert_eq!(order.len(), n);
        assert_eq!(order[0], n - 1);
    }
}
