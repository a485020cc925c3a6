//! Conversations: the service that changes them and announces each change
//! ([`service::Conversations`]), and the `/conversations` handlers over it (`routes.rs`).

pub(crate) mod routes;
pub(crate) mod service;
