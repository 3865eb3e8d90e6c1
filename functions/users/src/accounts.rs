//! Sign-up, profiles, the admin list, profile edits and account deletion.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use shared::AppState;
use shared::auth::password;
use shared::domain::access;
use shared::domain::{Id, Instant, Password};
use shared::http::Caller;
use shared::http::bodies::{PatchUser, ProfileEdit, SignUp};
use shared::http::fields::checked;
use shared::http::idempotency::{self, Anonymous, Create};
use shared::http::{ApiError, ClientAddress, Edit, PageRequest, QueryMap, respond};
use shared::records::UserRecord;
use shared::store::INLINE_CLEANUP_BUDGET;
use shared::store::throttle::Subject;
use shared::store::users::{Taken, UpdateRefused, UserChanges};
use shared::views::UserView;

use crate::throttle::admit;

/// Hashing is deliberately slow; it runs off the async workers.
async fn hash_password(password: Password) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || password::hash(password.expose()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

async fn password_matches(candidate: String, hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || password::verify(&candidate, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn taken_conflict(taken: Taken) -> ApiError {
    let what = match (taken.username, taken.email) {
        (true, true) => "username and email are",
        (true, false) => "username is",
        _ => "email is",
    };
    ApiError::conflict("already-taken", format!("that {what} already taken"))
}

/// Sign-ups are counted per client address, once the body is valid. With an `Idempotency-Key`,
/// the same sign-up sent again gets the same answer, from whatever address (a phone that moved
/// from Wi-Fi to mobile data): the same request includes the same password, which only its
/// sender knows.
pub async fn sign_up(
    State(state): State<AppState>,
    address: ClientAddress,
    Create { body, idempotent, .. }: Create<Anonymous>,
) -> Result<Response, ApiError> {
    let SignUp { username, email, password } = SignUp::read(body)?;
    let by_address = Subject { what: "signup-address", who: address.as_str() };
    admit(&state, by_address, &state.limits.sign_up_per_address, "sign-ups from this address").await?;
    let now = Instant::now();
    let (username, email) = (username.as_str().to_owned(), email.as_str().to_owned());
    let user = UserRecord::new(username, email, hash_password(password).await?, now);
    let answer =
        idempotency::created(format!("/users/{}", user.id), &UserView::new(user.clone(), true), vec![])?;
    let created = state.store.create_user(&user, idempotent.remember(&answer, now)?).await;
    match idempotent.settle(&state, created).await? {
        Ok(outcome) => outcome.map_err(taken_conflict).map(|()| idempotency::respond(&answer)),
        Err(first) => Ok(first),
    }
}

pub async fn me(caller: Caller) -> Json<UserView> {
    Json(UserView::new(caller.0, true))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryMap,
) -> Result<Response, ApiError> {
    if !access::may_list_users(caller.is_admin()) {
        return Err(ApiError::forbidden("only admins may list users"));
    }
    let page = PageRequest::parse(&query, &state.tokens.cursor_key, "users")?;
    let users = state.store.list_users(&page).await?;
    Ok(users.map(|u| UserView::new(u, true)).respond(&state.tokens.cursor_key, "users"))
}

/// The user named by a path id; a malformed id is just an unknown one.
async fn target(state: &AppState, raw_id: &str) -> Result<UserRecord, ApiError> {
    let id = Id::parse(raw_id).ok_or_else(|| ApiError::not_found("user"))?;
    state.store.find_user(id).await?.ok_or_else(|| ApiError::not_found("user"))
}

pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = target(&state, &id).await?;
    let show_email = caller.may_act_on_account(user.id);
    Ok(Json(UserView::new(user, show_email)))
}

/// PUT (username and email required) and PATCH. A new password needs the current one, unless an
/// admin sets it.
pub async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Edit,
) -> Result<Json<UserView>, ApiError> {
    let user = target(&state, &id).await?;
    if !caller.may_act_on_account(user.id) {
        return Err(ApiError::forbidden("only the user or an admin may change this user"));
    }
    let edit = ProfileEdit {
        username: &user.username,
        email: &user.email,
        password_needs_current: access::password_change_needs_current(caller.is_admin()),
    };
    let PatchUser { username, email, password, current_password, email_notifications } = match body {
        Edit::Replace(fields) => edit.replace(fields)?.into(),
        Edit::Patch(fields) => edit.patch(fields)?,
    };
    if password.is_some() && edit.password_needs_current {
        let current = checked(current_password)?;
        if !password_matches(current, user.password_hash.clone()).await? {
            return Err(ApiError::forbidden("current_password does not match"));
        }
    }
    let password_hash = match password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let changes = UserChanges {
        username: username.map(|u| u.as_str().to_owned()),
        email: email.map(|e| e.as_str().to_owned()),
        password_hash,
        email_notifications,
    };
    match state.store.update_user(&user, changes, Instant::now()).await? {
        Ok(updated) => {
            // A new name, or one whose copy an earlier request did not finish.
            if updated.username_pending {
                state.store.propagate_username(&updated).await?;
            }
            Ok(Json(UserView::new(updated, true)))
        }
        Err(UpdateRefused::Taken(taken)) => Err(taken_conflict(taken)),
        Err(UpdateRefused::Changed) => Err(ApiError::conflict(
            "edit-conflict",
            "the user was changed by another request; fetch it and try again",
        )),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let user = target(&state, &id).await?;
    if !caller.may_act_on_account(user.id) {
        return Err(ApiError::forbidden("only the user or an admin may delete this user"));
    }
    state.store.delete_user(&user, INLINE_CLEANUP_BUDGET).await?;
    Ok(respond::no_content())
}
