//! Reminders: events starting soon, their confirmed attendees, and the once-only delivery.

use aws_sdk_dynamodb::types::AttributeValue;

use super::Store;
use super::error::{StoreError, classify};
use super::items::{EventRecord, NotificationKind};
use super::keys;
use super::notifications::{notification, notification_write};
use super::query;
use super::tx::{Item, Write, from_item, key_item, n, s};
use crate::domain::{Id, Instant};

/// A page of an event's confirmed attendees.
pub struct Attendees {
    pub users: Vec<Id>,
    pub next: Option<std::collections::HashMap<String, AttributeValue>>,
}

fn user_ids(items: Vec<Item>) -> Vec<Id> {
    items
        .iter()
        .filter_map(|i| i.get("user_id").and_then(|v| v.as_s().ok()).and_then(|raw| Id::parse(raw)))
        .collect()
}

impl Store {
    /// Events starting in (`from`, `to`], from the time index (one Query per shard of each month
    /// touched).
    pub async fn events_starting_between(
        &self,
        from: Instant,
        to: Instant,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let mut months = vec![from.month()];
        if to.month() != from.month() {
            months.push(to.month());
        }
        let mut events = Vec::new();
        for month in months {
            for shard in 0..keys::TIME_SHARDS {
                let items: Vec<Item> = self
                    .client()
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::GSI2)
                    .key_condition_expression("gsi2pk = :bucket AND gsi2sk BETWEEN :from AND :to")
                    .filter_expression("attribute_not_exists(deleting)")
                    .expression_attribute_values(":bucket", s(keys::time_bucket(&month, shard)))
                    .expression_attribute_values(":from", s(format!("{}#", from.plus_seconds(1))))
                    .expression_attribute_values(":to", s(format!("{to}#~")))
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(classify)?;
                for item in items {
                    events.push(from_item(item)?);
                }
            }
        }
        Ok(events)
    }

    /// One page of an event's confirmed attendees, read consistently.
    pub async fn confirmed_attendees(
        &self,
        event: Id,
        start: Option<std::collections::HashMap<String, AttributeValue>>,
    ) -> Result<Attendees, StoreError> {
        let out = self
            .partition(None, keys::event_pk(event), Some(keys::REGISTRATION_PREFIX))
            .filter_expression("#status = :confirmed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":confirmed", s("confirmed"))
            .projection_expression("user_id")
            .consistent_read(true)
            .limit(500)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        Ok(Attendees { users: user_ids(out.items.unwrap_or_default()), next: out.last_evaluated_key })
    }

    /// Everyone already reminded of an event.
    pub async fn reminded(&self, event: Id) -> Result<std::collections::HashSet<Id>, StoreError> {
        let items = query::all(
            self.partition(None, keys::event_pk(event), Some("REMINDED#"))
                .projection_expression("user_id")
                .consistent_read(true),
        )
        .await?;
        Ok(user_ids(items).into_iter().collect())
    }

    /// Reminds one attendee, unless they were reminded already: the marker and the notification
    /// are written in one transaction, conditioned on the marker being new. `false` when another
    /// run got there first.
    pub async fn remind(&self, event: &EventRecord, user: Id, now: Instant) -> Result<bool, StoreError> {
        let mut marker = key_item(&keys::reminder_marker(event.id, user));
        marker.insert("type".into(), s("reminder_marker"));
        marker.insert("user_id".into(), s(user.to_string()));
        marker.insert("expires_at".into(), n(event.starts_at.plus_seconds(30 * 86_400).unix()));
        let message =
            format!("Reminder: \"{}\" starts at {} in {}.", event.title, event.starts_at, event.location);
        let notice = notification(NotificationKind::Reminder, event.id, message, now);
        let writes = vec![
            Write::put(marker).condition("attribute_not_exists(pk)"),
            Write::check(keys::registration(event.id, user), "#status = :confirmed")
                .name("#status", "status")
                .value(":confirmed", s("confirmed")),
            notification_write(user, &notice)?,
        ];
        Ok(self.transact(writes).await?.is_ok())
    }
}
