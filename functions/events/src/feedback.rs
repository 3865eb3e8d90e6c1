//! `POST /events/{id}/feedback` and `GET /events/{id}/feedback`.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use shared::AppState;
use shared::domain::{Id, Instant};
use shared::http::Caller;
use shared::http::access::{self, find_event as find};
use shared::http::bodies::NewFeedback;
use shared::http::idempotency::{self, Create};
use shared::http::{ApiError, PageRequest, QueryMap};
use shared::records::FeedbackRecord;
use shared::store::feedback::FeedbackRefused;
use shared::views::{FeedbackPage, FeedbackView};

/// With an `Idempotency-Key`, the same feedback sent again gets the same answer.
pub async fn give(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Create { body, idempotent, .. }: Create,
) -> Result<Response, ApiError> {
    let event_id = access::event_id(&id)?;
    let NewFeedback { rating, comment } = NewFeedback::read(body)?;
    let now = Instant::now();
    let record = FeedbackRecord {
        id: Id::new(),
        event_id,
        user_id: caller.id(),
        username: caller.0.username.clone(),
        rating,
        comment,
        created_at: now,
    };
    let answer = idempotency::created(
        format!("/events/{event_id}/feedback"),
        &FeedbackView::from(record.clone()),
        vec![],
    )?;
    let given = state.store.give_feedback(&record, now, idempotent.remember(&answer, now)?).await;
    let outcome = match idempotent.settle(&state, given).await? {
        Ok(outcome) => outcome,
        Err(first) => return Ok(first),
    };
    match outcome {
        Ok(()) => Ok(idempotency::respond(&answer)),
        Err(FeedbackRefused::NoEvent) => Err(ApiError::not_found("event")),
        Err(FeedbackRefused::NotAttendee) => {
            Err(ApiError::forbidden("only confirmed attendees may give feedback"))
        }
        Err(FeedbackRefused::AlreadyGiven) => {
            Err(ApiError::conflict("feedback-exists", "you have already given feedback on this event"))
        }
        Err(FeedbackRefused::NotStarted) => {
            Err(ApiError::conflict("event-not-started", "feedback opens once the event has started"))
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Json<FeedbackPage>, ApiError> {
    let scope = format!("feedback/{id}");
    let page = PageRequest::parse(&query, &state.tokens.cursor_key, &scope)?;
    let event = find(&state, &id).await?;
    let feedback = state.store.feedback(event.id, &page).await?;
    let (results, next_cursor) = feedback.map(FeedbackView::from).seal(&state.tokens.cursor_key, &scope);
    Ok(Json(FeedbackPage {
        results,
        next_cursor,
        // The exact mean: rounding is for whoever displays it.
        average_rating: event.average_rating(),
        count: event.rating_count,
    }))
}
