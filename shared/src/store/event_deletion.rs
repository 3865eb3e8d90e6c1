//! Deleting an event, in two parts. The deletion is committed by one transaction that marks the
//! event and every seat shard as being deleted (which hides the event and closes registrations)
//! and records the deletion under `CLEANUPS#<shard>`. What follows (notices to registrants, the
//! registrations, the event's other items, the event itself, the record) is finished by the
//! request, and, if that is cut short, by a repeated `DELETE` or by the scheduled function. Every
//! step is idempotent: the notices take their ids from when the deletion began, so finishing it
//! twice tells nobody twice.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::Store;
use super::conditions;
use super::error::StoreError;
use super::events::event_keys;
use super::items::{EventRecord, NotificationKind};
use super::keys;
use super::tx::{Write, from_item, n, put_record};
use super::unix_millis_now;
use crate::domain::{Id, Instant};

/// An event deletion committed but not confirmed finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEventDeletion {
    pub event_id: Id,
    pub began_at: Instant,
    /// Who organised it, and what it was: the event item may be gone by the time the deletion's
    /// record is read from the stream, and the organizer's webhooks still hear of it. (Absent
    /// from records written before they were kept.)
    #[serde(default)]
    pub organizer_id: Option<Id>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub starts_at: Option<Instant>,
}

/// The put that records the deletion of `event` (idempotent).
fn record_of(event: &EventRecord) -> Result<Write, StoreError> {
    let record = PendingEventDeletion {
        event_id: event.id,
        began_at: Instant::now(),
        organizer_id: Some(event.organizer_id),
        title: Some(event.title.clone()),
        starts_at: Some(event.starts_at),
    };
    put_record(&keys::event_cleanup(event.id), "event_cleanup", &record)
}

impl Store {
    /// Deletes an event and everything stored under it (registrations, waitlist entries and
    /// reminder markers in their groups, feedback, its team and its day counts), or finishes a
    /// deletion already begun. Returns the event as it was; `None` when there is none.
    ///
    /// Once the deletion is committed the request has succeeded whatever happens next: a failure
    /// to finish is logged and left to the scheduled function, not reported as if nothing had
    /// been deleted.
    pub async fn delete_event(&self, id: Id) -> Result<Option<EventRecord>, StoreError> {
        let Some(event) = self.begin_event_deletion(id).await? else { return Ok(None) };
        if let Err(error) = self.finish_event_deletion(&event).await {
            tracing::warn!(event_id = %id, %error, "an event deletion was cut short; it is finished later");
        }
        Ok(Some(event))
    }

    /// Commits the deletion of an event: the event and its seat shards marked, and the deletion
    /// recorded, in one transaction. An event already being deleted is returned as it is. `None`
    /// when there is no event.
    pub async fn begin_event_deletion(&self, id: Id) -> Result<Option<EventRecord>, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some((event, seats)) = self.event_with_seats(id).await? else { return Ok(None) };
            let record = record_of(&event)?;
            if event.deleting {
                // Marked by a deletion that may have left no record (one begun before deletions
                // were recorded): record it, so the scheduled function finishes it too.
                self.write(record).await?.ok();
                return Ok(Some(event));
            }
            let began_ms = unix_millis_now();
            let mut writes = vec![
                Write::update(keys::event(id), "SET deleting = :yes, deletion_began_ms = :began")
                    .when(conditions::live())
                    .value(":yes", AttributeValue::Bool(true))
                    .value(":began", n(began_ms)),
                record,
            ];
            writes.extend(seats.shards.iter().map(|shard| {
                Write::update(keys::seat_shard(id, shard.shard), "SET deleting = :yes")
                    .when(conditions::exists())
                    .value(":yes", AttributeValue::Bool(true))
            }));
            if self.transact(writes).await?.is_ok() {
                return Ok(Some(EventRecord { deleting: true, deletion_began_ms: Some(began_ms), ..event }));
            }
            // Deleted or marked meanwhile: look again.
            super::deadline::pause(attempt, "an event deletion racing another").await?;
        }
    }

    /// Finishes a committed deletion: tells the registrants (once, however often this runs),
    /// deletes the registrations and the event's other items, then the seat shards and the event,
    /// and last the record of the deletion.
    pub async fn finish_event_deletion(&self, event: &EventRecord) -> Result<(), StoreError> {
        let id = event.id;
        self.hints.forget(id);
        let registrants = self.registrants(id).await?;
        let message = format!("\"{}\", planned for {}, was cancelled.", event.title, event.starts_at);
        let began = event.deletion_began_ms.unwrap_or_else(unix_millis_now);
        self.notify_once(&registrants, NotificationKind::EventDeleted, id, &message, began).await?;
        for group in keys::registration_partitions(id) {
            self.purge_partition(&group, None).await?;
        }
        self.purge_partition(&keys::event_pk(id), Some(keys::EVENT_ITEMS_PREFIX)).await?;
        for shard in 1..event.seat_shards {
            self.purge_partition(&keys::seat_shard_pk(id, shard), Some(keys::SEATS_PREFIX)).await?;
        }
        for key in event_keys(event).into_iter().rev() {
            self.write(Write::delete(key)).await?.ok();
        }
        self.write(Write::delete(keys::event_cleanup(id))).await?.ok();
        Ok(())
    }

    /// Event deletions committed but not confirmed finished.
    pub async fn pending_event_deletions(&self) -> Result<Vec<PendingEventDeletion>, StoreError> {
        self.unfinished(keys::EVENT_CLEANUP_PREFIX).await?.into_iter().map(from_item).collect()
    }

    /// Finishes the deletion `pending` records: the event as stored, marked, or nothing left of it
    /// but the record.
    pub async fn resume_event_deletion(&self, pending: &PendingEventDeletion) -> Result<(), StoreError> {
        match self.event_with_seats(pending.event_id).await? {
            Some((event, _)) if event.deleting => self.finish_event_deletion(&event).await,
            // The event item is gone (the last step but one), or was never marked.
            _ => {
                self.write(Write::delete(keys::event_cleanup(pending.event_id))).await?.ok();
                Ok(())
            }
        }
    }
}
