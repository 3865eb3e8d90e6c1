//! `GET /events/{id}/attendees.csv`: the attendee list for the team, streamed a page of
//! registrations at a time, so that however many registered, one page is in memory at once.

use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use shared::AppState;
use shared::domain::access::EventAction;
use shared::domain::{Id, Limit};
use shared::export;
use shared::http::{ApiError, Caller, access};
use shared::store::StoreError;
use shared::store::page::PageRequest;

/// Registrations read per page of the export: the most one list page holds.
const PAGE: &str = "100";

/// One page of rows, and the request for the page after it.
struct Chunk {
    rows: Bytes,
    next: Option<PageRequest>,
}

pub async fn attendees_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    on_lambda: Option<Extension<lambda_http::Context>>,
) -> Result<Response, ApiError> {
    let event = access::event_for(&state, &caller, &id, EventAction::ReadAttendees).await?.id;
    let limit = Limit::parse(PAGE).map_err(ApiError::Internal)?;
    // The first page is read before answering: a storage failure then is still a 503.
    let first = chunk(&state, event, PageRequest { limit, start: None }).await?;
    let head = Bytes::from([export::HEADER.as_bytes(), &first.rows].concat());
    let body = match on_lambda {
        // API Gateway's HTTP API takes a function's answer whole (lambda_http buffers the body),
        // so on Lambda every page is read here, within the request's deadline, and a storage
        // failure on any of them is a 503 rather than a broken answer.
        Some(_) => Body::from(whole(&state, event, head, first.next).await?),
        // Served directly, the answer streams: one page in memory at a time. A storage failure
        // on a later page cuts the transfer short, which the client sees as incomplete.
        None => Body::from_stream(streamed(state, event, head, first.next)),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8; header=present"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{event}-attendees.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    // Personal data: no cache may keep it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The pages after the first, each sent as it is read.
fn streamed(
    state: AppState,
    event: Id,
    head: Bytes,
    next: Option<PageRequest>,
) -> impl futures::Stream<Item = Result<Bytes, StoreError>> {
    let rest = futures::stream::try_unfold(next, move |next| {
        let state = state.clone();
        async move {
            let Some(request) = next else { return Ok::<_, StoreError>(None) };
            let chunk = chunk(&state, event, request).await?;
            Ok(Some((chunk.rows, chunk.next)))
        }
    });
    futures::stream::once(async move { Ok(head) }).chain(rest)
}

/// The whole list: `head` and every page after it.
async fn whole(
    state: &AppState,
    event: Id,
    head: Bytes,
    mut next: Option<PageRequest>,
) -> Result<Vec<u8>, StoreError> {
    let mut csv = head.to_vec();
    while let Some(request) = next {
        let chunk = chunk(state, event, request).await?;
        csv.extend_from_slice(&chunk.rows);
        next = chunk.next;
    }
    Ok(csv)
}

/// One page of the event's registrations as CSV rows, each with its user's email.
async fn chunk(state: &AppState, event: Id, request: PageRequest) -> Result<Chunk, StoreError> {
    let page = state.store.event_registrations(event, &request).await?;
    let ids: Vec<Id> = page.results.iter().map(|placed| placed.registration.user_id).collect();
    let users = state.store.profiles(&ids).await?;
    let mut rows = String::with_capacity(page.results.len() * 120);
    for placed in &page.results {
        let email = users.get(&placed.registration.user_id).map_or("", |user| user.email.as_str());
        rows.push_str(&export::row(placed, email));
    }
    let next = page.next.map(|start| PageRequest { limit: request.limit, start: Some(start) });
    Ok(Chunk { rows: Bytes::from(rows), next })
}
