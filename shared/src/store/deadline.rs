//! One deadline per request, shared by every retry loop and every write the request makes.
//!
//! A loop retries while its request has time left, not a count of its own: counts nest and
//! multiply (a registration retrying a transaction that itself retries conflicts), and under a
//! rush of registrations on AWS, where transactions on the same item conflict, that turns into
//! slow answers and 503s. The deadline sits in a task-local, so a loop nested in another sees the
//! same one. A batch read started late is cut at the deadline instead of running its full
//! timeout. A write is never started once the deadline has passed, but one already sent is
//! awaited to its outcome, bounded by the SDK's own timeout (`DYNAMODB_TIMEOUT_MS`): a write cut
//! in flight may still be applied, and a 503 must mean that nothing changed.
//!
//! Work outside a request (the scheduled function, the operator command) has no deadline
//! unless it sets one with [`within`]; its loops then stop after [`SAFETY_ATTEMPTS`].

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::error::StoreError;

tokio::task_local! {
    static DEADLINE: Deadline;
}

/// When the work must be done by, and how long it was given.
#[derive(Clone, Copy)]
struct Deadline {
    at: Instant,
    budget: Duration,
}

impl Deadline {
    /// How much of the budget is spent, from 0 (just started) to 1 (the deadline has passed).
    fn spent(&self) -> f64 {
        if self.budget.is_zero() {
            return 1.0;
        }
        let left = self.at.saturating_duration_since(Instant::now());
        1.0 - (left.as_secs_f64() / self.budget.as_secs_f64()).min(1.0)
    }
}

/// Attempts a retry loop makes in all when no deadline is set: with backoffs growing to a
/// second, well over ten seconds of retrying, yet few enough that nothing loops forever.
pub const SAFETY_ATTEMPTS: u32 = 20;

/// The longest single backoff, reached after seven failures in a row. Full jitter averages half
/// of it, so a long-contended request still tries about twice a second, a dozen or more times
/// within its deadline, while hundreds of requests contending for one item do not spend the
/// capacity (and, locally, the one process's CPU) that the winning transaction needs. Measured
/// in the API tests (300 registrations for one event, conflicts modelled in front of DynamoDB
/// Local): caps of 150 and 250 ms collapsed to about one success a second; of 0.5, 1 and 2 s,
/// 1 s finished fastest.
const MAX_BACKOFF: Duration = Duration::from_millis(1000);

/// The shortest backoff: a request near its deadline still leaves a moment between tries.
const MIN_BACKOFF: Duration = Duration::from_millis(5);

/// Time a retry needs after its backoff (at least one round trip). A backoff is shortened to
/// leave it before the deadline, so the last try still happens; with less left there is no try
/// to make, and the loop gives up at once.
const RETRY_MARGIN: Duration = Duration::from_millis(50);

/// Runs `work` with a deadline `budget` from now, or the deadline already set if that is earlier
/// (a budget never extends the request it runs in).
pub async fn within<F: Future>(budget: Duration, work: F) -> F::Output {
    let mine = Deadline { at: Instant::now() + budget, budget };
    let deadline = DEADLINE.try_with(|outer| if outer.at <= mine.at { *outer } else { mine }).unwrap_or(mine);
    DEADLINE.scope(deadline, work).await
}

/// What reading back after a committed change may take, past the request's deadline.
const AFTER_COMMIT_BUDGET: Duration = Duration::from_millis(2000);

/// Runs `work`, which reads what to answer about a change already committed, with a short
/// budget of its own: the request's deadline may have passed while the change was in flight,
/// and answering 503 then would report as failed a change that was made.
pub async fn after_commit<F: Future>(work: F) -> F::Output {
    DEADLINE
        .scope(Deadline { at: Instant::now() + AFTER_COMMIT_BUDGET, budget: AFTER_COMMIT_BUDGET }, work)
        .await
}

