//! The import helper: "this file failed, here's why, let me fix it".
//!
//! * `POST /imports/{id}/explain` streams plain text (Markdown): the deterministic diagnosis
//!   from the import report (each error's what, where and fix), then, when a model is
//!   configured, the model's explanation given that diagnosis and a short excerpt of the
//!   offending input (from the quarantine row or the kept upload), and last the concrete fix.
//!   The diagnosis never depends on the model: it is all there is offline, and it is written
//!   before the model is asked, so a slow or failing model never hides it.
//! * `POST /imports/{id}/retry {source?}` runs the import again from the kept bytes (the kept
//!   upload folder, else the quarantined items) as a new job; that job's view carries
//!   `retry_of` with what the earlier run did and, once it ends, what changed.

use std::path::{Path, PathBuf};

use actix_web::http::header::LOCATION;
use actix_web::{web, HttpResponse};
use bytes::Bytes;
use chat_import::detect::{detect, Detected};
use chat_import::ImportReport;
use chat_llm::{ChatEvent, ChatMessage, ChatRequest};
use chat_model::Source;
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::dto::Accepted;
use crate::error::{ApiError, ErrorBody};
use crate::imports::{self, ImportJobView, RetryView, RunSummary, UploadDir};
use crate::params;
use crate::state::ApiState;

/// Largest excerpt of the offending input shown to the model, in bytes.
const EXCERPT_MAX: usize = 2048;
/// Chunks of an explanation waiting for a slow reader.
const EXPLAIN_CHANNEL: usize = 64;

type State = web::Data<ApiState>;

/// The import's report, parsed.
fn report_of(view: &ImportJobView) -> Option<ImportReport> {
    view.report
        .as_ref()
        .and_then(|r| serde_json::from_value(r.clone()).ok())
}

/// The diagnosis: every error of the report with what, where and the importer's fix.
fn diagnosis(view: &ImportJobView, report: Option<&ImportReport>) -> String {
    let mut out = format!("# Import {}\n\n", view.id);
    let outcome = view.outcome.as_deref().unwrap_or("none");
    out.push_str(&format!(
        "Status: **{}** (outcome: {outcome}).",
        view.status
    ));
    if let Some(r) = report {
        out.push_str(&format!(
            " {} conversations imported, {} updated, {} unchanged, {} failed.",
            r.totals.imported, r.totals.updated, r.totals.unchanged, r.totals.failed
        ));
    }
    out.push_str("\n\n");
    if let Some(error) = &view.error {
        out.push_str(&format!("{error}.\n\n"));
    }
    let errors: Vec<_> = report.map(|r| r.errors().collect()).unwrap_or_default();
    if errors.is_empty() {
        if view.status == "done" && view.outcome.as_deref() == Some("success") {
            out.push_str("Nothing went wrong: every conversation was read.\n");
        } else {
            out.push_str("The report lists no individual errors.\n");
        }
        return out;
    }
    out.push_str("## What went wrong\n\n");
    for (n, (input, e)) in errors.iter().enumerate() {
        out.push_str(&format!("{}. **What:** {}\n", n + 1, e.error));
        out.push_str(&format!("   **Where:** {input}, {}\n", e.item));
        if !e.hint.is_empty() {
            out.push_str(&format!("   **Fix:** {}\n", e.hint));
        }
        if let Some(q) = e.quarantine_id {
            out.push_str(&format!(
                "   The raw item is kept (quarantine #{q}) for a retry.\n"
            ));
        }
    }
    out.push('\n');
    out
}

/// A short excerpt of the offending input: a quarantined item, else the start of the kept
/// upload. Returns where it came from and the text (at most [`EXCERPT_MAX`] bytes).
async fn excerpt(
    state: &ApiState,
    view: &ImportJobView,
    report: Option<&ImportReport>,
) -> Option<(String, String)> {
    let quarantined: Vec<i64> = report
        .map(|r| r.errors().filter_map(|(_, e)| e.quarantine_id).collect())
        .unwrap_or_default();
    if !quarantined.is_empty() {
        let run = view.id.clone();
        let items = state
            .read(move |repo| repo.list_quarantine(&run))
            .await
            .ok()?;
        if let Some(item) = items
            .iter()
            .find(|i| quarantined.contains(&i.id) && i.raw.is_some())
        {
            let raw = item.raw.as_deref().unwrap_or_default();
            return Some((
                format!("quarantined item {} of {}", item.item, view.id),
                cut(raw),
            ));
        }
    }
    let (dir, files) = state.jobs.kept_upload(&view.id)?;
    let failing = report.and_then(|r| r.errors().next().map(|(input, _)| input.to_owned()));
    let file = failing
        .as_deref()
        .and_then(|f| files.iter().find(|name| f.ends_with(name.as_str())))
        .or_else(|| files.first())?;
    let head = read_head(&dir.join(file), EXCERPT_MAX).await?;
    if head.starts_with(b"PK\x03\x04") {
        return None;
    }
    Some((format!("the first bytes of {file}"), cut(&head)))
}

