//! Every key of the single table, built in one place. See the README's table design for the
//! access pattern each serves.
//!
//! | entity | pk | sk | gsi1 (owner) | gsi2 (order) | gsi3 (category time) | gsi4 (series) |
//! |---|---|---|---|---|---|---|
//! | user | `USER#<id>` | `PROFILE` | `USERS#<shard>` / `<id>` | | | |
//! | username / email marker | `USERNAME#<lc>` / `EMAIL#<lc>` | same word | | | | |
//! | refresh token | `USER#<id>` | `REFRESH#<token id>` | | | | |
//! | ended refresh family | `USER#<id>` | `REVOKED#<family>` | | | | |
//! | notification | `USER#<id>` | `NOTIF#<id>` | | | | |
//! | event | `EVENT#<id>` | `EVENT` | `USER#<organizer>` / `EVENT#<start>#<id>` | `TIME#<yyyy-mm>#<shard>` / `<start>#<id>` | `TIME#<category>#<yyyy-mm>#<shard>` / `<start>#<id>` | `SERIES#<id>` / `<start>#<id>` |
//! | seat shard 0 | `EVENT#<id>` | `EVENT#SEATS#00` | | | | |
//! | seat shard 1.. | `SEATS#<id>#<nn>` | `EVENT#SEATS#<nn>` | | | | |
//! | day counts | the seat shard's pk | `DAY#<yyyy-mm-dd>` | | | | |
//! | registration | `REGS#<event>#<group>` | `REG#<user>` | `USER#<user>` / `REG#<start>#<event>` | `REGS#<event>#<group>` / `C#<seq>` or `W#<seq>` | | `TICKET#<code sha-256>` / `TICKET` once it has a ticket |
//! | team member | `EVENT#<id>` | `TEAM#<user>` | `USER#<user>` / `TEAM#<event>` | | | |
//! | waitlist entry | `REGS#<event>#<group>` | `WAIT#<seq>` | | | | |
//! | feedback | `EVENT#<id>` | `FEEDBACK#<user>` | `USER#<user>` / `FEEDBACK#<event>` | `FEEDBACK#<event>` / `<id>` | | |
//! | reminder marker | `REGS#<event>#<group>` | `REMINDED#<user>` | | | | |
//! | time bucket | `BUCKETS` | `ALL#<yyyy-mm>` / `CAT#<category>#<yyyy-mm>` | | | | |
//! | attempt tally | `THROTTLE#<what>#<subject>` | `THROTTLE` | | | | |
//! | work still to finish | `CLEANUPS#<shard>` | `USER#<id>` / `EVENT#<id>` / `EDIT#<event>#<version>` | | | | |
//! | delivery (an email sent, or being sent) | `DELIVERY#<cause>` | `DELIVERY` | | | | |
//! | webhook endpoint | `USER#<owner>` | `WEBHOOK#<id>` | | | | |
//! | webhook endpoint count | `USER#<owner>` | `WEBHOOKS` | | | | |
//! | webhook delivery | `WEBHOOK#<endpoint>` | `DELIVERY#<msg id>` | | `HOOKS_DUE#<shard>` / `<due ms>#<endpoint>#<msg id>` while due | | |

use crate::domain::{Id, Instant};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI2: &str = "gsi2";
pub const GSI3: &str = "gsi3";
pub const GSI4: &str = "gsi4";

/// A full primary key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

fn key(pk: String, sk: impl Into<String>) -> Key {
    Key { pk, sk: sk.into() }
}

pub fn user_pk(id: Id) -> String {
    format!("USER#{id}")
}

/// The user whose partition `pk` is ([`user_pk`] read back).
pub fn user_of_partition(pk: &str) -> Option<Id> {
    pk.strip_prefix("USER#").and_then(Id::parse)
}

pub fn user(id: Id) -> Key {
    key(user_pk(id), "PROFILE")
}

pub fn username(lowercase: &str) -> Key {
    key(format!("USERNAME#{lowercase}"), "USERNAME")
}

pub fn email(lowercase: &str) -> Key {
    key(format!("EMAIL#{lowercase}"), "EMAIL")
}

pub fn refresh_token(user: Id, token: Id) -> Key {
    key(user_pk(user), format!("REFRESH#{token}"))
}

pub const REFRESH_PREFIX: &str = "REFRESH#";

/// The mark of a refresh-token family that was ended (a logout, or a spent token reused).
pub fn revoked_family(user: Id, family: Id) -> Key {
    key(user_pk(user), format!("REVOKED#{family}"))
}

pub fn event_pk(id: Id) -> String {
    format!("EVENT#{id}")
}

pub fn event(id: Id) -> Key {
    key(event_pk(id), "EVENT")
}

