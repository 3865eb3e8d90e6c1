//! Every condition the store writes on, named for the rule it keeps.
//!
//! DynamoDB checks a write's condition atomically with the write (and a transaction's conditions
//! with all of its writes), so these are where the product's invariants are enforced; nothing
//! read beforehand is trusted. The capacity invariant in particular is these few rules on an
//! event's seat shards (see [`super::seats`]):
//!
//! - a newcomer takes a seat only where [`seat_free`]: the shard has one and is not latched;
//! - the shards are latched only when [`every_seat_taken`] on each;
//! - a newcomer joins the waitlist only where [`waitlist_open`]: the shard is latched;
//! - a seat is given back (and the shards unlatched) only when [`nobody_waiting`]; otherwise it
//!   passes to the head of the queue, whose shard [`someone_waiting`] counts;
//! - a capacity change applies only where [`capacity_covers_confirmed`].
//!
//! Each condition brings the placeholders it uses. Placeholders shared by several conditions
//! (`:yes`, `:no`, `:zero`, `:one`, `#capacity`) always carry the same value, so conditions
//! combine with [`Condition::and`] and with an update expression that uses them too.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;

use super::items::{RegistrationStatus, SeatShard, UserRecord};
use super::tx::{n, s};
use crate::domain::{Instant, Visibility};

/// A condition expression with the names and values of its placeholders.
#[derive(Clone, Debug)]
pub struct Condition {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Condition {
    fn new(expression: impl Into<String>) -> Self {
        Condition { expression: expression.into(), names: HashMap::new(), values: HashMap::new() }
    }

    fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names.insert(placeholder.to_owned(), attribute.to_owned());
        self
    }

    fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    /// Both conditions. A placeholder both use must carry the same value in each.
    pub fn and(mut self, other: Condition) -> Self {
        let other = other.bind_into(&mut self.names, &mut self.values);
        self.expression = format!("{} AND {other}", self.expression);
        self
    }

    /// `query` with this condition as its filter, its placeholders added to those the query has.
    pub(super) fn filtering(self, mut query: QueryFluentBuilder) -> QueryFluentBuilder {
        for (placeholder, attribute) in self.names {
            query = query.expression_attribute_names(placeholder, attribute);
        }
        for (placeholder, value) in self.values {
            query = query.expression_attribute_values(placeholder, value);
        }
        query.filter_expression(self.expression)
    }

    /// Adds this condition's placeholders to `names` and `values` (a write's, or another
    /// condition's) and gives back its expression. A placeholder already there must carry the
    /// same value.
    pub(super) fn bind_into(
        self,
        names: &mut HashMap<String, String>,
        values: &mut HashMap<String, AttributeValue>,
    ) -> String {
        for (placeholder, value) in self.values {
            debug_assert!(
                values.get(&placeholder).is_none_or(|mine| *mine == value),
                "{placeholder} bound to two values"
            );
            values.insert(placeholder, value);
        }
        names.extend(self.names);
        self.expression
    }
}

fn yes() -> AttributeValue {
    AttributeValue::Bool(true)
}

fn no() -> AttributeValue {
    AttributeValue::Bool(false)
}

// Items.

/// The item is there (an update or delete never creates one by accident).
pub fn exists() -> Condition {
    Condition::new("attribute_exists(pk)")
}

/// No item is there yet: a create never overwrites.
pub fn absent() -> Condition {
    Condition::new("attribute_not_exists(pk)")
}

/// No item is there, or only one whose TTL (`expires_at`) has passed and which DynamoDB has yet to
/// delete.
pub fn absent_or_expired(now: Instant) -> Condition {
    Condition::new("(attribute_not_exists(pk) OR expires_at <= :expired_by)")
        .value(":expired_by", n(now.unix()))
}

// Events and their seat shards.

/// The event (or its shard) is there and not being deleted.
pub fn live() -> Condition {
    exists().and(not_being_deleted())
}

/// The event is not being deleted (for a filter: the item may be any of the event's).
pub fn not_being_deleted() -> Condition {
    Condition::new("attribute_not_exists(deleting)")
}

/// For reads of public lists: the event is not being deleted and not unlisted (events stored
/// before visibility existed are public).
pub fn listed() -> Condition {
    not_being_deleted()
        .and(Condition::new("(attribute_not_exists(visibility) OR visibility = :public)"))
        .value(":public", s(Visibility::Public.as_str()))
}

/// For reads: the stored lower-case title holds `text` (already lower-cased).
pub fn title_contains(text: &str) -> Condition {
    Condition::new("contains(title_search, :title)").value(":title", s(text))
}