/// Time left before the deadline (zero once it has passed); `None` when none is set.
pub fn remaining() -> Option<Duration> {
    DEADLINE.try_with(|deadline| deadline.at.saturating_duration_since(Instant::now())).ok()
}

/// Runs one call, cut at the deadline: a call that cannot finish in time is abandoned and the
/// storage reported unavailable (503, `Retry-After`), rather than holding the request past it.
/// Without a deadline the call runs as it is (the SDK's own timeouts still apply).
pub async fn bounded<F: Future>(what: &str, call: F) -> Result<F::Output, StoreError> {
    let Some(left) = remaining() else { return Ok(call.await) };
    if left.is_zero() {
        return Err(passed(what));
    }
    tokio::time::timeout(left, call).await.map_err(|_elapsed| passed(what))
}

/// Runs one write, if the deadline has not passed: a write is not started after it (503), and a
/// write already sent is awaited, however late, since its outcome is what the request must
/// report. The SDK's operation timeout bounds the wait.
pub async fn started<F: Future>(what: &str, write: F) -> Result<F::Output, StoreError> {
    match remaining() {
        Some(left) if left.is_zero() => Err(passed(what)),
        _ => Ok(write.await),
    }
}

/// After attempt `attempt` (1 for the first) of `what` failed in a way worth retrying: sleeps a
/// backoff before the next (never past [`RETRY_MARGIN`] before the deadline), or answers that the
/// storage is too contended to finish now (503) once the deadline is too close for another try
/// or, without a deadline, after [`SAFETY_ATTEMPTS`].
///
/// The backoff shrinks as the request's budget is spent (by the square of what is left): plain
/// exponential backoff serves the newest requests first, since an item a crowd contends for goes
/// to whoever tries right after it is released, and the requests that failed most wait longest.
/// Here an old request tries more often than the newcomers, so the item goes roughly in order of
/// arrival and few requests reach their deadline. Measured in the rush benchmark with conflicts
/// modelled (5,000 registrations, 200 in flight), two runs each: 503s went from 60 and 70 to 0
/// and 1, p99 from 10.0 s to 7.0 and 7.7 s; the price is more tries that conflict (9 instead of
/// 5.5 per registration) and so less throughput where tries cost CPU (103 and 112 instead of 128
/// and 135 registrations a second, on 2 cores shared with DynamoDB Local).
pub async fn pause(attempt: u32, what: &str) -> Result<(), StoreError> {
    let sleep = match remaining() {
        Some(left) if left <= RETRY_MARGIN => return Err(passed(what)),
        Some(left) => {
            let spent = DEADLINE.try_with(Deadline::spent).unwrap_or(0.0);
            backoff(attempt).mul_f64((1.0 - spent).powi(2)).max(MIN_BACKOFF).min(left - RETRY_MARGIN)
        }
        None if attempt >= SAFETY_ATTEMPTS => {
            return Err(StoreError::Unavailable(format!("{what}: still contended after {attempt} attempts")));
        }
        None => backoff(attempt),
    };
    tokio::time::sleep(sleep).await;
    Ok(())
}

fn passed(what: &str) -> StoreError {
    StoreError::Unavailable(format!("{what}: the request's deadline left no time to finish"))
}

