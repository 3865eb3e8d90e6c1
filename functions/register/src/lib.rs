//! The register function: registrations, cancellations, the lists of both sides, tickets,
//! check-in at the door and the attendee export.

mod door;
mod export;
mod handlers;

use axum::Router;
use axum::routing::{delete, get, post};
use shared::AppState;

/// Every path this function serves, with its methods: `template.yaml` routes these paths here,
/// and a test checks both against the router.
pub const ROUTES: shared::http::router::RouteList = &[
    ("/events/{id}/registrations", &["GET", "POST"]),
    ("/events/{id}/registrations/me", &["DELETE", "GET"]),
    ("/events/{id}/registrations/me/ticket", &["GET"]),
    ("/events/{id}/registrations/me/ticket.svg", &["GET"]),
    ("/events/{id}/attendees.csv", &["GET"]),
    ("/events/{id}/checkins", &["POST"]),
    ("/events/{id}/checkins/{user_id}", &["DELETE"]),
    ("/users/me/registrations", &["GET"]),
];

/// The routes this function serves, unfinished (see [`shared::http::finish`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{id}/registrations", get(handlers::list_for_event).post(handlers::register))
        .route("/events/{id}/registrations/me", get(handlers::mine).delete(handlers::cancel))
        .route("/events/{id}/registrations/me/ticket", get(door::ticket))
        .route("/events/{id}/registrations/me/ticket.svg", get(door::ticket_svg))
        .route("/events/{id}/attendees.csv", get(export::attendees_csv))
        .route("/events/{id}/checkins", post(door::check_in))
        .route("/events/{id}/checkins/{user_id}", delete(door::undo_check_in))
        .route("/users/me/registrations", get(handlers::list_mine))
}

/// The finished router, as the Lambda binary serves it.
pub fn router(state: AppState) -> Router {
    shared::http::finish(routes(), state)
}