/// For reads: the stored lower-case location holds `text` (already lower-cased).
pub fn location_contains(text: &str) -> Condition {
    Condition::new("contains(location_search, :location)").value(":location", s(text))
}

/// The event is live, still starts when the registration read it would, and has not started.
pub fn open_for_registration(starts_at: Instant, now: Instant) -> Condition {
    live()
        .and(Condition::new("starts_at = :start AND starts_at > :now"))
        .value(":start", s(starts_at.to_string()))
        .value(":now", s(now.to_string()))
}

/// The event has started by `now` (feedback is for events people attended).
pub fn started_by(now: Instant) -> Condition {
    live().and(Condition::new("starts_at <= :now").value(":now", s(now.to_string())))
}

/// The event item is the version the edit was made from.
pub fn event_version(version: u64) -> Condition {
    live().and(Condition::new("version = :expected").value(":expected", n(version)))
}

/// The shard has a seat free for a newcomer: below its capacity and not latched.
pub fn seat_free() -> Condition {
    below_capacity().and(not_latched())
}

/// The counter has room for one more under its capacity.
pub fn below_capacity() -> Condition {
    Condition::new("confirmed_count < #capacity").name("#capacity", "capacity")
}

/// The shard is not latched: nobody can be waiting.
pub fn not_latched() -> Condition {
    Condition::new("latched = :no").value(":no", no())
}

/// The shard is latched and the event keeps a waitlist: a newcomer may join it.
pub fn waitlist_open() -> Condition {
    Condition::new("latched = :yes AND waitlist_enabled = :yes").value(":yes", yes())
}

/// Every seat of the shard is taken and the event keeps a waitlist: the shard may be latched
/// and a newcomer join the queue through it, in one step.
pub fn waitlist_opening() -> Condition {
    no_seat_left().and(Condition::new("waitlist_enabled = :yes").value(":yes", yes()))
}

/// Every seat of the shard is taken (the shards may be latched).
pub fn every_seat_taken() -> Condition {
    live().and(no_seat_left())
}

/// The shard's counter is at its capacity (the opposite of [`below_capacity`]).
fn no_seat_left() -> Condition {
    Condition::new("confirmed_count >= #capacity").name("#capacity", "capacity")
}

/// Nobody waits on the shard (a seat may be given back; the shard may be unlatched).
pub fn nobody_waiting() -> Condition {
    Condition::new("waitlist_count = :zero").value(":zero", n(0))
}

/// Someone waits on the shard (its count may go down by one).
pub fn someone_waiting() -> Condition {
    Condition::new("waitlist_count >= :one").value(":one", n(1))
}

/// The shard's new capacity still holds every seat it has given.
pub fn capacity_covers_confirmed(capacity: u32) -> Condition {
    live().and(Condition::new("confirmed_count <= :capacity").value(":capacity", n(capacity)))
}

/// The shard is exactly as read: its counters and capacity unchanged, and not being deleted.
pub fn shard_as_read(shard: &SeatShard) -> Condition {
    Condition::new("confirmed_count = :confirmed AND waitlist_count = :was_waiting AND #capacity = :capacity")
        .name("#capacity", "capacity")
        .value(":confirmed", n(shard.confirmed_count))
        .value(":was_waiting", n(shard.waitlist_count))
        .value(":capacity", n(shard.capacity))
        .and(not_being_deleted())
}

/// The event has at least one rating to take back.
pub fn rated() -> Condition {
    exists().and(Condition::new("rating_count >= :one").value(":one", n(1)))
}

// Registrations.

/// The registration is still the one read: same status, same arrival.
pub fn registration_is(status: RegistrationStatus, seq: &str) -> Condition {
    Condition::new("#status = :status AND seq = :seq")
        .name("#status", "status")
        .value(":status", s(status.as_str()))
        .value(":seq", s(seq))
}

/// The registration holds a seat (its user attended, or will).
pub fn confirmed() -> Condition {
    Condition::new("#status = :confirmed")
        .name("#status", "status")
        .value(":confirmed", s(RegistrationStatus::Confirmed.as_str()))
}

// Tickets and the door.

/// A confirmed registration with no ticket yet, or still with the ticket whose code hashes to
/// `replacing`: a ticket is given once (unless its code can no longer be shown), never to a waiter.
pub fn ticket_unissued(replacing: Option<&str>) -> Condition {
    let seated = exists().and(confirmed());
    match replacing {
        None => seated.and(Condition::new("attribute_not_exists(ticket_nonce)")),
        Some(old) => seated.and(Condition::new("ticket_lookup = :old_lookup").value(":old_lookup", s(old))),
    }
}

