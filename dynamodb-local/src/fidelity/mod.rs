//! The DynamoDB fidelity layer: an HTTP proxy in front of DynamoDB Local that behaves as DynamoDB
//! documents where DynamoDB Local does not. Every API test's app talks to its table through one,
//! and each behaviour can be switched off (`Behaviours`).
//!
//! - IAM: a call made as a function (the `x-local-function` header, see `shared::store::role`)
//!   is refused with `AccessDeniedException` unless that function's policy in `template.yaml`
//!   allows it, as AWS would refuse it; the refusal is recorded and fails the test. What every
//!   call needed is recorded too, so `make test` can report grants that no call needed.
//! - Transaction conflicts
//!   (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling>):
//!   a TransactWriteItems touching an item another in-flight transaction holds is cancelled with
//!   `TransactionConflict` for that member; a PutItem, UpdateItem or DeleteItem of such an item
//!   gets `TransactionConflictException`.
//! - Service time: each call takes a few milliseconds, as on the service, so concurrent
//!   transactions overlap and conflict as they would there.
//! - DynamoDB Local's turns (when `emulator_slots` is set): a few calls reach DynamoDB Local at
//!   once and the rest wait, first come first served, holding nothing; a transaction takes its
//!   items when its turn comes, so it holds them while it runs, as a transaction in progress does
//!   on DynamoDB, and not while a loaded machine's DynamoDB Local keeps it queued.
//! - Index lag (when `index_lag` is set): a Query on an index sees a write only `index_lag` after
//!   it (see `lag`); `Fidelity::settle_indexes` ends the lag at once, for a test that needs to
//!   read an index after writing without waiting.
//! - Capacity by partition (when `metering` is set): each call's read and write units, in the
//!   table and in each index, charged to the partition key value that pays them (see
//!   `throughput`); with `throttling` (which meters too), a call to a partition that has used its second's
//!   1,000 write or 3,000 read units gets `ThrottlingException`.
//! - Secrets Manager: calls for a stand-in registered with [`Fidelity::front_secrets`] go to it,
//!   checked against the functions' policies as DynamoDB calls are (a function reads only the
//!   secrets its policy names, `!Ref <secret>`).
//! - Consistent reads on a global secondary index are refused with a `ValidationException`
//!   (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Reading>).

pub mod iam;
pub mod lag;
pub mod request;
pub mod throughput;

use std::collections::{BTreeSet, HashSet};
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use self::iam::{Need, Policies};
use self::request::{Call, ItemKey, Writes};

/// Which of DynamoDB's behaviours the proxy adds. The default: IAM from `template.yaml`,
/// conflicts, service time and no consistent reads on indexes; index lag, metering and
/// throttling are asked for where a test or benchmark needs them.
#[derive(Clone, Debug)]
pub struct Behaviours {
    /// The functions' policies to enforce; `None` lets every call through.
    pub iam: Option<Policies>,
    /// Cancel transactions (and refuse single writes) touching items an in-flight transaction holds.
    pub conflicts: bool,
    /// How long a read or a single write takes; a transaction takes twice as long (it is two
    /// phases: prepare, then commit).
    pub service_time: Duration,
    /// Refuse consistent reads on an index.
    pub eventual_indexes: bool,
    /// How long after a write an index shows it (zero: at once, as DynamoDB Local does).
    pub index_lag: Duration,
    /// Count capacity units by partition.
    pub metering: bool,
    /// Refuse calls to a partition past its per-second limits (meters, whatever `metering` says).
    pub throttling: bool,
    /// How many calls DynamoDB Local is given at once (`None`: all of them). The others wait
    /// their turn, first come first served, before the conflict rule sees them, so a transaction
    /// holds its items while it runs, as on DynamoDB, and not also while it waits in DynamoDB
    /// Local's queue on a loaded machine: that wait, many times DynamoDB's own time under a
    /// rush, would make conflicts that DynamoDB does not have. The tests leave it off, for the
    /// harsher rule; the rush benchmark uses [`EMULATOR_SLOTS`].
    pub emulator_slots: Option<usize>,
}

