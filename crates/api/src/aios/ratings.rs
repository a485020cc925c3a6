//! `/api/ratings/*`: thumbs up or down on an answer, kept in our ratings (which the fine-tuning
//! export reads), and their counts.

use actix_web::{web, HttpResponse};
use chat_model::{ConversationId, MessageId, RatingValue};

use super::wire::{Rate, Rated, RatingStats};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::params;
use crate::state::ApiState;

type State = web::Data<ApiState>;

/// Rates one of our messages `up` or `down` (a new rating replaces the old one); 404 for a
/// message we do not know (or that is not in `conversation_id`, when given).
pub(crate) async fn rate(state: State, body: JsonBody<Rate>) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let value = match body.rating.trim() {
        "up" => RatingValue::Up,
        "down" => RatingValue::Down,
        other => {
            return Err(ApiError::invalid(format!(
                "rating must be up or down, not {other:?}"
            )))
        }
    };
    let conversation = params::given_str(body.conversation_id.as_deref())
        .map(|c| ConversationId::from_string(c.to_owned()));
    let finetune_saved = state
        .aios()
        .rate(
            MessageId::from_string(body.message_id),
            conversation,
            value,
            body.reason,
        )
        .await?;
    let message = match (value, finetune_saved) {
        (RatingValue::Up, true) => "Response saved as training example",
        (RatingValue::Up, false) => {
            "Rating saved; only a complete answer to a question goes into the fine-tuning export"
        }
        (RatingValue::Down, _) => "Feedback recorded - thank you!",
    };
    Ok(HttpResponse::Ok().json(Rated {
        success: true,
        message,
        finetune_saved,
    }))
}

/// How many answers are rated up and down.
pub(crate) async fn stats(state: State) -> Result<HttpResponse, ApiError> {
    let counts = state.read(|repo| repo.rating_counts()).await?;
    Ok(HttpResponse::Ok().json(RatingStats {
        total_approved: counts.up,
        total_negative: counts.down,
        total_rated: counts.up + counts.down,
        finetune_export: "/api/v1/export?format=finetune",
    }))
}
