//! The reminders function: every 15 minutes, one reminder to each confirmed attendee of each
//! event starting within the next 24 hours, exactly once however often or concurrently it runs.
//! Exactly-once is DynamoDB's doing (a marker written with each reminder, on condition it is
//! new), not this process's memory, so overlapping or repeated runs are harmless.
//!
//! With the time left, each run also finishes what requests recorded but did not get through:
//! edits' follow-ups, event deletions and user deletions (see `shared::store::event_edits`,
//! `shared::store::event_deletion` and `shared::store::deletion`); those steps are idempotent too.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::Serialize;
use shared::domain::Instant;
use shared::store::event_deletion::PendingEventDeletion;
use shared::store::event_edits::PendingEdit;
use shared::store::reminders::AttendeesFrom;
use shared::store::{INDEX_SETTLE_SECONDS, Store, StoreError};

/// How far ahead events are looked at.
pub const WINDOW_SECONDS: i64 = 24 * 3600;
/// Reminders sent at once.
const CONCURRENCY: usize = 16;

/// What one run did.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub events: usize,
    pub reminded: usize,
    pub already_reminded: usize,
    /// Edits' follow-ups, and deleted users and events whose cleanup, this run confirmed finished.
    pub cleanups_finished: usize,
    /// Deleted users and events whose cleanup failed this run (logged; the next run tries again).
    pub cleanups_failed: usize,
    /// Deleted users and events whose cleanup is still recorded after this run.
    pub cleanups_pending: usize,
    /// True when the run stopped at its deadline; the next run picks up the rest.
    pub cut_short: bool,
}

/// The run's metrics, by function: reminders sent, and the cleanups finished, failed and still
/// pending (an alarm on `RunsCutShort` or a growing `CleanupsPending` says the schedule cannot keep
/// up).
pub fn emit_metrics(summary: &Summary) {
    use shared::telemetry::metrics::{self, Unit};
    let function = metrics::function_name();
    let values = [
        (metrics::REMINDERS_SENT, summary.reminded as f64, Unit::Count),
        ("CleanupsFinished", summary.cleanups_finished as f64, Unit::Count),
        ("CleanupsFailed", summary.cleanups_failed as f64, Unit::Count),
        ("CleanupsPending", summary.cleanups_pending as f64, Unit::Count),
        ("RunsCutShort", f64::from(u8::from(summary.cut_short)), Unit::Count),
    ];
    let now = chrono::Utc::now().timestamp_millis();
    metrics::emit(&metrics::line(&[("Function", &function)], &values, now));
}

/// Sends the reminders due at `now`, then finishes pending user deletions, stopping once
/// `budget` has passed. The run sets no request deadline (`shared::store::deadline`): `budget`
/// is checked between steps and bounds each cleanup pass, so reaching it cuts the run short
/// rather than failing it, and the store's retry loops stop at their safety cap.
pub async fn run(store: &Store, now: Instant, budget: Duration) -> Result<Summary, StoreError> {
    let started = std::time::Instant::now();
    // Boxed: the two walks hold the futures of most of the store, whose types nest past the
    // compiler's limit in one future.
    let mut summary = Box::pin(send_reminders(store, now, budget, started)).await?;
    if !summary.cut_short {
        Box::pin(finish_cleanups(store, now, budget, started, &mut summary)).await?;
    }
    Ok(summary)
}

