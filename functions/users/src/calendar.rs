//! Personal calendar feeds: the URL (`GET /users/me/calendar`), its rotation, and the feed
//! itself, which calendar apps fetch without any header: the token in the path is the credential.

use axum::extract::{Path, State};
use axum::response::Response;
use shared::AppState;
use shared::auth::feed::{feed_token, open_feed_token};
use shared::domain::Instant;
use shared::http::Caller;
use shared::http::links::{BaseUrl, calendar_response};
use shared::http::{ApiError, EmptyBody, respond};
use shared::views::FeedUrl;

fn feed_url(state: &AppState, base: &str, user: shared::domain::Id, version: u32) -> FeedUrl {
    let token = feed_token(&state.tokens.calendar_key, user, version);
    FeedUrl { url: format!("{base}/calendar/{token}/feed.ics") }
}

pub async fn url(State(state): State<AppState>, caller: Caller, BaseUrl(base): BaseUrl) -> Response {
    respond::secret(&feed_url(&state, &base, caller.id(), caller.0.calendar_version))
}

pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    _: EmptyBody,
) -> Result<Response, ApiError> {
    let version = state.store.rotate_calendar(caller.id()).await?.ok_or_else(ApiError::invalid_token)?;
    Ok(respond::secret(&feed_url(&state, &base, caller.id(), version)))
}

pub async fn feed(
    State(state): State<AppState>,
    Path(token): Path<String>,
    BaseUrl(base): BaseUrl,
) -> Result<Response, ApiError> {
    let unknown = || ApiError::not_found("calendar feed");
    let (user_id, version) = open_feed_token(&state.tokens.calendar_key, &token).ok_or_else(unknown)?;
    let user = state
        .store
        .find_user(user_id)
        .await?
        .filter(|u| u.calendar_version == version)
        .ok_or_else(unknown)?;
    let now = Instant::now();
    let events = state.store.upcoming_registrations(user.id, now).await?;
    let body = shared::calendar::feed_calendar(&user.username, &events, &base, now);
    Ok(calendar_response(body, "events.ics"))
}
