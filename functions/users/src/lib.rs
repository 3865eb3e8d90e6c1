//! The users function: sign-up, tokens, profiles, account deletion, notifications, personal
//! calendar feeds, email unsubscribe links and webhook endpoints; and the OpenAPI document of the whole API with its reference page
//! (`api-docs`).

mod accounts;
mod calendar;
mod inbox;
mod jwks;
mod sessions;
mod throttle;
mod unsubscribe;
mod webhooks;

use axum::Router;
use axum::routing::{get, post};
use shared::AppState;

/// Every path this function serves, with its methods: `template.yaml` routes these paths here,
/// and a test checks both against the router.
pub const ROUTES: shared::http::router::RouteList = &[
    ("/users", &["GET", "POST"]),
    ("/users/me", &["GET"]),
    ("/users/{id}", &["DELETE", "GET", "PATCH", "PUT"]),
    ("/auth/token", &["POST"]),
    ("/auth/refresh", &["POST"]),
    ("/auth/logout", &["POST"]),
    ("/auth/logout-all", &["POST"]),
    ("/.well-known/jwks.json", &["GET"]),
    ("/users/me/notifications", &["GET"]),
    ("/users/me/notifications/{id}/read", &["POST"]),
    ("/users/me/calendar", &["GET"]),
    ("/users/me/calendar/rotate", &["POST"]),
    ("/calendar/{token}/feed.ics", &["GET"]),
    ("/email/unsubscribe/{token}", &["GET", "POST"]),
    ("/users/me/webhooks", &["GET", "POST"]),
    ("/users/me/webhooks/{id}", &["DELETE", "GET"]),
    ("/users/me/webhooks/{id}/deliveries", &["GET"]),
    ("/openapi.json", &["GET"]),
    ("/docs", &["GET"]),
    ("/docs/{asset}", &["GET"]),
];

/// The routes this function serves, unfinished (see [`shared::http::finish`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", post(accounts::sign_up).get(accounts::list))
        .route("/users/me", get(accounts::me))
        .route(
            "/users/{id}",
            get(accounts::read).put(accounts::edit).patch(accounts::edit).delete(accounts::delete),
        )
        .route("/auth/token", post(sessions::log_in))
        .route("/auth/refresh", post(sessions::refresh))
        .route("/auth/logout", post(sessions::log_out))
        .route("/auth/logout-all", post(sessions::log_out_everywhere))
        .route("/.well-known/jwks.json", get(jwks::jwks))
        .route("/users/me/notifications", get(inbox::list))
        .route("/users/me/notifications/{id}/read", post(inbox::mark_read))
        .route("/users/me/calendar", get(calendar::url))
        .route("/users/me/calendar/rotate", post(calendar::rotate))
        .route("/calendar/{token}/feed.ics", get(calendar::feed))
        .route("/email/unsubscribe/{token}", get(unsubscribe::confirm).post(unsubscribe::unsubscribe))
        .route("/users/me/webhooks", post(webhooks::create).get(webhooks::list))
        .route("/users/me/webhooks/{id}", get(webhooks::read).delete(webhooks::delete))
        .route("/users/me/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .merge(api_docs::routes())
}

/// The finished router, as the Lambda binary serves it.
pub fn router(state: AppState) -> Router {
    shared::http::finish(routes(), state)
}
