//! Library-wide reads and message actions: tags, folders, messages and ratings, statistics,
//! health. Each handler calls one repository method.

use actix_web::{web, HttpRequest, HttpResponse};
use chat_model::{MessageId, RatingValue};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dto::{
    FolderView, Health, MessageView, RateRequest, RatedMessageView, RatingView, Stats, TagView,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::media;
use crate::params;
use crate::state::ApiState;

type State = web::Data<ApiState>;

/// Liveness. Open even when a token is configured.
#[utoipa::path(get, path = "/api/v1/health", tag = "system", security(()),
    responses((status = 200, body = Health)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Unknown routes under the API prefix.
pub async fn not_found() -> HttpResponse {
    use actix_web::ResponseError;
    ApiError::not_found(
        "route_not_found",
        "no such endpoint; see /api/v1/openapi.json",
    )
    .error_response()
}

/// Every tag in use, with counts.
#[utoipa::path(get, path = "/api/v1/tags", tag = "tags",
    responses((status = 200, body = Vec<TagView>)))]
pub async fn tags(state: State) -> Result<HttpResponse, ApiError> {
    let tags = state.read(|repo| repo.list_tags()).await?;
    let out: Vec<TagView> = tags
        .into_iter()
        .map(|(t, count)| TagView {
            name: t.into(),
            count,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Folders with counts per source; imports live under `imported/<source>`.
#[utoipa::path(get, path = "/api/v1/folders", tag = "conversations",
    responses((status = 200, body = Vec<FolderView>)))]
pub async fn folders(state: State) -> Result<HttpResponse, ApiError> {
    let folders = state.read(|repo| repo.list_folders()).await?;
    let out: Vec<FolderView> = folders
        .into_iter()
        .map(|f| FolderView {
            path: f.path.into(),
            source: f.source,
            count: f.count,
            archived_count: f.archived_count,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// One message.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "Message id")),
    responses((status = 200, body = MessageView), (status = 404, body = ErrorBody)))]
pub async fn message(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = MessageId::from_string(id.into_inner());
    let m = state.read(move |repo| repo.get_message(&id)).await?;
    let mut views = [MessageView::from(m)];
    media::enrich(&state, &media::api_prefix(&req), &mut views).await?;
    let [view] = views;
    Ok(HttpResponse::Ok().json(view))
}

/// Rates a message up or down, replacing an earlier rating.
#[utoipa::path(put, path = "/api/v1/messages/{id}/rating", tag = "messages",
    params(("id" = String, Path, description = "Message id")),
    request_body = RateRequest,
    responses((status = 200, body = RatingView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn rate(
    state: State,
    id: web::Path<String>,
    body: JsonBody<RateRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = MessageId::from_string(id.into_inner());
    let RateRequest { rating, reason } = body.0;
    let r = state
        .write(move |repo| repo.rate_message(&id, rating, reason.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(RatingView::from(r)))
}

/// Removes a message's rating.
#[utoipa::path(delete, path = "/api/v1/messages/{id}/rating", tag = "messages",
    params(("id" = String, Path, description = "Message id")),
    responses((status = 204, description = "Removed"), (status = 404, body = ErrorBody)))]
pub async fn unrate(state: State, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = MessageId::from_string(id.into_inner());
    state.write(move |repo| repo.unrate_message(&id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Filter of the rated-message list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatingsParams {
    /// `up` or `down` (default both).
    value: Option<String>,
}

/// Rated messages, newest rating first.
#[utoipa::path(get, path = "/api/v1/ratings", tag = "messages", params(RatingsParams),
    responses((status = 200, body = Vec<RatedMessageView>), (status = 400, body = ErrorBody)))]
pub async fn ratings(state: State, q: web::Query<RatingsParams>) -> Result<HttpResponse, ApiError> {
    let filter = params::given_str(q.value.as_deref())
        .map(|v| {
            v.parse::<RatingValue>()
                .map_err(|_| ApiError::bad_request("invalid_query", "value must be up or down"))
        })
        .transpose()?;
    let rated = state.read(move |repo| repo.rated_messages(filter)).await?;
    let out: Vec<RatedMessageView> = rated
        .into_iter()
        .map(|r| RatedMessageView {
            conversation_id: r.conversation_id.into_string(),
            message: r.message.into(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

/// Conversations and messages per month (UTC) and source.
#[utoipa::path(get, path = "/api/v1/stats", tag = "system",
    responses((status = 200, body = Stats)))]
pub async fn stats(state: State) -> Result<HttpResponse, ApiError> {
    let stats = state.read(|repo| repo.stats()).await?;
    Ok(HttpResponse::Ok().json(Stats::from(stats)))
}
