//! The day of the event: a registrant's ticket and its QR, check-in at the door, and undoing one.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shared::AppState;
use shared::domain::access::EventAction;
use shared::domain::ticket::{CheckInWindow, Door, TicketCode, TicketNonce};
use shared::domain::{Id, Instant};
use shared::http::bodies::CheckInBody;
use shared::http::links::BaseUrl;
use shared::http::{ApiError, Caller, JsonObject, access, respond};
use shared::records::{EventRecord, RegistrationRecord, RegistrationStatus};
use shared::store::tickets::CheckIn;
use shared::views::{CheckInView, TicketView};

/// The caller's ticket for an event, given now if it has none yet.
pub async fn ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    BaseUrl(base): BaseUrl,
) -> Result<Response, ApiError> {
    let (event, registration, code) = ticket_of(&state, &caller, &id).await?;
    let qr_svg_url = format!("{base}/events/{}/registrations/me/ticket.svg", event.id);
    Ok(respond::secret(&TicketView::new(code.as_str(), qr_svg_url, &registration, event)))
}

/// The caller's ticket as a QR code.
pub async fn ticket_svg(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (_, _, code) = ticket_of(&state, &caller, &id).await?;
    let image =
        shared::qr::svg(code.as_str()).ok_or_else(|| ApiError::Internal("a ticket code too long".into()))?;
    let mut response = image.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    // The image is the ticket: no cache may keep it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The event, the caller's registration for it and its ticket's code. A waitlisted registration
/// has no ticket until it is promoted to a seat.
async fn ticket_of(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
) -> Result<(EventRecord, RegistrationRecord, TicketCode), ApiError> {
    let event = access::find_event(state, raw_id).await?;
    let registration = state
        .store
        .find_registration(event.id, caller.id())
        .await?
        .ok_or_else(|| ApiError::not_found("registration"))?;
    let (registration, code) = ticketed(state, registration).await?;
    Ok((event, registration, code))
}

/// `registration` with its ticket's code: the one it has, else a new one stored now (or, when two
/// requests race, whichever was stored first).
async fn ticketed(
    state: &AppState,
    mut registration: RegistrationRecord,
) -> Result<(RegistrationRecord, TicketCode), ApiError> {
    for _ in 0..2 {
        if registration.status == RegistrationStatus::Waitlisted {
            return Err(ApiError::NotFound(
                "a waitlisted registration has no ticket: one comes with a seat, if it is promoted".into(),
            ));
        }
        let stale = match (&registration.ticket.ticket_nonce, &registration.ticket.ticket_lookup) {
            (Some(nonce), Some(lookup)) => {
                let nonce = TicketNonce::stored(nonce.clone());
                if let Some(code) = state.tokens.ticket_code(&nonce, lookup) {
                    return Ok((registration, code));
                }
                // Made under a secret no longer held: its code cannot be shown, so it is replaced.
                Some(lookup.clone())
            }
            _ => None,
        };
        let nonce = TicketNonce::random();
        let code = state.tokens.new_ticket_code(&nonce);
        registration = state
            .store
            .issue_ticket(&registration, (&nonce, &code), stale.as_deref())
            .await?
            .ok_or_else(|| ApiError::not_found("registration"))?;
    }
    Err(ApiError::Unavailable)
}

/// Checks a ticket in at the door (organizer, co-host, door staff or admin).
pub async fn check_in(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let event = access::event_for(&state, &caller, &id, EventAction::CheckIn).await?;
    let CheckInBody { code } = CheckInBody::read(body)?;
    let now = Instant::now();
    door_open(&state, &event, now)?;
    let void = || ApiError::NotFound("no valid ticket of this event has this code".into());
    let code = TicketCode::parse(&code).ok_or_else(void)?;
    let holder = state.store.ticket_holder(&code).await?.filter(|holder| holder.event_id == event.id);
    let Some(holder) = holder else { return Err(void()) };
    match state.store.check_in(&holder, &code, (caller.id(), &caller.0.username), now).await? {
        CheckIn::Admitted(registration) => {
            let view = CheckInView::of(registration)
                .ok_or_else(|| ApiError::Internal("a check-in not stored".into()))?;
            Ok(respond::created(format!("/events/{}/checkins/{}", event.id, holder.user_id), &view))
        }
        CheckIn::AlreadyIn(registration) => Err(already_in(registration)),
        CheckIn::Void => Err(void()),
    }
}

/// Whether the event's door is open now: a 409 saying when it opens, or that it has closed.
fn door_open(state: &AppState, event: &EventRecord, now: Instant) -> Result<(), ApiError> {
    let opens_before = state.checkin_opens_before.as_secs() as i64;
    let window = CheckInWindow::of(event.starts_at, event.ends_at, opens_before);
    match window.at(now) {
        Door::Open => Ok(()),
        Door::NotYetOpen => {
            Err(ApiError::conflict("check-in-not-open", format!("check-in opens at {}", window.opens_at)))
        }
        Door::Closed => Err(ApiError::conflict(
            "check-in-closed",
            format!("check-in closed at {}, when the event ended", window.closes_at),
        )),
    }
}

/// The 409 of a ticket scanned twice: when, and by whom, it was first.
fn already_in(registration: RegistrationRecord) -> ApiError {
    let Some(first) = CheckInView::of(registration) else {
        return ApiError::Internal("a checked-in registration without its check-in".into());
    };
    ApiError::ConflictWith {
        slug: "already-checked-in",
        detail: format!(
            "this ticket was already checked in at {} by {}",
            first.checked_in_at, first.checked_in_by.username
        ),
        members: json!({
            "checked_in_at": first.checked_in_at,
            "checked_in_by": first.checked_in_by,
        })
        .as_object()
        .cloned()
        .unwrap_or_default(),
    }
}

/// Undoes a check-in (organizer, co-host, door staff or admin).
pub async fn undo_check_in(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let event = access::event_for(&state, &caller, &id, EventAction::CheckIn).await?;
    let not_checked_in = || ApiError::not_found("check-in");
    let user = Id::parse(&user_id).ok_or_else(not_checked_in)?;
    if state.store.undo_check_in(event.id, user).await? {
        Ok(respond::no_content())
    } else {
        Err(not_checked_in())
    }
}
