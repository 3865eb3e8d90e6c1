//! Schemas the code has no serde type for. Most request bodies are types their handlers read
//! (`shared::http::bodies`); the event bodies, read by `functions/events/src/body.rs`, are still
//! described here by documentation-only structs that mirror the handler's field list and rules
//! exactly (unknown fields are refused, hence `additionalProperties: false`). A few response bodies are private to their handlers; they are
//! mirrored here too, and `tests/api/openapi.rs` checks each mirror against a real response.
//! The views of `shared::views` carry their own schemas.

// Nothing here is ever constructed: the types exist for their `ToSchema` derives.
#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::BTreeMap;

use shared::domain::{Id, Instant};
use shared::views::UserRef;
use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

// --- Values with rules of their own -------------------------------------------------------------

/// An IANA time zone name, such as `Europe/Lisbon`.
pub struct Timezone;

impl PartialSchema for Timezone {
    fn schema() -> RefOr<Schema> {
        let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
        let identifiers: Vec<String> = names.iter().map(|name| enum_identifier(name)).collect();
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some(
                "An IANA time zone name: recurrence and calendar output follow its local time.",
            ))
            .enum_values(Some(names))
            .examples(["Europe/Lisbon"])
            .extensions(Some(ExtensionsBuilder::new().add("x-enum-varnames", identifiers).build()))
            .into()
    }
}

/// The identifier a client generator gives a time zone name in its enum (`x-enum-varnames`).
/// Generators drop `+` and `-`, which makes `GMT+0`, `GMT-0` and `GMT0` (and `Etc/GMT+5` and
/// `Etc/GMT-5`) one identifier, and refuse the document; a sign before a digit is spelled out.
fn enum_identifier(name: &str) -> String {
    let mut identifier = String::with_capacity(name.len() + 8);
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        let before_digit = chars.peek().is_some_and(char::is_ascii_digit);
        match c {
            '+' if before_digit => identifier.push_str("_PLUS_"),
            '-' if before_digit => identifier.push_str("_MINUS_"),
            c if c.is_ascii_alphanumeric() => identifier.push(c.to_ascii_uppercase()),
            _ => identifier.push('_'),
        }
    }
    identifier
}

impl ToSchema for Timezone {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Timezone")
    }
}

/// An event's end: an [`Instant`] after its start, with an example that is (a generator that
/// combines the examples of a body's properties then builds a body the server accepts).
pub struct EndsAt;

impl PartialSchema for EndsAt {
    fn schema() -> RefOr<Schema> {
        let mut schema = <Instant as PartialSchema>::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.examples = vec![serde_json::Value::from("2027-03-01T21:00:00Z")];
            object.description = object.description.take().map(|d| format!("{d} After the event's start."));
        }
        schema
    }
}

impl ToSchema for EndsAt {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EndsAt")
    }
}

/// A category slug, one of those `GET /categories` lists.
pub struct CategorySlug;

impl PartialSchema for CategorySlug {
    fn schema() -> RefOr<Schema> {
        let slugs: Vec<&str> = shared::domain::category::ALL.iter().map(|c| c.slug).collect();
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some("A category slug, as listed by `GET /categories`."))
            .enum_values(Some(slugs))
            .examples(["meetup"])
            .into()
    }
}

impl ToSchema for CategorySlug {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CategorySlug")
    }
}

// --- Request bodies: events --------------------------------------------------------------------

/// `recurrence` of `POST /events`: an RFC 5545 RRULE with FREQ DAILY, WEEKLY or MONTHLY, and
/// optionally INTERVAL, BYDAY, and COUNT or UNTIL; at most 100 occurrences within 2 years.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"rrule": "FREQ=WEEKLY;COUNT=10"})))]
pub struct Recurrence {
    #[schema(examples("FREQ=WEEKLY;COUNT=10", "FREQ=MONTHLY;BYDAY=1TU;UNTIL=20280101T000000Z"))]
    rrule: String,
}

