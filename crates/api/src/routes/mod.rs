//! Handlers, one module per resource.

pub mod conversations;
pub mod export;
pub mod library;
