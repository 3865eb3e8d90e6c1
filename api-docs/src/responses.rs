//! The error responses many operations share, as `components.responses`, and the parameters many
//! operations share. Errors specific to one operation (each 409, the 401 of a bad log-in) are
//! written out on that operation instead, or next to the operations of one resource that share
//! them.
//!
//! Each shared response knows its status, so an operation lists it by name in
//! `responses(...)`, alone or in a set ([`BodyErrors`], [`OwnerErrors`]), and gets a `$ref` to
//! the component under that status.

// The parameter types are never constructed: they exist for their `IntoParams` derives.
#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Value, json};
use shared::domain::Id;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoParams, IntoResponses, PartialSchema, ToResponse, ToSchema};

use shared::http::bodies::values::CategorySlug;

/// The media type of every error.
pub const PROBLEM: &str = "application/problem+json";

/// A problem document as an example. `#[utoipa::path]` takes an example only as `json!(...)`, so
/// operations write `example = json!(problem_example(...))`.
pub fn problem_example(slug: &str, title: &str, status: u16, detail: &str) -> Value {
    json!({
        "type": format!("{}{slug}", shared::http::problem::PROBLEM_BASE),
        "title": title,
        "status": status,
        "detail": detail,
    })
}

fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::new(Type::String))
}

/// A problem+json response with named examples.
pub fn problem(description: &str, examples: &[(&str, Value)]) -> ResponseBuilder {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .examples_from_iter(
            examples.iter().map(|(name, value)| (*name, ExampleBuilder::new().value(Some(value.clone())))),
        )
        .build();
    ResponseBuilder::new().description(description).content(PROBLEM, content)
}

/// A shared response: the component (`ToResponse`), and a `$ref` to it under its status
/// (`IntoResponses`), for `responses(...)`.
macro_rules! problem_response {
    ($(#[$doc:meta])* $name:ident($status:literal) => $build:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), $build.build().into())
            }
        }

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([($status.to_string(), Ref::from_response_name(stringify!($name)).into())])
            }
        }
    };
}

/// Shared responses that go together, for `responses(...)`.
macro_rules! response_set {
    ($(#[$doc:meta])* $name:ident = $($member:ty),+) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                let mut responses = BTreeMap::new();
                $(responses.extend(<$member>::responses());)+
                responses
            }
        }
    };
}

problem_response!(
    /// 400 for a request body.
    BadBody(400) => problem(
        "The body is not a JSON object, or fields are invalid: `errors` names each offending \
         field (unknown fields included) with its messages.",
        &[
            ("validation", json!({
                "type": "https://events-api.example.com/problems/validation-error",
                "title": "Bad Request",
                "status": 400,
                "detail": "invalid fields: capacity, role",
                "errors": {"capacity": ["must be a whole number from 1 to 100000"], "role": ["is not a known field"]}
            })),
            ("malformed", problem_example(
                "bad-request", "Bad Request", 400,
                "the body is not valid JSON: EOF while parsing an object at line 1 column 1",
            )),
        ],
    )
);

problem_response!(
    /// 400 for a query string.
    BadQuery(400) => problem(
        "A query parameter is invalid or given twice (`errors` names it), or the cursor is not \
         one this list issued.",
        &[
            ("validation", json!({
                "type": "https://events-api.example.com/problems/validation-error",
                "title": "Bad Request",
                "status": 400,
                "detail": "invalid fields: limit",
                "errors": {"limit": ["must be a whole number from 1 to 100"]}
            })),
            ("cursor", problem_example(
                "invalid-cursor", "Bad Request", 400, "the cursor is not one this list issued",
            )),
        ],
    )
);

problem_response!(
    /// 401.
    Unauthorized(401) => problem(
        "The access token is missing, expired or invalid, or its user no longer exists.",
        &[
            ("missing", problem_example(
                "unauthorized", "Unauthorized", 401,
                "this route needs an access token: Authorization: Bearer <token>",
            )),
            ("invalid", problem_example(
                "unauthorized", "Unauthorized", 401,
                "the access token is missing its user, expired or invalid",
            )),
        ],
    )
    .header(
        "WWW-Authenticate",
        HeaderBuilder::new()
            .schema(string_schema().examples(["Bearer", "Bearer error=\"invalid_token\""]))
            .description(Some("`Bearer`, with `error=\"invalid_token\"` when a token was sent."))
            .build(),
    )
);

problem_response!(
    /// 403.
    Forbidden(403) => problem(
        "Authenticated, but not allowed: only the owner (or an admin) may do this.",
        &[("forbidden", problem_example(
            "forbidden", "Forbidden", 403, "only the organizer or an admin may change this event",
        ))],
    )
);

problem_response!(
    /// 404.
    NotFound(404) => problem(
        "No such resource. A malformed id is simply an unknown one.",
        &[("not-found", problem_example("not-found", "Not Found", 404, "event not found"))],
    )
);

problem_response!(
    /// 413.
    PayloadTooLarge(413) => problem(
        "The body is larger than 1 MiB.",
        &[("too-large", problem_example(
            "payload-too-large", "Payload Too Large", 413, "request body is larger than 1048576 bytes",
        ))],
    )
);

problem_response!(
    /// 415.
    UnsupportedMediaType(415) => problem(
        "The body was not sent as `Content-Type: application/json`.",
        &[("not-json", problem_example(
            "unsupported-media-type", "Unsupported Media Type", 415,
            "the body must be JSON, sent with Content-Type: application/json",
        ))],
    )
);

