//! `/api/models*`: what the frontend's model picker lists: the configured OpenAI-compatible
//! server's models (`GET {base_url}/models`), or the offline model.

use actix_web::{web, HttpResponse};

use super::wire::{CurrentModel, ModelView, Models};
use crate::state::ApiState;

type State = web::Data<ApiState>;

/// The models to choose from, the one used by default and the provider. When the model
/// server cannot list its models the answer still comes, with the configured model only and
/// `error` saying why.
pub(crate) async fn list(state: State) -> HttpResponse {
    let provider = state.provider();
    let current = provider.default_model().to_owned();
    let (ids, error) = match provider.list_models().await {
        Ok(ids) => (ids, None),
        Err(e) => {
            tracing::warn!(error = %e, "the model server did not list its models");
            let configured = if current.is_empty() {
                Vec::new()
            } else {
                vec![current.clone()]
            };
            (configured, Some(e.to_string()))
        }
    };
    // A server asked for its first model has not been asked yet: that is the one it would use.
    let current = match (current.is_empty(), ids.first()) {
        (true, Some(first)) => first.clone(),
        _ => current,
    };
    let models = ids
        .into_iter()
        .map(|id| ModelView {
            name: id.clone(),
            id,
            provider: provider.name().to_owned(),
        })
        .collect();
    HttpResponse::Ok().json(Models {
        models,
        current,
        provider: provider.name().to_owned(),
        error,
    })
}

/// The model used when a message names none.
pub(crate) async fn current(state: State) -> HttpResponse {
    let provider = state.provider();
    HttpResponse::Ok().json(CurrentModel {
        current: provider.default_model().to_owned(),
        provider: provider.name().to_owned(),
    })
}
