//! Registration handlers. Registering and cancelling trust the token alone for the caller's
//! identity: the store's transaction checks in the same round trip that the user still exists.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::AppState;
use shared::domain::access::EventAction;
use shared::domain::{Id, Instant};
use shared::http::access;
use shared::http::{ApiError, EmptyBody, PageRequest, QueryMap, respond};
use shared::http::{Caller, Claims};
use shared::records::RegistrationRecord;
use shared::records::RegistrationStatus;
use shared::store::registrations::{Placed, RegisterRefused, Registered};
use shared::telemetry::metrics;
use shared::views::RegistrationView;

fn event_id(raw: &str) -> Result<Id, ApiError> {
    Id::parse(raw).ok_or_else(|| ApiError::not_found("event"))
}

async fn placed(state: &AppState, registration: RegistrationRecord) -> Result<RegistrationView, ApiError> {
    let waitlist_position = state.store.waitlist_position(&registration).await?;
    Ok(Placed { registration, waitlist_position }.into())
}

pub async fn register(
    State(state): State<AppState>,
    caller: Claims,
    Path(id): Path<String>,
    _: EmptyBody,
) -> Result<Response, ApiError> {
    let event = event_id(&id)?;
    let outcome = state
        .store
        .register(event, caller.user_id, (&caller.claims.name, caller.claims.sv), Instant::now())
        .await?;
    match outcome {
        Ok(Registered::Created(registration)) => {
            metrics::count(
                match registration.status {
                    RegistrationStatus::Confirmed => metrics::REGISTRATIONS_CONFIRMED,
                    RegistrationStatus::Waitlisted => metrics::REGISTRATIONS_WAITLISTED,
                },
                1,
            );
            let waitlist_position = state.store.place_on_joining(&registration).await?;
            let view: RegistrationView = Placed { registration, waitlist_position }.into();
            Ok(respond::created(format!("/events/{event}/registrations/me"), &view))
        }
        Ok(Registered::Existing(registration)) => {
            Ok((StatusCode::OK, Json(placed(&state, registration).await?)).into_response())
        }
        Err(RegisterRefused::NoEvent) => Err(ApiError::not_found("event")),
        Err(RegisterRefused::Started) => {
            Err(ApiError::conflict("event-started", "the event has already started"))
        }
        Err(RegisterRefused::Full) => {
            metrics::count(metrics::REGISTRATIONS_REFUSED_FULL, 1);
            Err(ApiError::conflict("event-full", "the event is full and has no waitlist"))
        }
        Err(RegisterRefused::UserGone) => Err(ApiError::invalid_token()),
    }
}

pub async fn mine(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RegistrationView>, ApiError> {
    let event = event_id(&id)?;
    let registration = state
        .store
        .find_registration(event, caller.id())
        .await?
        .ok_or_else(|| ApiError::not_found("registration"))?;
    Ok(Json(placed(&state, registration).await?))
}

pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let event = event_id(&id)?;
    match state.store.cancel_registration(event, caller.id()).await? {
        Some(_) => Ok(respond::no_content()),
        None => Err(ApiError::not_found("registration")),
    }
}

pub async fn list_for_event(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let event_id = access::event_for(&state, &caller, &id, EventAction::ReadAttendees).await?.id;
    let scope = format!("event-registrations/{event_id}");
    let page = PageRequest::parse(&query, &state.tokens.cursor_key, &scope)?;
    let registrations = state.store.event_registrations(event_id, &page).await?;
    Ok(registrations.map(RegistrationView::from).respond(&state.tokens.cursor_key, &scope))
}

pub async fn list_mine(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let scope = format!("user-registrations/{}", caller.id());
    let page = PageRequest::parse(&query, &state.tokens.cursor_key, &scope)?;
    let registrations = state.store.user_registrations(caller.id(), &page).await?;
    Ok(registrations.map(RegistrationView::from).respond(&state.tokens.cursor_key, &scope))
}
