//! The OpenAPI 3.1 document of the whole Event Management API, built with `utoipa`, and the
//! routes that serve it: `GET /openapi.json` and a Swagger UI reference page at `GET /docs`.
//! The users function mounts them (see `functions/users/src/lib.rs`).
//!
//! - `operations`: every operation, grouped by the function that serves it;
//! - every schema is derived from the type the server reads or answers with: request bodies from
//!   `shared::http::bodies`, responses from `shared::views`, the problem document from
//!   `shared::http::problem` and the JWK Set from `shared::auth`;
//! - [`responses`]: the error responses and parameters many operations share;
//! - `page`: the routes, and Swagger UI embedded from the npm package `swagger-ui-dist`.

mod operations;
mod page;
pub mod responses;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Value, json};
use shared::http::problem::Problem;
use utoipa::OpenApi;
use utoipa::openapi as oa;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

pub use page::routes;

const DESCRIPTION: &str = "\
Sign up and log in, create and manage events, browse upcoming events, register within each \
event's capacity (with a waitlist), get notifications, leave feedback, subscribe from a calendar \
app, and run recurring series.

- **JSON** in and out, UTF-8, `snake_case` fields. A body with a field the operation does not \
know is a 400.
- **Time** is RFC 3339. Input must carry an offset (`2027-03-01T18:00:00+01:00` or `...Z`); \
output is UTC with `Z`, at whole seconds.
- **Auth**: `Authorization: Bearer <access_token>`, the token from `POST /auth/token`.
- **Lists** take `?limit=` (1 to 100, default 20) and `?cursor=` (the previous page's \
`next_cursor`) and answer `{\"results\": [...], \"next_cursor\": \"...\" | null}`.
- **Errors** are RFC 9457 problem details (`application/problem+json`), with `errors` naming \
each offending field of a validation failure. Any route answers 404 for an unknown path and 405 \
(with `Allow`) for a method it does not serve. 429 (with `Retry-After`) means too many attempts \
from one client or at one account, or API Gateway throttling.";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Event Management API",
        version = env!("CARGO_PKG_VERSION"),
        description = DESCRIPTION,
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/", description = "This API: the origin that served this document.")),
    components(
        schemas(Problem, responses::DateBound),
        responses(
            responses::BadBody,
            responses::BadQuery,
            responses::Unauthorized,
            responses::Forbidden,
            responses::NotFound,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::TooManyRequests,
            responses::KeyReused,
            responses::Unavailable,
        ),
    ),
    tags(
        (name = "users", description = "Sign-up, profiles and account deletion."),
        (name = "auth", description = "Access tokens and rotating refresh tokens."),
        (name = "events", description = "Events, their calendar files, categories, and upcoming events."),
        (name = "registrations", description = "Seats, the waitlist, and both sides' lists."),
        (name = "tickets", description = "Tickets with QR codes, and check-in at the door."),
        (name = "team", description = "Co-hosts and door staff of an event."),
        (name = "feedback", description = "Ratings and comments by attendees."),
        (name = "series", description = "Recurring events."),
        (name = "notifications", description = "In-app notifications."),
        (name = "calendar", description = "Personal iCalendar feeds."),
        (name = "webhooks", description = "Signed HTTP callbacks to an organizer's own endpoints when their events change."),
        (name = "docs", description = "This document and its reference page."),
    ),
)]
struct Base;

/// The bearer security scheme, as the operations' `security(("bearer" = []))` name it.
const BEARER: &str = "bearer";

/// Links between operations: an id in one response is a parameter of the next request. They
/// document how the resources connect, and guide stateful testing.
const LINKS: &[(&str, &str, &str, &[&str])] = &[
    // (operation, status, response field holding the id, operations taking it as `{id}`). A link
    // leads only to what the first operation surely made reachable: the caller's registration
    // comes from `register`, not from `create_event`; its ticket comes with a seat, which a
    // registration answered 201 may not have (a waitlist place), so no link leads to the ticket.
    ("sign_up", "201", "/id", &["get_user", "replace_user", "patch_user", "delete_user"]),
    (
        "create_event",
        "201",
        "/id",
        &[
            "get_event",
            "replace_event",
            "patch_event",
            "delete_event",
            "get_event_calendar",
            "list_feedback",
            "give_feedback",
            "register",
            "list_event_registrations",
            "list_team",
        ],
    ),
    ("create_event", "201", "/series_id", &["list_series", "delete_series"]),
    ("register", "201", "/event_id", &["get_my_registration", "cancel_my_registration", "give_feedback"]),
    ("list_notifications", "200", "/results/0/id", &["mark_notification_read"]),
    ("create_webhook", "201", "/id", &["get_webhook", "delete_webhook", "list_webhook_deliveries"]),
];

/// The whole document as utoipa builds it, without [`LINKS`] (see [`document`]).
fn openapi() -> oa::OpenApi {
    let mut document = Base::openapi();
    for part in [
        operations::users::Api::openapi(),
        operations::webhooks::Api::openapi(),
        operations::events::Api::openapi(),
        operations::upcoming::Api::openapi(),
        operations::register::Api::openapi(),
        operations::docs::Api::openapi(),
    ] {
        document.merge(part);
    }
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("The `access_token` from `POST /auth/token` or `POST /auth/refresh`."))
                .build(),
        ),
    );
    document
}

/// The whole document as JSON, with its links. utoipa 5 writes the fields of a Link Object in
/// snake case (`operation_id`), which no OpenAPI tool reads, so links are added to the JSON here.
pub fn document() -> Value {
    let mut document = serde_json::to_value(openapi()).expect("the OpenAPI document serializes");
    add_links(&mut document);
    document
}

/// [`document`] as text, built on first use (not at start-up: cold starts stay short).
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| document().to_string())
}

fn add_links(document: &mut Value) {
    let mut operations: BTreeMap<String, String> = BTreeMap::new(); // operationId -> JSON pointer
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if let Some(id) = operation["operationId"].as_str() {
                let path = path.replace('~', "~0").replace('/', "~1");
                operations.insert(id.to_owned(), format!("/paths/{path}/{method}"));
            }
        }
    }
    for (from, status, pointer, targets) in LINKS {
        let operation =
            operations.get(*from).unwrap_or_else(|| panic!("a link starts at {from}, no operation"));
        let links = document
            .pointer_mut(&format!("{operation}/responses/{status}"))
            .and_then(Value::as_object_mut)
            .filter(|response| !response.contains_key("$ref"))
            .unwrap_or_else(|| panic!("a link starts at {from} {status}, no inline response"))
            .entry("links")
            .or_insert_with(|| json!({}));
        for target in *targets {
            assert!(operations.contains_key(*target), "a link leads to {target}, no operation");
            links[*target] = json!({
                "operationId": target,
                "parameters": {"id": format!("$response.body#{pointer}")},
            });
        }
    }
}
