//! Uploads kept for a later import: the AI OS import dialog uploads a file, asks what it holds,
//! then commits. Each staged upload is a finished upload folder, kept at most
//! [`STAGED_FOR`] and with at most [`MAX_STAGED`] of them (the oldest go first); dropping one
//! removes its folder.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chat_model::Source;

use super::upload::UploadDir;
use crate::sync::lock;

/// How long a staged upload is kept.
pub(crate) const STAGED_FOR: Duration = Duration::from_secs(60 * 60);
/// Most staged uploads kept at once.
pub(crate) const MAX_STAGED: usize = 8;

/// One staged upload.
#[derive(Debug, Clone)]
pub(crate) struct StagedUpload {
    /// Its id (the id the import job will have).
    pub(crate) id: String,
    /// The folder holding its files.
    pub(crate) dir: Arc<UploadDir>,
    /// The files, relative to the folder.
    pub(crate) files: Vec<String>,
    /// The source named at upload, if any.
    pub(crate) source: Option<Source>,
    at: Instant,
}

/// The staged uploads, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    uploads: Mutex<VecDeque<StagedUpload>>,
}

impl Staged {
    /// Keeps an upload; drops expired ones and, beyond [`MAX_STAGED`], the oldest.
    pub(crate) fn keep(
        &self,
        id: String,
        dir: UploadDir,
        files: Vec<String>,
        source: Option<Source>,
    ) {
        let mut uploads = lock(&self.uploads);
        expire(&mut uploads);
        while uploads.len() >= MAX_STAGED {
            uploads.pop_front();
        }
        uploads.push_back(StagedUpload {
            id,
            dir: Arc::new(dir),
            files,
            source,
            at: Instant::now(),
        });
    }

    /// A staged upload, left staged.
    pub(crate) fn get(&self, id: &str) -> Option<StagedUpload> {
        let mut uploads = lock(&self.uploads);
        expire(&mut uploads);
        uploads.iter().find(|u| u.id == id).cloned()
    }

    /// Takes a staged upload out (to import it).
    pub(crate) fn take(&self, id: &str) -> Option<StagedUpload> {
        let mut uploads = lock(&self.uploads);
        expire(&mut uploads);
        let at = uploads.iter().position(|u| u.id == id)?;
        uploads.remove(at)
    }
}

fn expire(uploads: &mut VecDeque<StagedUpload>) {
    uploads.retain(|u| u.at.elapsed() < STAGED_FOR);
}
