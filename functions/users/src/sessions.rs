//! `POST /auth/token` and `POST /auth/refresh`: access tokens and rotating refresh tokens.

use axum::extract::State;
use axum::response::Response;
use shared::AppState;
use shared::auth::keys::{AccessSigningKey, KeyError};
use shared::auth::{Holder, RefreshToken, password};
use shared::domain::{Instant, Password, Username};
use shared::http::bodies::{LogIn, Refresh};
use shared::http::{ApiError, Caller, ClientAddress, EmptyBody, IdempotencyKey, JsonObject, respond};
use shared::records::UserRecord;
use shared::store::sessions::{Rotation, SessionTimes};
use shared::store::throttle::Subject;
use shared::telemetry::metrics;
use shared::views::{TokenPair, TokenType};

use crate::throttle::{LoginTallies, admit};

const BAD_CREDENTIALS: &str = "the username or password is incorrect";

/// The key to sign with, read before anything is stored: a request that cannot sign (Secrets
/// Manager unreachable: 503; a function without a key, or a key no function verifies: 500)
/// changes nothing.
async fn signing_key(state: &AppState) -> Result<AccessSigningKey, ApiError> {
    match state.tokens.signing_key().await {
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err(ApiError::Internal("this function holds no access-token signing key".into())),
        Err(KeyError::Unavailable(e)) => Err(e.into()),
        Err(e @ KeyError::Unusable(_)) => Err(ApiError::Internal(e.to_string())),
    }
}

/// A new access token with `refresh`.
fn issue(
    state: &AppState,
    key: &AccessSigningKey,
    user: &UserRecord,
    refresh: &RefreshToken,
    now: Instant,
) -> Result<TokenPair, ApiError> {
    let access_token = state
        .tokens
        .sign_access(key, Holder::from(user), now)
        .ok_or_else(|| ApiError::Internal("the access token could not be signed".into()))?;
    Ok(TokenPair {
        access_token,
        token_type: TokenType::Bearer,
        expires_in: state.tokens.access_ttl.as_secs(),
        refresh_token: refresh.expose(),
    })
}

/// How long a refresh token lasts unused, from `now`.
fn refresh_expiry(state: &AppState, now: Instant) -> Instant {
    now.plus_seconds(state.tokens.refresh_ttl.as_secs() as i64)
}

/// The times of a session begun at `now`.
fn new_session(state: &AppState, now: Instant) -> SessionTimes {
    SessionTimes {
        expires_at: refresh_expiry(state, now),
        session_expires_at: now.plus_seconds(state.tokens.session_lifetime.as_secs() as i64),
    }
}

/// Logins are counted per account and per client address before the password is checked (see
/// [`LoginTallies`]). A name no account can have is refused like a wrong password, without a
/// read: such a name would not even make a valid key.
pub async fn log_in(
    State(state): State<AppState>,
    address: ClientAddress,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let LogIn { username, password: secret } = LogIn::read(body)?;
    let account = Username::parse(&username).ok().map(|name| name.key());
    let tallies = LoginTallies::new(account.as_deref(), &address);
    let counts = tallies.count(&state).await?;
    if account.is_none() || secret.chars().count() > Password::MAX_CHARS {
        metrics::count(metrics::LOGINS_FAILED, 1);
        return Err(ApiError::unauthorized(BAD_CREDENTIALS));
    }
    let user = state.store.find_user_by_username(&username).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let valid = tokio::task::spawn_blocking(move || match hash {
        Some(hash) => password::verify(&secret, &hash),
        None => {
            password::verify_against_nothing(&secret);
            false
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(user) = user.filter(|_| valid) else {
        metrics::count(metrics::LOGINS_FAILED, 1);
        return Err(ApiError::unauthorized(BAD_CREDENTIALS));
    };
    // Before anything is written: a log-in that cannot sign changes nothing.
    let key = signing_key(&state).await?;
    tallies.succeeded(&state, counts).await?;
    let now = Instant::now();
    let refresh = RefreshToken::generate(user.id);
    let pair = issue(&state, &key, &user, &refresh, now)?;
    // Refused when the password changed since it was checked here.
    if !state.store.store_refresh_token(&refresh, user.session_version, new_session(&state, now)).await? {
        return Err(ApiError::unauthorized(BAD_CREDENTIALS));
    }
    Ok(respond::secret(&pair))
}

/// Refreshes are counted per client address: a token cannot be guessed, but each refresh costs
/// a transaction. A refresh sent with an `Idempotency-Key` may be sent again with the same key
/// for a short while, and gets the same new refresh token (see
/// `Store::rotate_refresh_token`).
pub async fn refresh(
    State(state): State<AppState>,
    address: ClientAddress,
    resend_key: Option<IdempotencyKey>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let Refresh { refresh_token } = Refresh::read(body)?;
    let by_address = Subject { what: "refresh-address", who: address.as_str() };
    admit(&state, by_address, &state.limits.refresh_per_address, "refreshes from this address").await?;
    let refused = || ApiError::unauthorized("the refresh token is unknown, expired, revoked or already used");
    let presented = RefreshToken::parse(&refresh_token).ok_or_else(refused)?;
    let user = state.store.find_user(presented.user_id).await?.ok_or_else(refused)?;
    let key = signing_key(&state).await?;
    let now = Instant::now();
    let successors = presented.successors(&state.tokens.refresh_key);
    let resend_key = resend_key.as_ref().map(IdempotencyKey::as_str);
    match state
        .store
        .rotate_refresh_token(&presented, &successors, resend_key, now, refresh_expiry(&state, now))
        .await?
    {
        Rotation::Rotated(next) => Ok(respond::secret(&issue(&state, &key, &user, &next, now)?)),
        Rotation::Refused => Err(refused()),
    }
}

/// Ends the session of the refresh token sent (every token descended from its login). Answers
/// 204 whether or not there was one to end, as token revocation does (RFC 7009 section 2.2):
/// the answer tells nothing about a token.
pub async fn log_out(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let Refresh { refresh_token } = Refresh::read(body)?;
    if let Some(presented) = RefreshToken::parse(&refresh_token) {
        state.store.end_session(&presented, Instant::now()).await?;
    }
    Ok(respond::no_content())
}

/// Ends every session of the caller, on every device: refresh tokens and access tokens alike
/// stop working at once, this request's access token included.
pub async fn log_out_everywhere(
    State(state): State<AppState>,
    caller: Caller,
    _: EmptyBody,
) -> Result<Response, ApiError> {
    if !state.store.end_all_sessions(caller.id()).await? {
        return Err(ApiError::invalid_token());
    }
    Ok(respond::no_content())
}
