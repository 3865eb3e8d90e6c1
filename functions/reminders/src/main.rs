use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::domain::Instant;

/// Time kept in hand before the invocation's deadline.
const MARGIN: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let state = shared::AppState::from_env().await;
    let store = &state.store;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        let remaining =
            event.context.deadline().duration_since(std::time::SystemTime::now()).unwrap_or_default();
        let summary = reminders::run(store, Instant::now(), remaining.saturating_sub(MARGIN)).await?;
        tracing::info!(?summary, "reminders sent");
        Ok::<_, Error>(serde_json::to_value(summary)?)
    }))
    .await
}
