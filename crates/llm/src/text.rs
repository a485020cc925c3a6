//! Text helpers shared by the providers: the extractive summary and title used without a
//! model (and as fallbacks when a model answers nothing), and cutting text to a length.

use chat_model::Role;

use crate::types::ChatMessage;

/// Longest [`extractive_summary`], in characters.
pub const SUMMARY_MAX_CHARS: usize = 280;

/// An extractive summary of a conversation, at most [`SUMMARY_MAX_CHARS`] characters: the
/// first user question, then the first sentence of each later message while they fit. Code
/// blocks are skipped and whitespace is folded. Deterministic; needs no model.
pub fn extractive_summary(messages: &[ChatMessage]) -> String {
    let visible: Vec<&ChatMessage> = messages
        .iter()
        .filter(|m| matches!(m.role, Role::User | Role::Assistant))
        .filter(|m| !prose(&m.content).is_empty())
        .collect();
    let first_user = visible.iter().position(|m| m.role == Role::User);
    let Some(first_user) = first_user else {
        return "Empty conversation.".to_owned();
    };
    let mut summary = first_sentence(&prose(&visible[first_user].content));
    if summary.chars().count() > SUMMARY_MAX_CHARS {
        return truncate_chars(&summary, SUMMARY_MAX_CHARS);
    }
    for m in &visible[first_user + 1..] {
        let sentence = first_sentence(&prose(&m.content));
        if summary.chars().count() + 1 + sentence.chars().count() > SUMMARY_MAX_CHARS {
            break;
        }
        summary.push(' ');
        summary.push_str(&sentence);
    }
    summary
}

/// A title from the first user message (at most 80 characters), as imports derive theirs.
pub fn offline_title(messages: &[ChatMessage]) -> String {
    chat_model::derive_title(messages.iter().map(|m| (&m.role, m.content.as_str())))
}

/// The text outside fenced code blocks, whitespace folded.
fn prose(text: &str) -> String {
    let mut in_fence = false;
    let mut words = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence {
            words.extend(line.split_whitespace());
        }
    }
    words.join(" ")
}

/// The first sentence of folded text (up to and including `.`, `!` or `?` before a space).
fn first_sentence(text: &str) -> String {
    let mut prev_end = false;
    for (i, c) in text.char_indices() {
        if prev_end && c == ' ' {
            return text[..i].to_owned();
        }
        prev_end = matches!(c, '.' | '!' | '?');
    }
    text.to_owned()
}

/// `text` if it has at most `max` characters, else its first `max - 1` characters (cut at a
/// word boundary when one is near) and an ellipsis.
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let limit = max.saturating_sub(1);
    let cut: String = text.chars().take(limit).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(pos) if pos >= limit / 2 => cut[..pos].trim_end(),
        _ => cut.as_str(),
    };
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_takes_question_and_first_sentences() {
        let messages = vec![
            ChatMessage::system("Be brief."),
            ChatMessage::user("How do I reverse a list in Python? I tried a loop."),
            ChatMessage::assistant(
                "Use slicing. For example:\n```py\nxs[::-1]\n```\nOr reversed().",
            ),
            ChatMessage::user("Thanks! What about in place?"),
        ];
        assert_eq!(
            extractive_summary(&messages),
            "How do I reverse a list in Python? Use slicing. Thanks!"
        );
        assert_eq!(extractive_summary(&[]), "Empty conversation.");
    }

    #[test]
    fn summary_is_capped() {
        let long = "word ".repeat(200);
        let s = extractive_summary(&[ChatMessage::user(long)]);
        assert!(s.chars().count() <= SUMMARY_MAX_CHARS);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn title_comes_from_first_user_message() {
        let messages = vec![
            ChatMessage::assistant("Hi"),
            ChatMessage::user("  Plan a   trip\nto Lisbon "),
        ];
        assert_eq!(offline_title(&messages), "Plan a trip to Lisbon");
        assert!(
            offline_title(&[ChatMessage::user("y ".repeat(100))])
                .chars()
                .count()
                <= 80
        );
    }
}
