//! `GET /events/{id}/stats`: an event's numbers for its organizer, co-hosts and admins.

use axum::Json;
use axum::extract::{Path, State};
use shared::AppState;
use shared::domain::access::EventAction;
use shared::http::{ApiError, Caller, access};
use shared::views::StatsView;

pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StatsView>, ApiError> {
    let event = access::event_for(&state, &caller, &id, EventAction::ReadStats).await?;
    Ok(Json(state.store.event_stats(event).await?.into()))
}
