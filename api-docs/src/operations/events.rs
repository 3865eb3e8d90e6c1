//! The events function: event CRUD, calendar files, feedback, series and categories
//! (`functions/events`).

use shared::domain::Category;
use shared::http::bodies::{NewEvent, NewFeedback, PatchEvent, ReplaceEvent, TeamRoleBody};
use shared::views::{EventView, FeedbackView, StatsView, TeamMemberView};
use utoipa::{IntoResponses, OpenApi};

use crate::responses::{
    BadQuery, BodyErrors, EventId, IdempotencyKeyHeader, KeyReused, NotFound, OwnerErrors, PROBLEM,
    PageParams, SeriesId, TeamMemberName, Unauthorized, Unavailable, problem_example,
};
use shared::http::problem::Problem;
use shared::views::{EventPage, FeedbackPage, TeamPage};

#[derive(OpenApi)]
#[openapi(paths(
    create_event,
    get_event,
    replace_event,
    patch_event,
    delete_event,
    get_event_calendar,
    list_feedback,
    give_feedback,
    event_stats,
    list_team,
    put_team_member,
    remove_team_member,
    list_series,
    delete_series,
    list_categories,
))]
pub struct Api;

/// The 409 of both ways to change an event (`PUT` and `PATCH`).
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "`capacity` is below the seats already confirmed, or the event kept changing under \
        concurrent edits.",
    content_type = PROBLEM,
    example = json!(problem_example(
        "capacity-below-confirmed", "Conflict", 409,
        "capacity cannot go below the 12 seats already confirmed",
    )),
)]
struct EventConflict(Problem<'static>);

/// Create an event
///
/// The caller becomes its organizer. With `recurrence`, one event is created per occurrence
/// (each with its own capacity and registrations, all sharing `series_id`), and the first is
/// returned with a `Link` to the series.
#[utoipa::path(
    post,
    path = "/events",
    tag = "events",
    params(IdempotencyKeyHeader),
    request_body = NewEvent,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The event (the first occurrence of a series).", body = EventView,
            headers(
                ("Location" = String, description = "The event's URL, `/events/{id}`."),
                ("Link" = String, description = "For a series only: `</series/{id}>; rel=\"series\"`."),
                ("Idempotent-Replayed" = String, description = "`true` when this is the answer to an earlier request with the same `Idempotency-Key`."),
            )),
        BodyErrors, KeyReused, Unauthorized, Unavailable,
    ),
)]
fn create_event() {}

/// An event
#[utoipa::path(
    get,
    path = "/events/{id}",
    tag = "events",
    params(EventId),
    responses(
        (status = 200, description = "The event with its live counters.", body = EventView),
        NotFound, Unavailable,
    ),
)]
fn get_event() {}

/// Replace an event (organizer or admin)
///
/// Sets every writable field; optional ones left out take their defaults. Attendees are notified.
#[utoipa::path(
    put,
    path = "/events/{id}",
    tag = "events",
    params(EventId),
    request_body = ReplaceEvent,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated event.", body = EventView),
        EventConflict, BodyErrors, OwnerErrors, NotFound, Unavailable,
    ),
)]
fn replace_event() {}

/// Change an event (organizer or admin)
///
/// Changes only the fields given. Attendees are notified.
#[utoipa::path(
    patch,
    path = "/events/{id}",
    tag = "events",
    params(EventId),
    request_body = PatchEvent,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated event.", body = EventView),
        EventConflict, BodyErrors, OwnerErrors, NotFound, Unavailable,
    ),
)]
fn patch_event() {}

/// Delete an event (organizer or admin)
///
/// Its registrations go with it; attendees are notified.
#[utoipa::path(
    delete,
    path = "/events/{id}",
    tag = "events",
    params(EventId),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        OwnerErrors, NotFound, Unavailable,
    ),
)]
fn delete_event() {}

/// An event as an iCalendar file
///
/// One VEVENT (RFC 5545) with a stable UID, times in UTC.
#[utoipa::path(
    get,
    path = "/events/{id}/calendar.ics",
    tag = "events",
    params(EventId),
    responses(
        (status = 200, description = "The calendar file.", content_type = "text/calendar", body = String,
            headers(
                ("Content-Disposition" = String, description = "`inline; filename=\"<id>.ics\"`."),
                ("Cache-Control" = String, description = "`private, max-age=300`."),
            ),
            example = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Event Management API//EN\r\n\
                CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\n\
                UID:01JQ8Z4B2C3D4E5F6G7H8J9K0M@events-api\r\nSUMMARY:Rust Lisbon\r\n\
                DTSTART:20270301T170000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
        NotFound, Unavailable,
    ),
)]
fn get_event_calendar() {}

