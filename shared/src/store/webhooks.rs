//! Webhooks: an organizer's endpoints, and the deliveries made to them.
//!
//! - An endpoint lives in its owner's partition (`USER#<owner>` / `WEBHOOK#<id>`), so that a
//!   change to one of their events finds every endpoint with one Query and deleting the account
//!   takes them. A count item beside them (`WEBHOOKS`) caps how many one user has, under a
//!   condition in the same transaction as the create.
//! - A delivery lives in its endpoint's partition (`WEBHOOK#<endpoint>` / `DELIVERY#<id>`), its
//!   id a ULID fixed by what caused it ([`delivery_id`]): ordered by time, so the log reads newest
//!   first, and created with a condition, so a cause seen twice records (and sends) one delivery.
//! - While a delivery is due, it sits in gsi2 under `HOOKS_DUE#<shard>` sorted by when it is due,
//!   where the scheduled retry run finds it; a delivery leaves the index once it is settled.
//!
//! Sending is claimed like an email's ([`super::outbox`]): an attempt is made only by the
//! sender whose conditional update took the delivery from `pending` (and due) to `sending`; a
//! claim whose sender stopped goes stale after [`CLAIM_LEASE`] and the delivery is due again.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::Store;
use super::conditions;
use super::error::StoreError;
use super::items::{IndexKeys, Stored};
use super::keys;
use super::page::{Page, PageRequest};
use super::query;
use super::tx::{Item, Write, from_item, n, s, to_item};
use crate::domain::webhook::WebhookEvent;
use crate::domain::{Id, Instant};

/// How many endpoints one user may have.
pub const MAX_ENDPOINTS: u32 = 10;

/// How long a claim on a delivery stands: past the longest attempt (the sender's timeout).
pub const CLAIM_LEASE_MS: u64 = 60_000;

/// How long a delivery (and its log) is kept.
pub const KEPT_DAYS: i64 = 30;

/// The waits after each failed attempt: the next attempt comes this long after the last. Eight
/// attempts over 27 hours and a half (Standard Webhooks' suggested schedule); after the last,
/// the delivery has failed and its endpoint is marked failing.
pub const RETRY_SCHEDULE_SECONDS: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// One organizer's endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WebhookRecord {
    pub id: Id,
    pub owner: Id,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    /// `whsec_` and the base64 of 32 random bytes: the HMAC key of every signature.
    pub secret: String,
    pub created_at: Instant,
    /// Since when every attempt of a delivery has failed, up to its last; cleared by the next
    /// delivery that succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Instant>,
}

impl WebhookRecord {
    /// Whether the endpoint subscribed to `kind`. It hears of every change dispatched after it
    /// was made (a change made just before may be among them: the stream's record times are
    /// too coarse to tell, rounded down to the second on AWS and to the minute locally).
    pub fn wants(&self, kind: WebhookEvent) -> bool {
        self.events.contains(&kind)
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its next attempt (`next_attempt_ms`).
    Pending,
    /// An attempt is under way.
    Sending,
    Delivered,
    /// Every attempt failed, or the endpoint is gone.
    Failed,
}

/// One attempt, as the log shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRecord {
    pub at: Instant,
    /// The endpoint's HTTP status, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// One message to one endpoint, with its attempts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// `msg_<ulid>`: the `webhook-id` every attempt carries.
    pub id: String,
    pub endpoint_id: Id,
    pub owner: Id,
    pub event_type: WebhookEvent,
    /// The body, exactly as signed and sent.
    pub payload: String,
    pub created_at: Instant,
    pub hook_state: DeliveryState,
    #[serde(default)]
    pub attempts: Vec<AttemptRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_at_ms: Option<u64>,
    pub expires_at: i64,
}

/// The id of the message that tells of a cause (`parts`, which name it uniquely) that happened at
/// `occurred_ms`: the same for every endpoint, and every time the cause is seen.
pub fn delivery_id(occurred_ms: u64, parts: &[&[u8]]) -> String {
    format!("msg_{}", Id::derived(occurred_ms, parts))
}

/// What an attempt came to.
#[derive(Debug)]
pub enum Outcome {
    Delivered(AttemptRecord),
    /// Failed; tried again at `next_ms` unless it was the last attempt.
    Failed(AttemptRecord),
    /// The endpoint is gone: nothing more is tried.
    Abandoned(String),
}

/// What settling an attempt did.
#[derive(Debug, PartialEq, Eq)]
pub enum Settled {
    Delivered,
    RetryAt(u64),
    /// The last attempt failed: the delivery failed, and its endpoint is now failing.
    GaveUp,
    Abandoned,
    /// The claim was taken over meanwhile; the other sender settles it.
    NotOurs,
}

fn due_sk(due_ms: u64, endpoint: Id, id: &str) -> String {
    format!("{due_ms:013}#{endpoint}#{id}")
}

