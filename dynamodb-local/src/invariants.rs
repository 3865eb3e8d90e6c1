//! The registration invariants the API promises, checked against what the table holds rather
//! than against what the API answered: an answer can claim a seat that was never stored, or hide
//! one that was. The tests assert them after each scenario and the bench reports them after its
//! rush, so both hold the API to exactly the same rules.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use shared::domain::Id;
use shared::store::{Store, keys, seats};

/// What the table holds for one event.
#[derive(Debug, Default)]
pub struct Stored {
    /// Summed over the seat shards.
    pub capacity: u64,
    pub confirmed_count: u64,
    pub waitlist_count: u64,
    /// Shards holding more confirmed seats than their capacity.
    pub overbooked_shards: usize,
    /// Seat shards, and how many of them are latched.
    pub shards: usize,
    pub latched_shards: usize,
    /// user id → status
    pub registrations: BTreeMap<String, String>,
    /// Registrations found for a user who already had one (each is a violation).
    pub duplicates: usize,
    /// waitlist entries in queue order: user ids
    pub queue: Vec<String>,
    /// Every item of the event's partitions, whatever its type.
    pub items: usize,
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> u64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

impl Stored {
    /// Reads every partition of the event in `store`'s table (its own, its other seat shards',
    /// its registration groups'), consistently, so that writes the API has just acknowledged are
    /// all seen.
    pub async fn read(store: &Store, event_id: &str) -> Result<Stored, aws_sdk_dynamodb::Error> {
        let id = Id::parse(event_id).unwrap_or_default();
        let mut partitions = vec![keys::event_pk(id)];
        partitions.extend((1..seats::MAX_SHARDS).map(|shard| keys::seat_shard_pk(id, shard)));
        partitions.extend(keys::registration_partitions(id));
        // All at once: each is read to its end, so the order of the reads changes nothing.
        let reads = partitions.into_iter().map(|pk| {
            store
                .client()
                .query()
                .table_name(store.table_name())
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(pk))
                .consistent_read(true)
                .into_paginator()
                .items()
                .send()
                .try_collect()
        });
        let mut items: Vec<HashMap<String, AttributeValue>> = Vec::new();
        for found in futures::future::join_all(reads).await {
            items.extend(found?);
        }
        let mut stored = Stored { items: items.len(), ..Stored::default() };
        // (seq, user): the groups' queues merged in arrival order below.
        let mut queue = Vec::new();
        for item in &items {
            match text(item, "type").as_str() {
                "seat_shard" => {
                    let (capacity, confirmed) = (number(item, "capacity"), number(item, "confirmed_count"));
                    stored.capacity += capacity;
                    stored.confirmed_count += confirmed;
                    stored.waitlist_count += number(item, "waitlist_count");
                    stored.overbooked_shards += usize::from(confirmed > capacity);
                    stored.shards += 1;
                    stored.latched_shards +=
                        usize::from(item.get("latched").and_then(|v| v.as_bool().ok()) == Some(&true));
                }
                "registration" => {
                    let previous = stored.registrations.insert(text(item, "user_id"), text(item, "status"));
                    stored.duplicates += usize::from(previous.is_some());
                }
                "waitlist_entry" => queue.push((text(item, "seq"), text(item, "user_id"))),
                _ => {}
            }
        }
        queue.sort();
        stored.queue = queue.into_iter().map(|(_, user)| user).collect();
        Ok(stored)
    }

    /// Each invariant, described with the figures it compares, and whether it holds.
    pub fn invariants(&self) -> Vec<(String, bool)> {
        let confirmed = self.registrations.values().filter(|s| *s == "confirmed").count() as u64;
        let waiting = self.registrations.values().filter(|s| *s == "waitlisted").count() as u64;
        let queued: BTreeSet<&String> = self.queue.iter().collect();
        let waitlisted: BTreeSet<&String> =
            self.registrations.iter().filter(|(_, s)| *s == "waitlisted").map(|(u, _)| u).collect();
        vec![
            (
                format!(
                    "confirmed_count {} <= capacity {} (not overbooked)",
                    self.confirmed_count, self.capacity
                ),
                self.confirmed_count <= self.capacity,
            ),
            (
                format!(
                    "confirmed_count {} = confirmed registrations stored {confirmed}",
                    self.confirmed_count
                ),
                self.confirmed_count == confirmed,
            ),
            (
                format!("waitlist_count {} = waitlisted registrations stored {waiting}", self.waitlist_count),
                self.waitlist_count == waiting,
            ),
            (
                format!("no seat shard holds more than its capacity ({} do)", self.overbooked_shards),
                self.overbooked_shards == 0,
            ),
            (
                format!(
                    "the waitlist is used only with every shard latched ({} of {} latched)",
                    self.latched_shards, self.shards
                ),
                waiting == 0 || self.latched_shards == self.shards,
            ),
            (format!("no user registered twice ({} duplicates)", self.duplicates), self.duplicates == 0),
            (
                format!("queue entries {} = waitlisted registrations, nobody queued twice", self.queue.len()),
                queued.len() == self.queue.len() && queued == waitlisted,
            ),
            (
                "nobody waits while a seat is free".to_owned(),
                self.confirmed_count >= self.capacity || waiting == 0,
            ),
        ]
    }
}
