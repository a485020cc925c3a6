//! Library-wide reads and message actions: tags, folders, ratings, search, statistics, health.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use chat_model::{MessageId, RatingValue, Source};
use chat_store::SearchQuery;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dto::{
    FolderView, Health, MessageView, MonthStat, RateRequest, RatedMessageView, RatingView,
    SearchHitView, SearchResults, Stats, TagView,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::params;
use crate::state::ApiState;

type State = web::Data<ApiState>;

/// Largest number of search hits.
const MAX_HITS: u32 = 500;
/// Longest search text considered; the rest is ignored (a query this long is not typed).
const MAX_QUERY_CHARS: usize = 2000;

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
pub async fn message(state: State, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = MessageId::from_string(id.into_inner());
    let m = state.read(move |repo| repo.get_message(&id)).await?;
    Ok(HttpResponse::Ok().json(MessageView::from(m)))
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
    if reason.as_ref().is_some_and(|r| r.chars().count() > 4000) {
        return Err(ApiError::invalid("a reason is at most 4000 characters"));
    }
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

/// Full-text search parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for: words (all must match), `"a phrase"`, `prefix*`. Any other syntax
    /// is treated as text.
    q: Option<String>,
    /// Only this source.
    source: Option<String>,
    /// Only conversations with this tag.
    tag: Option<String>,
    /// `false` (default), `true` or `all`.
    archived: Option<String>,
    /// Only messages of this role.
    role: Option<String>,
    /// Also search hidden messages. Default false.
    hidden: Option<bool>,
    /// How many hits, 1 to 500 (default 20).
    limit: Option<u32>,
}

/// Searches messages and titles.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 400, body = ErrorBody)))]
pub async fn search(state: State, q: web::Query<SearchParams>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let text: String =
        q.q.unwrap_or_default()
            .chars()
            .take(MAX_QUERY_CHARS)
            .collect();
    let query = SearchQuery {
        source: params::source(q.source.as_deref())?,
        tag: params::tag(q.tag.as_deref())?,
        archived: params::archived(q.archived.as_deref())?,
        role: params::role(q.role.as_deref())?,
        include_hidden: q.hidden.unwrap_or(false),
        limit: params::limit(q.limit, MAX_HITS)?,
        ..SearchQuery::new(text)
    };
    if query.text.trim().is_empty() {
        return Ok(HttpResponse::Ok().json(SearchResults { hits: Vec::new() }));
    }
    let hits = state.read(move |repo| repo.search(&query)).await?;
    Ok(HttpResponse::Ok().json(SearchResults {
        hits: hits.into_iter().map(SearchHitView::from).collect(),
    }))
}

/// Conversations and messages per month (UTC) and source.
#[utoipa::path(get, path = "/api/v1/stats", tag = "system",
    responses((status = 200, body = Stats)))]
pub async fn stats(state: State) -> Result<HttpResponse, ApiError> {
    let rows = state
        .read(|repo| {
            let conn = repo.connection();
            let mut out: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
            let mut stmt = conn.prepare_cached(
                "SELECT strftime('%Y-%m', created_at / 1000, 'unixepoch'), source, count(*)
                 FROM convos GROUP BY 1, 2",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let n: i64 = r.get(2)?;
                let key = (
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get(1)?,
                );
                out.entry(key).or_default().0 = u64::try_from(n).unwrap_or(0);
            }
            let mut stmt = conn.prepare_cached(
                "SELECT strftime('%Y-%m', coalesce(t.created_at, c.created_at) / 1000, 'unixepoch'),
                        c.source, count(*)
                 FROM convo_turns t JOIN convos c ON c.id = t.convo_id GROUP BY 1, 2",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let n: i64 = r.get(2)?;
                let key = (
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get(1)?,
                );
                out.entry(key).or_default().1 = u64::try_from(n).unwrap_or(0);
            }
            Ok(out)
        })
        .await?;
    let mut stats = Stats {
        conversations: 0,
        messages: 0,
        months: Vec::with_capacity(rows.len()),
    };
    for ((month, source), (conversations, messages)) in rows {
        stats.conversations += conversations;
        stats.messages += messages;
        let Ok(source) = source.parse::<Source>() else {
            continue;
        };
        stats.months.push(MonthStat {
            month,
            source,
            conversations,
            messages,
        });
    }
    Ok(HttpResponse::Ok().json(stats))
}
