//! The only code that knows DynamoDB: keys, items, conditions, transactions and cursors. Handlers
//! call one method per request; each method is (ideally) one round trip.
//!
//! Items, keys, transactions and conditions are the store's own: public only with the
//! `internals` feature, which the test harness and the benchmarks enable and no function does.

mod aws;
mod batch;
pub mod changes;
#[cfg(feature = "internals")]
pub mod conditions;
#[cfg(not(feature = "internals"))]
pub(crate) mod conditions;
pub(crate) mod cursor;
pub mod deadline;
mod deletion;
mod directory;
pub(crate) mod error;
pub mod event_deletion;
pub mod event_edits;
pub mod events;
pub mod feedback;
pub(crate) mod feeds;
pub(crate) mod hints;
pub(crate) mod idempotency;
#[cfg(feature = "internals")]
pub mod items;
#[cfg(not(feature = "internals"))]
pub(crate) mod items;
#[cfg(feature = "internals")]
pub mod keys;
#[cfg(not(feature = "internals"))]
pub(crate) mod keys;
pub(crate) mod notifications;
pub mod outbox;
pub mod page;
mod query;
mod registering;
pub mod registrations;
pub mod reminders;
pub mod role;
pub mod seats;
pub mod secrets;
pub(crate) mod series;
pub mod ses;
pub mod sessions;
pub(crate) mod stats;
pub mod table;
pub mod team;
pub mod throttle;
pub mod tickets;
mod trust;
#[cfg(feature = "internals")]
pub mod tx;
#[cfg(not(feature = "internals"))]
pub(crate) mod tx;
pub mod upcoming;
pub(crate) mod usage;
pub mod users;
pub mod webhooks;

use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{Credentials, Region, retry::RetryConfig, timeout::TimeoutConfig};

pub use deletion::{INDEX_SETTLE_SECONDS, INLINE_CLEANUP_BUDGET, PendingCleanup};
pub use error::StoreError;

use crate::config::Config;

/// The current time in Unix milliseconds: when a change was made, which the ids of the notices
/// it sends derive from.
pub fn unix_millis_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}

/// The DynamoDB client, built when a request first needs it. Building it sets up the HTTPS
/// connector and the SDK's runtime, which is most of what a function would otherwise do at Init:
/// a request that never reaches DynamoDB (a 400, a 401, the category list) never pays for it,
/// and every later one shares the one client.
struct LazyClient {
    config: aws_sdk_dynamodb::Config,
    client: OnceLock<Client>,
}

/// The DynamoDB client and the table name. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    client: std::sync::Arc<LazyClient>,
    pub(crate) table: String,
    pub(crate) hints: std::sync::Arc<hints::EventHints>,
    pub(crate) directory: std::sync::Arc<directory::DirectoryCache>,
    pub(crate) read_budget: upcoming::ReadBudget,
}

impl Store {
    /// Builds the client. On AWS the credentials and region come from the Lambda environment; with
    /// `DYNAMODB_ENDPOINT` set, fixed dummy credentials and region are used so that the SDK never
    /// looks for credentials on the network (no instance-metadata probe).
    ///
    /// Retries: the SDK's standard mode, 3 attempts with exponential backoff, for throttling and
    /// transient errors. Timeouts: 1 s to connect, the configured budget per attempt and in total,
    /// so that a dead endpoint answers 503 promptly instead of hanging a request.
    pub async fn connect(config: &Config) -> Self {
        Self::open(config.table_name.clone(), config.dynamodb_endpoint.as_deref(), config.dynamodb_timeout)
            .await
    }

    /// [`Store::connect`] from the storage settings alone (for the operator command).
    pub async fn open(table: String, endpoint: Option<&str>, timeout: Duration) -> Self {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(1))
            .operation_attempt_timeout(timeout)
            .operation_timeout(timeout)
            .build();
        let retry = RetryConfig::standard().with_max_attempts(3);
        // The SDK's own endpoint overrides apply where DYNAMODB_ENDPOINT is not set.
        let sdk_override = ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"]
            .iter()
            .find_map(|name| std::env::var(name).ok());
        let http = trust::http_client(endpoint.or(sdk_override.as_deref()))
            .expect("a TLS context of compiled-in certificates builds");
        let sdk_config = match endpoint {
            Some(endpoint) => aws_sdk_dynamodb::Config::builder()
                .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                .http_client(http)
                .region(Region::from_static("us-east-1"))
                .credentials_provider(Credentials::new("local", "local", None, None, "static"))
                .endpoint_url(endpoint)
                .timeout_config(timeouts)
                .retry_config(retry)
                .interceptor(usage::UsageInterceptor)
                .interceptor(role::RoleHeader)
                .build(),
            None => {
                let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .http_client(http)
                    .load()
                    .await;
                aws_sdk_dynamodb::config::Builder::from(&shared)
                    .timeout_config(timeouts)
                    .retry_config(retry)
                    .interceptor(usage::UsageInterceptor)
                    .build()
            }
        };
        Self::with_client(LazyClient { config: sdk_config, client: OnceLock::new() }, table)
    }

    /// A store over a client configured elsewhere.
    #[cfg(test)]
    pub(crate) fn over(client: Client, table: String) -> Self {
        let config = client.config().clone();
        Self::with_client(LazyClient { config, client: OnceLock::from(client) }, table)
    }

    fn with_client(client: LazyClient, table: String) -> Self {
        Store {
            client: std::sync::Arc::new(client),
            table,
            hints: Default::default(),
            directory: Default::default(),
            read_budget: upcoming::ReadBudget::default(),
        }
    }

    /// The same store with another read budget for upcoming-event pages.
    pub fn with_read_budget(mut self, budget: upcoming::ReadBudget) -> Self {
        self.read_budget = budget;
        self
    }

    /// The client, built on first use (see [`LazyClient`]); public only to the tests and
    /// benchmarks (the `internals` feature), which call DynamoDB directly.
    #[cfg(feature = "internals")]
    pub fn client(&self) -> &Client {
        self.lazy_client()
    }

    #[cfg(not(feature = "internals"))]
    pub(crate) fn client(&self) -> &Client {
        self.lazy_client()
    }

    fn lazy_client(&self) -> &Client {
        self.client.client.get_or_init(|| Client::from_conf(self.client.config.clone()))
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// Every item under gsi1 partition `USER#<user>` whose sort key starts with `prefix`: what a
    /// user organises, is registered for, or has written.
    pub(crate) async fn owned_by(
        &self,
        user: crate::domain::Id,
        prefix: &str,
    ) -> Result<Vec<tx::Item>, StoreError> {
        query::all(self.partition(Some(keys::GSI1), keys::user_pk(user), Some(prefix))).await
    }

    /// Creates the table, with its stream, if it does not exist.
    pub async fn ensure_table(&self) -> Result<(), StoreError> {
        table::create_table(self.client(), &self.table, table::Stream::On).await
    }

    /// Creates the table, with or without its stream, if it does not exist (see
    /// [`table::Stream::Off`]).
    pub async fn ensure_table_with(&self, stream: table::Stream) -> Result<(), StoreError> {
        table::create_table(self.client(), &self.table, stream).await
    }
}