/// The partition of one of an event's seat shards. The first lives with the event, so that one
/// Query reads an event of one shard (up to 32 seats, most events) with its counters; the others
/// each have their own, so that a rush on one event spreads its writes over as many partitions as
/// it has shards (a partition takes at most 1,000 write units a second).
pub fn seat_shard_pk(event: Id, shard: u8) -> String {
    match shard {
        0 => event_pk(event),
        _ => format!("SEATS#{event}#{shard:02}"),
    }
}

/// One of an event's seat shards.
pub fn seat_shard(event: Id, shard: u8) -> Key {
    key(seat_shard_pk(event, shard), format!("{SEATS_PREFIX}{shard:02}"))
}

pub const SEATS_PREFIX: &str = "EVENT#SEATS#";

/// An event's counts of one UTC day (registrations, cancellations, check-ins) made through one
/// seat shard, beside that shard: a change adds to the counts of the shard it already touches,
/// so the counts never make registrations on different shards wait for each other.
pub fn day_counts(event: Id, shard: u8, day: &str) -> Key {
    key(seat_shard_pk(event, shard), format!("{DAY_COUNTS_PREFIX}{day}"))
}

pub const DAY_COUNTS_PREFIX: &str = "DAY#";

/// The sort keys of the event item and its first seat shard start with this, and no other item of
/// the event's partition does.
pub const EVENT_ITEMS_PREFIX: &str = "EVENT";

/// Partitions an event's registrations, waitlist entries and reminder markers are spread over, by
/// user: every registration writes its record (and a waitlisted one its queue entry) in its
/// group, so a rush on one event writes about an eighth of its registrations' units to each
/// group's partition, in the table and in gsi2. Lists of an event's registrations and its queue's
/// head read the eight at once and merge them.
pub const REGISTRATION_GROUPS: u8 = 8;

/// The group of `user`'s registrations, in every event.
pub fn registration_group(user: Id) -> u8 {
    shard_of(user, REGISTRATION_GROUPS)
}

/// The partition of one group of an event's registrations, in the table and in gsi2 (where it is
/// ordered confirmed first, then waitlisted, each in order).
pub fn registrations_pk(event: Id, group: u8) -> String {
    format!("REGS#{event}#{group}")
}

/// Every registration group partition of an event.
pub fn registration_partitions(event: Id) -> Vec<String> {
    (0..REGISTRATION_GROUPS).map(|group| registrations_pk(event, group)).collect()
}

pub fn registration(event: Id, user: Id) -> Key {
    key(registrations_pk(event, registration_group(user)), format!("{REGISTRATION_PREFIX}{user}"))
}

pub const REGISTRATION_PREFIX: &str = "REG#";

/// A user's entry in an event's waitlist queue, in their registration group, in arrival order
/// within it (`seq` is a ULID); the queue's head is the first of the groups' heads.
pub fn waitlist_entry(event: Id, user: Id, seq: &str) -> Key {
    key(registrations_pk(event, registration_group(user)), format!("{WAITLIST_PREFIX}{seq}"))
}

pub const WAITLIST_PREFIX: &str = "WAIT#";

/// gsi1 sort key of a registration under its user: soonest event first.
pub fn user_registration_sk(starts_at: Instant, event: Id) -> String {
    format!("REG#{starts_at}#{event}")
}

/// gsi2 sort key of a confirmed registration in its group: before every waitlisted one.
pub fn confirmed_order(seq: &str) -> String {
    format!("C#{seq}")
}

pub fn waitlisted_order(seq: &str) -> String {
    format!("W#{seq}")
}

/// A member of an event's team: in the event's partition, so that deleting the event takes it.
pub fn team_member(event: Id, user: Id) -> Key {
    key(event_pk(event), format!("{TEAM_PREFIX}{user}"))
}

pub const TEAM_PREFIX: &str = "TEAM#";

/// gsi1 sort key of a team membership under its user.
pub fn membership_sk(event: Id) -> String {
    format!("{MEMBERSHIP_PREFIX}{event}")
}

pub const MEMBERSHIP_PREFIX: &str = "TEAM#";

/// gsi4 partition of the registration a ticket belongs to, from the SHA-256 of its code.
pub fn ticket(lookup: &str) -> String {
    format!("TICKET#{lookup}")
}

/// gsi4 sort key of a ticket.
pub const TICKET_SK: &str = "TICKET";

pub fn notification(user: Id, id: Id) -> Key {
    key(user_pk(user), format!("{NOTIFICATION_PREFIX}{id}"))
}

pub const NOTIFICATION_PREFIX: &str = "NOTIF#";

pub fn feedback(event: Id, user: Id) -> Key {
    key(event_pk(event), format!("FEEDBACK#{user}"))
}

/// gsi1 sort key of feedback under its author, and gsi2 partition of an event's feedback.
pub fn user_feedback_sk(event: Id) -> String {
    format!("FEEDBACK#{event}")
}

