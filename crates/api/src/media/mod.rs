//! `GET /api/v1/media/{id}`: the bytes of stored media (images, audio, files of imported
//! conversations), by their BLAKE3 hash.
//!
//! Imported bytes are untrusted, so how they are served is decided by their type sniffed at
//! import (never the name an export gave them):
//!
//! * images (but SVG), audio, video and PDF are served `inline`, for `<img>`, `<audio>` and
//!   `<video>`; anything else, SVG and HTML included, as an `attachment` under
//!   `Content-Security-Policy: sandbox` (no script, no same origin even if opened);
//! * always `X-Content-Type-Options: nosniff`, so a browser never reinterprets them;
//! * the id is the hash, so the bytes under a URL never change: `ETag` is the id,
//!   `Cache-Control: private, max-age=31536000, immutable`, and `If-None-Match` gets 304;
//! * `Range` (one range; parsed by `http-range-header`) gets 206 with `Content-Range`, an
//!   unsatisfiable one 416, so audio and video seek;
//! * a malformed id is 400 before the store is asked, an unknown one 404; the token rules are
//!   the API scope's.

use std::io::{self, Read};

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use chat_model::MediaHash;
use chat_store::MediaInfo;
use tokio::sync::mpsc;

use crate::dto::MessageView;
use crate::error::ApiError;
use crate::state::ApiState;

/// Bytes per body chunk.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks waiting for the client.
const CHANNEL_CHUNKS: usize = 4;

/// Whether bytes of this type may be shown by the browser itself.
pub fn is_inline(mime: &str) -> bool {
    (mime.starts_with("image/") && mime != "image/svg+xml")
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || mime == "application/pdf"
}

/// Where the API is mounted: what precedes `/api/v1/` in the request's path (empty at the
/// root), so URLs stay right inside an embedding app's scope.
pub(crate) fn api_prefix(req: &HttpRequest) -> String {
    let path = req.path();
    path.find("/api/v1/")
        .map_or_else(String::new, |i| path[..i].to_owned())
}

/// Fills the attachments of `messages` with what the store knows of their bytes (the sniffed
/// type, size, dimensions, original name) and their URL under `prefix`; a part naming bytes
/// the store does not hold is `missing`.
pub(crate) async fn enrich(
    state: &ApiState,
    prefix: &str,
    messages: &mut [MessageView],
) -> Result<(), ApiError> {
    let mut hashes: Vec<MediaHash> = messages
        .iter()
        .flat_map(|m| m.attachments.iter())
        .filter_map(|a| a.media_id.as_deref()?.parse().ok())
        .collect();
    hashes.sort();
    hashes.dedup();
    let infos = if hashes.is_empty() {
        Vec::new()
    } else {
        state
            .read(move |repo| {
                let mut out = Vec::with_capacity(hashes.len());
                for hash in &hashes {
                    out.extend(repo.media_info(hash)?);
                }
                Ok(out)
            })
            .await?
    };
    for a in messages.iter_mut().flat_map(|m| m.attachments.iter_mut()) {
        let info = a
            .media_id
            .as_deref()
            .and_then(|id| infos.iter().find(|i| i.hash.as_str() == id));
        match info {
            Some(info) => {
                a.mime_type = Some(info.mime.clone());
                a.size = Some(info.size);
                a.width = info.width.map(u64::from).or(a.width);
                a.height = info.height.map(u64::from).or(a.height);
                if a.name.is_none() {
                    a.name.clone_from(&info.name);
                }
                a.url = Some(format!("{prefix}/api/v1/media/{}", info.hash));
                a.missing = false;
            }
            None => {
                a.media_id = None;
                a.url = None;
                a.missing = true;
            }
        }
    }
    Ok(())
}

/// A file name safe in a `Content-Disposition` header: no quotes, separators or controls.
fn safe_name(info: &MediaInfo) -> String {
    let base = info.name.as_deref().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/' | ';'))
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        info.hash.as_str()[..12].to_owned()
    } else {
        cleaned
    }
}

/// `GET /api/v1/media/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/media/{id}",
    tag = "media",
    params(("id" = String, Path, description = "The media id: the BLAKE3 hash of the bytes, 64 lower-case hex digits")),
    responses(
        (status = 200, description = "The bytes, with the type sniffed at import", content_type = "application/octet-stream"),
        (status = 206, description = "The requested range"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "Malformed id"),
        (status = 404, description = "No such media"),
        (status = 416, description = "Unsatisfiable range"),
    )
)]
pub async fn get(
    state: web::Data<ApiState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let hash: MediaHash = id.parse().map_err(|_| ApiError::BadRequest {
        code: "invalid_media_id",
        message: "a media id is 64 lower-case hex digits (the BLAKE3 hash of the bytes)".into(),
    })?;
    let lookup = hash.clone();
    let info = state
        .read(move |repo| repo.media_info(&lookup))
        .await?
        .ok_or_else(|| ApiError::NotFound {
            code: "media_not_found",
            message: format!("no media {hash}"),
        })?;
    let etag = format!("\"{}\"", info.hash);
    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, etag.clone()))
        .insert_header((
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    let name = safe_name(&info);
    if is_inline(&info.mime) {
        res.insert_header((header::CONTENT_TYPE, info.mime.as_str()))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ));
    } else {
        // Served as the type it is, but never rendered here: downloaded, and sandboxed if a
        // browser opens it anyway.
        let mime = if info.mime.starts_with("text/") {
            format!("{}; charset=utf-8", info.mime)
        } else {
            info.mime.clone()
        };
        res.insert_header((header::CONTENT_TYPE, mime))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'",
            ));
    }
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok(res.status(StatusCode::NOT_MODIFIED).finish());
    }
    let (start, len) = match req.headers().get(header::RANGE).map(HeaderValue::to_str) {
        None => (0, info.size),
        Some(value) => match range(value.ok(), info.size) {
            Some(r) => r,
            None => {
                return Ok(res
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .insert_header((header::CONTENT_RANGE, format!("bytes */{}", info.size)))
                    .finish())
            }
        },
    };
    if req.headers().contains_key(header::RANGE) {
        res.status(StatusCode::PARTIAL_CONTENT).insert_header((
            header::CONTENT_RANGE,
            format!(
                "bytes {start}-{}/{}",
                start + len.saturating_sub(1),
                info.size
            ),
        ));
    }
    let store = state.store().clone();
    let reader = {
        let hash = info.hash.clone();
        web::block(move || store.media_bytes(&hash, start, len))
            .await
            .map_err(|e| ApiError::internal(format!("media read task failed: {e}")))??
    };
    res.no_chunking(len);
    Ok(res.streaming(body(reader)))
}

/// The one range a `Range` header asks for: `(start, length)`; `None` when it cannot be
/// satisfied (several ranges are answered with the first).
fn range(value: Option<&str>, size: u64) -> Option<(u64, u64)> {
    let parsed = http_range_header::parse_range_header(value?).ok()?;
    let ranges = parsed.validate(size).ok()?;
    let first = ranges.first()?;
    Some((*first.start(), first.end() - first.start() + 1))
}

/// Streams `reader` from a blocking task through a bounded channel.
fn body(
    mut reader: chat_store::MediaBytes,
) -> impl futures_util::Stream<Item = Result<Bytes, io::Error>> {
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, io::Error>>(CHANNEL_CHUNKS);
    tokio::task::spawn_blocking(move || loop {
        let mut buf = vec![0u8; CHUNK_BYTES];
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                buf.truncate(n);
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    break;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "media read failed midway");
                let _ = tx.blocking_send(Err(e));
                break;
            }
        }
    });
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
