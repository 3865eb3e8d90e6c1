//! An event's statistics, from counters kept in the same transactions as the changes they count:
//! the seat shards' confirmed and waiting counts and ratings, and per day and shard the
//! registrations, cancellations and check-ins (see [`keys::day_counts`]). Reading them is one
//! Query per seat shard, all at once; nothing is scanned or counted item by item.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Store;
use super::error::StoreError;
use super::items::EventRecord;
use super::keys;
use super::query;
use super::tx::{Write, from_item, n};
use crate::domain::{Id, Instant};

/// What changed, for the day's counts.
#[derive(Clone, Copy, Debug)]
pub enum Counted {
    Registered,
    Cancelled,
    CheckedIn,
    /// A check-in undone: the day it was made counts one fewer.
    CheckInUndone,
}

/// The writes that count `changes` (each on the UTC day of its instant) through `shard`: one per
/// day, as a transaction may touch an item once. They have no condition: they never refuse the
/// transaction they are part of.
pub(crate) fn counts(event: Id, shard: u8, changes: &[(Instant, Counted)]) -> Vec<Write> {
    let mut by_day: BTreeMap<String, BTreeMap<&'static str, i64>> = BTreeMap::new();
    for (at, what) in changes {
        let (attribute, by) = match what {
            Counted::Registered => ("registered", 1),
            Counted::Cancelled => ("cancelled", 1),
            Counted::CheckedIn => ("checked_in", 1),
            Counted::CheckInUndone => ("checked_in", -1),
        };
        *by_day.entry(at.day()).or_default().entry(attribute).or_default() += by;
    }
    by_day
        .into_iter()
        .map(|(day, added)| {
            let expression = added.keys().map(|a| format!("{a} :{a}")).collect::<Vec<_>>().join(", ");
            let write = Write::update(keys::day_counts(event, shard, &day), format!("ADD {expression}"));
            added
                .into_iter()
                .fold(write, |write, (attribute, by)| write.value(&format!(":{attribute}"), n(by)))
        })
        .collect()
}

/// One day's counts, over every shard.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct DayCounts {
    #[serde(default)]
    pub registered: i64,
    #[serde(default)]
    pub cancelled: i64,
    #[serde(default)]
    pub checked_in: i64,
}

/// An event with its counters, and its counts by UTC day (`YYYY-MM-DD`), oldest first.
#[derive(Debug)]
pub struct EventStats {
    pub event: EventRecord,
    pub days: BTreeMap<String, DayCounts>,
}

impl EventStats {
    /// Every day's counts added up.
    pub fn totals(&self) -> DayCounts {
        self.days.values().fold(DayCounts::default(), |sum, day| DayCounts {
            registered: sum.registered + day.registered,
            cancelled: sum.cancelled + day.cancelled,
            checked_in: sum.checked_in + day.checked_in,
        })
    }
}

impl Store {
    /// The statistics of `event` (as read with its counters), its day counts read consistently
    /// from every seat shard's partition at once.
    pub async fn event_stats(&self, event: EventRecord) -> Result<EventStats, StoreError> {
        let reads = (0..event.seat_shards).map(|shard| {
            let pk = keys::seat_shard_pk(event.id, shard);
            query::all(self.partition(None, pk, Some(keys::DAY_COUNTS_PREFIX)).consistent_read(true))
        });
        let mut days: BTreeMap<String, DayCounts> = BTreeMap::new();
        for items in futures::future::try_join_all(reads).await? {
            for item in items {
                let sk = item.get(keys::SK).and_then(|v| v.as_s().ok());
                let Some(day) = sk.and_then(|sk| sk.strip_prefix(keys::DAY_COUNTS_PREFIX)).map(str::to_owned)
                else {
                    continue;
                };
                let counts: DayCounts = from_item(item)?;
                let total = days.entry(day).or_default();
                total.registered += counts.registered;
                total.cancelled += counts.cancelled;
                total.checked_in += counts.checked_in;
            }
        }
        Ok(EventStats { event, days })
    }
}
