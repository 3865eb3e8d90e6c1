//! The state every handler receives: storage and token keys, built once per process.

use std::sync::Arc;

use crate::auth::Tokens;
use crate::config::Config;
use crate::domain::throttle::Limits;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub tokens: Arc<Tokens>,
    /// How long one request may take (`REQUEST_DEADLINE_MS`): see [`crate::store::deadline`].
    pub request_deadline: std::time::Duration,
    /// How often one account or address may try to log in, sign up or refresh.
    pub limits: Limits,
    /// How long before an event's start its door opens (`CHECKIN_OPENS_BEFORE_SECONDS`).
    pub checkin_opens_before: std::time::Duration,
    /// Which targets webhooks may have (`WEBHOOK_TARGETS`).
    pub webhook_targets: crate::config::TargetPolicy,
}

impl AppState {
    /// Builds the state from configuration. No network traffic happens here, and the DynamoDB
    /// client itself is built when a request first needs it.
    pub async fn new(config: &Config) -> Self {
        AppState {
            store: Store::connect(config).await,
            tokens: Arc::new(Tokens::new(config)),
            request_deadline: config.request_deadline,
            limits: Limits::default(),
            checkin_opens_before: config.checkin_opens_before,
            webhook_targets: config.webhook_targets,
        }
    }

    /// Reads the environment and builds the state, or stops the process with the reason.
    pub async fn from_env() -> Self {
        Self::new(&Config::from_env_or_exit()).await
    }
}