/// How long a call takes on the service (an assumption: DynamoDB documents single-digit
/// milliseconds); a transaction takes twice as long.
pub const SERVICE_TIME: Duration = Duration::from_millis(2);

/// The calls DynamoDB Local is given at once in the rush benchmark. Measured there (5,000
/// registrations on 1,000 seats, 200 in flight, two cores): 2 slots made 95 registrations a
/// second, 4 made 115 and 8 made 130, holding a transaction's items 17 and 31 ms; 16 made no
/// more (131 a second) but held them 53 ms, as DynamoDB Local's own queue was back inside the
/// hold, with four times the conflicts of 8.
pub const EMULATOR_SLOTS: usize = 8;

/// The index lag the tests of concurrency, the waitlist and reminders run with: DynamoDB's
/// propagation is usually well under a second.
pub const INDEX_LAG: Duration = Duration::from_millis(200);

impl Default for Behaviours {
    fn default() -> Self {
        Behaviours {
            iam: Some(Policies::from_template()),
            conflicts: true,
            service_time: SERVICE_TIME,
            eventual_indexes: true,
            index_lag: Duration::ZERO,
            metering: false,
            throttling: false,
            emulator_slots: None,
        }
    }
}

impl Behaviours {
    /// DynamoDB Local as it is: the proxy forwards and adds nothing.
    pub fn none() -> Self {
        Behaviours {
            iam: None,
            conflicts: false,
            service_time: Duration::ZERO,
            eventual_indexes: false,
            index_lag: Duration::ZERO,
            metering: false,
            throttling: false,
            emulator_slots: None,
        }
    }
}

/// A running proxy.
pub struct Fidelity {
    pub endpoint: String,
    shared: Arc<Shared>,
}

struct Shared {
    target: String,
    client: reqwest::Client,
    behaviours: Behaviours,
    held: Mutex<HashSet<ItemKey>>,
    /// DynamoDB Local's turns, when `emulator_slots` limits them (a fair semaphore: first come,
    /// first served).
    slots: Option<tokio::sync::Semaphore>,
    /// How many items in-flight transactions hold, for tests that need a transaction in flight.
    holding: tokio::sync::watch::Sender<usize>,
    denied: Mutex<Vec<String>>,
    stats: Mutex<Stats>,
    recent: lag::RecentWrites,
    meter: throughput::Meter,
    secrets: Mutex<Option<SecretsStandIn>>,
}

/// A Secrets Manager stand-in behind the proxy, and which of the template's secrets each secret
/// id stands for.
#[derive(Clone)]
struct SecretsStandIn {
    target: String,
    logical_ids: std::collections::HashMap<String, String>,
}

/// What the proxy did, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub transactions: u64,
    pub transactions_cancelled_by_conflict: u64,
    pub writes_refused_by_conflict: u64,
    /// How long the transactions that went through held their items, in all: divided by the
    /// transactions that were not cancelled, how long one shard stays taken per registration.
    pub held_for: Duration,
    pub throttled: u64,
    /// Calls to Secrets Manager, by any function.
    pub secret_calls: u64,
}

impl Fidelity {
    /// Listens on a free loopback port and forwards to `target` (`http://host:port`).
    pub async fn start(target: &str, behaviours: Behaviours) -> Fidelity {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding the fidelity proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let slots = behaviours.emulator_slots.map(|n| tokio::sync::Semaphore::new(n.max(1)));
        let shared = Arc::new(Shared {
            target: target.trim_end_matches('/').to_owned(),
            // A storage that stalls (a fault test) must not hold a handler, and the items its
            // transaction holds, for ever.
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("proxy client"),
            behaviours,
            slots,
            held: Mutex::default(),
            holding: tokio::sync::watch::Sender::new(0),
            denied: Mutex::default(),
            stats: Mutex::default(),
            recent: lag::RecentWrites::default(),
            meter: throughput::Meter::default(),
            secrets: Mutex::default(),
        });
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fidelity { endpoint, shared }
    }