pub const FEEDBACK_PREFIX: &str = "FEEDBACK#";

pub fn event_feedback_pk(event: Id) -> String {
    format!("FEEDBACK#{event}")
}

/// Marks that a user was reminded of an event: written once, in the same transaction as the
/// reminder, so no schedule overlap can remind twice.
pub fn reminder_marker(event: Id, user: Id) -> Key {
    key(registrations_pk(event, registration_group(user)), format!("{REMINDED_PREFIX}{user}"))
}

pub const REMINDED_PREFIX: &str = "REMINDED#";

/// Partitions the admin user list is spread over. One partition would take every sign-up on the
/// platform, and a partition takes at most 1,000 write units a second; sixteen take sixteen times
/// that, and a page of the list reads them all at once (an admin's read, rare).
pub const USERS_LIST_SHARDS: u8 = 16;

/// The partition of the admin user list that holds `user`, ordered by id (creation time) within
/// it.
pub fn users_list(user: Id) -> String {
    users_list_shard(shard_of(user, USERS_LIST_SHARDS))
}

/// Which of `shards` partitions an item of `id` goes to: the id's last byte, random across
/// processes and counting up within one (ids made in one millisecond increment), so items spread
/// evenly either way.
fn shard_of(id: Id, shards: u8) -> u8 {
    id.to_bytes()[15] % shards
}

pub fn users_list_shard(shard: u8) -> String {
    format!("USERS#{shard:02}")
}

/// gsi1 sort key of an event under its organizer.
pub fn organized_sk(starts_at: Instant, id: Id) -> String {
    format!("EVENT#{starts_at}#{id}")
}

pub const ORGANIZED_PREFIX: &str = "EVENT#";

/// Partitions each month of the time indexes is spread over. One partition per month would take
/// every event write of the month, and every page read of the current month; a page reads all
/// eight at once, about a share of the page from each, so no partition carries a whole page.
pub const TIME_SHARDS: u8 = 8;

/// The shard of the time indexes an event goes to.
pub fn time_shard(event: Id) -> u8 {
    shard_of(event, TIME_SHARDS)
}

/// A shard of a month of the time index: months keep every partition bounded to one month of
/// events, and a month's worth is a handful of Query pages even at scale.
pub fn time_bucket(month: &str, shard: u8) -> String {
    format!("TIME#{month}#{shard}")
}

pub fn category_time_bucket(category: &str, month: &str, shard: u8) -> String {
    format!("TIME#{category}#{month}#{shard}")
}

/// The sort key of an event in the time indexes and its series: start, then id.
pub fn time_sk(starts_at: Instant, id: Id) -> String {
    format!("{starts_at}#{id}")
}

pub fn series_pk(id: Id) -> String {
    format!("SERIES#{id}")
}

/// The directory of time buckets that hold (or held) events.
pub const BUCKETS_PK: &str = "BUCKETS";

pub fn bucket_entry(category: Option<&str>, month: &str) -> Key {
    match category {
        None => key(BUCKETS_PK.to_owned(), format!("ALL#{month}")),
        Some(slug) => key(BUCKETS_PK.to_owned(), format!("CAT#{slug}#{month}")),
    }
}

/// Partitions the records of unfinished work (user deletions' cascades, event deletions, edits'
/// follow-ups) are spread over, by the user or event each is about. One partition would take a
/// write and a delete of every event edit on the platform: 333 edits a second at most, as the busy
/// day measured it. Sixteen take sixteen times that; the scheduled function reads them all, one
/// Query each, every 15 minutes.
pub const CLEANUP_SHARDS: u8 = 16;

/// The partition of the unfinished work about `subject`.
fn cleanups(subject: Id) -> String {
    cleanup_partition(shard_of(subject, CLEANUP_SHARDS))
}

fn cleanup_partition(shard: u8) -> String {
    format!("CLEANUPS#{shard:02}")
}

/// Every partition of unfinished work.
pub fn cleanup_partitions() -> impl Iterator<Item = String> {
    (0..CLEANUP_SHARDS).map(cleanup_partition)
}

/// The record of an event deletion under way, written with the deletion's mark.
pub fn event_cleanup(event: Id) -> Key {
    key(cleanups(event), format!("{EVENT_CLEANUP_PREFIX}{event}"))
}

pub const EVENT_CLEANUP_PREFIX: &str = "EVENT#";

/// The record of what an edit of an event leaves to do, written with the edit.
pub fn edit_follow_up(event: Id, version: u64) -> Key {
    key(cleanups(event), format!("{EDIT_FOLLOW_UP_PREFIX}{event}#{version:020}"))
}

pub const EDIT_FOLLOW_UP_PREFIX: &str = "EDIT#";
pub const USER_CLEANUP_PREFIX: &str = "USER#";

