//! `GET /series/{id}` and `DELETE /series/{id}`.

use axum::extract::{Path, State};
use axum::response::Response;
use futures::{StreamExt, TryStreamExt};
use shared::AppState;
use shared::domain::access::EventAction;
use shared::domain::{Id, Instant};
use shared::http::Caller;
use shared::http::access;
use shared::http::{ApiError, PageRequest, QueryMap, respond};
use shared::views::EventView;

fn series_id(raw: &str) -> Result<Id, ApiError> {
    Id::parse(raw).ok_or_else(|| ApiError::not_found("series"))
}

pub async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let series = series_id(&id)?;
    let scope = format!("series/{series}");
    let page = PageRequest::parse(&query, &state.tokens.cursor_key, &scope)?;
    let occurrences = state.store.series_events(series, &page).await?;
    if page.start.is_none() && occurrences.results.is_empty() && occurrences.next.is_none() {
        return Err(ApiError::not_found("series"));
    }
    Ok(occurrences.map(EventView::from).respond(&state.tokens.cursor_key, &scope))
}

/// Deletes the occurrences that have not started; those already under way or past stay.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let series = series_id(&id)?;
    let occurrences = state.store.all_series_events(series).await?;
    let Some(first) = occurrences.first() else {
        return Err(ApiError::not_found("series"));
    };
    access::authorize(&state, &caller, first, EventAction::Delete).await?;
    let now = Instant::now();
    let ahead: Vec<Id> = occurrences.iter().filter(|o| o.starts_at > now).map(|o| o.id).collect();
    let store = &state.store;
    futures::stream::iter(ahead)
        .map(|id| store.delete_event(id))
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(respond::no_content())
}
