//! The records stored in the table. Each is written with its keys (see [`super::keys`]) and a
//! `type` attribute; reading ignores the key attributes.

use serde::{Deserialize, Serialize};

use crate::domain::access::TeamRole;
use crate::domain::{Id, Instant, Role, Visibility};

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

/// An event, as stored under `EVENT#<id>` / `EVENT` and copied into the organizer, time, category
/// and series indexes. Its live counters are read with it but stored apart, on the event's
/// [`SeatShard`] items: a registration or a rating then rewrites one small item that no index
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
    /// How many [`SeatShard`] items hold the seats: fixed when the event is created.
    #[serde(default = "one_shard")]
    pub seat_shards: u8,
    /// From the [`SeatShard`] items; never written with the event.
    #[serde(default, skip_serializing)]
    pub confirmed_count: u32,
    /// From the [`SeatShard`] items; never written with the event.
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
    /// From the first [`SeatShard`]; never written with the event.
    #[serde(default, skip_serializing)]
    pub rating_sum: u64,
    /// From the first [`SeatShard`]; never written with the event.
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

    /// The event with the counters summed over its seat shards.
    pub fn with_counters<'a>(mut self, shards: impl IntoIterator<Item = &'a SeatShard>) -> Self {
        (self.confirmed_count, self.waitlist_count, self.rating_sum, self.rating_count) = (0, 0, 0, 0);
        for shard in shards {
            self.confirmed_count += shard.confirmed_count;
            self.waitlist_count += shard.waitlist_count;
            self.rating_sum += shard.rating_sum;
            self.rating_count += shard.rating_count;
        }
        self
    }
}

fn one_shard() -> u8 {
    1
}

/// One shard of an event's seats and counters, under `EVENT#<id>` / `EVENT#SEATS#<nn>`, with no
/// index keys: what every registration, cancellation, promotion and rating changes. An event's
/// capacity is split over its shards, so concurrent registrations take seats on different items
/// instead of all waiting for one (DynamoDB cancels transactions that touch an item another
/// transaction holds). Each shard carries copies of the facts the conditions on its counters need
/// (whether a waitlist is kept, the start, a deletion under way), so each change is checked by
/// DynamoDB on the one shard it touches; an edit that changes a copied fact writes every shard in
/// one transaction. See [`crate::store::seats`] for how the shards keep the capacity invariant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeatShard {
    pub shard: u8,
    pub capacity: u32,
    pub waitlist_enabled: bool,
    pub starts_at: Instant,
    pub confirmed_count: u32,
    /// People waiting who joined the queue through this shard.
    pub waitlist_count: u32,
    /// Set on every shard at once while all seats are taken and the waitlist is in use: only
    /// then may people join the queue, and no newcomer takes a seat on a latched shard.
    #[serde(default)]
    pub latched: bool,
    /// Ratings are kept on the first shard only.
    #[serde(default)]
    pub rating_sum: u64,
    #[serde(default)]
    pub rating_count: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleting: bool,
}

impl SeatShard {
    pub fn seats_left(&self) -> u32 {
        self.capacity.saturating_sub(self.confirmed_count)
    }
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

/// A registration's ticket (see [`crate::domain::ticket`]): given when first asked for, gone
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

/// An entry of an event's waitlist queue, under `EVENT#<event>` / `WAIT#<seq>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WaitlistEntry {
    pub user_id: Id,
    pub seq: String,
    /// The seat shard counting this wait.
    #[serde(default)]
    pub shard: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    Reminder,
    Promoted,
    EventChanged,
    EventDeleted,
}

/// An in-app notification, under `USER#<user>` / `NOTIF#<id>`; expires through the table's TTL.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NotificationRecord {
    pub id: Id,
    pub kind: NotificationKind,
    pub event_id: Id,
    pub message: String,
    pub created_at: Instant,
    pub read: bool,
    pub expires_at: i64,
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

/// A refresh token's record under `USER#<id>` / `REFRESH#<token id>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub user_id: Id,
    pub token_id: Id,
    /// All tokens descended from one login share a family; reuse of a spent one revokes it.
    pub family: Id,
    pub secret_hash: String,
    /// Unix seconds; also the table's TTL attribute.
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<Instant>,
    /// The user's `session_version` when the family began.
    #[serde(default)]
    pub session_version: u32,
    /// The token that replaced this one, once spent: a resend of the same refresh within the
    /// grace period answers with it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token_id: Option<Id>,
    /// A SHA-256 of the `Idempotency-Key` the spending refresh carried: only a resend with the
    /// same key is the same refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_key: Option<String>,
    /// Unix seconds: when the family's session ends however often it is refreshed. Tokens stored
    /// before sessions had an end carry none; theirs is their own expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_expires_at: Option<i64>,
}

/// A username or email reservation: `USERNAME#<lc>` / `EMAIL#<lc>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MarkerRecord {
    pub user_id: Id,
}

/// The secondary-index keys an item carries; absent ones are not written (an index key may not
/// be null).
#[derive(Clone, Debug, Default, Serialize)]
pub struct IndexKeys {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gsi3pk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gsi3sk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gsi4pk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gsi4sk: Option<String>,
}

/// A record with its primary key, type and index keys: what is written to the table.
#[derive(Serialize)]
pub struct Stored<'a, T> {
    pub pk: &'a str,
    pub sk: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(flatten)]
    pub index: &'a IndexKeys,
    #[serde(flatten)]
    pub record: &'a T,
}
