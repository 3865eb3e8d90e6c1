//! The test harness: one DynamoDB Local per test run, and per test a fresh table with the whole
//! API served on its own port (the pattern of zero2prod's `spawn_app`), so tests never depend on
//! each other or on their order.

pub mod dynamodb_local;
pub mod invariants;
pub mod proxy;
pub mod receiver;
pub mod secrets_manager_local;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use shared::domain::throttle::Limits;
use shared::store::table::Stream;
use shared::{AppState, Config};

pub use ::dynamodb_local::fidelity;
use fidelity::{Behaviours, Fidelity};

/// The secret every test app signs with.
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret!";
/// The password every test user signs up with.
pub const PASSWORD: &str = "correct-horse-battery";

/// One running API with its own table, reached through a fidelity proxy.
pub struct TestApp {
    pub address: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    pub table: String,
    pub fidelity: Fidelity,
    /// The Secrets Manager secret the app reads its access-token signing key from.
    pub secret_id: String,
    /// With [`AppOptions::dispatch`]: the app's own SES stand-in, and what reads its table's
    /// stream into the dispatch function's handler (see [`TestApp::dispatch`]).
    pub mail: Option<Mail>,
}

/// The dispatch side of an app: its SES stand-in, the handler, and its stream reader.
pub struct Mail {
    pub ses: ::dynamodb_local::SesLocal,
    /// The fault proxy between the dispatch function and SES: cut it to make SES unreachable.
    pub ses_gate: proxy::Proxy,
    pub dispatcher: std::sync::Arc<dispatch::Dispatcher>,
    reader: tokio::sync::Mutex<local::stream::StreamReader>,
}

/// A call that IAM would have refused on AWS fails the test that made it, whatever the test
/// asserted about the answer.
impl Drop for TestApp {
    fn drop(&mut self) {
        let denied = self.fidelity.denied();
        if !denied.is_empty() && !std::thread::panicking() {
            panic!("calls the functions' policies in template.yaml do not allow:\n{}", denied.join("\n"));
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json response with this status, and returns its body.
    #[track_caller]
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "expected {status}, got {}: {}", self.status, self.text);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.text);
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"].as_str().is_some_and(|t| t.starts_with("https://") && t.contains("/problems/"))
        );
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        &self.body
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "expected {status}, got {}: {}", self.status, self.text);
        &self.body
    }
}

/// A signed-up user with a fresh access token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub username: String,
    pub token: String,
    pub refresh_token: String,
}