/// The confirmed registration whose ticket has this code (by its hash), not yet checked in: a
/// scanned code is good once, and only while its registration holds a seat, on `shard` (the seat
/// shard the check-in is counted on, the registration's own).
pub fn ticket_unused(lookup: &str, shard: u8) -> Condition {
    // Registrations stored before seats had shards have none: theirs is the first.
    let on_shard = match shard {
        0 => "(attribute_not_exists(#shard) OR #shard = :shard)",
        _ => "#shard = :shard",
    };
    exists()
        .and(confirmed())
        .and(Condition::new(format!(
            "ticket_lookup = :lookup AND attribute_not_exists(checked_in_at) AND {on_shard}"
        )))
        .name("#shard", "shard")
        .value(":lookup", s(lookup))
        .value(":shard", n(shard))
}

/// The registration was checked in at `at`, as read (undoing it counts one fewer that day).
pub fn checked_in_at(at: Instant) -> Condition {
    exists().and(checked_in_as_read(Some(at)))
}

/// The registration's check-in is as read: none, or the one made at `at`.
pub fn checked_in_as_read(at: Option<Instant>) -> Condition {
    match at {
        None => Condition::new("attribute_not_exists(checked_in_at)"),
        Some(at) => {
            Condition::new("checked_in_at = :checked_in_at").value(":checked_in_at", s(at.to_string()))
        }
    }
}

// Users and sessions.

// Deliveries.

/// Nobody has claimed the delivery yet, or a claim is older than `stale_before_ms` (its sender
/// stopped before saying it was sent).
pub fn delivery_unclaimed(stale_before_ms: u64) -> Condition {
    Condition::new("(attribute_not_exists(pk) OR (delivery_state = :sending AND claimed_at_ms < :stale))")
        .value(":sending", s("sending"))
        .value(":stale", n(stale_before_ms))
}

/// A webhook delivery may be attempted at `now_ms`: it waits and its time has come, or its
/// sender's claim is older than `stale_before_ms`.
pub fn webhook_delivery_due(now_ms: u64, stale_before_ms: u64) -> Condition {
    Condition::new(
        "((hook_state = :pending AND next_attempt_ms <= :now) OR (hook_state = :sending AND claimed_at_ms < :stale))",
    )
    .value(":pending", s("pending"))
    .value(":sending", s("sending"))
    .value(":now", n(now_ms))
    .value(":stale", n(stale_before_ms))
}

/// The webhook delivery is still claimed by the sender that claimed it at `claimed_at_ms`.
pub fn webhook_delivery_claimed_at(claimed_at_ms: u64) -> Condition {
    Condition::new("hook_state = :sending AND claimed_at_ms = :claimed")
        .value(":sending", s("sending"))
        .value(":claimed", n(claimed_at_ms))
}

/// The endpoint exists, and no delivery to it has succeeded since the time in `placeholder`
/// (RFC 3339, so string order is time order).
pub fn not_delivered_since(placeholder: &str) -> Condition {
    Condition::new(format!(
        "attribute_exists(pk) AND (attribute_not_exists(last_delivered_at) OR last_delivered_at < {placeholder})"
    ))
}

/// A user has fewer than `max` webhook endpoints.
pub fn below_endpoint_limit(max: u32) -> Condition {
    Condition::new("(attribute_not_exists(endpoints) OR endpoints < :max)").value(":max", n(max))
}

/// The delivery is still claimed by the sender that claimed it at `claimed_at_ms`.
pub fn delivery_claimed_at(claimed_at_ms: u64) -> Condition {
    Condition::new("delivery_state = :sending AND claimed_at_ms = :claimed")
        .value(":sending", s("sending"))
        .value(":claimed", n(claimed_at_ms))
}

/// The user is there under `username` (a rename did not happen meanwhile).
pub fn named(username: &str) -> Condition {
    exists().and(Condition::new("username = :name").value(":name", s(username)))
}

/// The user is there under `username` with their sessions at `session_version` (no password
/// change or sign-out everywhere since the caller's token was issued).
pub fn signed_in_as(username: &str, session_version: u32) -> Condition {
    named(username).and(version_is("session_version", ":sv", session_version))
}

/// The item belongs to `user` (a name or email claim).
pub fn owned_by(user: &str) -> Condition {
    Condition::new("user_id = :me").value(":me", s(user))
}

