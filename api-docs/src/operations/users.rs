//! The users function: sign-up, tokens, profiles, notifications and calendar feeds
//! (`functions/users`).

use shared::http::bodies::{LogIn, PatchUser, Refresh, ReplaceUser, SignUp};
use shared::views::{FeedUrl, TokenPair, UserView};
use utoipa::{IntoResponses, OpenApi};

use crate::responses::{
    BadQuery, BodyErrors, FeedToken, IdempotencyKeyHeader, KeyReused, NotFound, NotificationId, OwnerErrors,
    PROBLEM, PageParams, TooManyRequests, Unauthorized, Unavailable, UnsubscribeToken, UserId,
    problem_example,
};
use shared::auth::Jwks;
use shared::http::problem::Problem;
use shared::views::{NotificationPage, UserPage};

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
    log_out,
    log_out_everywhere,
    jwks,
    list_notifications,
    mark_notification_read,
    get_calendar_url,
    rotate_calendar_url,
    get_calendar_feed,
    unsubscribe_page,
    unsubscribe,
))]
pub struct Api;

/// The refusals of both ways to change a profile (`PUT` and `PATCH`), beyond the shared ones.
/// Either can be refused for any of these causes, so each response shows an example of every cause.
#[derive(IntoResponses)]
enum ProfileRefusals {
    #[response(
        status = 403,
        description = "The caller is neither the user nor an admin, or `current_password` does not \
            match.",
        content_type = PROBLEM,
        examples(
            ("not-allowed" = (value = json!(problem_example(
                "forbidden", "Forbidden", 403, "only the user or an admin may change this user",
            )))),
            ("wrong-password" = (value = json!(problem_example(
                "forbidden", "Forbidden", 403, "current_password does not match",
            )))),
        ),
    )]
    Forbidden(Problem<'static>),
    #[response(
        status = 409,
        description = "The username or email is taken, or the user changed meanwhile.",
        content_type = PROBLEM,
        examples(
            ("email" = (value = json!(problem_example(
                "already-taken", "Conflict", 409, "that email is already taken",
            )))),
            ("username" = (value = json!(problem_example(
                "already-taken", "Conflict", 409, "that username is already taken",
            )))),
        ),
    )]
    Conflict(Problem<'static>),
}

/// Sign up
///
/// Creates a user with the role `user`; nobody can sign up as an admin. Usernames and emails
/// are unique, ignoring case. Sign-ups are limited per client address (429).
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    params(IdempotencyKeyHeader),
    request_body = SignUp,
    responses(
        (status = 201, description = "The new user, with its email.", body = UserView,
            headers(
                ("Location" = String, description = "The user's URL, `/users/{id}`."),
                ("Idempotent-Replayed" = String, description = "`true` when this is the answer to an earlier request with the same `Idempotency-Key`."),
            )),
        (status = 409, description = "The username or the email is already taken.", body = Problem,
            content_type = PROBLEM,
            example = json!(problem_example(
                "already-taken", "Conflict", 409, "that username is already taken",
            ))),
        BodyErrors, KeyReused, TooManyRequests, Unavailable,
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
        BadQuery, OwnerErrors, Unavailable,
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
        Unauthorized, Unavailable,
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
        Unauthorized, NotFound, Unavailable,
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
        ProfileRefusals, BodyErrors, Unauthorized, NotFound, Unavailable,
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
        ProfileRefusals, BodyErrors, Unauthorized, NotFound, Unavailable,
    ),
)]
fn patch_user() {}

/// Delete a user (self or admin)
///
/// The account goes at once: the user's tokens stop working and their username and email are
/// free. Nothing is left pointing at them: their seats are released (promoting from the
/// waitlists), and their feedback, events, sessions and notifications are removed. For nearly
/// every account that is done before the answer; for one too large to finish within a few
/// seconds, the rest is finished in the background within about 15 minutes.
#[utoipa::path(
    delete,
    path = "/users/{id}",
    tag = "users",
    params(UserId),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        OwnerErrors, NotFound, Unavailable,
    ),
)]
fn delete_user() {}

/// Log in
///
/// Exchanges a username and password for an access token and a refresh token. Logins are
/// counted per account and per client address before the password is checked: after five
/// failures at one account, each further try waits 1 s, 2 s, 4 s, … up to 15 minutes (429 with
/// `Retry-After`, the right password included); a success clears the account's count.
#[utoipa::path(
    post,
    path = "/auth/token",
    tag = "auth",
    request_body = LogIn,
    responses(
        (status = 200, description = "A token pair.", body = TokenPair, headers(
                ("Cache-Control" = String, description = "`no-store`: the body is a credential."),
                ("Pragma" = String, description = "`no-cache`, for HTTP/1.0 caches."),
            )),
        (status = 401, description = "The username or password is incorrect (the same answer for both).",
            body = Problem, content_type = PROBLEM,
            headers(("WWW-Authenticate" = String, description = "`Bearer`.")),
            example = json!(problem_example(
                "unauthorized", "Unauthorized", 401, "the username or password is incorrect",
            ))),
        BodyErrors, TooManyRequests, Unavailable,
    ),
)]
fn log_in() {}

