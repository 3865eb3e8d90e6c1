//! Extractors for the caller of an authenticated route.
//!
//! [`Caller`] verifies the access token and then reads the user (one consistent GetItem): a
//! deleted user's token stops working at once, and the role is the stored one, so a demotion
//! takes effect immediately. [`Claims`] only verifies the token, for routes whose single store
//! call checks the user's existence itself inside its transaction.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::auth::AccessClaims;
use crate::domain::Id;
use crate::domain::access;
use crate::http::ApiError;
use crate::records::UserRecord;
use crate::state::AppState;

/// The authenticated user, as stored now.
#[derive(Debug, Clone)]
pub struct Caller(pub UserRecord);

impl Caller {
    pub fn id(&self) -> Id {
        self.0.id
    }

    pub fn is_admin(&self) -> bool {
        self.0.role.is_admin()
    }

    /// Whether the caller may act on the account of `owner` (see [`access::may_act_on_account`]).
    pub fn may_act_on_account(&self, owner: Id) -> bool {
        access::may_act_on_account(self.id(), self.is_admin(), owner)
    }
}

/// The id of a caller whose access token has been verified, left in the request's extensions by
/// [`Claims`] (and so by [`Caller`]) for what reads the request after them: a create's
/// idempotency scope ([`super::idempotency::Create`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verified(pub Id);

/// The verified claims of the access token, without reading storage.
#[derive(Debug, Clone)]
pub struct Claims {
    pub user_id: Id,
    pub claims: AccessClaims,
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "this route needs an access token: Authorization: Bearer <token>",
        ));
    };
    let value = value.to_str().map_err(|_| ApiError::invalid_token())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(ApiError::invalid_token)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::invalid_token());
    }
    Ok(token.trim())
}

impl FromRequestParts<AppState> for Claims {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let claims = state.tokens.verify_access(bearer(parts)?).ok_or_else(ApiError::invalid_token)?;
        let user_id = claims.user_id().ok_or_else(ApiError::invalid_token)?;
        parts.extensions.insert(Verified(user_id));
        Ok(Claims { user_id, claims })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let claims = Claims::from_request_parts(parts, state).await?;
        let user = state.store.find_user(claims.user_id).await?.ok_or_else(ApiError::invalid_token)?;
        // Issued before a password change or a sign-out everywhere.
        if user.session_version != claims.claims.sv {
            return Err(ApiError::invalid_token());
        }
        Ok(Caller(user))
    }
}
