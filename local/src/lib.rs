//! The whole API as one router: every function's routes, finished once. The local server and the
//! API tests serve exactly this, so what is tested is what runs. And the local stand-ins for the
//! reminders schedule and for the signing key's secret.

pub mod admission;
pub mod stream;

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;

pub use admission::Admission;
use shared::AppState;
use shared::domain::Instant;
use shared::http::router::RouteList;
use shared::store::{Store, role};

/// Each function with the paths it serves, as `template.yaml` must route them.
pub const FUNCTIONS: &[(&str, RouteList)] = &[
    ("UsersFunction", users::ROUTES),
    ("EventsFunction", events::ROUTES),
    ("UpcomingFunction", upcoming::ROUTES),
    ("RegisterFunction", register::ROUTES),
];

/// The scheduled function's logical id in `template.yaml`.
pub const REMINDERS_FUNCTION: &str = "RemindersFunction";

/// Every function's routes behind one router, working on requests as `admission` says. Each
/// function's routes do their work as that function (see [`shared::store::role`]), so DynamoDB
/// calls are attributed as on AWS.
pub fn app(state: AppState, admission: Admission) -> Router {
    let routes = acting_as("UsersFunction", users::routes())
        .merge(acting_as("EventsFunction", events::routes()))
        .merge(acting_as("UpcomingFunction", upcoming::routes()))
        .merge(acting_as("RegisterFunction", register::routes()));
    shared::http::finish(admission::admitting(routes, admission), state)
}

/// Serves [`app`] on `listener` until `shutdown` completes. Each request knows the address of
/// its connection's peer, which stands in for API Gateway's source IP (see
/// [`shared::http::ClientAddress`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    admission: Admission,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app(state, admission).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// `routes`, each request handled as `function`.
fn acting_as(function: &'static str, routes: Router<AppState>) -> Router<AppState> {
    routes.layer(axum::middleware::from_fn(move |request: Request, next: Next| {
        role::acting_as(function, next.run(request))
    }))
}

/// One run of the scheduled function's work, as that function.
pub async fn run_reminders(
    store: &Store,
    now: Instant,
    every: Duration,
) -> Result<reminders::Summary, shared::store::StoreError> {
    role::acting_as(REMINDERS_FUNCTION, reminders::run(store, now, every)).await
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
        match run_reminders(&store, Instant::now(), every).await {
            Ok(summary) if summary == reminders::Summary::default() => {}
            Ok(summary) => tracing::info!(?summary, "scheduled reminders run"),
            Err(error) => tracing::warn!(%error, "scheduled reminders run failed; the next one retries"),
        }
    }
}

/// One scheduled run of the dispatch function's webhook retries, as that function: every attempt
/// due by `now_ms`, for at most `budget`.
pub async fn retry_webhooks(
    dispatcher: &dispatch::Dispatcher,
    now_ms: u64,
    budget: Duration,
) -> Result<dispatch::webhooks::RetryRun, shared::store::StoreError> {
    role::acting_as(dispatch::FUNCTION, dispatcher.retry_webhooks(now_ms, budget)).await
}

/// Runs the dispatch function's webhook retries every `every`, as its EventBridge schedule does on
/// AWS (every minute there). Runs until the process ends.
pub async fn run_webhook_retries(dispatcher: std::sync::Arc<dispatch::Dispatcher>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        match retry_webhooks(&dispatcher, shared::store::unix_millis_now(), every).await {
            Ok(run) if run == dispatch::webhooks::RetryRun::default() => {}
            Ok(run) => tracing::info!(?run, "scheduled webhook retries"),
            Err(error) => {
                tracing::warn!(%error, "scheduled webhook retries failed; the next run tries again")
            }
        }
    }
}

/// Locally (`DYNAMODB_ENDPOINT` set), with `SECRETS_MANAGER_ENDPOINT` and
/// `ACCESS_TOKEN_SIGNING_KEY_SECRET` set: puts the development signing key (derived from
/// `JWT_SECRET`, so the same at every start) in that secret of the stand-in unless it is there,
/// as the template puts the deployed key in its secret. `Ok(false)` when there is nothing to do.
pub async fn seed_signing_key(config: &shared::Config) -> Result<bool, String> {
    let (Some(endpoint), Some(shared::config::SigningKeySource::Secret(id)), Some(_)) =
        (&config.secrets_manager_endpoint, &config.access_signing, &config.dynamodb_endpoint)
    else {
        return Ok(false);
    };
    let secrets = shared::store::secrets::Secrets::new(Some(endpoint.clone()), config.dynamodb_timeout);
    let key = shared::config::local_signing_key(config).expose();
    secrets.create_unless_present(id, &key).await.map(|()| true).map_err(|e| {
        format!("could not put the development signing key in the secret {id:?} at {endpoint}: {e}")
    })
}