/// Full-jitter exponential backoff: up to 20 ms, 40 ms, 80 ms, ... then [`MAX_BACKOFF`]. Random
/// sleeps spread racing writers apart; the doubling makes a crowd of them thin out by itself.
fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let ceiling = (10u64 << attempt.min(10)).min(MAX_BACKOFF.as_millis() as u64);
    Duration::from_millis(rand::thread_rng().gen_range(1..=ceiling))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for attempt in 1..100 {
            let d = backoff(attempt);
            assert!(d >= Duration::from_millis(1));
            assert!(d <= MAX_BACKOFF);
        }
        assert!((0..50).all(|_| backoff(1) <= Duration::from_millis(20)));
        assert!((0..50).any(|_| backoff(7) > Duration::from_millis(640)), "the cap is reached");
    }

    #[tokio::test]
    async fn a_backoff_is_shortened_to_leave_a_last_try() {
        let started = Instant::now();
        let outcome = within(Duration::from_millis(200), pause(SAFETY_ATTEMPTS * 2, "a test")).await;
        assert!(outcome.is_ok(), "time was left for one more try");
        assert!(started.elapsed() < Duration::from_millis(200), "took {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn no_deadline_outside_within() {
        assert_eq!(remaining(), None);
        within(Duration::from_secs(5), async {
            assert!(remaining().is_some_and(|left| left > Duration::from_secs(4)));
        })
        .await;
        assert_eq!(remaining(), None);
    }

    #[tokio::test]
    async fn a_nested_budget_never_extends_the_deadline() {
        within(Duration::from_millis(300), async {
            within(Duration::from_secs(60), async {
                assert!(remaining().is_some_and(|left| left <= Duration::from_millis(300)));
            })
            .await;
            within(Duration::from_millis(10), async {
                assert!(remaining().is_some_and(|left| left <= Duration::from_millis(10)));
            })
            .await;
        })
        .await;
    }

    #[tokio::test(start_paused = true)]
    async fn an_old_request_retries_sooner_than_a_new_one() {
        within(Duration::from_secs(10), async {
            let deadline = DEADLINE.with(|d| *d);
            assert!(deadline.spent() < 0.01);
            tokio::time::advance(Duration::from_secs(9)).await;
            assert!((deadline.spent() - 0.9).abs() < 0.01, "{}", deadline.spent());
            // Past the cap of attempts, a fresh request would sleep up to a second.
            for _ in 0..20 {
                let started = Instant::now();
                pause(SAFETY_ATTEMPTS, "a test").await.expect("time is left");
                let slept = started.elapsed();
                assert!(slept >= MIN_BACKOFF && slept <= Duration::from_millis(10), "{slept:?}");
            }
        })
        .await;
    }

    #[tokio::test]
    async fn pause_gives_up_when_the_deadline_is_too_close() {
        let started = Instant::now();
        let outcome = within(RETRY_MARGIN, pause(1, "a test")).await;
        assert!(matches!(outcome, Err(StoreError::Unavailable(_))));
        assert!(started.elapsed() < Duration::from_millis(20), "it gave up without sleeping");
        assert!(within(Duration::from_secs(5), pause(1, "a test")).await.is_ok());
    }

    #[tokio::test]
    async fn without_a_deadline_pause_stops_at_the_safety_cap() {
        assert!(pause(1, "a test").await.is_ok());
        assert!(matches!(pause(SAFETY_ATTEMPTS, "a test").await, Err(StoreError::Unavailable(_))));
    }

    #[tokio::test]
    async fn a_write_is_not_started_after_the_deadline_but_one_sent_is_awaited() {
        let late = within(Duration::ZERO, started("a test", async { 7 })).await;
        assert!(matches!(late, Err(StoreError::Unavailable(_))));
        let started_at = Instant::now();
        let in_flight = tokio::time::sleep(Duration::from_millis(150));
        let outcome = within(Duration::from_millis(50), started("a test", in_flight)).await;
        assert!(outcome.is_ok(), "the write sent before the deadline reported its outcome");
        assert!(started_at.elapsed() >= Duration::from_millis(150));
    }

    #[tokio::test]
    async fn reading_back_after_a_commit_has_a_budget_of_its_own() {
        let left = within(Duration::ZERO, after_commit(async { remaining() })).await;
        assert!(left.is_some_and(|left| left > Duration::from_millis(1000)), "{left:?}");
    }

    #[tokio::test]
    async fn a_call_is_cut_at_the_deadline() {
        let started = Instant::now();
        let slow = tokio::time::sleep(Duration::from_secs(5));
        let outcome = within(Duration::from_millis(100), bounded("a test", slow)).await;
        assert!(matches!(outcome, Err(StoreError::Unavailable(_))));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(bounded("a test", async { 7 }).await.ok(), Some(7));
    }
}