/// A body that sets every writable field of an event: `POST /events` and `PUT /events/{id}` take
/// the same fields with the same rules. Each body documents `starts_at` and `capacity` its own
/// way, and may add fields.
macro_rules! event_body {
    (
        $(#[$meta:meta])*
        $name:ident {
            $(#[$starts_at:meta])* starts_at,
            $(#[$capacity:meta])* capacity,
            $($(#[$more_meta:meta])* $more:ident: $more_type:ty,)*
        }
    ) => {
        #[derive(ToSchema)]
        #[serde(deny_unknown_fields)]
        $(#[$meta])*
        pub struct $name {
            /// 1 to 200 characters once surrounding whitespace is trimmed.
            #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*[^\s\x00-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*$")]
            title: String,
            /// Up to 5000 characters; empty or `null` means none.
            #[schema(max_length = 5000, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*$")]
            description: Option<String>,
            $(#[$starts_at])*
            starts_at: Instant,
            /// RFC 3339 with an offset; after `starts_at`.
            ends_at: Option<EndsAt>,
            /// 1 to 200 characters once surrounding whitespace is trimmed.
            #[schema(min_length = 1, max_length = 200, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*[^\s\x00-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*$")]
            location: String,
            $(#[$capacity])*
            #[schema(minimum = 1, maximum = 100000)]
            capacity: i64,
            category: Option<CategorySlug>,
            /// Defaults to `UTC`.
            #[schema(default = "UTC")]
            timezone: Option<Timezone>,
            /// When full, further registrations wait in line (or are refused when false).
            #[schema(nullable = false, default = true)]
            waitlist_enabled: Option<bool>,
            /// `unlisted`: in no public list (`GET /events/upcoming`); anyone with the id may read
            /// it and register.
            #[schema(default = "public")]
            visibility: Option<shared::domain::Visibility>,
            $($(#[$more_meta])* $more: $more_type,)*
        }
    };
}

event_body!(
    /// Body of `POST /events`. With `recurrence`, one event is created per occurrence (sharing a
    /// `series_id`) and the first is returned.
    #[schema(examples(json!({
        "title": "Rust Lisbon",
        "description": "Talks and pastéis de nata",
        "starts_at": "2027-03-01T18:00:00+01:00",
        "ends_at": "2027-03-01T21:00:00+01:00",
        "location": "Lisbon",
        "capacity": 50,
        "category": "meetup",
        "timezone": "Europe/Lisbon"
    })))]
    NewEvent {
        /// RFC 3339 with an offset; must be in the future.
        starts_at,
        /// Seats for confirmed attendees.
        capacity,
        /// Makes the event a series.
        recurrence: Option<Recurrence>,
    }
);

event_body!(
    /// Body of `PUT /events/{id}`: every writable field; those left out take their defaults. An
    /// unchanged `starts_at` may lie in the past; a new one must be in the future.
    #[schema(examples(json!({
        "title": "Rust Lisbon",
        "starts_at": "2027-03-01T18:00:00+01:00",
        "location": "Lisbon",
        "capacity": 60
    })))]
    ReplaceEvent {
        starts_at,
        /// Below the confirmed count is a 409; raising it promotes from the waitlist.
        capacity,
    }
);

/// Body of `PATCH /events/{id}`: only the fields given change; `null` clears `description`,
/// `ends_at` and `category`, and resets `timezone` to `UTC`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"capacity": 80, "description": null})))]
pub struct PatchEvent {
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*[^\s\x00-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*$"
    )]
    title: Option<String>,
    #[schema(
        max_length = 5000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*$"
    )]
    description: Option<String>,
    /// A new start must be in the future.
    #[schema(nullable = false)]
    starts_at: Option<Instant>,
    /// After `starts_at` (the new one, or the event's).
    ends_at: Option<EndsAt>,
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*[^\s\x00-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u180E\u200B\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]*$"
    )]
    location: Option<String>,
    /// Below the confirmed count is a 409; raising it promotes from the waitlist.
    #[schema(nullable = false, minimum = 1, maximum = 100000)]
    capacity: Option<i64>,
    category: Option<CategorySlug>,
    timezone: Option<Timezone>,
    #[schema(nullable = false)]
    waitlist_enabled: Option<bool>,
    /// `null` makes the event public again.
    visibility: Option<shared::domain::Visibility>,
}

// --- Response bodies ------------------------------------------------------------------------------

/// An RFC 9457 problem details document, `application/problem+json`: the shape of every error.
/// A problem may carry members of its own beside these (`already-checked-in` says when and by
/// whom: `checked_in_at`, `checked_in_by`).
#[derive(ToSchema)]
#[schema(examples(json!({
    "type": "https://events-api.example.com/problems/validation-error",
    "title": "Bad Request",
    "status": 400,
    "detail": "invalid fields: capacity",
    "errors": {"capacity": ["must be a whole number from 1 to 100000"]}
})))]
pub struct Problem {
    /// `https://events-api.example.com/problems/<slug>`; the slug names the problem.
    #[serde(rename = "type")]
    #[schema(format = "uri", pattern = r"^https://events-api\.example\.com/problems/[a-z-]+$")]
    kind: String,
    /// The reason phrase of `status`.
    title: String,
    /// The HTTP status code.
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// What went wrong.
    detail: String,
    /// Validation failures only: one entry per offending field, with its messages.
    #[schema(nullable = false)]
    errors: Option<BTreeMap<String, Vec<String>>>,
}