/// Finishes the edits' follow-ups and the event deletions that their requests did not, then
/// runs deleted users' cleanups, one after another while time is left. A cleanup whose pass
/// completes is forgotten once that pass began long enough after the deletion for the index to
/// show everything the user owned; a failing one is logged and left for the next run, so it
/// cannot hold up the others.
async fn finish_cleanups(
    store: &Store,
    now: Instant,
    budget: Duration,
    started: std::time::Instant,
    summary: &mut Summary,
) -> Result<(), StoreError> {
    let mut recorded: Vec<Recorded> = store.pending_edits().await?.into_iter().map(Recorded::Edit).collect();
    recorded.extend(store.pending_event_deletions().await?.into_iter().map(Recorded::Deletion));
    let pending = store.pending_cleanups().await?;
    summary.cleanups_pending = recorded.len() + pending.len();
    for work in recorded {
        let Some(left) = time_left(budget, started) else {
            summary.cut_short = true;
            return Ok(());
        };
        // A large event's deletion may take longer than the run has left: cut at the budget,
        // it resumes where it stopped next time (each step is idempotent).
        let Ok(finished) = tokio::time::timeout(left, work.finish(store)).await else {
            summary.cut_short = true;
            return Ok(());
        };
        match finished {
            Ok(()) => {
                summary.cleanups_finished += 1;
                summary.cleanups_pending -= 1;
            }
            Err(error) => {
                tracing::warn!(event_id = %work.event_id(), %error, "{} failed; the next run retries it", work.what());
                summary.cleanups_failed += 1;
            }
        }
    }
    for cleanup in pending {
        let Some(left) = time_left(budget, started) else {
            summary.cut_short = true;
            return Ok(());
        };
        match store.clean_up_within(cleanup.user_id, left).await {
            Ok(true) if now >= cleanup.deleted_at.plus_seconds(INDEX_SETTLE_SECONDS) => {
                store.forget_cleanup(cleanup.user_id).await?;
                summary.cleanups_finished += 1;
                summary.cleanups_pending -= 1;
            }
            Ok(true) => {}
            Ok(false) => {
                summary.cut_short = true;
                return Ok(());
            }
            Err(error) => {
                tracing::warn!(user_id = %cleanup.user_id, %error, "a user cleanup failed; the next run retries it");
                summary.cleanups_failed += 1;
            }
        }
    }
    Ok(())
}

/// What is left of the run's `budget`, counted from `started`; `None` once it is spent.
fn time_left(budget: Duration, started: std::time::Instant) -> Option<Duration> {
    budget.checked_sub(started.elapsed()).filter(|left| !left.is_zero())
}

/// Work on an event that a request recorded and may not have finished.
enum Recorded {
    Edit(PendingEdit),
    Deletion(PendingEventDeletion),
}

impl Recorded {
    async fn finish(&self, store: &Store) -> Result<(), StoreError> {
        match self {
            Recorded::Edit(edit) => store.finish_edit(edit).await.map(drop),
            Recorded::Deletion(deletion) => store.resume_event_deletion(deletion).await,
        }
    }

    fn event_id(&self) -> shared::domain::Id {
        match self {
            Recorded::Edit(edit) => edit.event_id,
            Recorded::Deletion(deletion) => deletion.event_id,
        }
    }

    fn what(&self) -> &'static str {
        match self {
            Recorded::Edit(_) => "an edit's follow-up",
            Recorded::Deletion(_) => "an event deletion",
        }
    }
}

/// Sends the reminders due at `now` until `budget` has passed since `started`.
async fn send_reminders(
    store: &Store,
    now: Instant,
    budget: Duration,
    started: std::time::Instant,
) -> Result<Summary, StoreError> {
    let mut summary = Summary::default();
    let events = store.events_starting_between(now, now.plus_seconds(WINDOW_SECONDS)).await?;
    summary.events = events.len();
    for event in &events {
        let reminded = store.reminded(event.id).await?;
        let mut from = AttendeesFrom::default();
        loop {
            if started.elapsed() >= budget {
                summary.cut_short = true;
                return Ok(summary);
            }
            let page = store.confirmed_attendees(event.id, from).await?;
            let due: Vec<_> = page.users.into_iter().filter(|u| !reminded.contains(u)).collect();
            let sent: Vec<Result<bool, StoreError>> = stream::iter(due)
                .map(|user| store.remind(event, user, now))
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            for outcome in sent {
                if outcome? {
                    summary.reminded += 1;
                } else {
                    summary.already_reminded += 1;
                }
            }
            match page.next {
                Some(next) => from = next,
                None => break,
            }
        }
        summary.already_reminded += reminded.len();
    }
    Ok(summary)
}
