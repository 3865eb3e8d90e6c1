//! The JSON representations of stored records, as the API defines them. Their OpenAPI schemas
//! are derived here (`ToSchema`), so the document the API serves describes these very types; a
//! record served exactly as stored (a notification) derives its schema in [`crate::records`].

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::access::TeamRole;
use crate::domain::webhook::WebhookEvent;
use crate::domain::{Id, Instant, Role, Visibility};
use crate::records::{DeliveryRecord, DeliveryState, FeedbackRecord, WebhookRecord};
use crate::records::{EventRecord, RegistrationRecord, RegistrationStatus, TeamMemberRecord, UserRecord};
use crate::store::registrations::Placed;
use crate::store::stats::EventStats;

mod pages;

pub use pages::{
    DeliveryPage, EventPage, FeedbackPage, Listed, NotificationPage, RegistrationPage, TeamPage, UserPage,
    WebhookPage,
};

/// A user. `email` is shown only to the user and to admins.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    pub id: Id,
    #[schema(examples("alice"))]
    pub username: String,
    /// Only for the user themselves and admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = Email, examples("alice@example.com"))]
    pub email: Option<String>,
    pub role: Role,
    pub created_at: Instant,
    /// Whether the user gets email about their registrations and events. Only for the user
    /// themselves and admins.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub email_notifications: Option<bool>,
}

impl UserView {
    pub fn new(user: UserRecord, show_email: bool) -> Self {
        UserView {
            id: user.id,
            username: user.username,
            email: show_email.then_some(user.email),
            role: user.role,
            created_at: user.created_at,
            email_notifications: show_email.then_some(user.email_notifications),
        }
    }
}

/// `{id, username}`: how users appear inside other resources.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserRef {
    pub id: Id,
    pub username: String,
}

/// Feedback on an event by one of its confirmed attendees.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Feedback)]
pub struct FeedbackView {
    pub id: Id,
    pub user: UserRef,
    #[schema(minimum = 1, maximum = 5)]
    pub rating: u8,
    #[schema(required = true)]
    pub comment: Option<String>,
    pub created_at: Instant,
}

impl From<FeedbackRecord> for FeedbackView {
    fn from(f: FeedbackRecord) -> Self {
        FeedbackView {
            id: f.id,
            user: UserRef { id: f.user_id, username: f.username },
            rating: f.rating,
            comment: f.comment,
            created_at: f.created_at,
        }
    }
}

/// The single token type issued.
#[derive(Debug, Serialize, ToSchema)]
pub enum TokenType {
    Bearer,
}

/// An access token with the refresh token that renews it.
// No `Debug`: it holds both secrets.
#[derive(Serialize, ToSchema)]
#[schema(examples(json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMUpROFozTjVWN0tYVzJNNFA2UjhUMFkxQSJ9.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "01JQ8Z3N5V7KXW2M4P6R8T0Y1A.3q2-7wEjvYpUQk1vF0aXnR0kq9s"
})))]
pub struct TokenPair {
    /// A JWT: send it as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    pub token_type: TokenType,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Renews the pair once through `POST /auth/refresh`.
    pub refresh_token: String,
}

/// The caller's personal calendar feed, readable without a header.
// No `Debug`: its URL is the credential.
#[derive(Serialize, ToSchema)]
#[schema(examples(json!({"url": "https://abc123defg.execute-api.eu-west-1.amazonaws.com/calendar/AbCdEf123/feed.ics"})))]
pub struct FeedUrl {
    #[schema(format = "uri")]
    pub url: String,
}

/// An event with its live counters.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventView {
    pub id: Id,
    #[schema(examples("Rust Lisbon"))]
    pub title: String,
    #[schema(required = true)]
    pub description: Option<String>,
    pub starts_at: Instant,
    #[schema(required = true)]
    pub ends_at: Option<Instant>,
    /// The IANA time zone of recurrence and calendar output.
    #[schema(examples("Europe/Lisbon"))]
    pub timezone: String,
    pub location: String,
    /// A category slug.
    #[schema(required = true, examples("meetup"))]
    pub category: Option<String>,
    pub capacity: u32,
    pub confirmed_count: u32,
    pub waitlist_count: u32,
    /// `capacity - confirmed_count`.
    pub seats_left: u32,
    pub waitlist_enabled: bool,
    /// `unlisted` events are in no public list; anyone with the id may read and register.
    pub visibility: Visibility,
    pub organizer: UserRef,
    /// The series the event is an occurrence of.
    #[schema(required = true)]
    pub series_id: Option<Id>,
    pub created_at: Instant,
    pub updated_at: Instant,
    /// Opens Google Calendar with the event filled in.
    #[schema(format = "uri")]
    pub google_calendar_url: String,
}

