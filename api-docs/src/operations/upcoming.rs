//! The upcoming function: `GET /events/upcoming` (`functions/upcoming`).

use utoipa::OpenApi;

use crate::responses::{BadQuery, PageParams, Unavailable, UpcomingFilters};
use shared::views::EventPage;

#[derive(OpenApi)]
#[openapi(paths(list_upcoming_events))]
pub struct Api;

/// Upcoming events
///
/// Events that have not started, ordered by `starts_at` then `id`, filtered by any combination
/// of the filters. Walking every page yields each matching event exactly once. Each request
/// reads a bounded amount, so with very selective filters a page can hold fewer than `limit`
/// events and still have a `next_cursor`. A page is the same for every caller and may be kept
/// for ten seconds (`Cache-Control: public, max-age=10`), so its counts can be that old.
#[utoipa::path(
    get,
    path = "/events/upcoming",
    tag = "events",
    params(UpcomingFilters, PageParams),
    responses(
        (status = 200, description = "A page of upcoming events.", body = EventPage,
            headers(("Cache-Control" = String, description = "`public, max-age=10`"))),
        BadQuery, Unavailable,
    ),
)]
fn list_upcoming_events() {}
