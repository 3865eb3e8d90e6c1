//! An event's team: `PUT`, `GET` and `DELETE` under `/events/{id}/team` (organizer or admin).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::AppState;
use shared::domain::access::EventAction;
use shared::domain::{Instant, Username};
use shared::http::bodies::TeamRoleBody;
use shared::http::{ApiError, Caller, JsonObject, PageRequest, QueryMap, access, respond};
use shared::records::{TeamMemberRecord, UserRecord};
use shared::store::team::TeamChange;
use shared::views::TeamMemberView;

/// Puts a user on the team as co-host or door staff, or changes their role: 201 when added,
/// 200 when they were on it already.
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, username)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let event = access::event_for(&state, &caller, &id, EventAction::ManageTeam).await?;
    let TeamRoleBody { role } = TeamRoleBody::read(body)?;
    let user = find_user(&state, &username).await?.ok_or_else(|| ApiError::not_found("user"))?;
    if user.id == event.organizer_id {
        return Err(ApiError::conflict("organizer-on-team", "the organizer runs the event already"));
    }
    let member = TeamMemberRecord { event_id: event.id, user_id: user.id, role, added_at: Instant::now() };
    let view = |member: TeamMemberRecord| TeamMemberView::new(member, user.username.clone());
    match state.store.put_team_member(&member).await? {
        TeamChange::Added => {
            Ok(respond::created(format!("/events/{}/team/{}", event.id, user.username), &view(member)))
        }
        TeamChange::RoleSet => {
            let stored = state.store.team_member(event.id, user.id).await?.unwrap_or(member);
            Ok((StatusCode::OK, Json(view(stored))).into_response())
        }
        TeamChange::NoEvent => Err(ApiError::not_found("event")),
    }
}

/// The team, a page at a time.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let event = access::event_for(&state, &caller, &id, EventAction::ManageTeam).await?;
    let scope = format!("event-team/{}", event.id);
    let page = PageRequest::parse(&query, &state.tokens.cursor_key, &scope)?;
    let team = state.store.team(event.id, &page).await?;
    Ok(team.map(|(member, name)| TeamMemberView::new(member, name)).respond(&state.tokens.cursor_key, &scope))
}

/// Takes someone off the team: from then on they are refused what the role allowed.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, username)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let event = access::event_for(&state, &caller, &id, EventAction::ManageTeam).await?;
    let not_member = || ApiError::not_found("team member");
    let user = find_user(&state, &username).await?.ok_or_else(not_member)?;
    if state.store.remove_team_member(event.id, user.id).await? {
        Ok(respond::no_content())
    } else {
        Err(not_member())
    }
}

/// The user a path names; none for a name no user can have (never a key DynamoDB would refuse).
async fn find_user(state: &AppState, username: &str) -> Result<Option<UserRecord>, ApiError> {
    let Ok(username) = Username::parse(username) else { return Ok(None) };
    Ok(state.store.find_user_by_username(username.as_str()).await?)
}
