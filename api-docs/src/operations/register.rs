//! The register function: registrations, cancellations and both sides' lists
//! (`functions/register`).

use shared::views::{CheckInView, RegistrationView, TicketView};
use utoipa::OpenApi;

use crate::responses::{
    AttendeeId, BadQuery, BodyErrors, EventId, NotFound, OwnerErrors, PROBLEM, PageParams, Unauthorized,
    Unavailable, problem_example,
};
use shared::http::bodies::CheckInBody;
use shared::http::problem::Problem;
use shared::views::RegistrationPage;

#[derive(OpenApi)]
#[openapi(paths(
    register,
    list_event_registrations,
    get_my_registration,
    cancel_my_registration,
    list_my_registrations,
    get_my_ticket,
    get_my_ticket_image,
    export_attendees,
    check_in,
    undo_check_in,
))]
pub struct Api;

/// Register for an event
///
/// A confirmed seat while there is one; otherwise a place on the waitlist, if the event has one.
/// Registering again returns the existing registration. Takes no body: send nothing or `{}`;
/// any field is refused (400), as no field of a registration is the client's to choose.
#[utoipa::path(
    post,
    path = "/events/{id}/registrations",
    tag = "registrations",
    params(EventId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller was already registered: the existing registration.",
            body = RegistrationView),
        (status = 201, description = "The new registration, confirmed or waitlisted.", body = RegistrationView,
            headers(("Location" = String, description = "`/events/{id}/registrations/me`."))),
        (status = 409, description = "The event has started, or it is full and has no waitlist.",
            body = Problem, content_type = PROBLEM,
            example = json!(problem_example(
                "event-full", "Conflict", 409, "the event is full and has no waitlist",
            ))),
        BodyErrors, Unauthorized, NotFound, Unavailable,
    ),
)]
fn register() {}

/// An event's registrations (organizer, co-host, door staff or admin)
///
/// Confirmed first, then the waitlist in order.
#[utoipa::path(
    get,
    path = "/events/{id}/registrations",
    tag = "registrations",
    params(EventId, PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of registrations.", body = RegistrationPage),
        BadQuery, OwnerErrors, NotFound, Unavailable,
    ),
)]
fn list_event_registrations() {}

/// The caller's registration for an event
#[utoipa::path(
    get,
    path = "/events/{id}/registrations/me",
    tag = "registrations",
    params(EventId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The registration, with its place on the waitlist.",
            body = RegistrationView),
        Unauthorized, NotFound, Unavailable,
    ),
)]
fn get_my_registration() {}

/// Cancel the caller's registration
///
/// A confirmed seat goes to the first on the waitlist, in the same atomic step.
#[utoipa::path(
    delete,
    path = "/events/{id}/registrations/me",
    tag = "registrations",
    params(EventId),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Cancelled."),
        Unauthorized, NotFound, Unavailable,
    ),
)]
fn cancel_my_registration() {}

/// The caller's registrations
///
/// Soonest event first.
#[utoipa::path(
    get,
    path = "/users/me/registrations",
    tag = "registrations",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of registrations.", body = RegistrationPage),
        BadQuery, Unauthorized, Unavailable,
    ),
)]
fn list_my_registrations() {}

/// The caller's ticket for an event
///
/// A confirmed registration's ticket, given when first asked for: the same code every time
/// after, until the registration is cancelled (which voids it). A waitlisted registration has
/// none until it is promoted (404). The code is a credential: the answer is never cached.
#[utoipa::path(
    get,
    path = "/events/{id}/registrations/me/ticket",
    tag = "tickets",
    params(EventId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ticket.", body = TicketView,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 404, description = "No such event, no registration for it, or a waitlisted one (no ticket \
            until promoted).", body = Problem, content_type = PROBLEM,
            example = json!(problem_example(
                "not-found", "Not Found", 404,
                "a waitlisted registration has no ticket: one comes with a seat, if it is promoted",
            ))),
        Unauthorized, Unavailable,
    ),
)]
fn get_my_ticket() {}