/// Renew a token pair
///
/// Refresh tokens rotate: each works once, and presenting a spent one revokes its whole family.
/// A client that may lose the answer (a mobile network) sends an `Idempotency-Key`: the same
/// refresh sent again with the same key within 30 seconds, while its successor is unused, gets the
/// same new refresh token back instead. A session ends 90 days after its login however often it
/// is refreshed. Refreshes are limited per client address (429).
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]+$",
        description = "A name the client gives this refresh (a UUID): sent again with the same key within 30 seconds, the same refresh gets the same answer.")),
    request_body = Refresh,
    responses(
        (status = 200, description = "A new token pair.", body = TokenPair, headers(
                ("Cache-Control" = String, description = "`no-store`: the body is a credential."),
                ("Pragma" = String, description = "`no-cache`, for HTTP/1.0 caches."),
            )),
        (status = 401, description = "The refresh token is unknown, expired, revoked or already used.",
            body = Problem, content_type = PROBLEM,
            headers(("WWW-Authenticate" = String, description = "`Bearer`.")),
            example = json!(problem_example(
                "unauthorized", "Unauthorized", 401,
                "the refresh token is unknown, expired, revoked or already used",
            ))),
        BodyErrors, TooManyRequests, Unavailable,
    ),
)]
fn refresh_tokens() {}

/// Log out
///
/// Ends the session the refresh token belongs to: it and every token refreshed from the same
/// login stop working. Other sessions of the user go on; access tokens already issued to this
/// session live out their minutes (use `POST /auth/logout-all` to stop those too). Answers 204
/// whether or not the token was a live one, so the answer tells nothing about a token.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    request_body = Refresh,
    responses(
        (status = 204, description = "The session, if there was one, is over."),
        BodyErrors, Unavailable,
    ),
)]
fn log_out() {}

/// Log out everywhere
///
/// Ends every session of the caller on every device at once: every refresh token and every
/// access token issued so far, this request's included, is refused from now on. A password change
/// does the same. Takes no body: send nothing or `{}`.
#[utoipa::path(
    post,
    path = "/auth/logout-all",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session is over."),
        BodyErrors, Unauthorized, Unavailable,
    ),
)]
fn log_out_everywhere() {}

/// Keys that verify access tokens
///
/// The public keys that verify access tokens, as a JWK Set (RFC 7517): Ed25519 keys (RFC 8037)
/// for the JWS algorithm `EdDSA`, each named by the `kid` in the header of the tokens it signed.
/// During a key rotation the set holds both keys. Caches may keep it five minutes.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "auth",
    responses(
        (status = 200, description = "The JWK Set.", body = Jwks,
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
    ),
)]
fn jwks() {}

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
        BadQuery, Unauthorized, Unavailable,
    ),
)]
fn list_notifications() {}

/// Mark a notification read
///
/// Takes no body: send nothing or `{}`.
#[utoipa::path(
    post,
    path = "/users/me/notifications/{id}/read",
    tag = "notifications",
    params(NotificationId),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Marked read."),
        BodyErrors, Unauthorized, NotFound, Unavailable,
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
        (status = 200, description = "The feed's URL.", body = FeedUrl, headers(
                ("Cache-Control" = String, description = "`no-store`: the body is a credential."),
                ("Pragma" = String, description = "`no-cache`, for HTTP/1.0 caches."),
            )),
        Unauthorized, Unavailable,
    ),
)]
fn get_calendar_url() {}

/// Replace the calendar feed URL
///
/// Issues a new feed URL; the old one answers 404 from then on. Takes no body: send nothing or
/// `{}`.
#[utoipa::path(
    post,
    path = "/users/me/calendar/rotate",
    tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new feed URL.", body = FeedUrl, headers(
                ("Cache-Control" = String, description = "`no-store`: the body is a credential."),
                ("Pragma" = String, description = "`no-cache`, for HTTP/1.0 caches."),
            )),
        BodyErrors, Unauthorized, Unavailable,
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
        NotFound, Unavailable,
    ),
)]
fn get_calendar_feed() {}

/// The page of an email's unsubscribe link
///
/// Every email carries this link (also as its `List-Unsubscribe` header). Opening it changes
/// nothing (mail systems fetch the links they see): it answers a page whose button sends the
/// `POST` below. No header is needed: the token in the path is the credential.
#[utoipa::path(
    get,
    path = "/email/unsubscribe/{token}",
    tag = "users",
    params(UnsubscribeToken),
    responses(
        (status = 200, description = "A page asking to confirm.", content_type = "text/html", body = String,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        NotFound, Unavailable,
    ),
)]
fn unsubscribe_page() {}

/// Stop emails, in one click
///
/// Turns the link's user's `email_notifications` off (RFC 8058 one-click unsubscribe: mail
/// clients send it with the body `List-Unsubscribe=One-Click`; any body is accepted and
/// ignored). Answers a page saying it is done.
#[utoipa::path(
    post,
    path = "/email/unsubscribe/{token}",
    tag = "users",
    params(UnsubscribeToken),
    responses(
        (status = 200, description = "Email is off.", content_type = "text/html", body = String,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        NotFound, Unavailable,
    ),
)]
fn unsubscribe() {}
