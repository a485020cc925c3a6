//! Parser for chatgpt exports (in progress).