impl From<EventRecord> for EventView {
    fn from(e: EventRecord) -> Self {
        let seats_left = e.seats_left();
        let google_calendar_url = crate::calendar::google_calendar_url(&e);
        EventView {
            id: e.id,
            title: e.title,
            description: e.description,
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            timezone: e.timezone,
            location: e.location,
            category: e.category,
            capacity: e.capacity,
            confirmed_count: e.confirmed_count,
            waitlist_count: e.waitlist_count,
            seats_left,
            waitlist_enabled: e.waitlist_enabled,
            visibility: e.visibility,
            organizer: UserRef { id: e.organizer_id, username: e.organizer_username },
            series_id: e.series_id,
            created_at: e.created_at,
            updated_at: e.updated_at,
            google_calendar_url,
        }
    }
}

/// A registration, with its place on the waitlist.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Registration)]
pub struct RegistrationView {
    pub event_id: Id,
    pub user: UserRef,
    pub status: RegistrationStatus,
    /// 1 for the head of the waitlist; `null` when confirmed.
    #[schema(required = true, minimum = 1)]
    pub waitlist_position: Option<u32>,
    pub created_at: Instant,
}

impl From<Placed> for RegistrationView {
    fn from(placed: Placed) -> Self {
        let r = placed.registration;
        RegistrationView {
            event_id: r.event_id,
            user: UserRef { id: r.user_id, username: r.username },
            status: r.status,
            waitlist_position: placed.waitlist_position,
            created_at: r.created_at,
        }
    }
}

/// Whether a ticket was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Not checked in yet: good at the door.
    Valid,
    CheckedIn,
}

/// A confirmed registration's ticket: show the code, or its QR, at the door.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Ticket)]
pub struct TicketView {
    /// 32 characters of base32: what the QR holds, and what door staff may type in.
    #[schema(examples("MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"))]
    pub code: String,
    /// The QR image of the code (SVG; needs the same bearer token).
    #[schema(format = "uri")]
    pub qr_svg_url: String,
    pub status: TicketStatus,
    #[schema(required = true)]
    pub checked_in_at: Option<Instant>,
    pub event: EventView,
}

impl TicketView {
    pub fn new(
        code: &str,
        qr_svg_url: String,
        registration: &RegistrationRecord,
        event: EventRecord,
    ) -> Self {
        let checked_in_at = registration.ticket.checked_in_at;
        TicketView {
            code: code.to_owned(),
            qr_svg_url,
            status: if checked_in_at.is_some() { TicketStatus::CheckedIn } else { TicketStatus::Valid },
            checked_in_at,
            event: event.into(),
        }
    }
}

/// A ticket checked in at the door.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CheckIn)]
pub struct CheckInView {
    pub registration: RegistrationView,
    pub checked_in_at: Instant,
    /// Who scanned it.
    pub checked_in_by: UserRef,
}

impl CheckInView {
    /// The check-in of `registration`; `None` when it was not checked in.
    pub fn of(registration: RegistrationRecord) -> Option<Self> {
        let ticket = registration.ticket.clone();
        Some(CheckInView {
            checked_in_at: ticket.checked_in_at?,
            checked_in_by: UserRef { id: ticket.checked_in_by_id?, username: ticket.checked_in_by? },
            registration: Placed { registration, waitlist_position: None }.into(),
        })
    }
}

/// A member of an event's team.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TeamMember)]
pub struct TeamMemberView {
    pub user: UserRef,
    pub role: TeamRole,
    pub added_at: Instant,
}

impl TeamMemberView {
    pub fn new(member: TeamMemberRecord, username: String) -> Self {
        TeamMemberView {
            user: UserRef { id: member.user_id, username },
            role: member.role,
            added_at: member.added_at,
        }
    }
}

/// An event's numbers: the live counts, and what happened each day (UTC).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EventStats)]
pub struct StatsView {
    pub capacity: u32,
    /// Seats taken now.
    pub confirmed: u32,
    /// People on the waitlist now.
    pub waitlisted: u32,
    /// Registrations checked in at the door now.
    pub checked_in: i64,
    /// Registrations cancelled (by their user, or with their account).
    pub cancelled: i64,
    /// Each day something happened, oldest first.
    pub registrations_per_day: Vec<DayView>,
    /// The mean rating (not rounded); `null` before the first feedback.
    #[schema(required = true)]
    pub average_rating: Option<f64>,
    pub rating_count: u64,
}

