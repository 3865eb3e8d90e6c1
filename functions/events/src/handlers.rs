//! Event handlers: route → extract → authorize → domain → one store call → response.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::Response;
use shared::AppState;
use shared::domain::access::EventAction;
use shared::domain::recurrence::Recurrence;
use shared::domain::{EventDraft, Id, Instant, category};
use shared::http::Caller;
use shared::http::access;
use shared::http::bodies::{NewEvent, PatchEvent, ReplaceEvent};
use shared::http::idempotency::{self, Create};
use shared::http::links::{BaseUrl, calendar_response};
use shared::http::{ApiError, Edit, respond};
use shared::records::EventRecord;
use shared::store::deadline;
use shared::store::events::EditRefused;
use shared::views::EventView;

use crate::body;

/// One event, or a series with its first occurrence answered. With an `Idempotency-Key`, the
/// same request sent again gets the same answer and creates nothing more.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Create { body, idempotent, .. }: Create,
) -> Result<Response, ApiError> {
    let now = Instant::now();
    let (draft, recurrence) = NewEvent::read(body, now)?.into_parts();
    let organizer = (caller.id(), caller.0.username.as_str());
    let Some(recurrence) = recurrence else {
        let event = EventRecord::new(Id::new(), organizer, None, &draft, now);
        let answer =
            idempotency::created(format!("/events/{}", event.id), &EventView::from(event.clone()), vec![])?;
        let created = state.store.create_event(&event, idempotent.remember(&answer, now)?).await;
        return match idempotent.settle(&state, created).await? {
            Ok(true) => Ok(idempotency::respond(&answer)),
            Ok(false) => Err(ApiError::invalid_token()),
            Err(first) => Ok(first),
        };
    };
    let occurrences = series(&draft, &recurrence, organizer, now)?;
    let first = occurrences.first().ok_or_else(|| ApiError::Internal("empty series".into()))?;
    let link = (
        header::LINK.as_str().to_owned(),
        format!("</series/{}>; rel=\"series\"", first.series_id.unwrap_or(first.id)),
    );
    let answer =
        idempotency::created(format!("/events/{}", first.id), &EventView::from(first.clone()), vec![link])?;
    let created = state.store.create_series(&occurrences, idempotent.remember(&answer, now)?).await;
    match idempotent.settle(&state, created).await? {
        Ok(true) => Ok(idempotency::respond(&answer)),
        Ok(false) => Err(ApiError::invalid_token()),
        Err(first) => Ok(first),
    }
}

/// The occurrences of a new series, each a new event of `draft` at one of the recurrence's starts.
fn series(
    draft: &EventDraft,
    recurrence: &Recurrence,
    organizer: (Id, &str),
    now: Instant,
) -> Result<Vec<EventRecord>, ApiError> {
    let starts = recurrence
        .occurrences(draft.starts_at, draft.timezone)
        .map_err(|message| ApiError::validation("recurrence", message))?;
    let length = draft.ends_at.map(|end| end.unix() - draft.starts_at.unix());
    let series_id = Id::new();
    starts
        .into_iter()
        .map(|start| {
            let mut occurrence = draft.clone();
            occurrence.starts_at = start;
            occurrence.ends_at =
                length.map(|secs| start.checked_plus_seconds(secs)).transpose().map_err(|e| {
                    ApiError::validation("recurrence", format!("has an occurrence whose end {e}"))
                })?;
            Ok(EventRecord::new(Id::new(), organizer, Some(series_id), &occurrence, now))
        })
        .collect()
}

pub async fn read(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<EventView>, ApiError> {
    Ok(Json(access::find_event(&state, &id).await?.into()))
}

/// PUT (a full replacement of the writable fields) or PATCH. The edit is computed from the event
/// as read and saved only if nobody edited it meanwhile; otherwise it is re-applied to the fresh
/// event after a backoff, while the request has time (one edit wins each round, so racing edits
/// all get through). An edit still losing near the deadline is a 409: the client should look at
/// the event as it is now before trying again.
pub async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    edit: Edit,
) -> Result<Json<EventView>, ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = access::event_for(&state, &caller, &id, EventAction::Edit).await?;
        let now = Instant::now();
        let draft = match &edit {
            Edit::Replace(body) => ReplaceEvent::read(body.clone(), now, current.starts_at)?.into_draft(),
            Edit::Patch(body) => {
                let stored = body::stored_draft(&current)?;
                let patch = PatchEvent::read(body.clone(), &stored, now)?;
                stored.apply(patch.into())
            }
        };
        let next = current.edited(&draft, now);
        if !current.changes_anything(&next) {
            return Ok(Json(current.into()));
        }
        match state.store.save_event_edit(&current, &next).await? {
            Ok(pending) => {
                // The edit is saved and its follow-up recorded: a failure from here on is the
                // scheduled function's to finish, not a 503 for an edit that was made.
                if let Err(error) = state.store.finish_edit(&pending).await {
                    tracing::warn!(event_id = %next.id, %error, "an edit's follow-up was cut short; it is finished later");
                }
                let fresh = deadline::after_commit(state.store.find_event(next.id)).await;
                return Ok(Json(fresh.ok().flatten().unwrap_or(next).into()));
            }
            Err(EditRefused::Changed) => {
                if deadline::pause(attempt, "an event edit racing other edits").await.is_err() {
                    return Err(ApiError::conflict(
                        "edit-conflict",
                        "the event kept changing; fetch it and try again",
                    ));
                }
            }
            Err(EditRefused::Gone) => return Err(ApiError::not_found("event")),
            Err(EditRefused::BelowConfirmed { confirmed }) => {
                return Err(ApiError::conflict(
                    "capacity-below-confirmed",
                    format!("capacity cannot go below the {confirmed} seats already confirmed"),
                ));
            }
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let event = access::event_to_delete(&state, &caller, &id).await?;
    state.store.delete_event(event.id).await?;
    Ok(respond::no_content())
}

pub async fn calendar(
    State(state): State<AppState>,
    Path(id): Path<String>,
    BaseUrl(base): BaseUrl,
) -> Result<Response, ApiError> {
    let event = access::find_event(&state, &id).await?;
    let body = shared::calendar::event_calendar(&event, &base, Instant::now());
    Ok(calendar_response(body, &format!("{}.ics", event.id)))
}

pub async fn categories() -> Json<&'static [category::Category]> {
    Json(category::ALL)
}