/// The record of a user deletion whose cascade did not fit in the request; the scheduled function
/// finishes it.
pub fn cleanup(user: Id) -> Key {
    key(cleanups(user), format!("{USER_CLEANUP_PREFIX}{user}"))
}

/// The record of one delivery (an email), whose id says what caused it: a partition of its own,
/// so deliveries spread over the table.
pub fn delivery(id: &str) -> Key {
    key(format!("DELIVERY#{id}"), "DELIVERY")
}

/// One of a user's webhook endpoints, in their partition (deleting the account takes it).
pub fn webhook(owner: Id, id: Id) -> Key {
    key(user_pk(owner), format!("{WEBHOOK_PREFIX}{id}"))
}

pub const WEBHOOK_PREFIX: &str = "WEBHOOK#";

/// How many webhook endpoints a user has: the count their limit is kept on.
pub fn webhook_count(owner: Id) -> Key {
    key(user_pk(owner), "WEBHOOKS")
}

/// The partition of one endpoint's deliveries: its log.
pub fn webhook_deliveries_pk(endpoint: Id) -> String {
    format!("WEBHOOK#{endpoint}")
}

/// One delivery of a message to an endpoint.
pub fn webhook_delivery(endpoint: Id, message: &str) -> Key {
    key(webhook_deliveries_pk(endpoint), format!("{WEBHOOK_DELIVERY_PREFIX}{message}"))
}

pub const WEBHOOK_DELIVERY_PREFIX: &str = "DELIVERY#";

/// Partitions of gsi2 that due webhook deliveries are spread over, by endpoint: what the
/// scheduled retry run reads.
pub const WEBHOOKS_DUE_SHARDS: u8 = 4;

/// The gsi2 partition an endpoint's due deliveries sit in.
pub fn webhooks_due(endpoint: Id) -> String {
    format!("HOOKS_DUE#{}", shard_of(endpoint, WEBHOOKS_DUE_SHARDS))
}

/// Every gsi2 partition of due webhook deliveries.
pub fn webhooks_due_shards() -> Vec<String> {
    (0..WEBHOOKS_DUE_SHARDS).map(|shard| format!("HOOKS_DUE#{shard}")).collect()
}

/// The tally of one kind of attempt (`what`) by one subject (an account, a client address): one
/// partition each, so a flood against one subject never slows another.
pub fn throttle(what: &str, subject: &str) -> Key {
    key(format!("THROTTLE#{what}#{subject}"), "THROTTLE")
}

/// The answer remembered for an idempotency key within its scope (a user, or an address). The
/// scope never contains `#`, so no scope and key can pass for another.
pub fn remembered_answer(scope: &str, idempotency_key: &str) -> Key {
    key(format!("ANSWER#{scope}#{idempotency_key}"), "ANSWER")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_partition_reads_back_as_its_user() {
        let user = Id::new();
        assert_eq!(user_of_partition(&user_pk(user)), Some(user));
        assert_eq!(user_of_partition(&event_pk(user)), None);
        assert_eq!(user_of_partition("USER#not-an-id"), None);
    }

    #[test]
    fn time_keys_sort_by_start_then_id() {
        let early = Instant::parse("2027-01-01T09:00:00Z").unwrap();
        let late = Instant::parse("2027-01-01T10:00:00Z").unwrap();
        let (a, b) = (Id::new(), Id::new());
        assert!(time_sk(early, b) < time_sk(late, a));
        assert!(time_sk(early, a) < time_sk(early, b));
        assert_eq!(time_bucket(&early.month(), time_shard(a)), format!("TIME#2027-01#{}", time_shard(a)));
        assert!(time_shard(a) < TIME_SHARDS);
    }

    #[test]
    fn unfinished_work_spreads_over_partitions_the_scheduled_run_reads() {
        let read: Vec<String> = cleanup_partitions().collect();
        assert_eq!(read.len(), usize::from(CLEANUP_SHARDS));
        let ids: Vec<Id> = (0..200).map(|_| Id::new()).collect();
        let used: std::collections::BTreeSet<String> = ids.iter().map(|id| event_cleanup(*id).pk).collect();
        assert!(used.iter().all(|pk| read.contains(pk)), "every record is in a partition the run reads");
        assert!(used.len() > 1, "records of different events spread over partitions");
        let id = ids[0];
        assert_eq!(event_cleanup(id).pk, edit_follow_up(id, 7).pk, "an event's records share its partition");
        assert_eq!(cleanup(id).pk, event_cleanup(id).pk);
    }

    #[test]
    fn keys_of_different_entities_never_collide() {
        let id = Id::new();
        assert_ne!(user(id), refresh_token(id, id));
        assert_ne!(event(id).pk, user(id).pk);
        assert_ne!(username("a"), email("a"));
        assert_ne!(bucket_entry(None, "2027-01"), bucket_entry(Some("ALL"), "2027-01"));
    }
}