/// Settings for an app; tests change the endpoint or timeout for fault injection.
pub struct AppOptions {
    pub endpoint: String,
    pub timeout_ms: u64,
    pub access_ttl_seconds: u64,
    pub read_budget: Option<shared::store::upcoming::ReadBudget>,
    /// What the proxy in front of `endpoint` models of DynamoDB (all of it by default).
    pub fidelity: Behaviours,
    /// Login, sign-up and refresh limits (the production ones by default).
    pub limits: Limits,
    /// Put the development signing key in the app's secret before it starts (else the secret
    /// does not exist until the test makes it).
    pub signing_key_in_secret: bool,
    /// `SIGNING_KEY_REREAD_SECONDS`: how long a key read from the secret is used (the production
    /// default unless a test changes it).
    pub signing_key_reread_seconds: Option<u64>,
    /// Further settings, over the harness's own (a setting given here wins).
    pub settings: Vec<(&'static str, String)>,
    /// Run the dispatch function on the table's stream, sending email to an SES stand-in of the
    /// app's own (see [`TestApp::dispatch`]).
    pub dispatch: bool,
    /// Names the dispatch function's webhook sender resolves to these addresses instead of
    /// through DNS.
    pub webhook_names: dispatch::webhooks::sender::NameOverrides,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            endpoint: dynamodb_local::endpoint(),
            timeout_ms: 5000,
            access_ttl_seconds: 900,
            read_budget: None,
            fidelity: Behaviours::default(),
            limits: Limits::default(),
            signing_key_in_secret: true,
            signing_key_reread_seconds: None,
            settings: Vec::new(),
            dispatch: false,
            webhook_names: Default::default(),
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

/// An app whose indexes lag the table as DynamoDB's do (see `fidelity::lag`): for the tests of
/// concurrency, the waitlist and reminders, whose correctness must not rest on an index being
/// up to date.
pub async fn spawn_app_with_index_lag() -> TestApp {
    spawn_app_with(AppOptions::with_index_lag()).await
}

impl AppOptions {
    /// The defaults, with indexes lagging by [`fidelity::INDEX_LAG`].
    pub fn with_index_lag() -> AppOptions {
        AppOptions {
            fidelity: Behaviours { index_lag: fidelity::INDEX_LAG, ..Behaviours::default() },
            ..AppOptions::default()
        }
    }
}

/// Creates the secret `id` holding `value` in the stand-in, straight (as the template does on AWS).
async fn create_secret(id: &str, value: &str) {
    let secrets = shared::store::secrets::Secrets::new(
        Some(secrets_manager_local::endpoint()),
        Duration::from_secs(30),
    );
    secrets.create_unless_present(id, value).await.expect("creating the signing-key secret");
}

/// The logical id of the signing key's secret in `template.yaml`, whose grants IAM checks.
pub const SIGNING_KEY_SECRET: &str = "AccessTokenSigningKeySecret";

/// Builds the state for a fresh table at `options.endpoint` (creating the table through the
/// real endpoint) and serves the whole API on a free port. The app reads its signing key from a
/// secret of its own in the Secrets Manager stand-in, through the fidelity proxy (so IAM checks
/// those calls too), as the users function does on AWS.
pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    // Logs show with a failing test's output, and only then.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .try_init();
    let table = format!("test-{}", ulid::Ulid::new());
    let fidelity = Fidelity::start(&options.endpoint, options.fidelity).await;
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("binding a port");
    let address = listener.local_addr().expect("local address");
    let ses = match options.dispatch {
        true => {
            let ses = ::dynamodb_local::SesLocal::start().unwrap_or_else(|e| panic!("{e}"));
            let gate = proxy::Proxy::start(&ses.endpoint).await;
            Some((ses, gate))
        }
        false => None,
    };
    let secret_id = format!("{table}/access-token-signing-key");
    let secrets_endpoint = secrets_manager_local::endpoint();
    fidelity.front_secrets(&secrets_endpoint, &secret_id, SIGNING_KEY_SECRET);
    let mut settings = vec![
        ("TABLE_NAME", table.clone()),
        ("DYNAMODB_ENDPOINT", fidelity.endpoint.clone()),
        ("SECRETS_MANAGER_ENDPOINT", fidelity.endpoint.clone()),
        ("ACCESS_TOKEN_SIGNING_KEY_SECRET", secret_id.clone()),
        ("JWT_SECRET", TEST_SECRET.to_owned()),
        ("DYNAMODB_TIMEOUT_MS", options.timeout_ms.to_string()),
        ("ACCESS_TOKEN_TTL_SECONDS", options.access_ttl_seconds.to_string()),
        // The tests' webhook receivers listen on 127.0.0.1 (a test of the AWS policy sets
        // `public`).
        ("WEBHOOK_TARGETS", "any".to_owned()),
    ];
    if let Some(seconds) = options.signing_key_reread_seconds {
        settings.push(("SIGNING_KEY_REREAD_SECONDS", seconds.to_string()));
    }
    if let Some((_, gate)) = &ses {
        settings.push(("EMAIL_FROM", "events@example.com".to_owned()));
        settings.push(("PUBLIC_API_URL", format!("http://{address}")));
        settings.push(("SES_ENDPOINT", gate.endpoint.clone()));
    }
    settings.extend(options.settings);
    let config =
        Config::from_lookup(|name| settings.iter().rev().find(|(k, _)| *k == name).map(|(_, v)| v.clone()))
            .expect("test configuration is valid");
    if options.signing_key_in_secret {
        create_secret(&secret_id, &shared::config::local_signing_key(&config).expose()).await;
    }
    let direct =
        shared::store::Store::open(table.clone(), Some(&dynamodb_local::endpoint()), Duration::from_secs(30))
            .await;
    // Only an app that reads its stream has one (see `table::Stream::Off`).
    let stream = if options.dispatch { Stream::On } else { Stream::Off };
    direct.ensure_table_with(stream).await.expect("creating the test table");
    let mut state = AppState::new(&config).await;
    state.limits = options.limits;
    if let Some(budget) = options.read_budget {
        state.store = state.store.with_read_budget(budget);
    }
    tokio::spawn(local::serve(listener, state.clone(), local::Admission::Unbounded, std::future::pending()));
    let mail = match ses {
        Some((ses, ses_gate)) => Some(Mail {
            ses,
            ses_gate,
            dispatcher: std::sync::Arc::new(
                dispatch::Dispatcher::new(&config).await.with_name_overrides(options.webhook_names),
            ),
            reader: tokio::sync::Mutex::new(local::stream::StreamReader::new(
                &dynamodb_local::endpoint(),
                &table,
            )),
        }),
        None => None,
    };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("http client");
    TestApp { address, state, client, table, fidelity, secret_id, mail }
}

impl TestApp {
    fn mail(&self) -> &Mail {
        self.mail.as_ref().expect("the app was spawned with `dispatch: true`")
    }

