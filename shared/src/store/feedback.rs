//! Feedback: one per confirmed attendee once the event has started, with the event's rating sum
//! and count updated in the same transaction, so the average never needs every item read.

use super::Store;
use super::conditions;
use super::error::StoreError;
use super::idempotency::Remember;
use super::items::{FeedbackRecord, IndexKeys, SeatShard, Stored};
use super::keys;
use super::page::{Page, PageRequest};
use super::query;
use super::tx::{Item, Write, from_item, n, to_item};
use crate::domain::{Id, Instant};

#[derive(Debug, PartialEq, Eq)]
pub enum FeedbackRefused {
    NoEvent,
    NotAttendee,
    AlreadyGiven,
    NotStarted,
}

fn feedback_item(record: &FeedbackRecord) -> Result<Item, StoreError> {
    let key = keys::feedback(record.event_id, record.user_id);
    let index = IndexKeys {
        gsi1pk: Some(keys::user_pk(record.user_id)),
        gsi1sk: Some(keys::user_feedback_sk(record.event_id)),
        gsi2pk: Some(keys::event_feedback_pk(record.event_id)),
        gsi2sk: Some(record.id.to_string()),
        ..IndexKeys::default()
    };
    to_item(&Stored { pk: &key.pk, sk: &key.sk, kind: "feedback", index: &index, record })
}

impl Store {
    /// Stores feedback if its author is a confirmed attendee of an event that has started and has
    /// not given feedback yet: all three checked by DynamoDB in one transaction.
    pub async fn give_feedback(
        &self,
        record: &FeedbackRecord,
        now: Instant,
        remember: Option<Remember>,
    ) -> Result<Result<(), FeedbackRefused>, StoreError> {
        let writes = vec![
            // Ratings are kept on the first seat shard.
            Write::update(
                keys::seat_shard(record.event_id, 0),
                "SET rating_sum = if_not_exists(rating_sum, :zero) + :rating, rating_count = if_not_exists(rating_count, :zero) + :one",
            )
            .when(conditions::started_by(now))
            .value(":rating", n(record.rating))
            .value(":one", n(1))
            .value(":zero", n(0))
            .return_old_on_failure(),
            Write::check(keys::registration(record.event_id, record.user_id), conditions::confirmed()),
            Write::put(feedback_item(record)?).when(conditions::absent()),
        ];
        let cancelled = match self.transact_remembering(writes, remember).await? {
            Ok(()) => return Ok(Ok(())),
            Err(cancelled) => cancelled,
        };
        let event_gone = cancelled.condition_failed(0)
            && match cancelled.old_item(0) {
                Some(old) => from_item::<SeatShard>(old.clone())?.deleting,
                None => true,
            };
        Ok(Err(if event_gone {
            FeedbackRefused::NoEvent
        } else if cancelled.condition_failed(1) {
            FeedbackRefused::NotAttendee
        } else if cancelled.condition_failed(2) {
            FeedbackRefused::AlreadyGiven
        } else {
            FeedbackRefused::NotStarted
        }))
    }

    /// An event's feedback, newest first.
    pub async fn feedback(&self, event: Id, page: &PageRequest) -> Result<Page<FeedbackRecord>, StoreError> {
        let newest_first =
            self.partition(Some(keys::GSI2), keys::event_feedback_pk(event), None).scan_index_forward(false);
        query::page(newest_first, page).await
    }

    /// Removes a user's feedback everywhere, taking it out of each event's average.
    pub(crate) async fn delete_user_feedback(&self, user: Id) -> Result<(), StoreError> {
        let items: Vec<Item> = self.owned_by(user, keys::FEEDBACK_PREFIX).await?;
        for item in items {
            let record: FeedbackRecord = from_item(item)?;
            let key = keys::feedback(record.event_id, user);
            let writes = vec![
                Write::delete(key.clone()).when(conditions::exists()),
                Write::update(
                    keys::seat_shard(record.event_id, 0),
                    "SET rating_sum = rating_sum - :rating, rating_count = rating_count - :one",
                )
                .when(conditions::rated())
                .value(":rating", n(record.rating))
                .value(":one", n(1)),
            ];
            if self.transact(writes).await?.is_err() {
                // The event is gone: only the feedback item is left to remove.
                self.write(Write::delete(key)).await?.ok();
            }
        }
        Ok(())
    }
}