    /// Sends Secrets Manager calls on to the stand-in at `target`, where the secret `id` stands for
    /// the template's secret `logical_id` (what IAM checks calls for it against).
    pub fn front_secrets(&self, target: &str, id: &str, logical_id: &str) {
        let mut secrets = lock(&self.shared.secrets);
        let stand_in = secrets.get_or_insert_with(|| SecretsStandIn {
            target: target.trim_end_matches('/').to_owned(),
            logical_ids: Default::default(),
        });
        stand_in.logical_ids.insert(id.to_owned(), logical_id.to_owned());
    }

    /// The calls refused by IAM so far, one line each.
    pub fn denied(&self) -> Vec<String> {
        lock(&self.shared.denied).clone()
    }

    /// The calls refused by IAM so far, forgotten (for a test that expects refusals).
    pub fn take_denied(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.shared.denied))
    }

    /// Waits until some transaction is in flight, holding its items.
    pub async fn until_a_transaction_holds_items(&self) {
        let mut holding = self.shared.holding.subscribe();
        holding.wait_for(|count| *count > 0).await.expect("the proxy is running");
    }

    /// Lets every write so far show in the indexes, as if the lag had passed.
    pub fn settle_indexes(&self) {
        self.shared.recent.settle();
    }

    /// Capacity units spent so far by (table or index, partition key value), when metering.
    pub fn units(&self) -> std::collections::HashMap<(String, String), throughput::Units> {
        self.shared.meter.totals()
    }

    /// Holds `partition` of the table at its write limit, as a sustained burst of other traffic
    /// would, until [`Fidelity::release`] (for a test of what a throttled partition does).
    pub fn saturate(&self, partition: &str) {
        self.shared.meter.saturate((throughput::TABLE.into(), partition.into()));
    }

    /// Ends [`Fidelity::saturate`].
    pub fn release(&self, partition: &str) {
        self.shared.meter.release(&(throughput::TABLE.into(), partition.into()));
    }

    /// Forgets the units spent so far.
    pub fn reset_units(&self) {
        self.shared.meter.reset();
    }

    pub fn stats(&self) -> Stats {
        *lock(&self.shared.stats)
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn handle(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(operation) = header("x-amz-target").and_then(|t| t.strip_prefix("secretsmanager.")) {
        return secrets_call(&shared, operation, &uri, &headers, body).await;
    }
    let Some(call) = Call::parse(header("x-amz-target"), &body) else {
        return forward(&shared, &uri, &headers, body).await;
    };
    let behaviours = &shared.behaviours;
    if let Some(refused) = iam_refusal(&shared, &headers, &call.operation, &call.needs()) {
        return refused;
    }
    if behaviours.eventual_indexes && call.consistent_read_on_index() {
        return error(
            "com.amazon.coral.validate#ValidationException",
            "Consistent reads are not supported on global secondary indexes",
            json!({}),
        );
    }
    let mut slot = match &shared.slots {
        Some(slots) => Some(slots.acquire().await.expect("the proxy's slots are never closed")),
        None => None,
    };
    let mut service_time = behaviours.service_time;
    let refusal = match call.writes() {
        Writes::Transaction(keys) => {
            service_time *= 2;
            lock(&shared.stats).transactions += 1;
            match behaviours.conflicts.then(|| Hold::take(&shared, keys)) {
                Some(Err(conflicting)) => {
                    lock(&shared.stats).transactions_cancelled_by_conflict += 1;
                    Err(cancelled_by_conflict(&conflicting))
                }
                Some(Ok(hold)) => Ok(Some(hold)),
                None => Ok(None),
            }
        }
        Writes::Single(key) if behaviours.conflicts && lock(&shared.held).contains(&key) => {
            lock(&shared.stats).writes_refused_by_conflict += 1;
            Err(error(
                "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
                "Transaction is ongoing for the item",
                json!({}),
            ))
        }
        _ => Ok(None),
    };
    if refusal.is_err() {
        // A refused call does not reach DynamoDB Local: its turn goes to the next.
        slot.take();
    }
    // A refusal takes the service's time too, so a loser does not retry faster than on AWS.
    if !service_time.is_zero() {
        tokio::time::sleep(service_time).await;
    }
    let _hold = match refusal {
        Ok(hold) => hold,
        Err(refused) => return refused,
    };
    let lag = behaviours.index_lag;
    let metering = behaviours.metering || behaviours.throttling;
    if lag.is_zero() && !metering {
        return forward(&shared, &uri, &headers, body).await;
    }
    let changes = call.changes();
    let before = current_images(&shared, &headers, &changes).await;
    if behaviours.throttling {
        let new_items = call.new_items();
        let partitions: Vec<(String, String)> = changes
            .iter()
            .zip(&before)
            .flat_map(|(key, image)| {
                let new = new_items.iter().find(|(k, _)| k == key).map(|(_, item)| item);
                written_partitions(&key.1, image.as_ref()).into_iter().chain(written_partitions(&key.1, new))
            })
            .collect();
        if shared.meter.over_limit(&partitions, true) {
            return throttled(&shared);
        }
    }
    let mut answer = send(&shared, &uri, &headers, body).await;
    if answer.status != StatusCode::OK {
        return answer.into_response();
    }
    let parsed = serde_json::from_slice::<Value>(&answer.body).ok();
    if metering {
        let transactional = call.operation == "TransactWriteItems";
        let after = current_images(&shared, &headers, &changes).await;
        let mut charges = Vec::new();
        for (old, new) in before.iter().zip(&after) {
            charges.extend(throughput::write_charges(old.as_ref(), new.as_ref(), transactional));
        }
        let reads = parsed.as_ref().map(|answer| read_charges(&call, answer)).unwrap_or_default();
        let read_partitions: Vec<(String, String)> =
            reads.iter().map(|c| (c.scope.clone(), c.partition.clone())).collect();
        if behaviours.throttling && shared.meter.over_limit(&read_partitions, false) {
            return throttled(&shared);
        }
        charges.extend(reads);
        shared.meter.charge(&charges);
    }
    for (key, image) in changes.into_iter().zip(before) {
        if !lag.is_zero() {
            shared.recent.record(key, image, lag);
        }
    }
    if let (false, Some(index), Some(table), Some(mut parsed)) =
        (lag.is_zero(), call.index(), call.body["TableName"].as_str(), parsed)
    {
        shared.recent.age_answer(table, &format!("{index}pk"), &mut parsed, lag);
        answer.body = Bytes::from(parsed.to_string());
        // The checksum DynamoDB sends covers the body as it was.
        answer.headers.remove("x-amz-crc32");
    }
    answer.into_response()
}

/// IAM's answer to a call made as a function (the `x-local-function` header) that needs
/// `needs`: `None` when its policy allows them all (or no function is named), else the
/// `AccessDeniedException` AWS would send, recorded to fail the test. Every need is recorded for
/// the unused-grant report.
fn iam_refusal(shared: &Shared, headers: &HeaderMap, operation: &str, needs: &[Need]) -> Option<Response> {
    let function = headers.get(shared::store::role::HEADER).and_then(|v| v.to_str().ok())?;
    for need in needs {
        record_use(function, need);
        if let Some(policies) = &shared.behaviours.iam
            && !policies.allows(function, need)
        {
            let line = format!("{function} may not {need} ({operation})");
            lock(&shared.denied).push(line.clone());
            return Some(error(
                "com.amazon.coral.service#AccessDeniedException",
                &format!(
                    "User is not authorized to perform: {need} because no identity-based policy allows it: {line}"
                ),
                json!({}),
            ));
        }
    }
    None
}

/// A Secrets Manager call: checked against IAM, then sent to the stand-in. A secret id no
/// template secret stands for needs a grant no policy can give, so a function reading it is
/// refused.
async fn secrets_call(
    shared: &Shared,
    operation: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    lock(&shared.stats).secret_calls += 1;
    let Some(stand_in) = lock(&shared.secrets).clone() else {
        return error("InternalServiceError", "no Secrets Manager stand-in is behind this proxy", json!({}));
    };
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|request| request["SecretId"].as_str().or(request["Name"].as_str()).map(str::to_owned))
        .unwrap_or_default();
    let logical_id =
        stand_in.logical_ids.get(&id).cloned().unwrap_or_else(|| format!("unknown secret {id:?}"));
    if let Some(refused) = iam_refusal(shared, headers, operation, &[Need::on_secret(operation, &logical_id)])
    {
        return refused;
    }
    relay(&shared.client, &stand_in.target, uri, headers, body, "InternalServiceError").await.into_response()
}

