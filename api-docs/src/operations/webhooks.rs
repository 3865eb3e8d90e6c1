//! The users function's webhook endpoints (`functions/users/src/webhooks.rs`); the deliveries
//! themselves are the dispatch function's.

use shared::views::{NewWebhookView, WebhookView};
use utoipa::OpenApi;

use crate::responses::{
    BadQuery, BodyErrors, IdempotencyKeyHeader, KeyReused, NotFound, PROBLEM, PageParams, Unauthorized,
    Unavailable, WebhookId, problem_example,
};
use shared::http::bodies::CreateWebhook;
use shared::http::problem::Problem;
use shared::views::{DeliveryPage, WebhookPage};

#[derive(OpenApi)]
#[openapi(paths(create_webhook, list_webhooks, get_webhook, delete_webhook, list_webhook_deliveries))]
pub struct Api;

/// Create a webhook endpoint
///
/// Changes to the caller's events are posted to `url` as JSON `{type, timestamp, data}`, signed
/// per Standard Webhooks: headers `webhook-id` (the message's id, the same in every attempt:
/// receivers use it to ignore a repeat), `webhook-timestamp` (Unix seconds of the attempt) and
/// `webhook-signature` (`v1,` and the base64 HMAC-SHA256, keyed with the base64 after `whsec_` in
/// `secret`, of `<webhook-id>.<webhook-timestamp>.<body>`). Any 2xx answer within 10 seconds is
/// a success; anything else (redirects included) is retried 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
/// and 10 h later, then the delivery has failed and the endpoint is `failing` until a delivery
/// succeeds. The secret is shown in this answer only. A user may have ten endpoints.
#[utoipa::path(
    post,
    path = "/users/me/webhooks",
    tag = "webhooks",
    params(IdempotencyKeyHeader),
    request_body = CreateWebhook,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The endpoint, with its secret (shown once).", body = NewWebhookView,
            headers(
                ("Location" = String, description = "The endpoint's URL, `/users/me/webhooks/{id}`."),
                ("Cache-Control" = String, description = "`no-store`: the body holds the secret."),
                ("Idempotent-Replayed" = String, description = "`true` when this is the answer to an earlier request with the same `Idempotency-Key`."),
            )),
        (status = 409, description = "The caller has ten endpoints already.", body = Problem,
            content_type = PROBLEM,
            example = json!(problem_example(
                "too-many-webhooks", "Conflict", 409, "a user may have at most 10 webhooks; delete one first",
            ))),
        BodyErrors, Unauthorized, KeyReused, Unavailable,
    ),
)]
fn create_webhook() {}

/// The caller's webhook endpoints
#[utoipa::path(
    get,
    path = "/users/me/webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every endpoint of the caller, without secrets.", body = WebhookPage),
        Unauthorized, Unavailable,
    ),
)]
fn list_webhooks() {}

/// A webhook endpoint
#[utoipa::path(
    get,
    path = "/users/me/webhooks/{id}",
    tag = "webhooks",
    params(WebhookId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoint, without its secret.", body = WebhookView),
        Unauthorized, NotFound, Unavailable,
    ),
)]
fn get_webhook() {}

/// Delete a webhook endpoint
///
/// Nothing more is delivered to it, retries included. Its delivery log goes with it.
#[utoipa::path(
    delete,
    path = "/users/me/webhooks/{id}",
    tag = "webhooks",
    params(WebhookId),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        Unauthorized, NotFound, Unavailable,
    ),
)]
fn delete_webhook() {}

/// An endpoint's delivery log
///
/// Newest first, kept 30 days: each message with its body and every attempt (time, the
/// endpoint's status code or why there was none, and how long it took).
#[utoipa::path(
    get,
    path = "/users/me/webhooks/{id}/deliveries",
    tag = "webhooks",
    params(WebhookId, PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of deliveries.", body = DeliveryPage),
        BadQuery, Unauthorized, NotFound, Unavailable,
    ),
)]
fn list_webhook_deliveries() {}
