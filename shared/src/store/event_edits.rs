//! What follows a saved edit of an event: a moved start re-files its registrations, seats added
//! (or a waitlist turned on) go to the waitlist, and every registrant is told. The edit's own
//! transaction records this work ([`PendingEdit`], under `CLEANUPS#<shard>`), the request then does it,
//! and whatever the request does not finish the scheduled function does. Each step is
//! idempotent (the notices' ids come from when the edit was saved), so doing it twice tells
//! nobody twice.

use serde::{Deserialize, Serialize};

use super::Store;
use super::error::StoreError;
use super::items::{EventRecord, NotificationKind};
use super::keys;
use super::tx::{Write, from_item, put_record};
use super::unix_millis_now;
use crate::domain::{Id, Instant};

/// An edit saved whose follow-up may not be done yet: the facts before it that decide what
/// follows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEdit {
    pub event_id: Id,
    /// The version the edit made.
    pub version: u64,
    /// When the edit was saved, in Unix milliseconds: the notices' ids derive from it.
    pub edited_ms: u64,
    pub capacity_before: u32,
    pub waitlist_before: bool,
    pub starts_before: Instant,
}

impl PendingEdit {
    /// The follow-up of the edit from `before` to `after`.
    pub fn of(before: &EventRecord, after: &EventRecord) -> Self {
        PendingEdit {
            event_id: after.id,
            version: after.version,
            edited_ms: unix_millis_now(),
            capacity_before: before.capacity,
            waitlist_before: before.waitlist_enabled,
            starts_before: before.starts_at,
        }
    }

    /// The put that records it, for the edit's transaction.
    pub(crate) fn write(&self) -> Result<Write, StoreError> {
        put_record(&keys::edit_follow_up(self.event_id, self.version), "edit_follow_up", self)
    }
}

impl Store {
    /// Does what an edit leaves to do, on the event as it is now, then forgets it. Returns who
    /// was promoted.
    pub async fn finish_edit(&self, pending: &PendingEdit) -> Result<Vec<Id>, StoreError> {
        let Some(event) = self.find_event(pending.event_id).await? else {
            // Deleted since: its registrants are told of that instead.
            self.forget_edit(pending).await?;
            return Ok(Vec::new());
        };
        self.hints.forget(event.id);
        if event.starts_at != pending.starts_before {
            self.refile_registrations(&event).await?;
        }
        let seats_added = event.capacity > pending.capacity_before;
        let promoted = if seats_added || event.waitlist_enabled != pending.waitlist_before {
            self.promote_waitlisted(event.id).await?
        } else {
            Vec::new()
        };
        let registrants = self.registrants(event.id).await?;
        let message = format!(
            "\"{}\" was changed: it starts at {} in {}.",
            event.title, event.starts_at, event.location
        );
        self.notify_once(&registrants, NotificationKind::EventChanged, event.id, &message, pending.edited_ms)
            .await?;
        self.forget_edit(pending).await?;
        Ok(promoted)
    }

    /// Edits whose follow-up is not confirmed done.
    pub async fn pending_edits(&self) -> Result<Vec<PendingEdit>, StoreError> {
        self.unfinished(keys::EDIT_FOLLOW_UP_PREFIX).await?.into_iter().map(from_item).collect()
    }

    async fn forget_edit(&self, pending: &PendingEdit) -> Result<(), StoreError> {
        self.write(Write::delete(keys::edit_follow_up(pending.event_id, pending.version))).await?.ok();
        Ok(())
    }
}
