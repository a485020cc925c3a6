//! Parser for copilot exports (in progress).
