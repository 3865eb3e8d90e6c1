//! Cold starts of the release binaries under a fake Runtime API: exec → first poll of
//! `/invocation/next` (what AWS reports as Init Duration) and exec → first response, plus the peak
//! RSS (`VmHWM`) of each run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};
use shared::AppState;
use shared::domain::Instant as Moment;

use crate::fixtures::{self, EventSpec, Result, User};
use crate::report::{Report, heading};
use crate::runtime_api::{FakeRuntimeApi, Seen};
use crate::stats::{Bound, Summary, mib, ratio};

/// The yardstick for init: axum under lambda_http, nothing else.
pub const HELLO: &str = "hello";
/// The yardstick for exec → first response of `GET /events/{id}`.
pub const GETITEM: &str = "getitem";
/// The scheduled function: invoked with an EventBridge event, not an HTTP request.
const REMINDERS: &str = "reminders";
/// The stream's consumer, invoked here as its schedule invokes it (the webhook retries).
const DISPATCH: &str = "dispatch";
/// Every binary the section starts: the functions behind the HTTP API, the scheduled ones, then
/// the yardsticks.
pub const BINARIES: &[&str] =
    &["users", "events", "upcoming", "register", REMINDERS, DISPATCH, HELLO, GETITEM];

/// Everything a run needs to build its invocation.
struct World {
    event_id: String,
    organizer: User,
    /// A fresh user per `register` run, so every cold registration is a new one.
    registrants: Vec<User>,
}

/// One API Gateway HTTP API (payload version 2.0) request.
struct Request {
    method: &'static str,
    route_key: &'static str,
    path: String,
    path_parameters: Option<Value>,
    token: Option<String>,
}

impl Request {
    fn payload(&self) -> Bytes {
        let now = chrono::Utc::now();
        let request_id = ulid::Ulid::new().to_string();
        let mut headers = json!({
            "accept": "application/json",
            "accept-encoding": "gzip, deflate, br",
            "host": "abc123defg.execute-api.us-east-1.amazonaws.com",
            "user-agent": "bench/1.0",
            "x-amzn-trace-id": format!("Root=1-{:08x}-{}", now.timestamp(), &request_id[..24]),
            "x-forwarded-for": "203.0.113.7",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        });
        if let Some(token) = &self.token {
            headers["authorization"] = json!(format!("Bearer {token}"));
        }
        let mut event = json!({
            "version": "2.0",
            "routeKey": self.route_key,
            "rawPath": self.path,
            "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abc123defg",
                "domainName": "abc123defg.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "abc123defg",
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "203.0.113.7",
                    "userAgent": "bench/1.0"
                },
                "requestId": request_id,
                "routeKey": self.route_key,
                "stage": "$default",
                "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
                "timeEpoch": now.timestamp_millis()
            },
            "isBase64Encoded": false
        });
        if let Some(parameters) = &self.path_parameters {
            event["pathParameters"] = parameters.clone();
        }
        Bytes::from(serde_json::to_vec(&event).expect("payload"))
    }
}

/// What EventBridge sends the reminders function on each tick of its schedule.
fn scheduled_event() -> Bytes {
    let event = json!({
        "version": "0",
        "id": ulid::Ulid::new().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/events-api-reminders"],
        "detail": {}
    });
    Bytes::from(serde_json::to_vec(&event).expect("payload"))
}

/// The first invocation each binary gets: a realistic one of its own.
fn invocation(binary: &str, world: &World, run: usize) -> Bytes {
    match binary {
        REMINDERS | DISPATCH => scheduled_event(),
        _ => request(binary, world, run).payload(),
    }
}

