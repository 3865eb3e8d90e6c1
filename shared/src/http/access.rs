//! The caller's standing on an event, read for the rules of [`crate::domain::access`]: every
//! handler that acts on an event beyond reading it asks here.

use crate::domain::Id;
use crate::domain::access::{EventAction, EventRole, Standing};
use crate::http::{ApiError, Caller};
use crate::records::EventRecord;
use crate::state::AppState;

/// The event `raw_id` names, if the caller may do `action` to it: a 404 when there is no such
/// event, a 403 when they may not.
pub async fn event_for(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
    action: EventAction,
) -> Result<EventRecord, ApiError> {
    let event = find_event(state, raw_id).await?;
    authorize(state, caller, &event, action).await?;
    Ok(event)
}

/// The event `raw_id` names; a 404 when there is none (or the id is not one).
pub async fn find_event(state: &AppState, raw_id: &str) -> Result<EventRecord, ApiError> {
    state.store.find_event(event_id(raw_id)?).await?.ok_or_else(|| ApiError::not_found("event"))
}

/// The event `raw_id` names if the caller may delete it, found even while a deletion of it is
/// unfinished (hidden but still there), so that deleting it again finishes what was cut short.
pub async fn event_to_delete(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
) -> Result<EventRecord, ApiError> {
    let event = state
        .store
        .find_event_as_stored(event_id(raw_id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    authorize(state, caller, &event, EventAction::Delete).await?;
    Ok(event)
}

/// An event id from a path; one that is not an id names no event (404).
pub fn event_id(raw_id: &str) -> Result<Id, ApiError> {
    Id::parse(raw_id).ok_or_else(|| ApiError::not_found("event"))
}

/// A 403 unless the caller may do `action` to `event`.
pub async fn authorize(
    state: &AppState,
    caller: &Caller,
    event: &EventRecord,
    action: EventAction,
) -> Result<(), ApiError> {
    if standing(state, caller, event).await?.may(action) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("{} do this to the event", action.who_may())))
    }
}

/// What the caller is to `event`. The team is read (consistently) only for someone who is
/// neither its organizer nor an admin, so a removed member is refused at once.
pub async fn standing(state: &AppState, caller: &Caller, event: &EventRecord) -> Result<Standing, ApiError> {
    let admin = caller.is_admin();
    let role = if caller.id() == event.organizer_id {
        EventRole::Organizer
    } else if admin {
        EventRole::Outsider
    } else {
        match state.store.team_role(event.id, caller.id()).await? {
            Some(role) => EventRole::Team(role),
            None => EventRole::Outsider,
        }
    };
    Ok(Standing { role, admin })
}
