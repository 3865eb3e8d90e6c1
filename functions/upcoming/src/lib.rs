//! The upcoming function: `GET /events/upcoming`, filtered and paginated.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use shared::AppState;
use shared::domain::Instant;
use shared::domain::upcoming::UpcomingFilter;
use shared::http::{ApiError, PageRequest, QueryMap};
use shared::views::EventView;

/// Every path this function serves, with its methods: `template.yaml` routes these paths here,
/// and a test checks both against the router.
pub const ROUTES: shared::http::router::RouteList = &[("/events/upcoming", &["GET"])];

/// The routes this function serves, unfinished (see [`shared::http::finish`]).
pub fn routes() -> Router<AppState> {
    Router::new().route("/events/upcoming", get(upcoming))
}

/// The finished router, as the Lambda binary serves it.
pub fn router(state: AppState) -> Router {
    shared::http::finish(routes(), state)
}

async fn upcoming(State(state): State<AppState>, query: QueryMap) -> Result<Response, ApiError> {
    let filter = UpcomingFilter::parse(|name| query.get(name)).map_err(ApiError::Validation)?;
    let scope = filter.scope();
    let page = PageRequest::parse(&query, &state.tokens.cursor_key, &scope)?;
    let (events, stats) = state.store.upcoming(&filter, &page, Instant::now()).await?;
    tracing::info!(
        round_trips = stats.round_trips,
        items_read = stats.items_read,
        returned = events.results.len(),
        "upcoming page"
    );
    let mut response = events.map(EventView::from).respond(&state.tokens.cursor_key, &scope);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(SHARED_FOR));
    Ok(response)
}

/// A page is the same for every caller, so a CDN or browser may keep it a few seconds: under a
/// crowd, the same first pages are then read from the table once per interval, not once per
/// visitor. The price is counts (`seats_left`) and a just-started event shown up to that long.
const SHARED_FOR: &str = "public, max-age=10";
