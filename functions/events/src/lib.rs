//! The events function: event CRUD, teams, stats, series, calendar files, feedback and the category list.

mod body;
mod feedback;
mod handlers;
mod series;
mod stats;
mod team;

use axum::Router;
use axum::routing::{get, post, put};
use shared::AppState;

/// Every path this function serves, with its methods: `template.yaml` routes these paths here,
/// and a test checks both against the router.
pub const ROUTES: shared::http::router::RouteList = &[
    ("/events", &["POST"]),
    ("/events/{id}", &["DELETE", "GET", "PATCH", "PUT"]),
    ("/events/{id}/calendar.ics", &["GET"]),
    ("/events/{id}/feedback", &["GET", "POST"]),
    ("/events/{id}/stats", &["GET"]),
    ("/events/{id}/team", &["GET"]),
    ("/events/{id}/team/{username}", &["DELETE", "PUT"]),
    ("/series/{id}", &["DELETE", "GET"]),
    ("/categories", &["GET"]),
];

/// The routes this function serves, unfinished (see [`shared::http::finish`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events", post(handlers::create))
        .route(
            "/events/{id}",
            get(handlers::read).put(handlers::edit).patch(handlers::edit).delete(handlers::delete),
        )
        .route("/events/{id}/calendar.ics", get(handlers::calendar))
        .route("/events/{id}/feedback", get(feedback::list).post(feedback::give))
        .route("/events/{id}/stats", get(stats::read))
        .route("/events/{id}/team", get(team::list))
        .route("/events/{id}/team/{username}", put(team::put).delete(team::remove))
        .route("/series/{id}", get(series::list).delete(series::delete))
        .route("/categories", get(handlers::categories))
}

/// The finished router, as the Lambda binary serves it.
pub fn router(state: AppState) -> Router {
    shared::http::finish(routes(), state)
}
