//! The users function: sign-up, tokens, profiles, notifications and calendar feeds
//! (`functions/users`).

use shared::views::UserView;
use utoipa::OpenApi;

use crate::responses::{
    BadBody, BadQuery, FeedToken, Forbidden, NotFound, NotificationId, PageParams, PayloadTooLarge,
    Unauthorized, Unavailable, UnsupportedMediaType, UserId,
};
use crate::schemas::{
    FeedUrl, LogIn, NotificationPage, PatchUser, Problem, Refresh, ReplaceUser, SignUp, TokenPair, UserPage,
};

#[derive(OpenApi)]
#[openapi(paths(
    sign_up,
    list_users,
    get_me,
    get_user,
    replace_user,
    patch_user,
    delete_user,
    log_in,
    refresh_tokens,
    list_notifications,
    mark_notification_read,
    get_calendar_url,
    rotate_calendar_url,
    get_calendar_feed,
))]
pub struct Api;

/// Sign up
///
/// Creates a user with the role `user`; nobody can sign up as an admin. Usernames and emails
/// are unique, ignoring case.
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    request_body = SignUp,
    responses(
        (status = 201, description = "The new user, with its email.", body = UserView,
            headers(("Location" = String, description = "The user's URL, `/users/{id}`."))),
        (status = 400, response = BadBody),
        (status = 409, description = "The username or the email is already taken.", body = Problem,
            content_type = "application/problem+json",
            example = json!({
                "type": "https://events-api.example.com/problems/already-taken",
                "title": "Conflict",
                "status": 409,
                "detail": "that username is already taken"
            })),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
fn sign_up() {}

/// List users (admins)
///
/// Every user, oldest first, with their emails.
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of users.", body = UserPage),
        (status = 400, response = BadQuery),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    ),
)]
fn list_users() {}

/// The caller
#[utoipa::path(
    get,
    path = "/users/me",
    tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller, with their email.", body = UserView),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable),
    ),
)]
fn get_me() {}

/// A user
///
/// `email` is shown only to the user themselves and to admins.
#[utoipa::path(
    get,
    path = "/users/{id}",
    tag = "users",
    params(UserId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user.", body = UserView),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
fn get_user() {}

/// Replace a user's profile (self or admin)
///
/// Sets username and email; changing the password needs `current_password`, unless an admin
/// sets it.
#[utoipa::path(
    put,
    path = "/users/{id}",
    tag = "users",
    params(UserId),
    request_body = ReplaceUser,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated user.", body = UserView),
        (status = 400, response = BadBody),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller is neither the user nor an admin, or \
            `current_password` does not match.", body = Problem, content_type = "application/problem+json",
            example = json!({
                "type": "https://events-api.example.com/problems/forbidden",
                "title": "Forbidden",
                "status": 403,
                "detail": "only the user or an admin may change this user"
            })),
        (status = 404, response = NotFound),
        (status = 409, description = "The username or email is taken, or the user changed meanwhile.",
            body = Problem, content_type = "application/problem+json",
            example = json!({
                "type": "https://events-api.example.com/problems/already-taken",
                "title": "Conflict",
                "status": 409,
                "detail": "that email is already taken"
            })),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
fn replace_user() {}

/// Change a user's profile (self or admin)
///
/// Changes only the fields given; changing the password needs `current_password`, unless an
/// admin sets it.
#[utoipa::path(
    patch,
    path = "/users/{id}",
    tag = "users",
    params(UserId),
    request_body = PatchUser,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated user.", body = UserView),
        (status = 400, response = BadBody),
        (status = 401, response = Unauthorized),
        (status = 403, description = "The caller is neither the user nor an admin, or \
            `current_password` does not match.", body = Problem, content_type = "application/problem+json",
            example = json!({
                "type": "https://events-api.example.com/problems/forbidden",
                "title": "Forbidden",
                "status": 403,
                "detail": "current_password does not match"
            })),
        (status = 404, response = NotFound),
        (status = 409, description = "The username or email is taken, or the user changed meanwhile.",
            body = Problem, content_type = "application/problem+json",
            example = json!({
                "type": "https://events-api.example.com/problems/already-taken",
                "title": "Conflict",
                "status": 409,
                "detail": "that username is already taken"
            })),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
