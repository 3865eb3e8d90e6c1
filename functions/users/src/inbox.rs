//! `GET /users/me/notifications` and `POST /users/me/notifications/{id}/read`.

use axum::extract::{Path, State};
use axum::response::Response;
use shared::AppState;
use shared::domain::Id;
use shared::http::Caller;
use shared::http::{ApiError, EmptyBody, PageRequest, QueryMap, respond};

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let scope = format!("notifications/{}", caller.id());
    let page = PageRequest::parse(&query, &state.tokens.cursor_key, &scope)?;
    let notifications = state.store.notifications(caller.id(), &page).await?;
    Ok(notifications.respond(&state.tokens.cursor_key, &scope))
}

pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    _: EmptyBody,
) -> Result<Response, ApiError> {
    let id = Id::parse(&id).ok_or_else(|| ApiError::not_found("notification"))?;
    if state.store.mark_notification_read(caller.id(), id).await? {
        Ok(respond::no_content())
    } else {
        Err(ApiError::not_found("notification"))
    }
}
