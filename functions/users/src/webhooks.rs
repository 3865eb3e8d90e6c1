//! An organizer's webhook endpoints: `POST` and `GET /users/me/webhooks`, `GET` and `DELETE
//! /users/me/webhooks/{id}`, and the delivery log `GET /users/me/webhooks/{id}/deliveries`.
//! Deliveries are the dispatch function's (see `dispatch::webhooks`).

use axum::extract::{Path, State};
use axum::response::Response;
use shared::AppState;
use shared::domain::{Id, Instant};
use shared::http::Caller;
use shared::http::bodies::CreateWebhook;
use shared::http::idempotency::{self, Create};
use shared::http::{ApiError, Page, PageRequest, QueryMap, respond};
use shared::records::WebhookRecord;
use shared::store::webhooks::MAX_ENDPOINTS;
use shared::views::{DeliveryView, NewWebhookView, WebhookView};
use shared::webhook_signature::new_secret;

/// `POST /users/me/webhooks {url, events}`: 201 with the endpoint and its secret, shown once.
/// With an `Idempotency-Key`, the same request sent again gets the same answer (and secret).
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Create { body, idempotent, .. }: Create,
) -> Result<Response, ApiError> {
    let CreateWebhook { url, events } = CreateWebhook::read(body, state.webhook_targets)?;
    let record = WebhookRecord {
        id: Id::new(),
        owner: caller.id(),
        url: url.as_str().to_owned(),
        events,
        secret: new_secret(),
        created_at: Instant::now(),
        failing_since: None,
        last_delivered_at: None,
    };
    let view = NewWebhookView { secret: record.secret.clone(), webhook: WebhookView::from(record.clone()) };
    let no_store = vec![("cache-control".to_owned(), "no-store".to_owned())];
    let answer = idempotency::created(format!("/users/me/webhooks/{}", record.id), &view, no_store)?;
    let created = state.store.create_webhook(&record, idempotent.remember(&answer, record.created_at)?).await;
    match idempotent.settle(&state, created).await? {
        Ok(true) => Ok(idempotency::respond(&answer)),
        Ok(false) => Err(ApiError::conflict(
            "too-many-webhooks",
            format!("a user may have at most {MAX_ENDPOINTS} webhooks; delete one first"),
        )),
        Err(first) => Ok(first),
    }
}

/// `GET /users/me/webhooks`: the caller's endpoints, oldest first, in one page (there are at
/// most [`MAX_ENDPOINTS`]).
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let endpoints = state.store.webhooks_of(caller.id()).await?;
    let page = Page { results: endpoints.into_iter().map(WebhookView::from).collect(), next: None };
    Ok(page.respond(&state.tokens.cursor_key, "webhooks"))
}

/// The caller's endpoint `raw_id`, or a 404 (another user's endpoint is a 404 too).
async fn own_endpoint(state: &AppState, caller: &Caller, raw_id: &str) -> Result<WebhookRecord, ApiError> {
    let id = Id::parse(raw_id).ok_or_else(|| ApiError::not_found("webhook"))?;
    state.store.find_webhook(caller.id(), id).await?.ok_or_else(|| ApiError::not_found("webhook"))
}

pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<WebhookView>, ApiError> {
    Ok(axum::Json(WebhookView::from(own_endpoint(&state, &caller, &id).await?)))
}

/// `DELETE /users/me/webhooks/{id}`: 204. Deliveries still due are abandoned.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = Id::parse(&id).ok_or_else(|| ApiError::not_found("webhook"))?;
    if state.store.delete_webhook(caller.id(), id).await? {
        Ok(respond::no_content())
    } else {
        Err(ApiError::not_found("webhook"))
    }
}

/// `GET /users/me/webhooks/{id}/deliveries`: the endpoint's deliveries, newest first, each with
/// its attempts.
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let endpoint = own_endpoint(&state, &caller, &id).await?;
    let scope = format!("webhook-deliveries/{}", endpoint.id);
    let page = PageRequest::parse(&query, &state.tokens.cursor_key, &scope)?;
    let deliveries = state.store.webhook_deliveries(endpoint.id, &page).await?;
    Ok(deliveries.map(DeliveryView::from).respond(&state.tokens.cursor_key, &scope))
}
