//! What a change to the table, as its stream reports it, leaves for the dispatch function to do.
//! Every side effect that must not be lost starts from an item written in the same transaction as
//! the change that causes it, so reading the stream finds them all:
//!
//! - a registration made (its item inserted): its user is told, by email;
//! - a notification delivered (its item inserted, exactly once, by promotions, edits, deletions
//!   and reminders): its user is told by email too;
//! - work recorded beside a change (an edit's follow-up, an event deletion, under `CLEANUPS`):
//!   it is finished.
//!
//! Everything else (modifications, removals, other items) leaves nothing to do. The template's
//! event source mapping filters the stream to the same inserts, so the function is not invoked
//! for the rest.

use super::error::StoreError;
use super::event_deletion::PendingEventDeletion;
use super::event_edits::PendingEdit;
use super::items::{NotificationRecord, RegistrationRecord};
use super::keys;
use super::tx::{Item, from_item};
use crate::domain::Id;

/// The item types whose insertion leaves something to do (the `type` attribute).
pub const DISPATCHED_TYPES: &[&str] = &["registration", "notification", "edit_follow_up", "event_cleanup"];

/// What one stream record leaves to do.
#[derive(Debug)]
pub enum Change {
    Registered(RegistrationRecord),
    Notified { user: Id, notification: NotificationRecord },
    EditSaved(PendingEdit),
    DeletionBegun(PendingEventDeletion),
    Nothing,
}

impl Change {
    /// The change a stream record reports: `event_name` (`INSERT`, `MODIFY`, `REMOVE`) and the
    /// item as it is after it.
    pub fn of(event_name: &str, new_image: Option<Item>) -> Result<Change, StoreError> {
        let Some(item) = new_image.filter(|_| event_name == "INSERT") else {
            return Ok(Change::Nothing);
        };
        let kind = item.get("type").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_default();
        Ok(match kind {
            "registration" => Change::Registered(from_item(item)?),
            "notification" => {
                let user = item
                    .get(keys::PK)
                    .and_then(|v| v.as_s().ok())
                    .and_then(|pk| keys::user_of_partition(pk))
                    .ok_or_else(|| {
                        StoreError::Internal("a notification outside a user's partition".into())
                    })?;
                Change::Notified { user, notification: from_item(item)? }
            }
            "edit_follow_up" => Change::EditSaved(from_item(item)?),
            "event_cleanup" => Change::DeletionBegun(from_item(item)?),
            _ => Change::Nothing,
        })
    }
}
