//! Parser for gemini exports (in progress).
