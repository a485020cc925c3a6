//! `GET /export`: every conversation, streamed.
//!
//! A blocking task walks the store page by page (`Store::conversation_details`: one short read
//! transaction per page and per conversation, so no connection is held for the whole download)
//! and writes through the export crate's `FormatWriter` into a `ChannelWriter`. The writer hands chunks of
//! `CHUNK_BYTES` to a bounded channel that the response body drains, so at most a few chunks
//! and one conversation are in memory whatever the size of the store, and a slow client slows
//! the producer down instead of growing a buffer. When the client goes away the channel closes
//! and the producer stops at its next write.

use std::io::{self, Write};

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpResponse};
use bytes::Bytes;
use chat_export::Format;
use chat_store::{ArchivedFilter, ListQuery, Store};
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;

use crate::error::{ApiError, ErrorBody};
use crate::params;
use crate::state::ApiState;

/// Bytes per body chunk.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks waiting for the client.
const CHANNEL_CHUNKS: usize = 8;

type Chunk = Result<Bytes, io::Error>;

/// An `io::Write` that sends full chunks over a bounded channel, blocking when it is full.
struct ChannelWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Chunk>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK_BYTES),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// What to export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `json` (default): a JSON array of lossless documents; `finetune`: JSONL of up-rated
    /// answers.
    format: Option<String>,
    /// `all` (default), `false` or `true`.
    archived: Option<String>,
    /// Only this source.
    source: Option<String>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Walks the store and writes every conversation; runs on a blocking thread.
fn produce(
    store: &Store,
    format: Format,
    query: ListQuery,
    out: ChannelWriter,
) -> Result<(), BoxError> {
    let mut writer = format.writer(out)?;
    for detail in store.conversation_details(query) {
        writer.push(&detail?)?;
    }
    writer.finish()?;
    Ok(())
}

/// Whether an export error only means the client closed the connection.
fn client_left(e: &BoxError) -> bool {
    let io =
        e.downcast_ref::<io::Error>()
            .or_else(|| match e.downcast_ref::<chat_export::Error>() {
                Some(chat_export::Error::Io(io)) => Some(io),
                _ => None,
            });
    io.is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
}

/// Everything, streamed: a JSON array of lossless conversation documents, or fine-tuning
/// JSONL. Never built in memory. Conversations changed while the download runs may appear in
/// their older or newer state.
#[utoipa::path(get, path = "/api/v1/export", tag = "export", params(ExportParams),
    responses((status = 200, description = "A streamed attachment", content_type = "application/json"),
        (status = 400, body = ErrorBody)))]
pub async fn export_all(
    state: web::Data<ApiState>,
    q: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let name = params::given_str(q.format.as_deref()).unwrap_or("json");
    let format = match name.parse::<Format>() {
        Ok(f @ (Format::Json | Format::Finetune)) => f,
        // Markdown is one file per conversation (the CLI's `--export-md`).
        Ok(Format::Markdown) | Err(_) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("format must be json or finetune, not {name:?}"),
            ))
        }
    };
    let archived = match params::given_str(q.archived.as_deref()) {
        None => ArchivedFilter::All,
        v => params::archived(v)?,
    };
    let query = ListQuery {
        source: params::source(q.source.as_deref())?,
        archived,
        ..ListQuery::default()
    };
    let (tx, mut rx) = mpsc::channel::<Chunk>(CHANNEL_CHUNKS);
    let store = state.store().clone();
    tokio::task::spawn_blocking(move || {
        let errors = tx.clone();
        let out = ChannelWriter {
            buf: Vec::with_capacity(CHUNK_BYTES),
            tx,
        };
        match produce(&store, format, query, out) {
            Ok(()) => {}
            Err(e) if client_left(&e) => tracing::debug!("export: the client went away"),
            Err(e) => {
                tracing::error!(error = %e, "export failed midway");
                // Ends the response with an error, so the client sees a truncated download
                // rather than a silently short file.
                let _ = errors.blocking_send(Err(io::Error::other("export failed")));
            }
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let date = chat_model::timestamp::now().date();
    let name = format!("ai-os-chat-export-{date}.{}", format.extension());
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(name)],
        })
        .streaming(body))
}
