//! One-click unsubscribe from the links every email carries (RFC 8058): the token in the path is
//! the credential, signed for one user, so the link works without signing in.
//!
//! - `POST /email/unsubscribe/{token}` turns the user's email off. Mail clients send it when the
//!   reader presses "unsubscribe" (body `List-Unsubscribe=One-Click`, form-encoded, which is read
//!   for nothing: the token says everything), and so does the page below.
//! - `GET` of the same link (the footer link, opened in a browser) changes nothing: it answers a
//!   page with a button that sends the `POST`, since link scanners in mail systems fetch every
//!   link they see, and must not unsubscribe anyone.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use shared::AppState;
use shared::http::ApiError;

fn page(body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Email from the Event Management API</title></head>\
         <body style=\"font-family: sans-serif; max-width: 40em; margin: 2em auto;\">{body}</body></html>"
    );
    let mut response = html.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The page's one form posts to itself; nothing else may run or be framed.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; form-action 'self'; frame-ancestors 'none'"),
    );
    response
}

fn unknown() -> ApiError {
    ApiError::not_found("unsubscribe link")
}

pub async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    state.tokens.unsubscribed_user(&token).ok_or_else(unknown)?;
    Ok(page(
        "<h1>Stop emails?</h1><p>You will no longer get email about your registrations and events. \
         You can turn email on again in your profile (<code>email_notifications</code>).</p>\
         <form method=\"post\"><button type=\"submit\">Stop emails</button></form>",
    ))
}

pub async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let user = state.tokens.unsubscribed_user(&token).ok_or_else(unknown)?;
    if !state.store.turn_emails_off(user).await? {
        return Err(unknown());
    }
    Ok(page("<h1>Done</h1><p>You will no longer get email from the Event Management API.</p>"))
}