fn endpoint_item(record: &WebhookRecord) -> Result<Item, StoreError> {
    let key = keys::webhook(record.owner, record.id);
    to_item(&Stored { pk: &key.pk, sk: &key.sk, kind: "webhook", index: &IndexKeys::default(), record })
}

impl Store {
    /// Creates `record` unless its owner has [`MAX_ENDPOINTS`] already (`Ok(false)`).
    pub async fn create_webhook(
        &self,
        record: &WebhookRecord,
        remember: Option<super::idempotency::Remember>,
    ) -> Result<bool, StoreError> {
        let count = Write::update(
            keys::webhook_count(record.owner),
            "SET endpoints = if_not_exists(endpoints, :zero) + :one",
        )
        .value(":zero", n(0))
        .value(":one", n(1))
        .when(conditions::below_endpoint_limit(MAX_ENDPOINTS));
        let writes = vec![count, Write::put(endpoint_item(record)?).when(conditions::absent())];
        match self.transact_remembering(writes, remember).await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.condition_failed(0) => Ok(false),
            Err(cancelled) => {
                Err(StoreError::Internal(format!("webhook creation cancelled: {:?}", cancelled.reasons)))
            }
        }
    }

    /// `owner`'s endpoints, oldest first, read consistently (a delivery never misses one just
    /// created, nor goes to one just deleted).
    pub async fn webhooks_of(&self, owner: Id) -> Result<Vec<WebhookRecord>, StoreError> {
        let query =
            self.partition(None, keys::user_pk(owner), Some(keys::WEBHOOK_PREFIX)).consistent_read(true);
        query::all(query).await?.into_iter().map(from_item).collect()
    }

    pub async fn find_webhook(&self, owner: Id, id: Id) -> Result<Option<WebhookRecord>, StoreError> {
        self.get_record(keys::webhook(owner, id)).await
    }

    /// Deletes an endpoint; `false` when `owner` has no such endpoint. Its deliveries still due
    /// are abandoned when their time comes, and its log expires with them.
    pub async fn delete_webhook(&self, owner: Id, id: Id) -> Result<bool, StoreError> {
        let writes = vec![
            Write::delete(keys::webhook(owner, id)).when(conditions::exists()),
            Write::update(keys::webhook_count(owner), "SET endpoints = endpoints - :one")
                .value(":one", n(1))
                .when(conditions::exists()),
        ];
        match self.transact(writes).await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.condition_failed(0) => Ok(false),
            Err(cancelled) => {
                Err(StoreError::Internal(format!("webhook deletion cancelled: {:?}", cancelled.reasons)))
            }
        }
    }

    /// Records a delivery of `payload` to each of `endpoints`, due at once, unless it is
    /// recorded already (the same cause seen again). Answers how many were new.
    pub async fn record_deliveries(
        &self,
        endpoints: &[WebhookRecord],
        id: &str,
        kind: WebhookEvent,
        payload: &str,
        now_ms: u64,
    ) -> Result<usize, StoreError> {
        let now = Instant::now();
        let mut recorded = 0;
        for endpoint in endpoints {
            let key = keys::webhook_delivery(endpoint.id, id);
            let record = DeliveryRecord {
                id: id.to_owned(),
                endpoint_id: endpoint.id,
                owner: endpoint.owner,
                event_type: kind,
                payload: payload.to_owned(),
                created_at: now,
                hook_state: DeliveryState::Pending,
                attempts: Vec::new(),
                next_attempt_ms: Some(now_ms),
                claimed_at_ms: None,
                expires_at: now.plus_seconds(KEPT_DAYS * 86_400).unix(),
            };
            let index = IndexKeys {
                gsi2pk: Some(keys::webhooks_due(endpoint.id)),
                gsi2sk: Some(due_sk(now_ms, endpoint.id, id)),
                ..IndexKeys::default()
            };
            let item = to_item(&Stored {
                pk: &key.pk,
                sk: &key.sk,
                kind: "webhook_delivery",
                index: &index,
                record: &record,
            })?;
            if self.write(Write::put(item).when(conditions::absent())).await?.is_ok() {
                recorded += 1;
            }
        }
        Ok(recorded)
    }

    /// Takes the delivery `id` to `endpoint` for an attempt at `now_ms`, if it is due and nobody
    /// else holds it: the delivery as it was, or `None`.
    pub async fn claim_webhook_delivery(
        &self,
        endpoint: Id,
        id: &str,
        now_ms: u64,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let stale_before = now_ms.saturating_sub(CLAIM_LEASE_MS);
        let write = Write::update(
            keys::webhook_delivery(endpoint, id),
            "SET hook_state = :sending, claimed_at_ms = :now, gsi2sk = :due",
        )
        .value(":now", n(now_ms))
        .value(":due", s(due_sk(now_ms + CLAIM_LEASE_MS, endpoint, id)))
        .when(conditions::webhook_delivery_due(now_ms, stale_before))
        .answering_old();
        match self.write(write).await? {
            Ok(Some(old)) => Ok(Some(from_item(old)?)),
            Ok(None) | Err(_) => Ok(None),
        }
    }

    /// Records how the attempt claimed at `claimed_at_ms` went, if the claim still stands, and
    /// what follows: the next attempt's time, or the end of the delivery (and for a last failure,
    /// the endpoint marked failing; for a success, marked well again).
    pub async fn settle_webhook_attempt(
        &self,
        delivery: &DeliveryRecord,
        claimed_at_ms: u64,
        outcome: Outcome,
        endpoint_failing: bool,
    ) -> Result<Settled, StoreError> {
        let key = keys::webhook_delivery(delivery.endpoint_id, &delivery.id);
        let claimed = conditions::webhook_delivery_claimed_at(claimed_at_ms);
        let attempted = |attempt: &AttemptRecord| -> Result<AttributeValue, StoreError> {
            let item = to_item(attempt)?;
            Ok(AttributeValue::L(vec![AttributeValue::M(item)]))
        };
        let (write, settled) = match outcome {
            Outcome::Delivered(attempt) => (
                Write::update(
                    key,
                    "SET hook_state = :delivered, attempts = list_append(attempts, :attempt) \
                     REMOVE gsi2pk, gsi2sk, next_attempt_ms",
                )
                .value(":delivered", s("delivered"))
                .value(":attempt", attempted(&attempt)?),
                Settled::Delivered,
            ),
            Outcome::Failed(attempt) => {
                let made = delivery.attempts.len() + 1;
                match RETRY_SCHEDULE_SECONDS.get(made - 1) {
                    Some(wait) => {
                        let next = attempt_ms(attempt.at) + wait * 1000;
                        (
                            Write::update(
                                key,
                                "SET hook_state = :pending, attempts = list_append(attempts, :attempt), \
                                 next_attempt_ms = :next, gsi2sk = :due",
                            )
                            .value(":pending", s("pending"))
                            .value(":attempt", attempted(&attempt)?)
                            .value(":next", n(next))
                            .value(":due", s(due_sk(next, delivery.endpoint_id, &delivery.id))),
                            Settled::RetryAt(next),
                        )
                    }
                    None => (
                        Write::update(
                            key,
                            "SET hook_state = :failed, attempts = list_append(attempts, :attempt) \
                             REMOVE gsi2pk, gsi2sk, next_attempt_ms",
                        )
                        .value(":failed", s("failed"))
                        .value(":attempt", attempted(&attempt)?),
                        Settled::GaveUp,
                    ),
                }
            }
            Outcome::Abandoned(reason) => (
                Write::update(
                    key,
                    "SET hook_state = :failed, abandoned = :why REMOVE gsi2pk, gsi2sk, next_attempt_ms",
                )
                .value(":failed", s("failed"))
                .value(":why", s(reason)),
                Settled::Abandoned,
            ),
        };
        if self.write(write.when(claimed)).await?.is_err() {
            return Ok(Settled::NotOurs);
        }
        let endpoint = keys::webhook(delivery.owner, delivery.endpoint_id);
        match settled {
            Settled::GaveUp => {
                let mark = Write::update(endpoint, "SET failing_since = if_not_exists(failing_since, :now)")
                    .value(":now", s(Instant::now().to_string()))
                    .when(conditions::exists());
                self.write(mark).await?.ok();
            }
            Settled::Delivered if endpoint_failing => {
                let well = Write::update(endpoint, "REMOVE failing_since").when(conditions::exists());
                self.write(well).await?.ok();
            }
            _ => {}
        }
        Ok(settled)
    }

    /// Deliveries due by `now_ms` (at most `limit` from each shard of the due index), soonest
    /// first within a shard. The index lags the table a little; a claim checks the table.
    pub async fn due_webhook_deliveries(
        &self,
        now_ms: u64,
        limit: i32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut due = Vec::new();
        for shard in keys::webhooks_due_shards() {
            let out = self
                .client()
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI2)
                .key_condition_expression("gsi2pk = :pk AND gsi2sk <= :upto")
                .expression_attribute_values(":pk", s(shard))
                .expression_attribute_values(":upto", s(format!("{now_ms:013}#~")))
                .limit(limit)
                .send()
                .await
                .map_err(super::error::classify)?;
            for item in out.items.unwrap_or_default() {
                due.push(from_item(item)?);
            }
        }
        Ok(due)
    }

    /// An endpoint's deliveries, newest first.
    pub async fn webhook_deliveries(
        &self,
        endpoint: Id,
        page: &PageRequest,
    ) -> Result<Page<DeliveryRecord>, StoreError> {
        let newest_first = self
            .partition(None, keys::webhook_deliveries_pk(endpoint), Some(keys::WEBHOOK_DELIVERY_PREFIX))
            .scan_index_forward(false)
            .consistent_read(true);
        query::page(newest_first, page).await
    }
}

/// An attempt's time in Unix milliseconds.
fn attempt_ms(at: Instant) -> u64 {
    u64::try_from(at.unix()).unwrap_or(0) * 1000
}
