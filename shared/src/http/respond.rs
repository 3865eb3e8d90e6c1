//! Success responses with a status other than 200.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// 201 with a `Location` header and the created resource.
pub fn created<T: Serialize>(location: String, body: &T) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// 204.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// 200 with a body that holds a credential (tokens, a private feed URL): no cache, shared or
/// private, may keep it (RFC 9111 section 5.2.2.5; RFC 6749 section 5.1 asks it of token
/// responses, with `Pragma: no-cache` for HTTP/1.0 caches).
pub fn secret<T: Serialize>(body: &T) -> Response {
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