/// The HTTP request an API function gets first.
fn request(binary: &str, world: &World, run: usize) -> Request {
    let event = &world.event_id;
    match binary {
        "users" => Request {
            method: "GET",
            route_key: "GET /users/me",
            path: "/users/me".into(),
            path_parameters: None,
            token: Some(world.organizer.token.clone()),
        },
        "upcoming" => Request {
            method: "GET",
            route_key: "GET /events/upcoming",
            path: "/events/upcoming".into(),
            path_parameters: None,
            token: None,
        },
        "register" => Request {
            method: "POST",
            route_key: "POST /events/{id}/registrations",
            path: format!("/events/{event}/registrations"),
            path_parameters: Some(json!({ "id": event })),
            token: Some(world.registrants[run % world.registrants.len()].token.clone()),
        },
        // `events`, `hello` and `getitem` answer the same request.
        _ => Request {
            method: "GET",
            route_key: "GET /events/{id}",
            path: format!("/events/{event}"),
            path_parameters: Some(json!({ "id": event })),
            token: None,
        },
    }
}

/// The users function is told where its signing key is, as on AWS, at an address where nothing
/// answers: its Init and a token check never read the secret (only issuing a token does), so
/// they must not wait on it.
fn signing_key_settings(binary: &str) -> Vec<(&'static str, &'static str)> {
    match binary {
        "users" => vec![
            ("ACCESS_TOKEN_SIGNING_KEY_SECRET", "events-api/access-token-signing-key"),
            ("SECRETS_MANAGER_ENDPOINT", "http://127.0.0.1:9"),
        ],
        _ => Vec::new(),
    }
}

fn describe(binary: &str) -> &'static str {
    match binary {
        "users" => "GET /users/me (token check + GetItem of the user)",
        "events" => {
            "GET /events/{id} (Query of the event's partition + BatchGetItem of its other seat shards)"
        }
        "upcoming" => "GET /events/upcoming (Query of the month directory + gsi2 Query)",
        "register" => {
            "POST /events/{id}/registrations, a new user each run (GetItem of the event + TransactWriteItems)"
        }
        REMINDERS => {
            "a scheduled event (Query of the next 24 hours in the time index, reminders for the events due, the deferred clean-ups)"
        }
        DISPATCH => "a scheduled event (the webhook retries: one Query of each of gsi2's four due shards)",
        GETITEM => "GET /events/{id}: aws-config loaded, one GetItem, under lambda_runtime::run (no router)",
        _ => "GET /events/{id} answered from memory (axum Router, one route, under lambda_http::run)",
    }
}

/// One measured cold start.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    pub init: Duration,
    pub first_response: Duration,
    /// The HTTP status answered, or `None` for a function that answers no HTTP request.
    pub status: Option<u16>,
    pub peak_rss_kib: Option<u64>,
}

/// Figures per binary, for the summary and the size section.
pub struct Figures {
    pub binary: String,
    pub init: Option<Summary>,
    pub first_response: Option<Summary>,
    pub peak_rss_kib: Vec<u64>,
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Runner<'a> {
    dir: &'a Path,
    logs: PathBuf,
    endpoint: &'a str,
    table: &'a str,
}

