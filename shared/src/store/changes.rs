//! What a change to the table, as its stream reports it, leaves for the dispatch function to do.
//! Every side effect that must not be lost starts from an item written in the same transaction as
//! the change that causes it, so reading the stream finds them all:
//!
//! - a registration made (its item inserted): its user is told, by email;
//! - a notification delivered (its item inserted, exactly once, by promotions, edits, deletions
//!   and reminders): its user is told by email too;
//! - work recorded beside a change (an edit's follow-up, an event deletion, under `CLEANUPS#<shard>`):
//!   it is finished;
//! - feedback posted (its item inserted): the organizer's webhooks hear of it;
//! - a registration removed (a cancellation, or its account deleted): the organizer's webhooks
//!   hear of it;
//! - a webhook delivery recorded (its item inserted): its first attempt is made.
//!
//! Registrations, promotions, edits and deletions reach the organizer's webhooks from the same
//! records their emails come from.
//!
//! Everything else (modifications, other removals, other items) leaves nothing to do. The
//! template's event source mapping filters the stream to the same records, so the function is
//! not invoked for the rest.

use aws_lambda_events::event::dynamodb::EventRecord as StreamRecord;

use super::error::StoreError;
use super::event_deletion::PendingEventDeletion;
use super::event_edits::PendingEdit;
use super::items::{FeedbackRecord, Notification, RegistrationRecord};
use super::keys;
use super::tx::{Item, from_item};
use super::webhooks::DeliveryRecord;
use crate::domain::Id;

/// The item types whose insertion leaves something to do (the `type` attribute).
pub const DISPATCHED_TYPES: &[&str] =
    &["registration", "notification", "edit_follow_up", "event_cleanup", "feedback", "webhook_delivery"];

/// The item types whose removal leaves something to do.
pub const DISPATCHED_REMOVALS: &[&str] = &["registration"];

/// What one stream record leaves to do.
#[derive(Debug)]
pub enum Change {
    Registered(RegistrationRecord),
    Notified {
        user: Id,
        notification: Notification,
    },
    EditSaved(PendingEdit),
    DeletionBegun(PendingEventDeletion),
    FeedbackPosted(FeedbackRecord),
    WebhookRecorded(DeliveryRecord),
    /// A registration removed: cancelled by its holder, or taken with their account, or with
    /// its event (which the handler tells apart).
    Unregistered(RegistrationRecord),
    Nothing,
}

impl Change {
    /// The change one record of the table's stream reports, as Lambda's event source mapping
    /// hands it over (an image the record does not carry arrives empty).
    pub fn of_stream_record(record: &StreamRecord) -> Result<Change, StoreError> {
        let image = |image: &serde_dynamo::Item| (!image.is_empty()).then(|| Item::from(image.clone()));
        Change::of(&record.event_name, image(&record.change.new_image), image(&record.change.old_image))
    }

    /// The change a stream record reports: `event_name` (`INSERT`, `MODIFY`, `REMOVE`) and the
    /// item as it is after it and as it was before.
    fn of(event_name: &str, new_image: Option<Item>, old_image: Option<Item>) -> Result<Change, StoreError> {
        if event_name == "REMOVE" {
            let Some(old) = old_image else { return Ok(Change::Nothing) };
            return Ok(match type_of(&old) {
                "registration" => Change::Unregistered(from_item(old)?),
                _ => Change::Nothing,
            });
        }
        let Some(item) = new_image.filter(|_| event_name == "INSERT") else {
            return Ok(Change::Nothing);
        };
        Ok(match type_of(&item) {
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
            "feedback" => Change::FeedbackPosted(from_item(item)?),
            "webhook_delivery" => Change::WebhookRecorded(from_item(item)?),
            _ => Change::Nothing,
        })
    }
}

/// An item's `type` attribute.
fn type_of(item: &Item) -> &str {
    item.get("type").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_default()
}
