//! An event's seats, split over shards (see [`SeatShard`]), and the rules that keep the capacity
//! invariant when each registration touches only one of them.
//!
//! - A seat is taken on one shard, on condition that shard has one free and is not latched.
//! - Once every shard is full, one transaction latches them all, on condition each is full: the
//!   transaction of a registration that finds every seat taken, which joins the waitlist in it.
//!   Only a latched shard lets people join the waitlist; each joins through one shard (by user),
//!   so joins spread over the shards too.
//! - A seat given back while people wait goes to the head of the queue in the same transaction
//!   (its shard stays full). With nobody waiting, the seat is given back on condition no shard
//!   counts anyone waiting, and that same transaction unlatches every shard.
//! - A larger capacity while latched adds seats the waitlist is promoted into; once nobody waits,
//!   the shards are unlatched and the remaining seats open to newcomers.
//!
//! So nobody joins the queue while a seat is free for newcomers, no seat is taken past a shard's
//! capacity, and the counters equal the stored registrations, whatever runs concurrently.

use aws_sdk_dynamodb::types::AttributeValue;

use super::Store;
use super::batch::Consistency;
use super::conditions;
use super::error::StoreError;
use super::items::{EventRecord, IndexKeys, SeatShard, Stored};
use super::keys;
use super::tx::{Item, Write, from_item, to_item};
use crate::domain::Id;

pub use crate::records::{MAX_SHARDS, SEATS_PER_SHARD, shards_for};

/// `capacity` split over `shards` as evenly as it goes (the first shards take the remainder).
pub fn split(capacity: u32, shards: u8) -> Vec<u32> {
    let n = u32::from(shards.max(1));
    (0..n).map(|i| capacity / n + u32::from(i < capacity % n)).collect()
}

/// Each shard's capacity for a new total: its confirmed seats plus an even share of the free
/// ones. `None` when the seats already confirmed exceed the new total.
pub fn redistribute(shards: &[SeatShard], capacity: u32) -> Option<Vec<u32>> {
    let confirmed: u32 = shards.iter().map(|s| s.confirmed_count).sum();
    let free = capacity.checked_sub(confirmed)?;
    let shares = split(free, shards.len() as u8);
    Some(shards.iter().zip(shares).map(|(shard, share)| shard.confirmed_count + share).collect())
}

/// The seat shards of a new event: its capacity split evenly, nothing counted yet.
pub fn fresh_shards(event: &EventRecord) -> Vec<SeatShard> {
    split(event.capacity, event.seat_shards)
        .into_iter()
        .enumerate()
        .map(|(shard, capacity)| SeatShard {
            shard: shard as u8,
            capacity,
            waitlist_enabled: event.waitlist_enabled,
            starts_at: event.starts_at,
            confirmed_count: 0,
            waitlist_count: 0,
            latched: false,
            rating_sum: 0,
            rating_count: 0,
            deleting: false,
        })
        .collect()
}

#[cfg(test)]
impl SeatShard {
    /// A shard for a unit test: `confirmed` of `capacity` seats taken, nobody waiting, an hour
    /// before its start.
    pub(crate) fn for_test(shard: u8, capacity: u32, confirmed: u32, latched: bool) -> SeatShard {
        SeatShard {
            shard,
            capacity,
            waitlist_enabled: true,
            starts_at: crate::domain::Instant::now().plus_seconds(3600),
            confirmed_count: confirmed,
            waitlist_count: 0,
            latched,
            rating_sum: 0,
            rating_count: 0,
            deleting: false,
        }
    }
}

/// The seat shards of one event as last read.
#[derive(Clone, Debug, Default)]
pub struct Seats {
    pub shards: Vec<SeatShard>,
}

impl Seats {
    pub fn latched(&self) -> bool {
        self.shards.iter().any(|s| s.latched)
    }

    pub fn deleting(&self) -> bool {
        self.shards.iter().any(|s| s.deleting)
    }

    pub fn waiting(&self) -> u32 {
        self.shards.iter().map(|s| s.waitlist_count).sum()
    }

    pub fn free(&self) -> u32 {
        self.shards.iter().map(SeatShard::seats_left).sum()
    }

    pub fn waitlist_enabled(&self) -> bool {
        self.shards.first().is_some_and(|s| s.waitlist_enabled)
    }

    pub fn starts_at(&self) -> Option<crate::domain::Instant> {
        self.shards.first().map(|s| s.starts_at)
    }

    /// A shard a newcomer may take a seat on, `None` when latched or full: `preferred` when it
    /// has a seat (so that concurrent newcomers start on different shards), else one of those
    /// with a seat picked by `preferred` too. Not the next one along: as the seats run out, the
    /// newcomers of every full shard before an open one would all meet on it.
    pub fn open_shard(&self, preferred: usize) -> Option<u8> {
        if self.latched() {
            return None;
        }
        let own = self.shards.get(preferred % self.shards.len().max(1))?;
        if own.seats_left() > 0 {
            return Some(own.shard);
        }
        let open = || self.shards.iter().filter(|s| s.seats_left() > 0);
        let count = open().count();
        open().nth(preferred % count.max(1)).map(|s| s.shard)
    }

