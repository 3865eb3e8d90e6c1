//! The whole API as one router: every function's routes, finished once. The local server and the
//! API tests serve exactly this, so what is tested is what runs.

use axum::Router;
use shared::AppState;
use shared::http::router::RouteList;

/// Each function with the paths it serves, as `template.yaml` must route them.
pub const FUNCTIONS: &[(&str, RouteList)] = &[
    ("UsersFunction", users::ROUTES),
    ("EventsFunction", events::ROUTES),
    ("UpcomingFunction", upcoming::ROUTES),
    ("RegisterFunction", register::ROUTES),
];

/// Every function's routes behind one router.
pub fn app(state: AppState) -> Router {
    let routes = users::routes().merge(events::routes()).merge(upcoming::routes()).merge(register::routes());
    shared::http::finish(routes.with_state(state))
}
