//! Imports: uploads run in the background by `chat-import`.
//!
//! * `jobs.rs`: the import jobs service ([`jobs::ImportJobs`]): starting, running (one at a
//!   time, each on its own thread), cancelling, listing and retrying jobs, and their progress
//!   events.
//! * `upload.rs`: an upload streamed to its private folder, never held in memory.
//! * `view.rs`: what a client sees of a job (`ImportJobView`), and what a retry changed.
//! * `explain.rs`: "this file failed, here's why, let me fix it": the explanation stream, in
//!   the words of `chat_import::diagnose`.
//! * `routes.rs`: the `/imports` handlers.
//! * `staged.rs` and `dialog.rs`: an import in three steps (stage an upload, preview it with a
//!   dry run, commit it as a job), as the AI OS import dialog makes it.

pub(crate) mod dialog;
pub(crate) mod explain;
pub(crate) mod jobs;
pub(crate) mod routes;
pub(crate) mod staged;
pub(crate) mod upload;
pub(crate) mod view;
