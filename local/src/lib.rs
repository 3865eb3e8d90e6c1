//! The whole API as one router: every function's routes, finished once. The local server and the
//! API tests serve exactly this, so what is tested is what runs. And the local stand-in for the
//! reminders schedule.

use std::time::Duration;

use axum::Router;
use shared::AppState;
use shared::domain::Instant;
use shared::http::router::RouteList;
use shared::store::Store;

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

/// Runs the reminders function's work every `every`, as EventBridge does on AWS (every 15
/// minutes there): reminders due within 24 hours, then deferred user cleanups. A run never takes
/// longer than the interval; overlapping or repeated runs are harmless anyway (exactly-once is
/// DynamoDB's doing). Runs until the process ends.
pub async fn run_schedule(store: Store, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        match reminders::run(&store, Instant::now(), every).await {
            Ok(summary) if summary == reminders::Summary::default() => {}
            Ok(summary) => tracing::info!(?summary, "scheduled reminders run"),
            Err(error) => tracing::warn!(%error, "scheduled reminders run failed; the next one retries"),
        }
    }
}