impl Runner<'_> {
    async fn run(&self, binary: &str, payload: Bytes) -> Result<Run> {
        let path = self.dir.join(binary);
        let mut fake = FakeRuntimeApi::start(binary, payload).await?;
        let log_path = self.logs.join(format!("{binary}.log"));
        let log = std::fs::File::create(&log_path)?;
        let mut command = tokio::process::Command::new(&path);
        command
            .env_clear()
            .envs([
                ("AWS_LAMBDA_RUNTIME_API", fake.runtime_api().as_str()),
                ("AWS_LAMBDA_FUNCTION_NAME", binary),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
                ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
                ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]0123456789abcdef"),
                ("AWS_LAMBDA_LOG_GROUP_NAME", &format!("/aws/lambda/{binary}")),
                ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_DEFAULT_REGION", "us-east-1"),
                ("_HANDLER", "bootstrap"),
                ("LAMBDA_TASK_ROOT", &self.dir.to_string_lossy()),
                ("TZ", ":UTC"),
                ("LANG", "C.UTF-8"),
                ("PATH", "/usr/local/bin:/usr/bin:/bin"),
                ("TABLE_NAME", self.table),
                ("DYNAMODB_ENDPOINT", self.endpoint),
                ("JWT_SECRET", fixtures::SECRET),
            ])
            .envs(signing_key_settings(binary))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn().map_err(|e| format!("starting {}: {e}", path.display()))?;
        let pid = child.id().unwrap_or_default();
        let deadline = tokio::time::Instant::from_std(started + Duration::from_secs(15));
        let mut init = None;
        let outcome: Result<Run> = loop {
            tokio::select! {
                event = fake.seen.recv() => match event {
                    Some(Seen::Polled(at)) => { init.get_or_insert(at - started); }
                    Some(Seen::Responded(at, body)) => {
                        let peak_rss_kib = peak_rss_kib(pid);
                        let status = serde_json::from_slice::<Value>(&body)
                            .ok()
                            .and_then(|v| v["statusCode"].as_u64())
                            .map(|code| code as u16);
                        break Ok(Run {
                            init: init.unwrap_or_default(),
                            first_response: at - started,
                            status,
                            peak_rss_kib,
                        });
                    }
                    Some(Seen::InvocationError(body) | Seen::InitError(body)) => {
                        break Err(format!("{binary} reported an error: {}", String::from_utf8_lossy(&body)).into());
                    }
                    None => break Err("the fake Runtime API stopped".into()),
                },
                status = child.wait() => {
                    break Err(format!("{binary} exited before answering ({status:?}); see {}", log_path.display()).into());
                }
                _ = tokio::time::sleep_until(deadline) => {
                    break Err(format!("{binary} did not answer within 15 s; see {}", log_path.display()).into());
                }
            }
        };
        let _ = child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        fake.stop().await;
        outcome
    }
}