/// The caller's ticket as a QR code
///
/// An SVG image of the ticket's code, to show at the door.
#[utoipa::path(
    get,
    path = "/events/{id}/registrations/me/ticket.svg",
    tag = "tickets",
    params(EventId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The QR code.", content_type = "image/svg+xml", body = String,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        Unauthorized, NotFound, Unavailable,
    ),
)]
fn get_my_ticket_image() {}

/// Check a ticket in (organizer, co-host, door staff or admin)
///
/// Once per ticket: scanning it again, from any door, is a 409 that says when and by whom it was
/// first. Check-in opens two hours before the start (`CHECKIN_OPENS_BEFORE_SECONDS`) and closes
/// at the event's end, or 12 hours after its start when it has none. A code that is no seat's
/// ticket at this event (unknown, of a cancelled registration, of another event) is a 404.
#[utoipa::path(
    post,
    path = "/events/{id}/checkins",
    tag = "tickets",
    params(EventId),
    request_body = CheckInBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Checked in now.", body = CheckInView,
            headers(("Location" = String, description = "`/events/{id}/checkins/{user_id}`: where to undo it."))),
        (status = 404, description = "No such event, or no valid ticket of it has this code.", body = Problem,
            content_type = PROBLEM,
            example = json!(problem_example(
                "not-found", "Not Found", 404, "no valid ticket of this event has this code",
            ))),
        (status = 409, description = "Already checked in (`already-checked-in`, with `checked_in_at` and \
            `checked_in_by` beside the problem's members), or the door is not open yet \
            (`check-in-not-open`) or any more (`check-in-closed`).", body = Problem, content_type = PROBLEM,
            example = json!({
                "type": "https://events-api.example.com/problems/already-checked-in",
                "title": "Conflict",
                "status": 409,
                "detail": "this ticket was already checked in at 2027-03-01T17:42:10Z by doorkeeper",
                "checked_in_at": "2027-03-01T17:42:10Z",
                "checked_in_by": {"id": "01JQ8Z3N5V7KXW2M4P6R8T0Y1A", "username": "doorkeeper"},
            })),
        BodyErrors, OwnerErrors, Unavailable,
    ),
)]
fn check_in() {}

/// Undo a check-in (organizer, co-host, door staff or admin)
#[utoipa::path(
    delete,
    path = "/events/{id}/checkins/{user_id}",
    tag = "tickets",
    params(EventId, AttendeeId),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Undone: the ticket is valid again."),
        (status = 404, description = "No such event, or that attendee is not checked in.", body = Problem,
            content_type = PROBLEM,
            example = json!(problem_example("not-found", "Not Found", 404, "check-in not found"))),
        OwnerErrors, Unavailable,
    ),
)]
fn undo_check_in() {}

/// The attendee list as CSV (organizer, co-host, door staff or admin)
///
/// RFC 4180, UTF-8, a header row, CRLF line ends: one row per registration, confirmed first, then
/// the waitlist in order. Streamed a page at a time, so any size of event can be exported. A cell
/// a spreadsheet would run as a formula (beginning with `=`, `+`, `-`, `@`, a tab or a carriage
/// return) is written with a leading `'`. Personal data: never cached.
#[utoipa::path(
    get,
    path = "/events/{id}/attendees.csv",
    tag = "tickets",
    params(EventId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The attendee list.", content_type = "text/csv", body = String,
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"<id>-attendees.csv\"`."),
                ("Cache-Control" = String, description = "`no-store`."),
            ),
            example = "username,email,status,waitlist_position,registered_at,checked_in_at\r\n\
                alice,alice@example.com,confirmed,,2027-02-01T10:00:00Z,2027-03-01T17:42:10Z\r\n\
                bob,bob@example.com,waitlisted,1,2027-02-02T09:30:00Z,\r\n"),
        OwnerErrors, NotFound, Unavailable,
    ),
)]
fn export_attendees() {}