    /// Whether `shard` carries the same copies of the event's facts (its start, whether it keeps
    /// a waitlist) as these seats: if not, the event was edited since they were read, and one
    /// shard's news does not bring the others up to date.
    pub fn shares_facts(&self, shard: &SeatShard) -> bool {
        self.shards.first().is_some_and(|first| {
            first.starts_at == shard.starts_at && first.waitlist_enabled == shard.waitlist_enabled
        })
    }

    /// Replaces what was known of one shard with a fresher reading of it.
    pub fn update(&mut self, fresh: SeatShard) {
        match self.shards.iter_mut().find(|s| s.shard == fresh.shard) {
            Some(known) => *known = fresh,
            None => self.shards.push(fresh),
        }
    }
}

/// A seat shard as an item.
pub(crate) fn shard_item(event: Id, shard: &SeatShard) -> Result<Item, StoreError> {
    let key = keys::seat_shard(event, shard.shard);
    to_item(&Stored {
        pk: &key.pk,
        sk: &key.sk,
        kind: "seat_shard",
        index: &IndexKeys::default(),
        record: shard,
    })
}

/// The shard a user joins the waitlist through, or starts looking for a seat at.
pub fn home_shard(user: Id, shards: usize) -> usize {
    usize::from(user.to_bytes()[15]) % shards.max(1)
}

impl Store {
    /// An event's seat shards, read consistently with the event (see
    /// [`Store::event_with_seats`]); empty when the event is gone.
    pub(crate) async fn find_seats(&self, event: Id) -> Result<Seats, StoreError> {
        Ok(self.event_with_seats(event).await?.map(|(_, seats)| seats).unwrap_or_default())
    }

    /// The seat shards of an event numbered `shards`, read consistently in one BatchGetItem; a
    /// shard that does not exist is left out.
    pub(crate) async fn read_shards(
        &self,
        event: Id,
        shards: impl IntoIterator<Item = u8>,
    ) -> Result<Vec<SeatShard>, StoreError> {
        let keys: Vec<keys::Key> = shards.into_iter().map(|shard| keys::seat_shard(event, shard)).collect();
        self.batch_get(&keys, None, Consistency::Strong).await?.into_iter().map(from_item).collect()
    }

    /// Unlatches every shard, on condition nobody waits on any: for when seats were added while
    /// latched and the waitlist is empty now. `false` when someone waits after all.
    pub(crate) async fn unlatch(&self, event: Id, seats: &Seats) -> Result<bool, StoreError> {
        Ok(self.transact(unlatch_writes(event, seats, None)).await?.is_ok())
    }
}

/// The write that latches one shard, on condition it is full and not being deleted: once every
/// shard is latched, people may join the waitlist.
pub(crate) fn latch_write(event: Id, shard: u8) -> Write {
    Write::update(keys::seat_shard(event, shard), "SET latched = :yes")
        .when(conditions::every_seat_taken())
        .value(":yes", AttributeValue::Bool(true))
}

/// The writes that unlatch every shard on condition nobody waits; `except` leaves one shard to
/// the caller, which unlatches it in its own update of that shard.
pub(crate) fn unlatch_writes(event: Id, seats: &Seats, except: Option<u8>) -> Vec<Write> {
    seats
        .shards
        .iter()
        .filter(|shard| Some(shard.shard) != except)
        .map(|shard| {
            Write::update(keys::seat_shard(event, shard.shard), "SET latched = :no")
                .when(conditions::exists().and(conditions::nobody_waiting()))
                .value(":no", AttributeValue::Bool(false))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_splits_evenly_and_redistributes_above_the_confirmed() {
        assert_eq!(split(10, 3), [4, 3, 3]);
        assert_eq!(split(2, 4), [1, 1, 0, 0]);
        assert_eq!(shards_for(1), 1);
        assert_eq!(shards_for(33), 2);
        assert_eq!(shards_for(100_000), MAX_SHARDS);
        let shard = |confirmed| SeatShard::for_test(0, 10, confirmed, false);
        let shards = [shard(10), shard(2)];
        assert_eq!(redistribute(&shards, 15), Some(vec![12, 3]));
        assert!(Seats { shards: shards.to_vec() }.shares_facts(&shards[1]));
        let mut moved = shards[1].clone();
        moved.starts_at = moved.starts_at.plus_seconds(60);
        assert!(!Seats { shards: shards.to_vec() }.shares_facts(&moved), "an edited start");
        assert_eq!(redistribute(&shards, 12), Some(vec![10, 2]));
        assert_eq!(redistribute(&shards, 11), None);
    }

    #[test]
    fn a_newcomer_whose_shard_is_full_is_sent_to_an_open_one_picked_by_them_not_the_next() {
        let shard = |shard, confirmed| SeatShard::for_test(shard, 2, confirmed, false);
        let seats = Seats { shards: vec![shard(0, 2), shard(1, 2), shard(2, 1), shard(3, 0)] };
        assert_eq!(seats.open_shard(3), Some(3), "their own shard, while it has a seat");
        assert_eq!(seats.open_shard(0), Some(2));
        assert_eq!(seats.open_shard(1), Some(3), "the newcomers of full shards spread over the open ones");
        let full = Seats { shards: vec![shard(0, 2), shard(1, 2)] };
        assert_eq!(full.open_shard(1), None);
    }
}
