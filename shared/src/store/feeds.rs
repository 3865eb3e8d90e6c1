//! What personal calendar feeds read: the feed version of a user, and their upcoming
//! registrations with the events.

use std::collections::HashMap;

use super::Store;
use super::conditions;
use super::error::{StoreError, classify};
use super::items::{EventRecord, RegistrationRecord, RegistrationStatus};
use super::keys;
use super::tx::{Write, from_item, n, s};
use crate::domain::{Id, Instant};

/// Most events one feed lists.
pub const MAX_FEED_EVENTS: usize = 500;

impl Store {
    /// Moves a user's feed to a new version (the old URL stops working). Returns the version.
    pub async fn rotate_calendar(&self, user: Id) -> Result<Option<u32>, StoreError> {
        let write = Write::update(
            keys::user(user),
            "SET calendar_version = if_not_exists(calendar_version, :zero) + :one",
        )
        .when(conditions::exists())
        .value(":zero", n(0))
        .value(":one", n(1));
        Ok(match self.write(write).await? {
            Ok(Some(item)) => {
                item.get("calendar_version").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
            }
            _ => None,
        })
    }

    /// The user's registrations for events that have not started, with the events, soonest first;
    /// `true` beside an event the user is only waitlisted for.
    pub async fn upcoming_registrations(
        &self,
        user: Id,
        now: Instant,
    ) -> Result<Vec<(EventRecord, bool)>, StoreError> {
        let out = self
            .client()
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(keys::user_pk(user)))
            .expression_attribute_values(":from", s(format!("{}{now}", keys::REGISTRATION_PREFIX)))
            .expression_attribute_values(":to", s(format!("{}~", keys::REGISTRATION_PREFIX)))
            .limit(MAX_FEED_EVENTS as i32)
            .send()
            .await
            .map_err(classify)?;
        let registrations: Vec<RegistrationRecord> =
            out.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<_, _>>()?;
        let events = self.events_by_id(registrations.iter().map(|r| r.event_id).collect()).await?;
        Ok(registrations
            .into_iter()
            .filter_map(|r| {
                let event = events.get(&r.event_id)?.clone();
                (!event.deleting && event.starts_at > now)
                    .then_some((event, r.status == RegistrationStatus::Waitlisted))
            })
            .collect())
    }

    /// Events by id.
    async fn events_by_id(&self, ids: Vec<Id>) -> Result<HashMap<Id, EventRecord>, StoreError> {
        let keys: Vec<_> = ids.into_iter().map(keys::event).collect();
        self.batch_get(&keys, None, super::batch::Consistency::Strong)
            .await?
            .into_iter()
            .map(|item| from_item::<EventRecord>(item).map(|event| (event.id, event)))
            .collect()
    }
}
