//! `GET /search`: full-text search over messages and titles (the store's `Repo::search`).

use actix_web::{web, HttpResponse};
use chat_store::SearchQuery;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dto::{SearchHitView, SearchResults};
use crate::error::{ApiError, ErrorBody};
use crate::params;
use crate::state::ApiState;

/// Largest number of search hits.
const MAX_HITS: u32 = 500;
/// Longest search text considered; the rest is ignored (a query this long is not typed).
const MAX_QUERY_CHARS: usize = 2000;

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
pub async fn search(
    state: web::Data<ApiState>,
    q: web::Query<SearchParams>,
) -> Result<HttpResponse, ApiError> {
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