/// The partitions a write of the item with partition key `pk` (JSON) lands on, as far as
/// `image` (the item before, or as the request puts it) tells: the table's, and each index's
/// it is filed under.
fn written_partitions(pk: &str, image: Option<&Value>) -> Vec<(String, String)> {
    let mut partitions = Vec::new();
    if let Ok(Value::Object(pk)) = serde_json::from_str::<Value>(pk)
        && let Some(Value::String(pk)) = pk.get("S")
    {
        partitions.push((throughput::TABLE.to_owned(), pk.clone()));
    }
    for (name, _) in image.and_then(Value::as_object).into_iter().flatten() {
        if let Some(index) = name.strip_suffix("pk").filter(|n| n.starts_with("gsi"))
            && let Some(value) = image.and_then(|i| throughput::string_attribute(i, name))
        {
            partitions.push((index.to_owned(), value));
        }
    }
    partitions
}

/// What the items a read answered with cost, by partition.
fn read_charges(call: &Call, answer: &Value) -> Vec<throughput::Charge> {
    let consistent = call.body["ConsistentRead"] == true;
    match call.operation.as_str() {
        "GetItem" => answer
            .get("Item")
            .and_then(|item| {
                let pk = throughput::string_attribute(item, "pk")?;
                Some(vec![throughput::read_charge(throughput::TABLE, pk, &[item], consistent)])
            })
            .unwrap_or_default(),
        "Query" => {
            let items: Vec<&Value> = answer["Items"].as_array().into_iter().flatten().collect();
            let (scope, key) = match call.index() {
                Some(index) => (index.to_owned(), format!("{index}pk")),
                None => (throughput::TABLE.to_owned(), "pk".to_owned()),
            };
            match items.first().and_then(|item| throughput::string_attribute(item, &key)) {
                Some(partition) => vec![throughput::read_charge(&scope, partition, &items, consistent)],
                None => Vec::new(),
            }
        }
        "BatchGetItem" => answer["Responses"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(_, items)| items.as_array().into_iter().flatten())
            .filter_map(|item| {
                let pk = throughput::string_attribute(item, "pk")?;
                Some(throughput::read_charge(throughput::TABLE, pk, &[item], consistent))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn throttled(shared: &Shared) -> Response {
    lock(&shared.stats).throttled += 1;
    error(
        "com.amazonaws.dynamodb.v20120810#ThrottlingException",
        "Throughput exceeds the current capacity for one or more partitions of the table",
        json!({}),
    )
}

/// The items `keys` as the table holds them now, read at once (a transaction holds its items
/// meanwhile, so reading one after another would stretch its hold, and so its conflicts).
async fn current_images(shared: &Shared, headers: &HeaderMap, keys: &[ItemKey]) -> Vec<Option<Value>> {
    futures::future::join_all(keys.iter().map(|key| current_image(shared, headers, key))).await
}

/// The item `key` as the table holds it now (a consistent GetItem, sent with the caller's
/// credentials: DynamoDB Local keeps one database per access key and region).
async fn current_image(shared: &Shared, headers: &HeaderMap, key: &ItemKey) -> Option<Value> {
    let (table, pk, sk) = key;
    let request = json!({
        "TableName": table,
        "Key": {"pk": serde_json::from_str::<Value>(pk).ok()?, "sk": serde_json::from_str::<Value>(sk).ok()?},
        "ConsistentRead": true,
    });
    let mut headers = headers.clone();
    headers.insert("x-amz-target", "DynamoDB_20120810.GetItem".parse().ok()?);
    let answer = send(shared, &Uri::from_static("/"), &headers, Bytes::from(request.to_string())).await;
    let parsed: Value = serde_json::from_slice(&answer.body).ok()?;
    parsed.get("Item").cloned()
}

/// The items of an in-flight transaction, released when it answers.
struct Hold {
    shared: Arc<Shared>,
    keys: Vec<ItemKey>,
    since: std::time::Instant,
}

impl Hold {
    /// Holds `keys`, or says which of them (by member) another transaction holds.
    fn take(shared: &Arc<Shared>, keys: Vec<ItemKey>) -> Result<Hold, Vec<bool>> {
        let mut held = lock(&shared.held);
        let conflicting: Vec<bool> = keys.iter().map(|key| held.contains(key)).collect();
        if conflicting.contains(&true) {
            return Err(conflicting);
        }
        held.extend(keys.iter().cloned());
        shared.holding.send_replace(held.len());
        Ok(Hold { shared: shared.clone(), keys, since: std::time::Instant::now() })
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut held = lock(&self.shared.held);
        for key in &self.keys {
            held.remove(key);
        }
        self.shared.holding.send_replace(held.len());
        drop(held);
        lock(&self.shared.stats).held_for += self.since.elapsed();
    }
}

fn cancelled_by_conflict(conflicting: &[bool]) -> Response {
    let reasons: Vec<Value> = conflicting
        .iter()
        .map(|&conflict| {
            if conflict {
                json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"})
            } else {
                json!({"Code": "None"})
            }
        })
        .collect();
    let codes: Vec<&str> =
        conflicting.iter().map(|&c| if c { "TransactionConflict" } else { "None" }).collect();
    error(
        "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        &format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ),
        json!({"CancellationReasons": reasons}),
    )
}

/// A DynamoDB error answer (HTTP 400, JSON protocol 1.0).
fn error(kind: &str, message: &str, extra: Value) -> Response {
    let mut body = json!({"__type": kind, "message": message});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    (StatusCode::BAD_REQUEST, [("content-type", "application/x-amz-json-1.0")], body.to_string())
        .into_response()
}

/// An answer from DynamoDB Local, read whole.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (self.status, self.headers, self.body).into_response()
    }
}

async fn forward(shared: &Shared, uri: &Uri, headers: &HeaderMap, body: Bytes) -> Response {
    send(shared, uri, headers, body).await.into_response()
}

async fn send(shared: &Shared, uri: &Uri, headers: &HeaderMap, body: Bytes) -> Answer {
    relay(
        &shared.client,
        &shared.target,
        uri,
        headers,
        body,
        "com.amazonaws.dynamodb.v20120810#InternalServerError",
    )
    .await
}

/// Sends a call on to `target`; a target out of reach answers as the service does for a failure
/// on its side (`failure`, HTTP 500), which clients retry and then report as unavailable.
async fn relay(
    client: &reqwest::Client,
    target: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
    failure: &str,
) -> Answer {
    let mut request = client.post(format!("{target}{}", uri.path()));
    for (name, value) in headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection" | "transfer-encoding") {
            request = request.header(name, value);
        }
    }
    let answer = match request.body(body).send().await {
        Ok(answer) => answer,
        // Storage unreachable behind the proxy (a fault test cut it).
        Err(e) => {
            let body = json!({"__type": failure, "message": e.to_string()});
            let mut headers = HeaderMap::new();
            headers
                .insert("content-type", axum::http::HeaderValue::from_static("application/x-amz-json-1.0"));
            return Answer {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                headers,
                body: Bytes::from(body.to_string()),
            };
        }
    };
    let status = answer.status();
    let mut response_headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if !matches!(name.as_str(), "content-length" | "connection" | "transfer-encoding") {
            response_headers.insert(name.clone(), value.clone());
        }
    }
    let body = answer.bytes().await.unwrap_or_default();
    Answer { status, headers: response_headers, body }
}

/// Every (function, need) the run's calls had, for the unused-grant report. With
/// `IAM_CALLS_FILE` set, each new one is appended to that file as `function<TAB>action<TAB>resource`.
fn record_use(function: &str, need: &Need) {
    static USED: OnceLock<Mutex<BTreeSet<(String, Need)>>> = OnceLock::new();
    let fresh = lock(USED.get_or_init(Mutex::default)).insert((function.to_owned(), need.clone()));
    if fresh && let Ok(path) = std::env::var("IAM_CALLS_FILE") {
        let line = format!("{function}\t{}\t{}\n", need.action, need.resource);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        written.unwrap_or_else(|e| panic!("recording a call in {path}: {e}"));
    }
}
