//! The `/imports` handlers: upload (multipart or a raw body), status, list, cancel, explain
//! and retry. Each parses its input and calls the import jobs service
//! ([`super::jobs::ImportJobs`]).

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::upload::{too_large, Upload};
use super::view::ImportJobView;
use crate::dto::Accepted;
use crate::error::{ApiError, ErrorBody};
use crate::params;
use crate::state::ApiState;

/// Longest text form field of a multipart upload.
const MAX_FORM_FIELD: usize = 1024;

/// Options of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Force a parser (`chatgpt`, `claude`, `gemini`, `copilot`) instead of detecting it.
    source: Option<String>,
    /// The folder new conversations land in (default `imported/<source>`).
    folder: Option<String>,
    /// A name for a raw-body upload (default from the content type).
    filename: Option<String>,
}

/// Uploads a chat export (zip or JSON) and starts importing it in the background.
///
/// The body is either `multipart/form-data` with one or more file fields (and optional text
/// fields `source` and `folder`), or the raw file with any other content type.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", params(ImportParams),
    request_body(content = Vec<u8>, description = "The export file (raw), or multipart/form-data with file fields",
        content_type = "application/octet-stream"),
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn create(
    state: web::Data<ApiState>,
    req: HttpRequest,
    payload: web::Payload,
    q: web::Query<ImportParams>,
) -> Result<HttpResponse, ApiError> {
    let jobs = state.imports();
    jobs.accepting()?;
    let q = q.into_inner();
    let mut source = params::source(q.source.as_deref())?;
    let mut folder = params::folder(q.folder.as_deref())?;
    let max = jobs.max_upload();
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    // Removes its folder if anything below fails.
    let mut upload = jobs.new_upload().await?;
    if content_type.starts_with("multipart/form-data") {
        let form = Multipart::new(req.headers(), payload.into_inner());
        let fields = read_form(form, Some(&mut upload)).await?;
        source = params::source(fields.get("source").map(String::as_str))?.or(source);
        folder = params::folder(fields.get("folder").map(String::as_str))?.or(folder);
    } else {
        let name = q.filename.as_deref();
        upload
            .add_body(name, &content_type, payload.into_inner())
            .await?;
    }
    let bytes = upload.total();
    let view = jobs.start(upload, source, folder)?;
    tracing::info!(job = %view.id, bytes, files = view.files.len(), "import upload accepted");
    Ok(HttpResponse::Accepted()
        .insert_header((LOCATION, format!("imports/{}", view.id)))
        .json(Accepted {
            id: view.id,
            status: view.status,
        }))
}

/// The text fields of a multipart form, by name (the last value of a name wins).
pub(crate) type FormFields = HashMap<String, String>;

fn invalid_multipart(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_multipart", format!("invalid multipart body: {e}"))
}

/// Reads a multipart form: each file field is spooled into `upload` (a file where none is
/// expected, `upload` being `None`, is a bad request); returns the text fields, each at most
/// 1 KiB.
pub(crate) async fn read_form(
    mut form: Multipart,
    mut upload: Option<&mut Upload>,
) -> Result<FormFields, ApiError> {
    let mut fields = FormFields::new();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(invalid_multipart)?;
        let (name, filename) = match field.content_disposition() {
            Some(cd) => (
                cd.get_name().map(str::to_owned),
                cd.get_filename().map(str::to_owned),
            ),
            None => (None, None),
        };
        let Some(filename) = filename else {
            let mut text = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(invalid_multipart)?;
                if text.len() + chunk.len() > MAX_FORM_FIELD {
                    return Err(ApiError::bad_request(
                        "invalid_multipart",
                        "a text field of the form is too long",
                    ));
                }
                text.extend_from_slice(&chunk);
            }
            if let Some(name) = name {
                fields.insert(name, String::from_utf8_lossy(&text).into_owned());
            }
            continue;
        };
        let Some(upload) = upload.as_deref_mut() else {
            return Err(ApiError::bad_request(
                "invalid_multipart",
                "this endpoint takes no file, only form fields",
            ));
        };
        upload.add_file(&filename, &mut field).await?;
    }
    Ok(fields)
}

/// An import job's status, progress and report.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports",
    params(("id" = String, Path, description = "Import id")),
    responses((status = 200, body = ImportJobView), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = state.imports().view(&id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Paging of the import list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportListParams {
    /// How many, 1 to 200 (default 20).
    limit: Option<u32>,
}

/// Recent imports, newest first: this server's jobs and runs recorded in the store (by the CLI
/// or an earlier server).
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", params(ImportListParams),
    responses((status = 200, body = Vec<ImportJobView>), (status = 400, body = ErrorBody)))]
pub async fn list(
    state: web::Data<ApiState>,
    q: web::Query<ImportListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = match params::limit(q.limit, 200)? {
        0 => 20,
        n => n,
    };
    let views: Vec<ImportJobView> = state.imports().list(limit).await?;
    Ok(HttpResponse::Ok().json(views))
}

/// Cancels a queued or running import; what was read so far is kept.
#[utoipa::path(post, path = "/api/v1/imports/{id}/cancel", tag = "imports",
    params(("id" = String, Path, description = "Import id")),
    responses((status = 202, body = ImportJobView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn cancel(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = state.imports().cancel(&id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(view))
}

/// Streams an explanation of a failed or partial import as Markdown text: the importer's
/// diagnosis, the model's explanation when a model is configured, and the concrete fix.
#[utoipa::path(post, path = "/api/v1/imports/{id}/explain", tag = "imports",
    params(("id" = String, Path, description = "Import id")),
    responses((status = 200, description = "The explanation, streamed", content_type = "text/plain"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn explain(
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let body = state.imports().explain(&id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(body.map(Ok::<_, actix_web::Error>)))
}

/// `POST /imports/{id}/retry`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    /// Read the input as this source (`chatgpt`, `claude`, `gemini`, `copilot`); absent or
    /// empty: detect it.
    pub source: Option<String>,
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
    state: web::Data<ApiState>,
    id: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let jobs = state.imports();
    jobs.accepting()?;
    let id = id.into_inner();
    let request: RetryRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RetryRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("invalid_json", format!("invalid JSON body: {e}")))?
    };
    let source = params::source(request.source.as_deref())?;
    let view = jobs.retry(&id, source).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((LOCATION, format!("../{}", view.id)))
        .json(Accepted {
            id: view.id,
            status: view.status,
        }))
}
