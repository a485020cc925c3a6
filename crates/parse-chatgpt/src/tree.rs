//! The mapping tree: cycles broken, children rebuilt from `parent`, nodes ordered parents first.
//!
//! Everything here is iterative and linear in the number of nodes (a conversation of 100,000
//! nodes in one chain is a normal input, not a stack overflow), and deterministic: the same
//! mapping always gives the same order, the same parents and the same leaf.

/// One node as the tree sees it.
#[derive(Debug, Clone)]
pub(crate) struct TreeNode<'a> {
    /// The node's key in the mapping (used to break cycles deterministically).
    pub key: &'a str,
    /// Index of the parent node, `None` for a root or a dangling parent.
    pub parent: Option<usize>,
    /// Creation time in milliseconds, when known (orders siblings and picks fallback leaves).
    pub time: Option<i64>,
    /// Whether the node becomes a message (nodes without a message, such as the empty root,
    /// are passed through: their children attach to the nearest kept ancestor).
    pub kept: bool,
}

/// The tree, ready to emit.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    /// Kept nodes, parents before children (depth first, siblings by time then file order).
    pub order: Vec<usize>,
    /// For every node: its nearest kept proper ancestor.
    pub parent: Vec<Option<usize>>,
    /// For every node: itself when kept, else its nearest kept ancestor.
    pub nearest_kept: Vec<Option<usize>>,
}

/// Breaks every cycle by making the node with the smallest key in it a root. Linear: each node
/// is walked once.
pub(crate) fn break_cycles(nodes: &mut [TreeNode<'_>]) -> usize {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; nodes.len()];
    let mut path: Vec<usize> = Vec::new();
    let mut broken = 0;
    for start in 0..nodes.len() {
        if state[start] != NEW {
            continue;
        }
        path.clear();
        let mut cur = Some(start);
        while let Some(c) = cur {
            match state[c] {
                DONE => break,
                ON_PATH => {
                    let from = path.iter().rposition(|&p| p == c).unwrap_or(0);
                    let cycle = &path[from..];
                    if let Some(&root) = cycle.iter().min_by_key(|&&i| (nodes[i].key, i)) {
                        nodes[root].parent = None;
                        broken += 1;
                    }
                    break;
                }
                _ => {
                    state[c] = ON_PATH;
                    path.push(c);
                    cur = nodes[c].parent;
                }
            }
        }
        for &p in &path {
            state[p] = DONE;
        }
    }
    broken
}

/// Orders the (acyclic, see [`break_cycles`]) nodes and resolves kept parents.
pub(crate) fn build(nodes: &[TreeNode<'_>]) -> Tree {
    let n = nodes.len();
    // Children in compressed rows: offsets by parent, then the child indices.
    let mut counts = vec![0usize; n + 1];
    let mut roots = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        match node.parent {
            Some(p) if p < n => counts[p + 1] += 1,
            _ => roots.push(i),
        }
    }
    for i in 0..n {
        counts[i + 1] += counts[i];
    }
    let mut fill = counts.clone();
    let mut children = vec![0usize; counts[n]];
    for (i, node) in nodes.iter().enumerate() {
        if let Some(p) = node.parent.filter(|&p| p < n) {
            children[fill[p]] = i;
            fill[p] += 1;
        }
    }
    let sort_key = |&i: &usize| (nodes[i].time, i);
    roots.sort_by_key(sort_key);
    for p in 0..n {
        children[counts[p]..counts[p + 1]].sort_by_key(sort_key);
    }

    let mut tree = Tree {
        order: Vec::with_capacity(n),
        parent: vec![None; n],
        nearest_kept: vec![None; n],
    };
    let mut stack: Vec<usize> = roots.iter().rev().copied().collect();
    let mut seen = vec![false; n];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let up = nodes[i]
            .parent
            .filter(|&p| p < n)
            .and_then(|p| tree.nearest_kept[p]);
        tree.parent[i] = up;
        tree.nearest_kept[i] = if nodes[i].kept { Some(i) } else { up };
        if nodes[i].kept {
            tree.order.push(i);
        }
        stack.extend(children[counts[i]..counts[i + 1]].iter().rev());
    }
    tree
}

impl Tree {
    /// The kept leaf with the latest time (ties: the later one in [`Tree::order`]).
    pub(crate) fn latest_leaf(&self, nodes: &[TreeNode<'_>]) -> Option<usize> {
        let mut has_child = vec![false; nodes.len()];
        for &i in &self.order {
            if let Some(p) = self.parent[i] {
                has_child[p] = true;
            }
        }
        self.order
            .iter()
            .enumerate()
            .filter(|(_, &i)| !has_child[i])
            .max_by_key(|(pos, &i)| (nodes[i].time, *pos))
            .map(|(_, &i)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(key: &str, parent: Option<usize>, time: i64, kept: bool) -> TreeNode<'_> {
        TreeNode {
            key,
            parent,
            time: Some(time),
            kept,
        }
    }

    #[test]
    fn children_follow_parents_and_empty_nodes_pass_through() {
        // 0 root (empty) <- 1 <- {2, 3}; file order puts children first.
        let mut nodes = vec![
            node("c", Some(3), 3, true),
            node("root", None, 0, false),
            node("b", Some(3), 2, true),
            node("a", Some(1), 1, true),
        ];
        assert_eq!(break_cycles(&mut nodes), 0);
        let tree = build(&nodes);
        assert_eq!(tree.order, [3, 2, 0]);
        assert_eq!(tree.parent[3], None);
        assert_eq!(tree.parent[0], Some(3));
        assert_eq!(tree.latest_leaf(&nodes), Some(0));
    }

    #[test]
    fn cycles_are_broken_at_the_smallest_key() {
        let mut nodes = vec![
            node("b", Some(2), 1, true),
            node("a", Some(0), 2, true),
            node("c", Some(1), 3, true),
            node("self", Some(3), 4, true),
        ];
        assert_eq!(break_cycles(&mut nodes), 2);
        assert_eq!(nodes[1].parent, None);
        assert_eq!(nodes[3].parent, None);
        let tree = build(&nodes);
        assert_eq!(tree.order, [1, 2, 0, 3]);
    }
}
