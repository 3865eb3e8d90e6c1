//! What the table holds beside the service's records (see [`crate::records`]): an event's seat
//! shards, its waitlist entries, refresh tokens and name reservations, and the keys and `type`
//! attribute each item is written with; reading ignores the key attributes.

use serde::{Deserialize, Serialize};

use crate::domain::{Id, Instant};
pub use crate::records::{
    EventRecord, FeedbackRecord, Notification, NotificationKind, RegistrationRecord, RegistrationStatus,
    TeamMemberRecord, UserRecord,
};

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

/// An entry of an event's waitlist queue, under `EVENT#<event>` / `WAIT#<seq>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WaitlistEntry {
    pub user_id: Id,
    pub seq: String,
    /// The seat shard counting this wait.
    #[serde(default)]
    pub shard: u8,
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

impl EventRecord {
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