fn patch_user() {}

/// Delete a user (self or admin)
///
/// Nothing is left pointing at the deleted user: their seats are released (promoting from the
/// waitlists) and their tokens stop working.
#[utoipa::path(
    delete,
    path = "/users/{id}",
    tag = "users",
    params(UserId),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
fn delete_user() {}

/// Log in
///
/// Exchanges a username and password for an access token and a refresh token.
#[utoipa::path(
    post,
    path = "/auth/token",
    tag = "auth",
    request_body = LogIn,
    responses(
        (status = 200, description = "A token pair.", body = TokenPair),
        (status = 400, response = BadBody),
        (status = 401, description = "The username or password is incorrect (the same answer for \
            both).", body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`.")),
            example = json!({
                "type": "https://events-api.example.com/problems/unauthorized",
                "title": "Unauthorized",
                "status": 401,
                "detail": "the username or password is incorrect"
            })),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
fn log_in() {}

/// Renew a token pair
///
/// Refresh tokens rotate: each works once, and presenting a spent one revokes its whole family.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    request_body = Refresh,
    responses(
        (status = 200, description = "A new token pair.", body = TokenPair),
        (status = 400, response = BadBody),
        (status = 401, description = "The refresh token is unknown, expired, revoked or already used.",
            body = Problem, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`.")),
            example = json!({
                "type": "https://events-api.example.com/problems/unauthorized",
                "title": "Unauthorized",
                "status": 401,
                "detail": "the refresh token is unknown, expired, revoked or already used"
            })),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    ),
)]
fn refresh_tokens() {}

/// The caller's notifications
///
/// Newest first: reminders, waitlist promotions, and changes to or deletions of events the caller
/// attends.
#[utoipa::path(
    get,
    path = "/users/me/notifications",
    tag = "notifications",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of notifications.", body = NotificationPage),
        (status = 400, response = BadQuery),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable),
    ),
)]
fn list_notifications() {}

/// Mark a notification read
#[utoipa::path(
    post,
    path = "/users/me/notifications/{id}/read",
    tag = "notifications",
    params(NotificationId),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Marked read."),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
fn mark_notification_read() {}

/// The caller's calendar feed URL
///
/// A personal iCalendar feed of the caller's upcoming registrations, for calendar apps (which
/// cannot send a header: the URL is the credential).
#[utoipa::path(
    get,
    path = "/users/me/calendar",
    tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The feed's URL.", body = FeedUrl),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable),
    ),
)]
fn get_calendar_url() {}

/// Replace the calendar feed URL
///
/// Issues a new feed URL; the old one answers 404 from then on.
#[utoipa::path(
    post,
    path = "/users/me/calendar/rotate",
    tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new feed URL.", body = FeedUrl),
        (status = 401, response = Unauthorized),
        (status = 503, response = Unavailable),
    ),
)]
fn rotate_calendar_url() {}

/// A personal calendar feed
///
/// The upcoming registrations of the feed's owner as an iCalendar (RFC 5545) feed; waitlisted
/// ones are TENTATIVE. No header is needed: the token in the path is the credential.
#[utoipa::path(
    get,
    path = "/calendar/{token}/feed.ics",
    tag = "calendar",
    params(FeedToken),
    responses(
        (status = 200, description = "The feed.", content_type = "text/calendar", body = String,
            headers(
                ("Content-Disposition" = String, description = "`inline; filename=\"events.ics\"`."),
                ("Cache-Control" = String, description = "`private, max-age=300`."),
            ),
            example = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//events-api//EN\r\nEND:VCALENDAR\r\n"),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
)]
fn get_calendar_feed() {}
