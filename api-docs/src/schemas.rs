//! The response bodies the document cannot derive from the types that make them, mirrored here;
//! `tests/api/openapi.rs` checks each mirror against a real response. A problem is written from a
//! borrowed, flattened struct private to `shared::http::problem`; the JWK Set is built as JSON by
//! the key ring; a page is the generic `Page<T>`, whose schema utoipa would name `Page_EventView`
//! and the like, renaming the document's page components. Request bodies are the types their
//! handlers read (`shared::http::bodies`), and every other response is a view of `shared::views`,
//! with its own schema.

// Nothing here is ever constructed: the types exist for their `ToSchema` derives.
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::ToSchema;

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
    results: Vec<shared::views::FeedbackView>,
    #[schema(required = true)]
    next_cursor: Option<String>,
    /// The mean rating (not rounded); `null` before the first feedback.
    #[schema(required = true, minimum = 1, maximum = 5)]
    average_rating: Option<f64>,
    /// How many have given feedback.
    count: u64,
}
