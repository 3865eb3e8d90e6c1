//! The reminders function: every 15 minutes, one reminder to each confirmed attendee of each
//! event starting within the next 24 hours, exactly once however often or concurrently it runs.
//! Exactly-once is DynamoDB's doing (a marker written with each reminder, on condition it is
//! new), not this process's memory, so overlapping or repeated runs are harmless.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::Serialize;
use shared::domain::Instant;
use shared::store::{Store, StoreError};

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
    /// True when the run stopped at its deadline; the next run picks up the rest.
    pub cut_short: bool,
}

/// Sends the reminders due at `now`, stopping once `budget` has passed.
pub async fn run(store: &Store, now: Instant, budget: Duration) -> Result<Summary, StoreError> {
    let started = std::time::Instant::now();
    let mut summary = Summary::default();
    let events = store.events_starting_between(now, now.plus_seconds(WINDOW_SECONDS)).await?;
    summary.events = events.len();
    for event in &events {
        let reminded = store.reminded(event.id).await?;
        let mut start = None;
        loop {
            if started.elapsed() >= budget {
                summary.cut_short = true;
                return Ok(summary);
            }
            let page = store.confirmed_attendees(event.id, start).await?;
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
                Some(next) => start = Some(next),
                None => break,
            }
        }
        summary.already_reminded += reminded.len();
    }
    Ok(summary)
}
