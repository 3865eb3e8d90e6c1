//! Deleting a user. The account goes at once; what points at the user (their registrations,
//! feedback and events, their sessions and notifications) follows within a time budget, and
//! whatever does not fit is finished later by the scheduled function. A user with thousands of
//! events would otherwise hold the request past the API's timeout.
//!
//! The account is removed in the same transaction that records the cleanup it owes, so a crash
//! at any point leaves either the whole user or a recorded cleanup. Every cleanup step is
//! idempotent, so a cleanup cut short anywhere is finished by running it again.

use std::time::Duration;

use futures::stream::{self, StreamExt, TryStreamExt};

use super::Store;
use super::error::StoreError;
use super::items::UserRecord;
use super::keys;
use super::query;
use super::tx::Write;
use super::users::marker_delete;
use crate::domain::Id;

/// Registrations cancelled and events deleted at once during a cleanup.
const CASCADE_CONCURRENCY: usize = 8;

/// How long a deletion request works on the cleanup before answering.
pub const INLINE_CLEANUP_BUDGET: Duration = Duration::from_secs(5);

impl Store {
    /// Deletes a user: the profile and the reservations of their username and email go at once
    /// (their tokens stop working and both names are free), then the cleanup runs for up to
    /// `budget`. `true` when everything is gone; `false` when the cleanup is left for the
    /// scheduled function.
    pub async fn delete_user(&self, user: &UserRecord, budget: Duration) -> Result<bool, StoreError> {
        let writes = vec![
            Write::delete(keys::user(user.id)).condition("attribute_exists(pk)"),
            marker_delete(keys::username(&user.username.to_ascii_lowercase()), user.id),
            marker_delete(keys::email(&user.email.to_lowercase()), user.id),
            Write::put(cleanup_item(user.id)),
        ];
        // A concurrent deletion got there first: its cleanup is recorded, and helping it is harmless.
        let _ = self.transact(writes).await?;
        self.clean_up_within(user.id, budget).await
    }

    /// Runs a deleted user's cleanup for up to `budget`, then forgets it if it finished.
    pub async fn clean_up_within(&self, user: Id, budget: Duration) -> Result<bool, StoreError> {
        match tokio::time::timeout(budget, self.clean_up(user)).await {
            Ok(finished) => {
                finished?;
                self.write(Write::delete(keys::cleanup(user))).await?.ok();
                Ok(true)
            }
            Err(_elapsed) => Ok(false),
        }
    }

    /// Deleted users whose cleanup is not finished.
    pub async fn pending_cleanups(&self) -> Result<Vec<Id>, StoreError> {
        let items = query::all(self.partition(None, keys::CLEANUPS_PK, None).consistent_read(true)).await?;
        Ok(items
            .iter()
            .filter_map(|item| item.get("user_id").and_then(|v| v.as_s().ok()).and_then(|raw| Id::parse(raw)))
            .collect())
    }

    /// Everything that points at a deleted user: seats they held go to the next on each
    /// waitlist first, as other people wait on those; then their feedback (taken out of the
    /// averages), the events they organise (with those events' registrations, whose holders are
    /// told), and the rest of their partition (sessions, notifications, calendar feed).
    async fn clean_up(&self, user: Id) -> Result<(), StoreError> {
        let registrations = self.all_user_registrations(user).await?;
        stream::iter(registrations)
            .map(|registration| self.cancel_registration(registration.event_id, user))
            .buffer_unordered(CASCADE_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        self.delete_user_feedback(user).await?;
        let organized = self.events_organized_by(user).await?;
        stream::iter(organized)
            .map(|event| self.delete_event(event.id))
            .buffer_unordered(CASCADE_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        self.purge_partition(&keys::user_pk(user), None).await
    }
}

/// The record of a cleanup owed, in the partition the scheduled function reads.
fn cleanup_item(user: Id) -> super::tx::Item {
    let key = keys::cleanup(user);
    let mut item = super::tx::key_item(&key);
    item.insert("user_id".into(), super::tx::s(user.to_string()));
    item.insert("type".into(), super::tx::s("cleanup"));
    item
}
