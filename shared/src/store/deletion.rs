//! Deleting a user. The account goes at once; what points at the user (their registrations,
//! feedback and events, their sessions and notifications) follows within a time budget, and the
//! scheduled function finishes whatever does not fit. A user with thousands of events would
//! otherwise hold the request past the API's timeout.
//!
//! The account is removed in the same transaction that records the cleanup it owes, so a crash
//! at any point leaves either the whole user or a recorded cleanup. Every cleanup step is
//! idempotent, so a cleanup cut short anywhere is finished by running it again.
//!
//! What a user owns is found through gsi1, and index reads lag the table slightly: a
//! registration made a moment before the deletion may not show yet. So the record is only
//! dropped after a complete pass that began well after the deletion ([`INDEX_SETTLE_SECONDS`]),
//! which the scheduled function makes; the pass inside the request never drops it.

use std::time::Duration;

use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use super::Store;
use super::conditions;
use super::deadline;
use super::error::StoreError;
use super::items::UserRecord;
use super::keys;
use super::tx::{Write, from_item, put_record};
use super::users::marker_delete;
use crate::domain::user::email_key;
use crate::domain::{Id, Instant};

/// Registrations cancelled and events deleted at once during a cleanup.
const CASCADE_CONCURRENCY: usize = 8;

/// How long a deletion request works on the cleanup before answering.
pub const INLINE_CLEANUP_BUDGET: Duration = Duration::from_secs(5);

/// How long after a deletion a complete pass must begin for the cleanup to count as finished:
/// far beyond how far gsi1 lags the table.
pub const INDEX_SETTLE_SECONDS: i64 = 60;

/// A deleted user whose cleanup is not confirmed finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCleanup {
    pub user_id: Id,
    pub deleted_at: Instant,
}

impl Store {
    /// Deletes a user: the profile and the reservations of their username and email go at once
    /// (their tokens stop working and both names are free), then the cleanup runs for up to
    /// `budget`. `true` when that pass got through everything it could see. An account whose
    /// names change under the deletion is re-read and tried again, until the request's deadline.
    pub async fn delete_user(&self, user: &UserRecord, budget: Duration) -> Result<bool, StoreError> {
        let mut user = user.clone();
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                deadline::pause(attempt - 1, "deleting an account that kept changing").await?;
            }
            let pending = PendingCleanup { user_id: user.id, deleted_at: Instant::now() };
            let writes = vec![
                Write::delete(keys::user(user.id)).when(conditions::exists()),
                marker_delete(keys::username(&user.username.to_ascii_lowercase()), user.id),
                marker_delete(keys::email(&email_key(&user.email)), user.id),
                put_record(&keys::cleanup(user.id), "cleanup", &pending)?,
            ];
            match self.transact(writes).await? {
                Ok(()) => return Ok(self.clean_up_after_removal(user.id, budget).await),
                // Another deletion removed the account first and recorded the cleanup; helping
                // with it is harmless.
                Err(cancelled) if cancelled.condition_failed(0) => {
                    return Ok(self.clean_up_after_removal(user.id, budget).await);
                }
                // The username or email changed meanwhile: delete the account as it is now.
                Err(_) => match self.find_user(user.id).await? {
                    Some(current) => user = current,
                    None => return Ok(self.clean_up_after_removal(user.id, budget).await),
                },
            }
        }
    }

    /// The cleanup pass of a deletion request. The account is gone and the cleanup recorded, so
    /// the request has succeeded whatever happens here: a failure is logged and left to the
    /// scheduled function, not reported to the client as if nothing had been deleted.
    async fn clean_up_after_removal(&self, user: Id, budget: Duration) -> bool {
        match self.clean_up_within(user, budget).await {
            Ok(done) => done,
            Err(error) => {
                tracing::warn!(user_id = %user, %error, "a user cleanup failed; the scheduled run finishes it");
                false
            }
        }
    }

    /// Runs one pass of a deleted user's cleanup for up to `budget`. `true` when it got
    /// through everything it could see; `false` when time ran out first. Inside a request, the
    /// pass also takes at most half the time the request has left, so that it stops (and the
    /// request answers) before the deadline cuts its storage calls short.
    pub async fn clean_up_within(&self, user: Id, budget: Duration) -> Result<bool, StoreError> {
        let budget = deadline::remaining().map_or(budget, |left| budget.min(left / 2));
        match tokio::time::timeout(budget, self.clean_up(user)).await {
            Ok(finished) => finished.map(|()| true),
            Err(_elapsed) => Ok(false),
        }
    }

    /// Deleted users whose cleanup is not confirmed finished.
    pub async fn pending_cleanups(&self) -> Result<Vec<PendingCleanup>, StoreError> {
        self.unfinished(keys::USER_CLEANUP_PREFIX).await?.into_iter().map(from_item).collect()
    }

    /// Drops the record of a cleanup once a complete pass has shown nothing is left.
    pub async fn forget_cleanup(&self, user: Id) -> Result<(), StoreError> {
        self.write(Write::delete(keys::cleanup(user))).await?.ok();
        Ok(())
    }

    /// Everything that points at a deleted user: seats they held go to the next on each
    /// waitlist first, as other people wait on those; then their feedback (taken out of the
    /// averages), their places on events' teams, the events they organise (with those events'
    /// registrations, whose holders are told), and the rest of their partition (sessions,
    /// notifications, calendar feed).
    async fn clean_up(&self, user: Id) -> Result<(), StoreError> {
        let registrations = self.all_user_registrations(user).await?;
        stream::iter(registrations)
            .map(|registration| self.cancel_registration(registration.event_id, user))
            .buffer_unordered(CASCADE_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        self.delete_user_feedback(user).await?;
        self.leave_teams(user).await?;
        let organized = self.events_organized_by(user).await?;
        stream::iter(organized)
            .map(|event| self.delete_event(event.id))
            .buffer_unordered(CASCADE_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        // The profile is gone already; sparing its key guards against ever purging a live one.
        self.purge_partition(&keys::user_pk(user), Some(keys::user(user).sk.as_str())).await
    }
}
