//! `GET /users/me/notifications` and `POST /users/me/notifications/{id}/read`.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use shared::AppState;
use shared::domain::{Id, Instant};
use shared::http::Caller;
use shared::http::{ApiError, EmptyBody, PageRequest, QueryMap, respond};
use shared::store::items::{NotificationKind, NotificationRecord};

#[derive(Serialize)]
struct NotificationView {
    id: Id,
    kind: NotificationKind,
    event_id: Id,
    message: String,
    created_at: Instant,
    read: bool,
}

impl From<NotificationRecord> for NotificationView {
    fn from(n: NotificationRecord) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            event_id: n.event_id,
            message: n.message,
            created_at: n.created_at,
            read: n.read,
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let scope = format!("notifications/{}", caller.id());
    let page = PageRequest::parse(&query, &state.tokens.cursor_key, &scope)?;
    let notifications = state.store.notifications(caller.id(), &page).await?;
    Ok(notifications.map(NotificationView::from).respond(&state.tokens.cursor_key, &scope))
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
