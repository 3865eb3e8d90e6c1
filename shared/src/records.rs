//! The records the service keeps: users, events, registrations and their tickets, team members,
//! notifications, feedback, and webhook endpoints with their deliveries, as plain data. The store reads and writes them (with the keys and
//! index attributes it adds, see `store::items`); handlers, views, emails and feeds work with them.
//! No code here knows DynamoDB; the comments say where each record is kept.

use serde::{Deserialize, Serialize};

use crate::domain::access::TeamRole;
use crate::domain::text::search_key;
use crate::domain::webhook::WebhookEvent;
use crate::domain::{EventDraft, Id, Instant, Role, Visibility};

/// A user, as stored under `USER#<id>` / `PROFILE`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: Id,
    pub username: String,
    pub email: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: Instant,
    pub updated_at: Instant,
    /// Bumped to revoke the personal calendar-feed URL.
    #[serde(default)]
    pub calendar_version: u32,
    /// Bumped with every password change: refresh tokens issued under an older one are refused.
    #[serde(default)]
    pub session_version: u32,
    /// Set with a new username, cleared once every item showing the name has it: while set, the
    /// next change of the profile copies the name again (the copy that should have cleared it
    /// failed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub username_pending: bool,
    /// Whether the user gets email (see `dispatch`); on unless they turned it off, with their
    /// profile or an email's one-click unsubscribe link.
    #[serde(default = "emails_on")]
    pub email_notifications: bool,
}

fn emails_on() -> bool {
    true
}

impl UserRecord {
    /// A new account as sign-up makes it: a plain user, email on, nothing bumped yet.
    pub fn new(username: String, email: String, password_hash: String, now: Instant) -> UserRecord {
        UserRecord {
            id: Id::new(),
            username,
            email,
            role: Role::User,
            password_hash,
            created_at: now,
            updated_at: now,
            calendar_version: 0,
            session_version: 0,
            username_pending: false,
            email_notifications: emails_on(),
        }
    }
}

/// An event, as stored under `EVENT#<id>` / `EVENT` and copied into the organizer, time, category
/// and series indexes. Its live counters are read with it but stored apart, on the event's
/// seat shard items: a registration or a rating then rewrites one small item that no index
/// holds, instead of the event and each of its index copies.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EventRecord {
    pub id: Id,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub starts_at: Instant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Instant>,
    pub timezone: String,
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub capacity: u32,
    /// How many seat shard items hold the seats: fixed when the event is created.
    #[serde(default = "one_shard")]
    pub seat_shards: u8,
    /// From the seat shard items; never written with the event.
    #[serde(default, skip_serializing)]
    pub confirmed_count: u32,
    /// From the seat shard items; never written with the event.
    #[serde(default, skip_serializing)]
    pub waitlist_count: u32,
    pub waitlist_enabled: bool,
    /// Unlisted events carry it; events stored before visibility existed are public.
    #[serde(default)]
    pub visibility: Visibility,
    pub organizer_id: Id,
    pub organizer_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_id: Option<Id>,
    pub created_at: Instant,
    pub updated_at: Instant,
    /// Bumped by every edit of the writable fields (not by registrations): edits are
    /// read-modify-write and use it for optimistic concurrency.
    pub version: u64,
    /// From the first seat shard; never written with the event.
    #[serde(default, skip_serializing)]
    pub rating_sum: u64,
    /// From the first seat shard; never written with the event.
    #[serde(default, skip_serializing)]
    pub rating_count: u64,
    /// Lower-cased title and location that the substring filters compare against.
    pub title_search: String,
    pub location_search: String,
    /// Set while the event and its registrations are being deleted: the event is gone for
    /// readers and refuses new registrations.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleting: bool,
    /// When the deletion began (Unix milliseconds), kept by every later attempt: the
    /// cancellation notices take their ids from it, so a deletion repeated after an
    /// interruption rewrites them instead of sending them twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_began_ms: Option<u64>,
}