/// One UTC day of an event's registrations.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayView {
    /// `YYYY-MM-DD`, UTC.
    #[schema(examples("2027-02-14"))]
    pub date: String,
    pub registrations: i64,
    pub cancellations: i64,
    pub check_ins: i64,
}

impl From<EventStats> for StatsView {
    fn from(stats: EventStats) -> Self {
        let totals = stats.totals();
        let event = &stats.event;
        StatsView {
            capacity: event.capacity,
            confirmed: event.confirmed_count,
            waitlisted: event.waitlist_count,
            checked_in: totals.checked_in,
            cancelled: totals.cancelled,
            average_rating: event.average_rating(),
            rating_count: event.rating_count,
            registrations_per_day: stats
                .days
                .into_iter()
                .map(|(date, day)| DayView {
                    date,
                    registrations: day.registered,
                    cancellations: day.cancelled,
                    check_ins: day.checked_in,
                })
                .collect(),
        }
    }
}

/// Whether an endpoint is receiving its deliveries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    Active,
    /// A delivery failed every attempt (for 27 hours); the next delivery that succeeds makes it
    /// active again. New events are still delivered.
    Failing,
}

/// A webhook endpoint. Its secret is shown once, when it is created.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Webhook)]
pub struct WebhookView {
    pub id: Id,
    #[schema(examples("https://hooks.example.com/events"))]
    pub url: String,
    /// The event types delivered to it.
    pub events: Vec<WebhookEvent>,
    pub status: WebhookStatus,
    /// Since when it is failing; `null` while active.
    #[schema(required = true)]
    pub failing_since: Option<Instant>,
    pub created_at: Instant,
}

impl From<WebhookRecord> for WebhookView {
    fn from(record: WebhookRecord) -> Self {
        WebhookView {
            id: record.id,
            url: record.url,
            events: record.events,
            status: if record.failing_since.is_some() {
                WebhookStatus::Failing
            } else {
                WebhookStatus::Active
            },
            failing_since: record.failing_since,
            created_at: record.created_at,
        }
    }
}

/// A webhook endpoint just created, with the secret that signs its deliveries: shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NewWebhook)]
pub struct NewWebhookView {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_` and the base64 of a 32-byte key: the key of the HMAC-SHA256 in
    /// `webhook-signature` (Standard Webhooks).
    #[schema(examples("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))]
    pub secret: String,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for an attempt (or one is under way).
    Pending,
    Delivered,
    /// Every attempt failed, or the endpoint was deleted first.
    Failed,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookAttempt)]
pub struct AttemptView {
    pub at: Instant,
    /// The endpoint's answer; `null` when it gave none.
    #[schema(required = true)]
    pub status_code: Option<u16>,
    /// Why the attempt failed; `null` when it succeeded.
    #[schema(required = true)]
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// One message to an endpoint, with every attempt made so far.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct DeliveryView {
    /// The message's `webhook-id`, the same in every attempt.
    #[schema(examples("msg_01JDQ6W3V1ZP8K2N4R5T7X9Y0A"))]
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: WebhookEvent,
    pub status: DeliveryStatus,
    /// The body sent: `{type, timestamp, data}`.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub attempts: Vec<AttemptView>,
    /// When the next attempt is due; `null` once the delivery is settled.
    #[schema(required = true)]
    pub next_attempt_at: Option<Instant>,
    pub created_at: Instant,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(record: DeliveryRecord) -> Self {
        let status = match record.hook_state {
            DeliveryState::Pending | DeliveryState::Sending => DeliveryStatus::Pending,
            DeliveryState::Delivered => DeliveryStatus::Delivered,
            DeliveryState::Failed => DeliveryStatus::Failed,
        };
        let next_attempt_at = match status {
            DeliveryStatus::Pending => record.next_attempt_ms.and_then(Instant::from_unix_millis),
            _ => None,
        };
        DeliveryView {
            id: record.id,
            event_type: record.event_type,
            status,
            payload: serde_json::from_str(&record.payload).unwrap_or(serde_json::Value::Null),
            attempts: record
                .attempts
                .into_iter()
                .map(|a| AttemptView {
                    at: a.at,
                    status_code: a.status_code,
                    error: a.error,
                    duration_ms: a.duration_ms,
                })
                .collect(),
            next_attempt_at,
            created_at: record.created_at,
        }
    }
}
