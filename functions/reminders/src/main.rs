use std::time::{Duration, SystemTime};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::domain::Instant;

/// Time kept in hand before the invocation's deadline.
const MARGIN: Duration = Duration::from_secs(5);
/// The budget when the invocation's deadline is unknown.
const FALLBACK_BUDGET: Duration = Duration::from_secs(60);

/// How long this run may send reminders: up to a margin before the deadline, or half the time
/// when little is left. A deadline under a second away means none was given (local emulators
/// send the time of the call), and the usual budget applies.
fn budget(deadline: SystemTime, now: SystemTime) -> Duration {
    match deadline.duration_since(now) {
        Ok(remaining) if remaining > MARGIN * 2 => remaining - MARGIN,
        Ok(remaining) if remaining >= Duration::from_secs(1) => remaining / 2,
        _ => FALLBACK_BUDGET,
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = shared::AppState::from_env().await;
    let store = &state.store;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        let budget = budget(event.context.deadline(), SystemTime::now());
        let summary = reminders::run(store, Instant::now(), budget).await?;
        tracing::info!(?summary, budget_ms = budget.as_millis() as u64, "reminders sent");
        reminders::emit_metrics(&summary);
        Ok::<_, Error>(serde_json::to_value(summary)?)
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_keeps_a_margin_and_survives_a_missing_deadline() {
        let now = SystemTime::now();
        assert_eq!(budget(now + Duration::from_secs(300), now), Duration::from_secs(295));
        assert_eq!(budget(now + Duration::from_secs(4), now), Duration::from_secs(2));
        assert_eq!(budget(now, now), FALLBACK_BUDGET);
        assert_eq!(budget(now - Duration::from_secs(3), now), FALLBACK_BUDGET);
    }
}
