//! Explaining a failed or partial import as a stream of Markdown: the importer's diagnosis,
//! the model's explanation when a model is configured, and last the concrete fix. The words
//! are chat-import's (`chat_import::diagnose`); this file gathers what they need (the job's
//! view, the kept input, the quarantined items) and asks the model.
//!
//! The diagnosis never depends on the model: it is all there is offline, and it is written
//! before the model is asked, so a slow or failing model never hides it.

use std::path::Path;

use bytes::Bytes;
use chat_import::diagnose::{self, RetryWith, RunFacts};
use chat_import::ImportReport;
use chat_llm::{ChatEvent, ChatMessage, ChatProvider, ChatRequest};
use chat_model::Source;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::jobs::ImportJobs;
use super::view::ImportJobView;
use crate::error::ApiError;

/// Chunks of an explanation waiting for a slow reader.
const EXPLAIN_CHANNEL: usize = 64;

/// The import's report, parsed.
fn report_of(view: &ImportJobView) -> Option<ImportReport> {
    view.report
        .as_ref()
        .and_then(|r| serde_json::from_value(r.clone()).ok())
}

fn facts<'a>(view: &'a ImportJobView, report: Option<&'a ImportReport>) -> RunFacts<'a> {
    RunFacts {
        id: &view.id,
        status: &view.status,
        outcome: view.outcome.as_deref(),
        error: view.error.as_deref(),
        source: view.source,
        report,
    }
}

/// A retry in the API's words: the call and its body.
fn retry_call(id: &str, with: RetryWith) -> String {
    let body = match with {
        RetryWith::Source(s) => format!("{{\"source\": \"{}\"}}", s.as_str()),
        RetryWith::Detection => "{}".to_owned(),
        RetryWith::AnySource => "{\"source\": \"…\"}".to_owned(),
    };
    format!("`POST /api/v1/imports/{id}/retry` with `{body}` (the Retry button)")
}

async fn read_head(path: &Path, max: usize) -> Option<Vec<u8>> {
    let file = tokio::fs::File::open(path).await.ok()?;
    let mut head = Vec::with_capacity(max);
    file.take(max as u64).read_to_end(&mut head).await.ok()?;
    Some(head)
}

impl ImportJobs {
    /// The source the kept upload is detected as (single-file uploads only).
    async fn detected_source(&self, id: &str) -> Option<Source> {
        let (dir, files) = self.kept_upload(id)?;
        let [file] = files.as_slice() else {
            return None;
        };
        let head = read_head(&dir.join(file), chat_parse::PROBE_LEN).await?;
        diagnose::detect_source(file, &head)
    }

    /// A short excerpt of the offending input for the model: a quarantined item, else the
    /// start of the kept upload. Returns where it came from and the text.
    async fn excerpt(
        &self,
        view: &ImportJobView,
        report: Option<&ImportReport>,
    ) -> Option<(String, String)> {
        let quarantined =
            report.is_some_and(|r| r.errors().any(|(_, e)| e.quarantine_id.is_some()));
        if quarantined {
            let run = view.id.clone();
            let items = self
                .db()
                .read(move |repo| repo.list_quarantine(&run))
                .await
                .ok()?;
            if let Some(found) = diagnose::quarantined_excerpt(&view.id, report, &items) {
                return Some(found);
            }
        }
        let (dir, files) = self.kept_upload(&view.id)?;
        let file = diagnose::failing_file(report, &files)?;
        let head = read_head(&dir.join(file), diagnose::EXCERPT_MAX).await?;
        diagnose::file_excerpt(file, &head)
    }

    /// Explains a finished import, streamed as Markdown (see the module's documentation); a
    /// job still running is a conflict.
    pub(crate) async fn explain(
        &self,
        id: &str,
    ) -> Result<impl Stream<Item = Bytes> + use<>, ApiError> {
        let view = self.view(id).await?;
        if view.finished_at.is_none() && view.status != "failed" && view.status != "done" {
            return Err(ApiError::Conflict(format!(
                "import {id} is still {}; explain it once it has ended",
                view.status
            )));
        }
        let report = report_of(&view);
        let run = facts(&view, report.as_ref());
        let diagnosis = diagnose::diagnosis(&run);
        let kept = self.kept_upload(id).is_some();
        let detected = self.detected_source(id).await;
        let retry: &dyn Fn(RetryWith) -> String = &|with| retry_call(id, with);
        let fix = diagnose::fix(&run, detected, kept.then_some(retry));
        let provider = self.provider().clone();
        let model_context = if provider.is_offline() {
            None
        } else {
            Some(self.excerpt(&view, report.as_ref()).await)
        };

        let (tx, rx) = mpsc::channel::<Bytes>(EXPLAIN_CHANNEL);
        actix_web::rt::spawn(async move {
            if tx.send(Bytes::from(diagnosis.clone())).await.is_err() {
                return;
            }
            if let Some(excerpt) = model_context {
                let excerpt = excerpt.as_ref().map(|(w, t)| (w.as_str(), t.as_str()));
                let prompt = diagnose::explanation_prompt(&diagnosis, excerpt);
                if !explain_with_model(provider.as_ref(), prompt, &tx).await {
                    return;
                }
            }
            let _ = tx.send(Bytes::from(fix)).await;
        });
        Ok(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        }))
    }
}

/// Streams the model's explanation as its own section; false when the reader has gone.
async fn explain_with_model(
    provider: &dyn ChatProvider,
    prompt: String,
    tx: &mpsc::Sender<Bytes>,
) -> bool {
    let request = ChatRequest {
        messages: vec![
            ChatMessage::system(diagnose::EXPLAIN_INSTRUCTIONS),
            ChatMessage::user(prompt),
        ],
        temperature: Some(0.2),
        max_tokens: Some(400),
        ..ChatRequest::default()
    };
    if tx
        .send(Bytes::from_static(b"## Explanation\n\n"))
        .await
        .is_err()
    {
        return false;
    }
    let cancel = CancellationToken::new();
    let _stop = cancel.clone().drop_guard();
    match provider.stream_chat(request, cancel.clone()).await {
        Ok(mut stream) => {
            while let Some(event) = stream.next().await {
                match event {
                    Ok(ChatEvent::Delta(d)) => {
                        if tx.send(Bytes::from(d)).await.is_err() {
                            return false;
                        }
                    }
                    Ok(ChatEvent::Done { .. }) => break,
                    Ok(_) => {}
                    Err(e) => {
                        let _ = tx
                            .send(Bytes::from(format!("\n\n(The model stopped: {e}.)")))
                            .await;
                        break;
                    }
                }
            }
        }
        Err(e) => {
            let _ = tx
                .send(Bytes::from(format!("(The model could not be asked: {e}.)")))
                .await;
        }
    }
    tx.send(Bytes::from_static(b"\n\n")).await.is_ok()
}