    /// Runs the dispatch function on everything the table's stream holds now, as the event
    /// source mapping would, until nothing is left to hand on (failed records retried, within
    /// `limit`; `Err` if some still fail then).
    pub async fn dispatch_within(&self, limit: Duration) -> Result<(), String> {
        let mail = self.mail();
        mail.reader.lock().await.drain(&mail.dispatcher, limit).await.map(drop)
    }

    /// [`TestApp::dispatch_within`] 30 s, which must succeed.
    pub async fn dispatch(&self) {
        self.dispatch_within(Duration::from_secs(30)).await.expect("the stream is dispatched");
    }

    /// Hands every record the table's stream holds to the dispatch function again, from the
    /// start, as a stream redelivers after a failure: nothing done already may be done twice.
    pub async fn replay_stream(&self) {
        let mut reader = local::stream::StreamReader::new(&dynamodb_local::endpoint(), &self.table);
        reader.drain(&self.mail().dispatcher, Duration::from_secs(30)).await.expect("the stream is replayed");
    }

    /// Runs the dispatch function's scheduled webhook retries as if the time were `now_ms`: every
    /// attempt due by then is made (the schedule's hours pass without waiting for them).
    pub async fn retry_webhooks_at(&self, now_ms: u64) -> dispatch::webhooks::RetryRun {
        local::retry_webhooks(&self.mail().dispatcher, now_ms, Duration::from_secs(30))
            .await
            .expect("the webhook retries run")
    }

    /// The emails the app's SES stand-in got for `address`.
    pub async fn emails_to(&self, address: &str) -> Vec<Value> {
        let emails = self.mail().ses.emails().await;
        emails
            .into_iter()
            .filter(|email| {
                email["destination"]["to"].as_array().is_some_and(|to| to.iter().any(|a| a == address))
            })
            .collect()
    }

    /// Creates the app's signing-key secret holding `value` (for an app started without it).
    pub async fn set_signing_key_secret_created(&self, value: &str) {
        create_secret(&self.secret_id, value).await;
    }

    /// Puts `value` in the app's signing-key secret as its new current version, or deletes the
    /// secret (`None`), straight at the stand-in as an operator would.
    pub async fn set_signing_key_secret(&self, value: Option<&str>) {
        let (target, body) = match value {
            Some(value) => ("PutSecretValue", json!({"SecretId": self.secret_id, "SecretString": value})),
            None => ("DeleteSecret", json!({"SecretId": self.secret_id, "ForceDeleteWithoutRecovery": true})),
        };
        let answer = self
            .client
            .post(secrets_manager_local::endpoint())
            .header("x-amz-target", format!("secretsmanager.{target}"))
            .header("content-type", "application/x-amz-json-1.1")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .await
            .expect("the Secrets Manager stand-in answers");
        assert!(answer.status().is_success(), "{target}: {}", answer.text().await.unwrap_or_default());
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: impl Into<String>,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(&path.into()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.expect("request sent")).await
    }

