//! The text of get_message_context: a line saying where the messages come from, then their
//! Markdown sections (chat-export's), the asked-about message marked, all within a budget.
//!
//! When the sections do not fit, the budget is shared out: the asked-about message may take
//! up to half, the others split the rest evenly, and a short message's unused share goes to
//! the longer ones. A shortened section ends with a line giving the characters left out and a
//! get_conversation cursor that reads on from exactly there.

use std::ops::Range;

use crate::args::{Branch, Format, PAGE_CHARS};
use crate::cursor::{fingerprint, Cursor};
use crate::error::Result;
use crate::library::Around;
use crate::pages::{byte_at, chars, cut_at, MIN_CHUNK};
use crate::render;

/// The marker before the asked-about message.
const MARK: &str = "\n**▶ The message asked about:**\n";

/// Characters each section gets, given their lengths, the target's index and the budget.
fn shares(lengths: &[usize], target: usize, budget: usize) -> Vec<usize> {
    let total: usize = lengths.iter().sum();
    if total <= budget {
        return lengths.to_vec();
    }
    let mut out = vec![0; lengths.len()];
    let own = lengths[target].min((budget / 2).max(MIN_CHUNK));
    out[target] = own;
    // Water-filling: the shortest sections take what they need first.
    let mut others: Vec<usize> = (0..lengths.len()).filter(|&i| i != target).collect();
    others.sort_by_key(|&i| lengths[i]);
    let mut left = budget.saturating_sub(own);
    let mut count = others.len();
    for i in others {
        let fair = (left / count.max(1)).max(MIN_CHUNK);
        out[i] = lengths[i].min(fair);
        left = left.saturating_sub(out[i]);
        count -= 1;
    }
    out
}

/// Renders the messages of `around.branch[range]`.
pub(crate) fn render(around: &Around, range: Range<usize>, max_chars: usize) -> Result<String> {
    let c = &around.conversation;
    let intro = format!(
        "From \"{}\" ({} conversation {}): messages {}–{} of {} on this branch.\n",
        c.title.split_whitespace().collect::<Vec<_>>().join(" "),
        c.source.label(),
        c.id,
        range.start + 1,
        range.end,
        around.branch.len()
    );
    let shown = &around.branch[range.clone()];
    let sections = shown
        .iter()
        .map(render::section)
        .collect::<Result<Vec<_>>>()?;
    let lengths: Vec<usize> = sections.iter().map(|s| chars(s)).collect();
    let target = around.at - range.start;
    // Room for the intro, the marker and a shortening note per section.
    let overhead = chars(&intro) + chars(MARK) + 200 * shown.len();
    let budget = max_chars.saturating_sub(overhead).max(MIN_CHUNK);
    let shares = shares(&lengths, target, budget);
    let mut text = intro;
    for (k, (section, m)) in sections.iter().zip(shown).enumerate() {
        if k == target {
            text.push_str(MARK);
        }
        let share = shares[k];
        if share >= lengths[k] {
            text.push_str(section);
            continue;
        }
        let cut = cut_at(section, share);
        text.push_str(&section[..byte_at(section, cut)]);
        let on_active = around.on_active.get(range.start + k).copied() == Some(true);
        let cursor = Cursor::Page {
            c: fingerprint(&c.id.as_str()),
            m: m.id.as_str().to_owned(),
            o: cut,
            b: if on_active {
                Branch::Active
            } else {
                Branch::All
            },
            h: m.hidden,
            f: Format::Markdown,
            n: PAGE_CHARS.default,
        };
        text.push_str(&format!(
            "\n\n_(shortened here: {} more characters. Read on with get_conversation \
             {{\"id\": {}, \"cursor\": {}}})_\n",
            lengths[k] - cut,
            serde_json::Value::from(c.id.as_str()),
            serde_json::Value::from(cursor.encode()),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::shares;

    #[test]
    fn shares_fit_the_budget_and_favour_the_target() {
        assert_eq!(shares(&[10, 20, 30], 1, 100), vec![10, 20, 30]);
        let s = shares(&[5000, 9000, 300, 7000], 1, 4000);
        assert_eq!(s[1], 2000, "the target takes half");
        assert_eq!(s[2], 300, "a short one stays whole");
        assert!(s.iter().sum::<usize>() <= 4000, "{s:?}");
        assert!(s[0] > 700 && s[3] > 700, "{s:?}");
    }
}