problem_response!(
    /// 503.
    Unavailable(503) => problem(
        "Storage is unavailable; nothing was changed. Retry after `Retry-After` seconds.",
        &[("unavailable", problem_example(
            "service-unavailable", "Service Unavailable", 503, "storage is unavailable; retry shortly",
        ))],
    )
    .header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(SchemaType::new(Type::Integer)).minimum(Some(0)))
            .description(Some("Seconds to wait before retrying."))
            .build(),
    )
);

problem_response!(
    /// 429.
    TooManyRequests(429) => problem(
        "Too many attempts from this client address (or, for a login, at this account): nothing \
was checked or changed. Try again after `Retry-After` seconds. A few attempts are free; each one \
beyond them waits twice as long as the one before, up to a quarter of an hour.",
        &[("too-many", problem_example(
            "too-many-requests", "Too Many Requests", 429,
            "too many failed logins to this account; try again in 4 seconds",
        ))],
    )
    .header(
        "Retry-After",
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(SchemaType::new(Type::Integer)).minimum(Some(1)))
            .description(Some("Seconds to wait before trying again."))
            .build(),
    )
);

problem_response!(
    /// 422.
    KeyReused(422) => problem(
        "The `Idempotency-Key` was used for another request within the last day (another body, or \
another route). Nothing was done: use a new key for a new request.",
        &[("key-reused", problem_example(
            "idempotency-key-reused", "Unprocessable Content", 422,
            "this Idempotency-Key was used for another request; use a new key for a new request",
        ))],
    )
);

response_set!(
    /// The refusals of a JSON request body: invalid (400), too large (413), not JSON (415).
    BodyErrors = BadBody, PayloadTooLarge, UnsupportedMediaType
);

response_set!(
    /// The refusals of an operation only the owner (or an admin) may do: no valid token (401), not
    /// the owner (403).
    OwnerErrors = Unauthorized, Forbidden
);

// --- Parameters -----------------------------------------------------------------------------------

/// The `Idempotency-Key` header of the creates that take one.
#[derive(IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub struct IdempotencyKeyHeader(
    /// A name the client gives this request (a UUID, say). Sent again with the same key and the
    /// same request within a day, it gets the first answer again (with `Idempotent-Replayed:
    /// true`) and nothing is done twice; the same key with another request is a 422. Keys belong
    /// to the caller (for a sign-up, to whoever sends the same body, password included).
    #[param(min_length = 1, max_length = 255, pattern = r"^[!-~]+$")]
    Option<String>,
);

/// `?limit=&cursor=`, the same on every list.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<u16>,
    /// The `next_cursor` of the previous page, unchanged. A cursor only continues the list (and
    /// filters) that issued it; any other is a 400. Never empty: leave it out for the first page.
    #[param(min_length = 1)]
    cursor: Option<String>,
}

/// An inclusive bound on `starts_at`: RFC 3339 with an offset, or a date (`YYYY-MM-DD`), meaning
/// the start of that UTC day for `from` and its end for `to`.
pub struct DateBound;

impl PartialSchema for DateBound {
    fn schema() -> RefOr<Schema> {
        // Years the stored form holds whatever the offset: 1971 to 9998.
        const YEARS: &str = r"^(197[1-9]|19[89][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-";
        OneOfBuilder::new()
            .item(
                string_schema()
                    .format(Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime)))
                    .pattern(Some(YEARS)),
            )
            .item(
                string_schema()
                    .format(Some(SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Date)))
                    .pattern(Some(YEARS)),
            )
            .description(Some(
                "RFC 3339 with an offset, or a date (`YYYY-MM-DD`): the start of that UTC day as \
                 `from`, its end as `to`.",
            ))
            .examples(["2027-03-01", "2027-03-01T18:00:00+01:00"])
            .into()
    }
}

impl ToSchema for DateBound {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("DateBound")
    }
}

/// The filters of `GET /events/upcoming`, all optional and combinable.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpcomingFilters {
    /// Case-insensitive substring of the title; at most 200 characters, no control characters.
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", example = "rust")]
    title: Option<String>,
    /// Case-insensitive substring of the location; at most 200 characters, no control characters.
    #[param(max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$", example = "lisbon")]
    location: Option<String>,
    /// Exact category.
    category: Option<CategorySlug>,
    /// Events starting at or after this.
    from: Option<DateBound>,
    /// Events starting at or before this; not before `from`.
    to: Option<DateBound>,
}

macro_rules! id_param {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(IntoParams)]
        #[into_params(parameter_in = Path)]
        pub struct $name {
            $(#[$doc])*
            id: Id,
        }
    };
}

id_param!(
    /// The user's id.
    UserId
);
id_param!(
    /// The event's id.
    EventId
);
id_param!(
    /// The series' id (`series_id` of its events).
    SeriesId
);
id_param!(
    /// The notification's id.
    NotificationId
);
id_param!(
    /// The webhook endpoint's id.
    WebhookId
);

/// A team member of an event, by username.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TeamMemberName {
    /// The member's username (any case).
    username: String,
}

/// The attendee whose check-in is undone.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttendeeId {
    /// The attendee's user id (`registration.user.id` of the check-in).
    user_id: Id,
}

/// The token of an email's unsubscribe link.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UnsubscribeToken {
    /// The token in the link, signed for one user.
    #[param(min_length = 1)]
    token: String,
}

/// The personal calendar feed's token, from `GET /users/me/calendar`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FeedToken {
    /// The feed's token, from the URL `GET /users/me/calendar` returns.
    token: String,
}
