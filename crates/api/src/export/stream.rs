//! Streaming every conversation into a response body.
//!
//! A blocking task walks the store page by page (`Store::conversation_details`: one short read
//! transaction per page and per conversation, so no connection is held for the whole download)
//! and writes through the export crate's `FormatWriter` into a `ChannelWriter`. The writer
//! hands chunks of `CHUNK_BYTES` to a bounded channel that the response body drains, so at
//! most a few chunks and one conversation are in memory whatever the size of the store, and a
//! slow client slows the producer down instead of growing a buffer. When the client goes away
//! the channel closes and the producer stops at its next write.

use std::io::{self, Write};

use bytes::Bytes;
use chat_export::Format;
use chat_store::{ListQuery, Store};
use futures_util::Stream;
use tokio::sync::mpsc;

/// Bytes per body chunk.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks waiting for the client.
const CHANNEL_CHUNKS: usize = 8;

type Chunk = Result<Bytes, io::Error>;

/// An `io::Write` that sends full chunks over a bounded channel, blocking when it is full.
pub(crate) struct ChannelWriter {
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

/// What a producer may fail with.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

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
    let io = e.downcast_ref::<io::Error>().or_else(|| {
        e.downcast_ref::<chat_export::Error>()
            .and_then(chat_export::Error::io)
    });
    io.is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
}

/// Every conversation `query` selects, in `format`, as a body stream.
pub(super) fn export_stream(
    store: Store,
    format: Format,
    query: ListQuery,
) -> impl Stream<Item = Chunk> {
    body_stream(move |out| produce(&store, format, query, out))
}

/// The conversations of a zip export, read from the store on the producing thread.
pub(super) type Details =
    Box<dyn Iterator<Item = chat_store::Result<chat_model::ConversationDetail>> + Send>;

/// The conversations `details` gives, in `format`, with the bytes of their media, as a zip
/// body stream (`chat_export::bundle::write_zip`: the archive and the bytes stream).
pub(super) fn zip_stream(
    store: Store,
    format: Format,
    details: impl FnOnce(&Store) -> Details + Send + 'static,
) -> impl Stream<Item = Chunk> {
    body_stream(move |out| {
        let (_, mut out) = chat_export::bundle::write_zip(&store, format, details(&store), out)?;
        out.flush()?;
        Ok(())
    })
}

/// A response body written by `produce` on a blocking thread, chunk by chunk, as the client
/// reads it. The stream ends with an error if `produce` fails midway, so the client sees a
/// truncated download rather than a silently short file.
pub(crate) fn body_stream<F>(produce: F) -> impl Stream<Item = Chunk>
where
    F: FnOnce(ChannelWriter) -> Result<(), BoxError> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Chunk>(CHANNEL_CHUNKS);
    tokio::task::spawn_blocking(move || {
        let errors = tx.clone();
        let out = ChannelWriter {
            buf: Vec::with_capacity(CHUNK_BYTES),
            tx,
        };
        match produce(out) {
            Ok(()) => {}
            Err(e) if client_left(&e) => tracing::debug!("export: the client went away"),
            Err(e) => {
                tracing::error!(error = %e, "export failed midway");
                let _ = errors.blocking_send(Err(io::Error::other("export failed")));
            }
        }
    });
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
