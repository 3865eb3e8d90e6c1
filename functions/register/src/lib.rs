//! The register function: registrations, cancellations and the lists of both sides.

mod handlers;

use axum::Router;
use axum::routing::get;
use shared::AppState;

/// Every path this function serves, with its methods: `template.yaml` routes these paths here,
/// and a test checks both against the router.
pub const ROUTES: shared::http::router::RouteList = &[
    ("/events/{id}/registrations", &["GET", "POST"]),
    ("/events/{id}/registrations/me", &["DELETE", "GET"]),
    ("/users/me/registrations", &["GET"]),
];

/// The routes this function serves, unfinished (see [`shared::http::finish`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{id}/registrations", get(handlers::list_for_event).post(handlers::register))
        .route("/events/{id}/registrations/me", get(handlers::mine).delete(handlers::cancel))
        .route("/users/me/registrations", get(handlers::list_mine))
}

/// The finished router, as the Lambda binary serves it.
pub fn router(state: AppState) -> Router {
    shared::http::finish(routes(), state)
}
