//! Tables, users, events and the API served in-process, as the test harness makes them.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use shared::domain::{Capacity, Category, EventDraft, Id, Instant, Location, Timezone, Title};
use shared::records::EventRecord;
use shared::store::Store;
use shared::{AppState, Config};

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;

/// The secret the bench's apps and functions sign with (at least 32 bytes).
pub const SECRET: &str = "bench-secret-bench-secret-bench-secret!!";

/// How long a storage call of the API may take, retries included. Generous: the machine is shared
/// with DynamoDB Local and the load itself, and a 503 would only hide a figure.
pub const TIMEOUT_MS: u64 = 10_000;

pub fn config(table: &str, endpoint: &str) -> Config {
    config_from(&settings(table, endpoint))
}

/// The settings [`config`] reads, for a section that adds some.
pub fn settings(table: &str, endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TABLE_NAME", table.to_owned()),
        ("DYNAMODB_ENDPOINT", endpoint.to_owned()),
        ("JWT_SECRET", SECRET.to_owned()),
        ("DYNAMODB_TIMEOUT_MS", TIMEOUT_MS.to_string()),
    ]
}

pub fn config_from(settings: &[(&'static str, String)]) -> Config {
    Config::from_lookup(|name| settings.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
        .expect("the bench configuration is valid")
}

/// A new table, created through `endpoint`; returns its name and a store for set-up work. It has
/// no stream: only the email section reads one (see [`fresh_table_with`]), and DynamoDB Local
/// slows down with one (see `table::Stream::Off`).
pub async fn fresh_table(endpoint: &str, purpose: &str) -> Result<(String, Store)> {
    fresh_table_with(endpoint, purpose, shared::store::table::Stream::Off).await
}

/// [`fresh_table`], with or without its stream.
pub async fn fresh_table_with(
    endpoint: &str,
    purpose: &str,
    stream: shared::store::table::Stream,
) -> Result<(String, Store)> {
    let table = format!("bench-{purpose}-{}", ulid::Ulid::new().to_string().to_lowercase());
    let store = Store::open(table.clone(), Some(endpoint), Duration::from_secs(60)).await;
    store.ensure_table_with(stream).await?;
    Ok((table, store))
}

/// A plain SDK client for `endpoint`, with the store's timeouts and retries but nothing else (no
/// interceptor): the client the storage floor is measured with.
pub fn bare_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{
        BehaviorVersion, Credentials, Region, retry::RetryConfig, timeout::TimeoutConfig,
    };
    let timeout = Duration::from_millis(TIMEOUT_MS);
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::from_static("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "static"))
        .endpoint_url(endpoint)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Users written straight to the store (no password hashing), with access tokens: the crowds the
/// tests make too.
pub use dynamodb_local::crowd::{User, users};

/// What an event is made of.
pub struct EventSpec<'a> {
    pub title: &'a str,
    pub location: &'a str,
    pub category: Option<&'a str>,
    pub starts_at: Instant,
    pub capacity: u32,
}

/// An event record as `POST /events` would store it.
pub fn event(organizer: &User, spec: &EventSpec<'_>, now: Instant) -> Result<EventRecord> {
    let draft = EventDraft {
        title: Title::parse(spec.title)?,
        description: None,
        starts_at: spec.starts_at,
        ends_at: None,
        timezone: Timezone::default(),
        location: Location::parse(spec.location)?,
        capacity: Capacity::new(i64::from(spec.capacity))?,
        category: spec.category.map(Category::parse).transpose()?,
        waitlist_enabled: true,
        visibility: Default::default(),
    };
    Ok(EventRecord::new(Id::new(), (organizer.id, &organizer.username), None, &draft, now))
}

/// The whole API (`local::app`) served on a free loopback port.
pub struct Served {
    pub address: SocketAddr,
    pub state: AppState,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    /// Serves a fresh state for `table`, reaching DynamoDB at `endpoint`, as the local server does.
    pub async fn start(table: &str, endpoint: &str) -> Result<Served> {
        Self::start_with(&config(table, endpoint), local::admission::LOCAL_SERVER).await
    }

    /// Serves a fresh state built from `config`, working on requests as `admission` says.
    pub async fn start_with(config: &Config, admission: local::Admission) -> Result<Served> {
        let state = AppState::new(config).await;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let server = tokio::spawn(local::serve(listener, state.clone(), admission, std::future::pending()));
        Ok(Served { address, state, server })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// An HTTP client for the served API: keep-alive, no proxies, a bound on every request.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(128)
        .build()
        .expect("http client")
}