/// The single token type issued.
#[derive(ToSchema)]
pub enum TokenType {
    Bearer,
}

/// An access token with the refresh token that renews it.
#[derive(ToSchema)]
#[schema(examples(json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMUpROFozTjVWN0tYVzJNNFA2UjhUMFkxQSJ9.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "01JQ8Z3N5V7KXW2M4P6R8T0Y1A.3q2-7wEjvYpUQk1vF0aXnR0kq9s"
})))]
pub struct TokenPair {
    /// A JWT: send it as `Authorization: Bearer <access_token>`.
    access_token: String,
    token_type: TokenType,
    /// Seconds until the access token expires.
    expires_in: u64,
    /// Renews the pair once through `POST /auth/refresh`.
    refresh_token: String,
}

/// A JWK Set: the public keys that verify access tokens.
#[derive(ToSchema)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(ToSchema)]
#[schema(examples(json!({"kty": "OKP", "crv": "Ed25519", "x": "Cxlrc6qTXmo-ZxwXKGwD7CJ2nx98gAP2ai0dBD_cB_g", "kid": "2026-12", "alg": "EdDSA", "use": "sig"})))]
pub struct Jwk {
    /// Always `OKP`.
    kty: String,
    /// Always `Ed25519`.
    crv: String,
    /// The public key, base64url without padding.
    x: String,
    /// The key id tokens name in their header.
    kid: String,
    /// Always `EdDSA`.
    alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    key_use: String,
}

/// The caller's personal calendar feed, readable without a header.
#[derive(ToSchema)]
#[schema(examples(json!({"url": "https://abc123defg.execute-api.eu-west-1.amazonaws.com/calendar/AbCdEf123/feed.ics"})))]
pub struct FeedUrl {
    #[schema(format = "uri")]
    url: String,
}

/// Feedback on an event by one of its confirmed attendees.
#[derive(ToSchema)]
pub struct Feedback {
    id: Id,
    user: UserRef,
    #[schema(minimum = 1, maximum = 5)]
    rating: u8,
    #[schema(required = true)]
    comment: Option<String>,
    created_at: Instant,
}

/// One page of a list: pass `next_cursor` back as `?cursor=` for the next one.
macro_rules! page {
    ($(#[$doc:meta])* $name:ident of $item:ty) => {
        $(#[$doc])*
        #[derive(ToSchema)]
        pub struct $name {
            /// At most `limit` items.
            results: Vec<$item>,
            /// The `cursor` of the next page; `null` on the last one.
            #[schema(required = true)]
            next_cursor: Option<String>,
        }
    };
}

page!(
    /// A page of users.
    UserPage of shared::views::UserView
);
page!(
    /// A page of events.
    EventPage of shared::views::EventView
);
page!(
    /// A page of registrations.
    RegistrationPage of shared::views::RegistrationView
);
page!(
    /// A page of notifications, newest first.
    NotificationPage of shared::views::NotificationView
);

page!(
    /// The caller's webhook endpoints, oldest first: all of them (at most ten), so `next_cursor`
    /// is always `null`.
    WebhookPage of shared::views::WebhookView
);
page!(
    /// A page of an endpoint's deliveries, newest first.
    DeliveryPage of shared::views::DeliveryView
);

page!(
    /// A page of an event's team.
    TeamPage of shared::views::TeamMemberView
);

/// A page of an event's feedback, with the rating over all of it.
#[derive(ToSchema)]
pub struct FeedbackPage {
    results: Vec<Feedback>,
    #[schema(required = true)]
    next_cursor: Option<String>,
    /// The mean rating (not rounded); `null` before the first feedback.
    #[schema(required = true, minimum = 1, maximum = 5)]
    average_rating: Option<f64>,
    /// How many have given feedback.
    count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_zone_has_its_own_enum_identifier() {
        let mut seen = std::collections::HashMap::new();
        for tz in chrono_tz::TZ_VARIANTS {
            let identifier = enum_identifier(tz.name());
            assert!(identifier.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
            if let Some(other) = seen.insert(identifier.clone(), tz.name()) {
                panic!("{} and {other} are both {identifier}", tz.name());
            }
        }
        assert_eq!(enum_identifier("Etc/GMT+5"), "ETC_GMT_PLUS_5");
        assert_eq!(enum_identifier("Etc/GMT-5"), "ETC_GMT_MINUS_5");
        assert_eq!(enum_identifier("America/Port-au-Prince"), "AMERICA_PORT_AU_PRINCE");
    }
}
