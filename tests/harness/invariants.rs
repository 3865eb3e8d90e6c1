//! The registration invariants, checked against what is stored (not against what the API said).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use crate::TestApp;

/// What the table holds for one event.
#[derive(Debug)]
pub struct Stored {
    pub capacity: u64,
    pub confirmed_count: u64,
    pub waitlist_count: u64,
    /// user id → status
    pub registrations: BTreeMap<String, String>,
    /// waitlist entries in queue order: user ids
    pub queue: Vec<String>,
}

fn s(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

fn num(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> u64 {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

impl TestApp {
    /// Reads the event's whole partition, consistently.
    pub async fn stored(&self, event_id: &str) -> Stored {
        let items = self
            .state
            .store
            .client()
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(format!("EVENT#{event_id}")))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .expect("reading the event partition");
        let mut stored = Stored {
            capacity: 0,
            confirmed_count: 0,
            waitlist_count: 0,
            registrations: BTreeMap::new(),
            queue: Vec::new(),
        };
        for item in &items {
            match s(item, "type").as_str() {
                "event" => {
                    stored.capacity = num(item, "capacity");
                    stored.confirmed_count = num(item, "confirmed_count");
                    stored.waitlist_count = num(item, "waitlist_count");
                }
                "registration" => {
                    let previous = stored.registrations.insert(s(item, "user_id"), s(item, "status"));
                    assert!(previous.is_none(), "a user is registered twice");
                }
                "waitlist_entry" => stored.queue.push(s(item, "user_id")),
                _ => {}
            }
        }
        stored
    }

    /// Asserts every invariant of API.md for one event, and returns what is stored.
    pub async fn assert_invariants(&self, event_id: &str) -> Stored {
        let stored = self.stored(event_id).await;
        let confirmed = stored.registrations.values().filter(|s| *s == "confirmed").count() as u64;
        let waiting = stored.registrations.values().filter(|s| *s == "waitlisted").count() as u64;
        assert!(stored.confirmed_count <= stored.capacity, "overbooked: {stored:?}");
        assert_eq!(
            stored.confirmed_count, confirmed,
            "confirmed_count differs from the registrations stored"
        );
        assert_eq!(stored.waitlist_count, waiting, "waitlist_count differs from the registrations stored");
        let queued: BTreeSet<&String> = stored.queue.iter().collect();
        let waitlisted: BTreeSet<&String> =
            stored.registrations.iter().filter(|(_, s)| *s == "waitlisted").map(|(u, _)| u).collect();
        assert_eq!(queued.len(), stored.queue.len(), "someone is queued twice");
        assert_eq!(queued, waitlisted, "the queue and the waitlisted registrations differ");
        if stored.confirmed_count < stored.capacity {
            assert_eq!(waiting, 0, "people wait while a seat is free: {stored:?}");
        }
        stored
    }

    /// Walks `GET /events/{id}/registrations` to the end.
    pub async fn all_registrations(&self, event_id: &str, token: &str, limit: usize) -> Vec<Value> {
        let mut all = Vec::new();
        let mut path = format!("/events/{event_id}/registrations?limit={limit}");
        loop {
            let reply = self.get(&path, Some(token)).await;
            let body = reply.ok(200);
            all.extend(body["results"].as_array().unwrap().iter().cloned());
            match body["next_cursor"].as_str() {
                Some(cursor) => {
                    path = format!("/events/{event_id}/registrations?limit={limit}&cursor={cursor}")
                }
                None => return all,
            }
        }
    }
}