/// A version counter holds `version`: an item written before the counter existed has none,
/// which is version 0.
pub fn version_is(attribute: &str, placeholder: &str, version: u32) -> Condition {
    let expression = if version == 0 {
        format!("(attribute_not_exists({attribute}) OR {attribute} = {placeholder})")
    } else {
        format!("{attribute} = {placeholder}")
    };
    Condition::new(expression).value(placeholder, n(version))
}

/// The user is there and their sessions are the generation `session_version` (no password
/// change or sign-out everywhere since).
pub fn same_sessions(session_version: u32) -> Condition {
    exists().and(version_is("session_version", ":v", session_version))
}

/// The user's profile is exactly as read, with the fields other writers change (the session
/// version too: a sign-out everywhere must not be undone by an edit that read the profile before).
/// `role` is the stored form of `current.role`.
pub fn profile_as_read(current: &UserRecord, role: AttributeValue) -> Condition {
    exists()
        .and(version_is("session_version", ":sv", current.session_version))
        .and(
            Condition::new("username = :u AND email = :e AND password_hash = :p AND #role = :r")
                .name("#role", "role")
                .value(":u", s(&current.username))
                .value(":e", s(&current.email))
                .value(":p", s(&current.password_hash))
                .value(":r", role),
        )
        .and(version_is("calendar_version", ":c", current.calendar_version))
        .and(emails_as_read(current.email_notifications))
}

/// The user's email setting is as read (profiles stored before it existed have it on).
fn emails_as_read(on: bool) -> Condition {
    if on {
        Condition::new("(attribute_not_exists(email_notifications) OR email_notifications = :yes)")
            .value(":yes", yes())
    } else {
        Condition::new("email_notifications = :no").value(":no", no())
    }
}

/// The refresh token is unused and is the one presented.
pub fn unused_refresh_token(secret_hash: &str) -> Condition {
    exists()
        .and(Condition::new("attribute_not_exists(used_at) AND secret_hash = :h").value(":h", s(secret_hash)))
}

// Attempt tallies.

/// The tally is in its window (or not there yet) and its subject is not waiting: an attempt
/// may be counted (see [`super::throttle`]).
pub fn tally_open(stale_before: i64, now: i64) -> Condition {
    Condition::new(
        "(attribute_not_exists(pk) OR first_at > :stale_before) \
         AND (attribute_not_exists(allowed_at) OR allowed_at <= :now)",
    )
    .value(":stale_before", n(stale_before))
    .value(":now", n(now))
}

/// The tally has counted exactly `attempts`: no attempt was counted since.
pub fn tally_counts(attempts: u32) -> Condition {
    exists().and(Condition::new("attempts = :attempts").value(":attempts", n(attempts)))
}

/// The tally is still the one that began at `first_at`.
pub fn tally_began(first_at: i64) -> Condition {
    exists().and(Condition::new("first_at = :first_at").value(":first_at", n(first_at)))
}

/// The tally is as one count left it: `attempts`, the last at `at`.
pub fn tally_left_at(attempts: u32, at: i64) -> Condition {
    tally_counts(attempts).and(Condition::new("last_at = :left_at").value(":left_at", n(at)))
}

/// The tally counts at least one attempt (one can be given back).
pub fn attempts_counted() -> Condition {
    exists().and(Condition::new("attempts > :zero").value(":zero", n(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_combine_with_their_placeholders() {
        let c = seat_free().and(open_for_registration(Instant::now(), Instant::now()));
        assert_eq!(
            c.expression,
            "confirmed_count < #capacity AND latched = :no AND attribute_exists(pk) AND attribute_not_exists(deleting) AND starts_at = :start AND starts_at > :now"
        );
        assert_eq!(c.names.get("#capacity").map(String::as_str), Some("capacity"));
        for placeholder in [":no", ":start", ":now"] {
            assert!(c.values.contains_key(placeholder), "{placeholder}");
        }
    }

    #[test]
    fn a_version_counter_that_never_existed_is_version_zero() {
        assert_eq!(version_is("v", ":v", 0).expression, "(attribute_not_exists(v) OR v = :v)");
        assert_eq!(version_is("v", ":v", 3).expression, "v = :v");
        assert_eq!(version_is("v", ":v", 3).values.get(":v"), Some(&n(3)));
    }

    #[test]
    #[should_panic(expected = "bound to two values")]
    fn one_placeholder_never_carries_two_values() {
        let _ = started_by(Instant::now())
            .and(open_for_registration(Instant::now(), Instant::now().plus_seconds(60)));
    }
}