impl EventRecord {
    pub fn seats_left(&self) -> u32 {
        self.capacity.saturating_sub(self.confirmed_count)
    }

    /// The mean rating, not rounded; `None` before the first.
    pub fn average_rating(&self) -> Option<f64> {
        (self.rating_count > 0).then(|| self.rating_sum as f64 / self.rating_count as f64)
    }

    /// A new event from a validated draft, with empty counters, its seats on as many shards as
    /// its capacity needs.
    pub fn new(
        id: Id,
        organizer: (Id, &str),
        series_id: Option<Id>,
        draft: &EventDraft,
        now: Instant,
    ) -> EventRecord {
        let blank = EventRecord {
            id,
            title: String::new(),
            description: None,
            starts_at: draft.starts_at,
            ends_at: None,
            timezone: String::new(),
            location: String::new(),
            category: None,
            capacity: 0,
            seat_shards: 1,
            confirmed_count: 0,
            waitlist_count: 0,
            waitlist_enabled: true,
            visibility: Default::default(),
            organizer_id: organizer.0,
            organizer_username: organizer.1.to_owned(),
            series_id,
            created_at: now,
            updated_at: now,
            version: 0,
            rating_sum: 0,
            rating_count: 0,
            title_search: String::new(),
            location_search: String::new(),
            deleting: false,
            deletion_began_ms: None,
        };
        let mut event = blank.edited(draft, now);
        event.seat_shards = shards_for(event.capacity);
        event
    }

    /// Applies a validated draft to this event: the record as it will be after the edit.
    pub fn edited(&self, draft: &EventDraft, now: Instant) -> EventRecord {
        let mut next = self.clone();
        next.title = draft.title.as_str().to_owned();
        next.title_search = search_key(&next.title);
        next.description =
            draft.description.as_ref().map(|d| d.as_str().to_owned()).filter(|d| !d.is_empty());
        next.starts_at = draft.starts_at;
        next.ends_at = draft.ends_at;
        next.timezone = draft.timezone.name().to_owned();
        next.location = draft.location.as_str().to_owned();
        next.location_search = search_key(&next.location);
        next.capacity = draft.capacity.get();
        next.category = draft.category.map(|c| c.slug.to_owned());
        next.waitlist_enabled = draft.waitlist_enabled;
        next.visibility = draft.visibility;
        next.version = self.version + 1;
        next.updated_at = now;
        next
    }

    /// Whether `next`, computed by [`EventRecord::edited`], changes any writable field. One that
    /// does not is no edit: nothing is written and nobody is told the event changed.
    pub fn changes_anything(&self, next: &EventRecord) -> bool {
        let current = self;
        (&current.title, &current.description, current.starts_at, current.ends_at, &current.timezone)
            != (&next.title, &next.description, next.starts_at, next.ends_at, &next.timezone)
            || (&current.location, current.capacity, &current.category, current.waitlist_enabled)
                != (&next.location, next.capacity, &next.category, next.waitlist_enabled)
            || current.visibility != next.visibility
    }
}

/// Seats per shard an event is created with, up to [`MAX_SHARDS`]: a shard takes a transaction at
/// a time, so an event people rush for needs several; a small one needs only one (one item to
/// read, and every change checked on it).
pub const SEATS_PER_SHARD: u32 = 32;
pub const MAX_SHARDS: u8 = 16;

/// How many seat shards an event of `capacity` seats is created with.
pub fn shards_for(capacity: u32) -> u8 {
    capacity.div_ceil(SEATS_PER_SHARD).clamp(1, u32::from(MAX_SHARDS)) as u8
}

fn one_shard() -> u8 {
    1
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationStatus {
    Confirmed,
    Waitlisted,
}

impl RegistrationStatus {
    /// The status as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Confirmed => "confirmed",
            RegistrationStatus::Waitlisted => "waitlisted",
        }
    }
}