    /// POSTs `body` from the loopback address `from` (any of 127.0.0.0/8), as a client at another
    /// address would: the server counts per-address limits by the connection's peer.
    pub async fn post_from(&self, from: Ipv4Addr, path: &str, body: Value) -> Reply {
        read(client_at(from).post(self.url(path)).json(&body).send().await.expect("request sent")).await
    }

    /// [`TestApp::post_from`] with `Idempotency-Key: key`.
    pub async fn post_with_key_from(&self, from: Ipv4Addr, path: &str, key: &str, body: Value) -> Reply {
        let request = client_at(from).post(self.url(path)).header("Idempotency-Key", key).json(&body);
        read(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: impl Into<String>, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: impl Into<String>, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: impl Into<String>, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: impl Into<String>, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: impl Into<String>, token: Option<&str>) -> Reply {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Signs up `username` and logs in.
    pub async fn user(&self, username: &str) -> TestUser {
        let email = format!("{}@example.com", username.to_lowercase());
        let created = self
            .post("/users", None, json!({"username": username, "email": email, "password": PASSWORD}))
            .await;
        let id = created.ok(201)["id"].as_str().expect("user id").to_owned();
        let tokens = self.log_in(username, PASSWORD).await;
        let body = tokens.ok(200);
        TestUser {
            id,
            username: username.to_owned(),
            token: body["access_token"].as_str().expect("access token").to_owned(),
            refresh_token: body["refresh_token"].as_str().expect("refresh token").to_owned(),
        }
    }

    /// Signs up `username`, makes them an admin (as the operator command does) and logs in.
    pub async fn admin(&self, username: &str) -> TestUser {
        let user = self.user(username).await;
        let store = &self.state.store;
        let record = store.find_user_by_username(username).await.unwrap().unwrap();
        assert!(store.set_role(record.id, shared::domain::Role::Admin).await.unwrap());
        user
    }

    pub async fn log_in(&self, username: &str, password: &str) -> Reply {
        self.post("/auth/token", None, json!({"username": username, "password": password})).await
    }

    /// Creates an event from `body` merged over sensible defaults, returning its JSON.
    pub async fn event(&self, organizer: &TestUser, overrides: Value) -> Value {
        let reply = self.post("/events", Some(&organizer.token), event_body(overrides)).await;
        reply.ok(201).clone()
    }
}

/// A valid event body one week ahead, with `overrides` applied.
pub fn event_body(overrides: Value) -> Value {
    let starts = chrono::Utc::now() + chrono::Duration::days(7);
    let mut body = json!({
        "title": "Rust Lisbon meetup",
        "description": "Talks and pastéis de nata",
        "starts_at": starts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "location": "Lisbon",
        "capacity": 10,
        "category": "meetup",
    });
    if let (Some(base), Some(extra)) = (body.as_object_mut(), overrides.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    body
}

/// An RFC 3339 instant `days` from now.
pub fn days_from_now(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, body, text }
}

/// A client whose connections come from the loopback address `from`.
fn client_at(from: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::V4(from))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

/// A request the caller builds itself (odd methods, raw bodies, headers).
pub fn raw(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client.request(method, app.url(path))
}

impl TestApp {
    /// `count` users written straight to the store, with tokens, skipping password hashing: for
    /// tests that need crowds.
    pub async fn crowd(&self, prefix: &str, count: usize) -> Vec<TestUser> {
        let users =
            ::dynamodb_local::crowd::users(&self.state, prefix, count).await.expect("writing a crowd");
        users
            .into_iter()
            .map(|user| TestUser {
                id: user.id.to_string(),
                username: user.username,
                token: user.token,
                refresh_token: String::new(),
            })
            .collect()
    }
}

impl TestApp {
    /// Moves an event's start (and its time-index key) to `starts_at`, as the passing of time
    /// would, without the API's rule that starts lie in the future.
    pub async fn move_start(&self, event_id: &str, starts_at: &str) {
        use aws_sdk_dynamodb::types::AttributeValue::S;
        use shared::store::keys;
        let id = shared::domain::Id::parse(event_id).expect("an event id");
        let values = [
            (":at", S(starts_at.into())),
            (":sk", S(format!("{starts_at}#{event_id}"))),
            (":bucket", S(keys::time_bucket(&starts_at[..7], keys::time_shard(id)))),
        ];
        let at = [(":at", S(starts_at.into()))];
        self.update_event(event_id, "SET starts_at = :at, gsi2sk = :sk, gsi2pk = :bucket", values).await;
        let event = self.state.store.find_event(id).await.expect("reading the event").expect("the event");
        for shard in 0..event.seat_shards {
            self.update_item(keys::seat_shard(id, shard), "SET starts_at = :at", at.clone()).await;
        }
    }

    /// Changes a stored event directly, past every rule of the API: for states that only time or
    /// an interruption would otherwise produce.
    pub async fn update_event<const N: usize>(
        &self,
        event_id: &str,
        expression: &str,
        values: [(&str, aws_sdk_dynamodb::types::AttributeValue); N],
    ) {
        let id = shared::domain::Id::parse(event_id).expect("an event id");
        self.update_item(shared::store::keys::event(id), expression, values).await;
    }

    /// Changes the stored record of a refresh token directly (as time would).
    pub async fn update_refresh_token<const N: usize>(
        &self,
        token: &str,
        expression: &str,
        values: [(&str, aws_sdk_dynamodb::types::AttributeValue); N],
    ) {
        let parsed = shared::auth::RefreshToken::parse(token).expect("a refresh token");
        self.update_item(
            shared::store::keys::refresh_token(parsed.user_id, parsed.token_id),
            expression,
            values,
        )
        .await;
    }

    /// Changes the answer remembered for an idempotency key directly (as time would).
    pub async fn update_remembered_answer<const N: usize>(
        &self,
        scope: &str,
        idempotency_key: &str,
        expression: &str,
        values: [(&str, aws_sdk_dynamodb::types::AttributeValue); N],
    ) {
        self.update_item(shared::store::keys::remembered_answer(scope, idempotency_key), expression, values)
            .await;
    }

    /// Sends `body` to `path` with `Idempotency-Key: key`, as `token`'s user.
    pub async fn post_with_key(&self, path: &str, token: Option<&str>, key: &str, body: Value) -> Reply {
        let mut request = raw(self, Method::POST, path).header("Idempotency-Key", key).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        read(request.send().await.expect("request sent")).await
    }

    /// The stored attributes of a refresh token, if it is stored.
    pub async fn refresh_token_item(
        &self,
        token: &str,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let parsed = shared::auth::RefreshToken::parse(token).expect("a refresh token");
        self.item(shared::store::keys::refresh_token(parsed.user_id, parsed.token_id)).await
    }

    /// The stored attributes of the item under `key`, if there is one (a strongly consistent read).
    pub async fn item(
        &self,
        key: shared::store::keys::Key,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let out = self
            .state
            .store
            .client()
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.pk))
            .key("sk", AttributeValue::S(key.sk))
            .consistent_read(true)
            .send()
            .await
            .expect("reading a stored item");
        out.item
    }

    /// Changes one stored item directly (creating it when it is not there).
    pub async fn update_item<const N: usize>(
        &self,
        key: shared::store::keys::Key,
        expression: &str,
        values: [(&str, aws_sdk_dynamodb::types::AttributeValue); N],
    ) {
        use aws_sdk_dynamodb::types::AttributeValue;
        let mut update = self
            .state
            .store
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.pk))
            .key("sk", AttributeValue::S(key.sk))
            .update_expression(expression);
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        update.send().await.expect("updating a stored item");
    }

    /// The caller's notifications, newest first (first page of 100).
    pub async fn notifications(&self, user: &TestUser) -> Vec<Value> {
        let reply = self.get("/users/me/notifications?limit=100", Some(&user.token)).await;
        reply.ok(200)["results"].as_array().expect("results").clone()
    }
}
