//! `GET /.well-known/jwks.json`: the public keys that verify access tokens, as a JWK Set, so
//! other services can check a token without any secret.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use shared::AppState;

/// Caches may keep the set five minutes: a new key is published well before it signs anything
/// (see the README's key rotation), so a verifier never meets a key it could not have fetched.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut response = Json(state.tokens.jwks()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