/// A user's registration for an event, under `EVENT#<event>` / `REG#<user>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegistrationRecord {
    pub event_id: Id,
    pub user_id: Id,
    pub username: String,
    pub status: RegistrationStatus,
    /// Arrival order on the waitlist (a ULID); also names the waitlist entry.
    pub seq: String,
    /// The seat shard holding the seat (confirmed) or counting the wait (waitlisted).
    #[serde(default)]
    pub shard: u8,
    pub created_at: Instant,
    /// Copied from the event so the user's list can be ordered by it.
    pub event_starts_at: Instant,
    /// The ticket and its use at the door, once a confirmed registration has a ticket.
    #[serde(flatten)]
    pub ticket: TicketState,
}

/// A registration's ticket (see `crate::domain::ticket`): given when first asked for, gone
/// with the registration.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TicketState {
    /// What the ticket's code is derived from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_nonce: Option<String>,
    /// The code's SHA-256, also the registration's gsi4 key: what a scanned code is looked up by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_lookup: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_in_at: Option<Instant>,
    /// Who checked the ticket in: their id, and their username then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_in_by_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_in_by: Option<String>,
}

/// A member of an event's team, under `EVENT#<event>` / `TEAM#<user>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TeamMemberRecord {
    pub event_id: Id,
    pub user_id: Id,
    pub role: TeamRole,
    pub added_at: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Reminder,
    Promoted,
    EventChanged,
    EventDeleted,
}

// Stored under `USER#<user>` / `NOTIF#<id>` in the shape it is served in; the store writes the
// table's TTL attribute beside these fields, which reading leaves out.
/// An in-app notification.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: Id,
    pub kind: NotificationKind,
    pub event_id: Id,
    pub message: String,
    pub created_at: Instant,
    pub read: bool,
}

/// Feedback on an event, under `EVENT#<event>` / `FEEDBACK#<user>`: one per user.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FeedbackRecord {
    pub id: Id,
    pub event_id: Id,
    pub user_id: Id,
    pub username: String,
    pub rating: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub created_at: Instant,
}

/// One organizer's endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WebhookRecord {
    pub id: Id,
    pub owner: Id,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    /// `whsec_` and the base64 of 32 random bytes: the HMAC key of every signature.
    pub secret: String,
    pub created_at: Instant,
    /// Since when every attempt of a delivery has failed, up to its last; cleared by the next
    /// delivery that succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Instant>,
    /// The last successful attempt: a delivery that gives up after it was made does not mark the
    /// endpoint failing (the two may settle in either order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivered_at: Option<Instant>,
}

impl WebhookRecord {
    /// Whether the endpoint subscribed to `kind`. It hears of every change dispatched after it
    /// was made (a change made just before may be among them: the stream's record times are
    /// too coarse to tell, rounded down to the second on AWS and to the minute locally).
    pub fn wants(&self, kind: WebhookEvent) -> bool {
        self.events.contains(&kind)
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt (`next_attempt_ms`).
    Pending,
    /// An attempt is under way.
    Sending,
    Delivered,
    /// Every attempt failed, or the endpoint is gone.
    Failed,
}

/// One attempt, as the log shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub at: Instant,
    /// The endpoint's HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// One message to one endpoint, with its attempts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// `msg_<ulid>`: the `webhook-id` every attempt carries.
    pub id: String,
    pub endpoint_id: Id,
    pub owner: Id,
    pub event_type: WebhookEvent,
    /// The body, exactly as signed and sent.
    pub payload: String,
    pub created_at: Instant,
    pub hook_state: DeliveryState,
    #[serde(default)]
    pub attempts: Vec<AttemptRecord>,
    /// Attempts begun: counted by each claim, so one cut short (its sender stopped) counts too.
    #[serde(default)]
    pub tries: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_at_ms: Option<u64>,
    pub expires_at: i64,
}
