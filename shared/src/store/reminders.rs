//! Reminders: events starting soon, their confirmed attendees, and the once-only delivery.

use aws_sdk_dynamodb::types::AttributeValue;

use super::Store;
use super::conditions;
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
    /// Where the next page starts; `None` after the last.
    pub next: Option<AttendeesFrom>,
}

/// Where a walk through an event's confirmed attendees is: the registration groups not read to
/// the end yet, each with where it continues.
#[derive(Clone, Debug)]
pub struct AttendeesFrom {
    groups: Vec<(u8, Option<std::collections::HashMap<String, AttributeValue>>)>,
}

impl Default for AttendeesFrom {
    /// The start: every group, from its beginning.
    fn default() -> Self {
        AttendeesFrom { groups: (0..keys::REGISTRATION_GROUPS).map(|group| (group, None)).collect() }
    }
}

fn user_ids(items: Vec<Item>) -> Vec<Id> {
    items
        .iter()
        .filter_map(|i| i.get("user_id").and_then(|v| v.as_s().ok()).and_then(|raw| Id::parse(raw)))
        .collect()
}

impl Store {
    /// Events starting in (`from`, `to`], from the time index: one Query per shard of each month
    /// touched, all at once.
    pub async fn events_starting_between(
        &self,
        from: Instant,
        to: Instant,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let mut months = vec![from.month()];
        if to.month() != from.month() {
            months.push(to.month());
        }
        let partitions: Vec<String> = months
            .iter()
            .flat_map(|month| (0..keys::TIME_SHARDS).map(|shard| keys::time_bucket(month, shard)))
            .collect();
        let reads = partitions.into_iter().map(|bucket| {
            query::all(
                self.client()
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::GSI2)
                    .key_condition_expression("gsi2pk = :bucket AND gsi2sk BETWEEN :from AND :to")
                    .filter_expression("attribute_not_exists(deleting)")
                    .expression_attribute_values(":bucket", s(bucket))
                    .expression_attribute_values(":from", s(format!("{}#", from.plus_seconds(1))))
                    .expression_attribute_values(":to", s(format!("{to}#~"))),
            )
        });
        let mut events = Vec::new();
        for items in futures::future::join_all(reads).await {
            for item in items? {
                events.push(from_item(item)?);
            }
        }
        Ok(events)
    }

    /// One page of an event's confirmed attendees, read consistently: a page of each registration
    /// group not read to the end, all at once.
    pub async fn confirmed_attendees(&self, event: Id, from: AttendeesFrom) -> Result<Attendees, StoreError> {
        let reads = from.groups.into_iter().map(|(group, start)| async move {
            let out = self
                .partition(None, keys::registrations_pk(event, group), Some(keys::REGISTRATION_PREFIX))
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
            Ok::<_, StoreError>((group, out))
        });
        let (mut users, mut unread) = (Vec::new(), Vec::new());
        for (group, out) in futures::future::try_join_all(reads).await? {
            users.extend(user_ids(out.items.unwrap_or_default()));
            if let Some(start) = out.last_evaluated_key {
                unread.push((group, Some(start)));
            }
        }
        let next = (!unread.is_empty()).then_some(AttendeesFrom { groups: unread });
        Ok(Attendees { users, next })
    }

    /// Everyone already reminded of an event.
    pub async fn reminded(&self, event: Id) -> Result<std::collections::HashSet<Id>, StoreError> {
        let items = self.group_items(event, keys::REMINDED_PREFIX, "user_id").await?;
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
            Write::put(marker).when(conditions::absent()),
            Write::check(keys::registration(event.id, user), conditions::confirmed()),
            notification_write(user, &notice)?,
        ];
        Ok(self.transact(writes).await?.is_ok())
    }
}
