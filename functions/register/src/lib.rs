//! Routes of this function.

use axum::Router;
use shared::AppState;

/// Every path this function serves, with its methods.
pub const ROUTES: shared::http::router::RouteList = &[];

/// The routes this function serves, unfinished (see [`shared::http::finish`]).
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// The finished router, as the Lambda binary serves it.
pub fn router(state: AppState) -> Router {
    shared::http::finish(routes().with_state(state))
}