/// An event's feedback
///
/// With the average rating and the count over all of it.
#[utoipa::path(
    get,
    path = "/events/{id}/feedback",
    tag = "feedback",
    params(EventId, PageParams),
    responses(
        (status = 200, description = "A page of feedback.", body = FeedbackPage),
        BadQuery, NotFound, Unavailable,
    ),
)]
fn list_feedback() {}

/// Give feedback (confirmed attendees, once the event has started)
#[utoipa::path(
    post,
    path = "/events/{id}/feedback",
    tag = "feedback",
    params(EventId, IdempotencyKeyHeader),
    request_body = NewFeedback,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The feedback.", body = FeedbackView,
            headers(
                ("Location" = String, description = "`/events/{id}/feedback`."),
                ("Idempotent-Replayed" = String, description = "`true` when this is the answer to an earlier request with the same `Idempotency-Key`."),
            )),
        (status = 403, description = "The caller holds no confirmed seat at the event.", body = Problem,
            content_type = PROBLEM,
            example = json!(problem_example(
                "forbidden", "Forbidden", 403, "only confirmed attendees may give feedback",
            ))),
        (status = 409, description = "The caller already gave feedback, or the event has not started.",
            body = Problem, content_type = PROBLEM,
            example = json!(problem_example(
                "feedback-exists", "Conflict", 409, "you have already given feedback on this event",
            ))),
        BodyErrors, KeyReused, Unauthorized, NotFound, Unavailable,
    ),
)]
fn give_feedback() {}

/// A series' events
///
/// The occurrences of a recurring event, in start order.
#[utoipa::path(
    get,
    path = "/series/{id}",
    tag = "series",
    params(SeriesId, PageParams),
    responses(
        (status = 200, description = "A page of occurrences.", body = EventPage),
        BadQuery, NotFound, Unavailable,
    ),
)]
fn list_series() {}

/// Delete a series (organizer or admin)
///
/// Deletes the occurrences that have not started; those under way or past stay.
#[utoipa::path(
    delete,
    path = "/series/{id}",
    tag = "series",
    params(SeriesId),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        OwnerErrors, NotFound, Unavailable,
    ),
)]
fn delete_series() {}

/// The categories
///
/// Events name their category by `slug`.
#[utoipa::path(
    get,
    path = "/categories",
    tag = "events",
    responses(
        (status = 200, description = "Every category.", body = Vec<Category>),
    ),
)]
fn list_categories() {}

/// An event's team (organizer or admin)
#[utoipa::path(
    get,
    path = "/events/{id}/team",
    tag = "team",
    params(EventId, PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the team.", body = TeamPage),
        BadQuery, OwnerErrors, NotFound, Unavailable,
    ),
)]
fn list_team() {}

/// Put someone on an event's team, or change their role (organizer or admin)
///
/// A co-host may do what the organizer may except delete the event and manage its team; door
/// staff may only check tickets in and read the attendee list. Taking effect at once, as does
/// removing them.
#[utoipa::path(
    put,
    path = "/events/{id}/team/{username}",
    tag = "team",
    params(EventId, TeamMemberName),
    request_body = TeamRoleBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "They were on the team: their role is the one given.", body = TeamMemberView),
        (status = 201, description = "Added to the team.", body = TeamMemberView,
            headers(("Location" = String, description = "`/events/{id}/team/{username}`."))),
        (status = 404, description = "No such event or user.", body = Problem, content_type = PROBLEM,
            example = json!(problem_example("not-found", "Not Found", 404, "user not found"))),
        (status = 409, description = "The user is the event's organizer.", body = Problem,
            content_type = PROBLEM,
            example = json!(problem_example(
                "organizer-on-team", "Conflict", 409, "the organizer runs the event already",
            ))),
        BodyErrors, OwnerErrors, Unavailable,
    ),
)]
fn put_team_member() {}

/// Take someone off an event's team (organizer or admin)
#[utoipa::path(
    delete,
    path = "/events/{id}/team/{username}",
    tag = "team",
    params(EventId, TeamMemberName),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Off the team."),
        (status = 404, description = "No such event, or the user is not on its team.", body = Problem,
            content_type = PROBLEM,
            example = json!(problem_example("not-found", "Not Found", 404, "team member not found"))),
        OwnerErrors, Unavailable,
    ),
)]
fn remove_team_member() {}

/// An event's numbers (organizer, co-host or admin)
///
/// Seats taken and people waiting now, check-ins and cancellations, what happened each UTC day,
/// and the rating: all from counters kept in the same transactions as the changes.
#[utoipa::path(
    get,
    path = "/events/{id}/stats",
    tag = "team",
    params(EventId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event's numbers.", body = StatsView),
        OwnerErrors, NotFound, Unavailable,
    ),
)]
fn event_stats() {}
