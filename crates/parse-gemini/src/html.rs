//! Takeout answers (`safeHtmlItem[].html`) to Markdown, with `htmd`.
//!
//! `htmd` walks the DOM recursively, so a pathologically nested answer (`<div>` ten thousand
//! deep) would overflow the stack. html5ever builds the tree without recursion, so we parse
//! first, then cut the tree at [`MAX_DEPTH`]: below that depth an element's descendants are
//! replaced by their leaves (text nodes, `<br>`, `<img>`...) in document order. The text
//! survives; only structure nested deeper than any real answer is flattened. Dropping the cut
//! subtree is iterative too (`markup5ever_rcdom`'s `Drop`).
//!
//! html5ever's tree building is quadratic in nesting depth (scope checks walk the stack of open
//! elements: 50,000 nested `<div>`s take seconds). Before parsing, [`nesting_exceeds`] simulates
//! the open-element stack in one pass; past [`MAX_TAG_DEPTH`] the tags are dropped and only the
//! text goes through `htmd` (which still decodes entities). No real answer comes near that
//! depth, so this only ever changes hostile or corrupted input.

use std::rc::Rc;

use htmd::{HtmlToMarkdown, Node};

/// Deepest DOM level kept as structure (the document, `<html>` and `<body>` count). Real
/// answers stay well under 30; the recursion of `htmd` at this depth fits any thread's stack.
pub(crate) const MAX_DEPTH: usize = 48;

/// Deepest element nesting (estimated before parsing) that is parsed as HTML at all.
pub(crate) const MAX_TAG_DEPTH: usize = 512;

/// Elements that never have content, so never deepen the tree.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Converts one HTML fragment to Markdown. Never panics; `htmd` declares an I/O error type for
/// parsing that a string input cannot produce, and gives an empty answer if it ever does.
pub(crate) fn to_markdown(converter: &HtmlToMarkdown, html: &str) -> String {
    let stripped;
    let html = if nesting_exceeds(html, MAX_TAG_DEPTH) {
        stripped = strip_tags(html);
        stripped.as_str()
    } else {
        html
    };
    let Ok(tree) = converter.html_to_tree(html) else {
        return String::new();
    };
    flatten_below(&tree, MAX_DEPTH);
    converter.tree_to_markdown(&tree).trim().to_owned()
}

/// Whether the elements of `html` nest deeper than `limit`, judged by a simulation of the
/// open-element stack: an end tag closes up to the nearest open element of its name and is
/// ignored when there is none (as browsers do). Implicitly closed elements (`<p><p>`) are
/// counted as open, so the estimate errs on the deep side. One pass; each end tag searches at
/// most `limit` names.
fn nesting_exceeds(html: &str, limit: usize) -> bool {
    let b = html.as_bytes();
    let mut stack: Vec<&[u8]> = Vec::new();
    let mut i = 0;
    while let Some(p) = b[i..].iter().position(|&c| c == b'<') {
        i += p + 1;
        let closing = b.get(i) == Some(&b'/');
        if closing {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
            i += 1;
        }
        let name = &b[start..i];
        if name.is_empty() {
            continue;
        }
        let Some(gt) = b[i..].iter().position(|&c| c == b'>') else {
            break;
        };
        let self_closing = gt > 0 && b.get(i + gt - 1) == Some(&b'/');
        i += gt + 1;
        if closing {
            if let Some(pos) = stack.iter().rposition(|n| n.eq_ignore_ascii_case(name)) {
                stack.truncate(pos);
            }
        } else if !self_closing && !VOID.iter().any(|v| v.as_bytes().eq_ignore_ascii_case(name)) {
            stack.push(name);
            if stack.len() > limit {
                return true;
            }
        }
    }
    false
}

/// `html` without its tags (everything from `<` to the next `>`), for hostile nesting only;
/// entities are left for the HTML parser to decode.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        match rest[lt..].find('>') {
            Some(gt) => rest = &rest[lt + gt + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replaces the children of every node at `max_depth` with that node's leaf descendants.
fn flatten_below(root: &Rc<Node>, max_depth: usize) {
    let mut stack: Vec<(Rc<Node>, usize)> = vec![(Rc::clone(root), 0)];
    while let Some((node, depth)) = stack.pop() {
        if depth >= max_depth {
            let leaves = take_leaves(&node);
            for leaf in &leaves {
                leaf.parent.set(Some(Rc::downgrade(&node)));
            }
            *node.children.borrow_mut() = leaves;
            continue;
        }
        for child in node.children.borrow().iter() {
            stack.push((Rc::clone(child), depth + 1));
        }
    }
}

/// Detaches all descendants of `node` and returns its leaves in document order.
fn take_leaves(node: &Rc<Node>) -> Vec<Rc<Node>> {
    let mut leaves = Vec::new();
    // Reverse order on the stack so popping yields document order.
    let mut stack: Vec<Rc<Node>> = std::mem::take(&mut *node.children.borrow_mut());
    stack.reverse();
    while let Some(next) = stack.pop() {
        let children = std::mem::take(&mut *next.children.borrow_mut());
        if children.is_empty() {
            leaves.push(next);
        } else {
            stack.extend(children.into_iter().rev());
        }
    }
    leaves
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_common_answer_markup() {
        let c = HtmlToMarkdown::new();
        let md = to_markdown(
            &c,
            "<p>Hello <b>world</b></p><ul><li>one</li><li>two</li></ul><pre><code>x = 1</code></pre>",
        );
        assert!(md.contains("Hello **world**"), "{md}");
        assert!(md.contains("one") && md.contains("two"), "{md}");
        assert!(md.contains("x = 1"), "{md}");
    }

    #[test]
    fn nesting_estimate_follows_end_tags_and_ignores_strays() {
        assert!(!nesting_exceeds("<div><p>a</p><br><img src=x/></div>", 2));
        assert!(nesting_exceeds("<div><div><div>x", 2));
        // A stray end tag closes nothing.
        assert!(nesting_exceeds(&"<div></span>".repeat(3), 2));
        // An end tag closes the elements opened inside it.
        assert!(!nesting_exceeds(&"<div><b><i>x</div>".repeat(100), 3));
        assert_eq!(strip_tags("a<b>b</b> &amp; <c"), "ab &amp; ");
    }

    #[test]
    fn moderately_deep_html_is_flattened_not_a_stack_overflow() {
        let c = HtmlToMarkdown::new();
        let depth = MAX_TAG_DEPTH - 10;
        let html = format!(
            "{}deep <b>text</b>{}",
            "<blockquote>".repeat(depth),
            "</blockquote>".repeat(depth)
        );
        let md = to_markdown(&c, &html);
        assert!(md.contains("deep") && md.contains("text"), "{md}");
    }

    #[test]
    fn deeply_nested_html_is_flattened_not_a_stack_overflow() {
        let c = HtmlToMarkdown::new();
        let depth = 50_000;
        let html = format!(
            "{}deep text{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let md = to_markdown(&c, &html);
        assert!(md.contains("deep text"), "{md}");
        let html = format!("{}x", "<b><i>".repeat(depth));
        let _ = to_markdown(&c, &html);
    }
}
