//! The register function: registrations, cancellations and both sides' lists
//! (`functions/register`).

use shared::views::RegistrationView;
use utoipa::OpenApi;

use crate::responses::{
    BadQuery, BodyErrors, EventId, NotFound, OwnerErrors, PROBLEM, PageParams, Unauthorized, Unavailable,
    problem_example,
};
use crate::schemas::{Problem, RegistrationPage};

#[derive(OpenApi)]
#[openapi(paths(
    register,
    list_event_registrations,
    get_my_registration,
    cancel_my_registration,
    list_my_registrations,
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

/// An event's registrations (organizer or admin)
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