/// Runs every binary `runs` times, round-robin after one discarded warm-up round, against a table
/// on DynamoDB Local at `endpoint`.
pub async fn bench(dir: &Path, endpoint: &str, runs: usize, report: &mut Report) -> Result<Vec<Figures>> {
    let binaries = BINARIES;
    heading(
        "Cold start",
        &format!(
            "Each release binary in {} started {runs} times (after one discarded warm-up round), round-robin,\n\
             under a fake Lambda Runtime API on 127.0.0.1, reaching DynamoDB Local at {endpoint}.\n\
             init = exec → first GET /invocation/next (AWS: Init Duration); first response = exec → POST /response.\n\
             Peak RSS = VmHWM of the process right after its first response.",
            dir.display()
        ),
    );
    for binary in binaries {
        if !dir.join(binary).exists() {
            return Err(format!(
                "{} is missing: build with `cargo build --release -p users -p events -p upcoming -p register -p reminders -p dispatch` and `cargo build --release -p bench --bins`",
                dir.join(binary).display()
            )
            .into());
        }
    }

    let (table, store) = fixtures::fresh_table(endpoint, "cold").await?;
    let state = AppState::new(&fixtures::config(&table, endpoint)).await;
    let organizer = fixtures::users(&state, "organizer", 1).await?.remove(0);
    let registrants = fixtures::users(&state, "coldreg", runs + 1).await?;
    let now = Moment::now();
    let mut events = Vec::new();
    for day in 1..=40 {
        let spec = EventSpec {
            title: "Rust Lisbon meetup",
            location: "Lisbon",
            category: Some("meetup"),
            starts_at: now.plus_seconds(day * 86_400),
            capacity: 1000,
        };
        events.push(fixtures::event(&organizer, &spec, now)?);
    }
    store.import_events(&events).await?;
    let world = World { event_id: events[0].id.to_string(), organizer, registrants };

    let logs = std::env::temp_dir().join(format!("bench-cold-{}", std::process::id()));
    std::fs::create_dir_all(&logs)?;
    let runner = Runner { dir, logs: logs.clone(), endpoint, table: &table };
    let mut results: Vec<Vec<Run>> = vec![Vec::new(); binaries.len()];
    let mut failures: Vec<Vec<String>> = vec![Vec::new(); binaries.len()];
    for binary in binaries {
        // Warm-up: page cache and DynamoDB Local's first touches; not counted.
        let _ = runner.run(binary, invocation(binary, &world, runs)).await;
    }
    for round in Bound::new(runs, 600).iter() {
        for (i, binary) in binaries.iter().enumerate() {
            match runner.run(binary, invocation(binary, &world, round)).await {
                Ok(run) => results[i].push(run),
                Err(e) => failures[i].push(e.to_string()),
            }
        }
    }

    let mut figures = Vec::new();
    for (i, binary) in binaries.iter().enumerate() {
        let runs = &results[i];
        let init = Summary::of(&runs.iter().map(|r| r.init).collect::<Vec<_>>());
        let first = Summary::of(&runs.iter().map(|r| r.first_response).collect::<Vec<_>>());
        let handled = Summary::of(&runs.iter().map(|r| r.first_response - r.init).collect::<Vec<_>>());
        let mut statuses = std::collections::BTreeMap::<Option<u16>, usize>::new();
        for run in runs {
            *statuses.entry(run.status).or_default() += 1;
        }
        let mut rss: Vec<u64> = runs.iter().filter_map(|r| r.peak_rss_kib).collect();
        rss.sort_unstable();
        println!("\n  {binary}: {}", describe(binary));
        if let Some(s) = init {
            println!("    init (exec → first poll)        {}", s.line());
        }
        if let Some(s) = first {
            println!("    exec → first response           {}", s.line());
        }
        if let Some(s) = handled {
            println!("    first invocation (poll → resp.) {}", s.line());
        }
        let statuses: Vec<String> = statuses
            .iter()
            .map(|(status, n)| match status {
                Some(status) => format!("{status}×{n}"),
                None => format!("no HTTP status (a scheduled run's summary)×{n}"),
            })
            .collect();
        println!("    HTTP status of the first response: {}", statuses.join(", "));
        if !rss.is_empty() {
            println!(
                "    peak RSS (VmHWM): median {}  max {}",
                mib(rss[rss.len() / 2] * 1024),
                mib(rss[rss.len() - 1] * 1024)
            );
        }
        for failure in failures[i].iter().take(3) {
            println!("    FAILED RUN: {failure}");
        }
        if failures[i].len() > 3 {
            println!("    ... {} failed runs in all", failures[i].len());
        }
        figures.push(Figures { binary: binary.to_string(), init, first_response: first, peak_rss_kib: rss });
    }

    let hello = figures.iter().find(|f| f.binary == HELLO).and_then(|f| f.init.zip(f.first_response));
    let getitem = figures.iter().find(|f| f.binary == GETITEM).and_then(|f| f.first_response);
    println!("\n  Ratios of p50s:");
    println!(
        "    {:<10} {:>14} {:>30} {:>30}",
        "binary", "init / hello", "first response / hello", "first response / getitem"
    );
    for f in figures.iter().filter(|f| f.binary != HELLO) {
        let (Some(init), Some(first), Some((hello_init, hello_first))) = (f.init, f.first_response, hello)
        else {
            continue;
        };
        let init_ratio = ratio(init.p50, hello_init.p50);
        let first_ratio = ratio(first.p50, hello_first.p50);
        let getitem_ratio = getitem.map_or("n/a".to_owned(), |g| ratio(first.p50, g.p50));
        println!("    {:<10} {:>14} {:>30} {:>30}", f.binary, init_ratio, first_ratio, getitem_ratio);
        report.add(
            "cold start",
            f.binary.clone(),
            format!(
                "init {} = {init_ratio} hello; first response {} = {first_ratio} hello, {getitem_ratio} getitem",
                init.median_and_tail(),
                first.median_and_tail()
            ),
        );
    }
    if let Some(f) = figures.iter().find(|f| f.binary == HELLO)
        && let (Some(init), Some(first)) = (f.init, f.first_response)
    {
        report.add(
            "cold start",
            HELLO,
            format!("init {}; first response {}", init.median_and_tail(), first.median_and_tail()),
        );
    }
    if failures.iter().all(Vec::is_empty) {
        let _ = std::fs::remove_dir_all(&logs);
    }
    Ok(figures)
}
