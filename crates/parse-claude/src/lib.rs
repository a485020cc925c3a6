//! Parser for claude exports (in progress).