/// At most [`EXCERPT_MAX`] bytes as text, cut at a character boundary.
fn cut(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_MAX)]);
    let mut end = text.len().min(EXCERPT_MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

async fn read_head(path: &Path, max: usize) -> Option<Vec<u8>> {
    let file = tokio::fs::File::open(path).await.ok()?;
    let mut head = Vec::with_capacity(max);
    file.take(max as u64).read_to_end(&mut head).await.ok()?;
    Some(head)
}

/// The source the kept upload is detected as (single JSON inputs only).
async fn detected_source(state: &ApiState, id: &str) -> Option<Source> {
    let (dir, files) = state.jobs.kept_upload(id)?;
    let [file] = files.as_slice() else {
        return None;
    };
    let head = read_head(&dir.join(file), chat_parse::PROBE_LEN).await?;
    let parsers = chat_import::parsers();
    match detect(&parsers, &chat_parse::Probe::new(file, &head), None) {
        Detected::Parser(i) => parsers.get(i).map(|p| p.source()),
        _ => None,
    }
}

/// The concrete fix, as the last section.
fn fix(
    view: &ImportJobView,
    report: Option<&ImportReport>,
    detected: Option<Source>,
    kept: bool,
) -> String {
    let mut out = String::from("## The fix\n\n");
    let retry = |body: &str| {
        format!(
            "`POST /api/v1/imports/{}/retry` with `{body}` (the Retry button)",
            view.id
        )
    };
    let wrong_source = report
        .map(|r| r.errors().any(|(_, e)| e.error.contains("looks like a")))
        .unwrap_or(false);
    match (view.source, detected) {
        (Some(forced), Some(found)) if forced != found || wrong_source => {
            out.push_str(&format!(
                "The file was read as {} but it is a {} export. Run it again as {}: {}.\n",
                forced.as_str(),
                found.as_str(),
                found.as_str(),
                if kept {
                    retry(&format!("{{\"source\": \"{}\"}}", found.as_str()))
                } else {
                    "upload it again without a source (detection is automatic)".to_owned()
                }
            ));
            return out;
        }
        (Some(forced), _) if wrong_source => {
            out.push_str(&format!(
                "The file was forced to be read as {}, which it is not. Run it again without a \
                 source, so it is detected: {}.\n",
                forced.as_str(),
                if kept {
                    retry("{}")
                } else {
                    "upload it again without choosing a source".to_owned()
                }
            ));
            return out;
        }
        _ => {}
    }
    let hints: Vec<String> = report
        .map(|r| {
            let mut hints: Vec<String> = Vec::new();
            for (_, e) in r.errors() {
                if !e.hint.is_empty() && !hints.contains(&e.hint) {
                    hints.push(e.hint.clone());
                }
            }
            hints
        })
        .unwrap_or_default();
    if hints.is_empty() {
        if view.outcome.as_deref() == Some("success") {
            out.push_str("Nothing to fix.\n");
        } else if kept {
            out.push_str(&format!(
                "Run it again once the cause is fixed: {}.\n",
                retry("{}")
            ));
        } else {
            out.push_str("Export the data again from the provider and upload the new file.\n");
        }
        return out;
    }
    for hint in &hints {
        out.push_str(&format!("- {hint}\n"));
    }
    if kept {
        out.push_str(&format!(
            "\nWhen the fix is a different source or a newer importer, it is one call: {}.\n",
            retry("{\"source\": \"…\"}")
        ));
    }
    out
}

/// Streams an explanation of a failed or partial import as Markdown text: the importer's
/// diagnosis, the model's explanation when a model is configured, and the concrete fix.
#[utoipa::path(post, path = "/api/v1/imports/{id}/explain", tag = "imports",
    params(("id" = String, Path, description = "Import id")),
    responses((status = 200, description = "The explanation, streamed", content_type = "text/plain"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn explain(state: State, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let view = imports::find_view(&state, &id).await?;
    if view.finished_at.is_none() && view.status != "failed" && view.status != "done" {
        return Err(ApiError::Conflict(format!(
            "import {id} is still {}; explain it once it has ended",
            view.status
        )));
    }
    let report = report_of(&view);
    let diagnosis = diagnosis(&view, report.as_ref());
    let kept = state.jobs.kept_upload(&id).is_some();
    let detected = detected_source(&state, &id).await;
    let fix = fix(&view, report.as_ref(), detected, kept);
    let provider = state.provider().clone();
    let model_context = if provider.is_offline() {
        None
    } else {
        Some(excerpt(&state, &view, report.as_ref()).await)
    };

    let (tx, rx) = mpsc::channel::<Bytes>(EXPLAIN_CHANNEL);
    actix_web::rt::spawn(async move {
        if tx.send(Bytes::from(diagnosis.clone())).await.is_err() {
            return;
        }
        if let Some(excerpt) = model_context {
            let mut prompt = format!(
                "An import of a chat export into AI OS Chat did not fully succeed. This is the \
                 importer's diagnosis:\n\n{diagnosis}"
            );
            match excerpt {
                Some((whence, text)) => prompt.push_str(&format!(
                    "\nThis is {whence} (at most {EXCERPT_MAX} bytes):\n\n```\n{text}\n```\n"
                )),
                None => prompt.push_str("\nNo excerpt of the input is available.\n"),
            }
            let request = ChatRequest {
                messages: vec![
                    ChatMessage::system(
                        "You help people import their ChatGPT, Claude, Gemini and Copilot chat \
                         exports. Explain in plain words, in under 150 words, why this import \
                         failed and what the person should do. Rely on the diagnosis; do not \
                         invent facts. No preamble.",
                    ),
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
                return;
            }
            let cancel = CancellationToken::new();
            let _stop = cancel.clone().drop_guard();
            match provider.stream_chat(request, cancel.clone()).await {
                Ok(mut stream) => {
                    while let Some(event) = stream.next().await {
                        match event {
                            Ok(ChatEvent::Delta(d)) => {
                                if tx.send(Bytes::from(d)).await.is_err() {
                                    return;
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
            if tx.send(Bytes::from_static(b"\n\n")).await.is_err() {
                return;
            }
        }
        let _ = tx.send(Bytes::from(fix)).await;
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, actix_web::Error>(chunk), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(body))
}

/// `POST /imports/{id}/retry`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    /// Read the input as this source (`chatgpt`, `claude`, `gemini`, `copilot`); absent or
    /// empty: detect it.
    pub source: Option<String>,
}

/// Copies (hard-links when possible) the kept files into a new upload folder.
fn copy_files(from: &Path, to: &Path, files: &[String]) -> std::io::Result<()> {
    for file in files {
        let src = from.join(file);
        let dst = to.join(file);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Runs a finished import again from its kept input, as a new job (optionally with another
/// source). The new job's view has `retry_of`: what the earlier run did, and once it ends,
/// what changed.
#[utoipa::path(post, path = "/api/v1/imports/{id}/retry", tag = "imports",
    params(("id" = String, Path, description = "Import id")),
    request_body(content = RetryRequest, description = "Optional; `{}` detects the source"),
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn retry(
    state: State,
    id: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    if state.jobs.is_shutting_down() {
        return Err(ApiError::Unavailable(
            "the server is shutting down".to_owned(),
        ));
    }
    let id = id.into_inner();
    let request: RetryRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RetryRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("invalid_json", format!("invalid JSON body: {e}")))?
    };
    let source = params::source(request.source.as_deref())?;
    let previous = imports::find_view(&state, &id).await?;
    if previous.finished_at.is_none() {
        return Err(ApiError::Conflict(format!(
            "import {id} has not ended yet; retry it once it has"
        )));
    }
    let new_id = uuid::Uuid::now_v7().to_string();
    let dir = imports::upload_path(&state, &new_id);
    let upload = UploadDir(dir.clone());
    let files: Vec<String> = match state.jobs.kept_upload(&id) {
        Some((from, files)) => {
            let to = dir.clone();
            let copied = files.clone();
            web::block(move || copy_files(&from, &to, &copied))
                .await?
                .map_err(ApiError::internal)?;
            files
        }
        None => {
            let run = id.clone();
            let items = state.read(move |repo| repo.list_quarantine(&run)).await?;
            let raws: Vec<Vec<u8>> = items.into_iter().filter_map(|i| i.raw).collect();
            if raws.is_empty() {
                return Err(ApiError::Conflict(format!(
                    "the input of import {id} is no longer kept (the server keeps the last few \
                     failed uploads, and not across restarts); upload the file again"
                )));
            }
            let to = dir.clone();
            web::block(move || write_quarantined(&to, &raws))
                .await?
                .map_err(ApiError::internal)?
        }
    };
    let retry_of = RetryView {
        id: id.clone(),
        previous: RunSummary::of(&previous),
        changes: None,
    };
    tracing::info!(job = %new_id, retry_of = %id, source = ?source, "retrying an import");
    let view = imports::start(&state, new_id, upload, files, source, None, Some(retry_of))?;
    Ok(HttpResponse::Accepted()
        .insert_header((LOCATION, format!("../{}", view.id)))
        .json(Accepted {
            id: view.id,
            status: view.status,
        }))
}

/// Writes quarantined items as one JSON array when each is a JSON value (exports are arrays of
/// conversations), else one file per item. Returns the file names.
fn write_quarantined(dir: &Path, raws: &[Vec<u8>]) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let values: Option<Vec<serde_json::Value>> = raws
        .iter()
        .map(|r| serde_json::from_slice(r).ok())
        .collect();
    if let Some(values) = values {
        let name = "quarantined.json".to_owned();
        let bytes = serde_json::to_vec(&values).map_err(std::io::Error::other)?;
        std::fs::write(dir.join(&name), bytes)?;
        return Ok(vec![name]);
    }
    let mut names = Vec::new();
    for (n, raw) in raws.iter().enumerate() {
        let name = format!("quarantined-{n}.json");
        std::fs::write(dir.join(PathBuf::from(&name)), raw)?;
        names.push(name);
    }
    Ok(names)
}
