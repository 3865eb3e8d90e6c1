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
pub use crate::records::{AttemptRecord, DeliveryRecord, DeliveryState, WebhookRecord};

/// How many endpoints one user may have.
pub const MAX_ENDPOINTS: u32 = 10;

/// How long a claim on a delivery stands: past the longest attempt (the sender's timeout).
pub const CLAIM_LEASE_MS: u64 = 60_000;

/// How many attempts a delivery gets: the first, and one after each wait of
/// [`RETRY_SCHEDULE_SECONDS`].
pub const MAX_ATTEMPTS: u32 = RETRY_SCHEDULE_SECONDS.len() as u32 + 1;

/// How long a delivery (and its log) is kept.
pub const KEPT_DAYS: i64 = 30;

/// The waits after each failed attempt: the next attempt comes this long after the last. Eight
/// attempts over 27 hours and a half (Standard Webhooks' suggested schedule); after the last,
/// the delivery has failed and its endpoint is marked failing.
pub const RETRY_SCHEDULE_SECONDS: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
                tries: 0,
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

    /// Takes the delivery `id` to `endpoint` for an attempt, if it is due by `due_by_ms` and
    /// nobody else holds it, as claimed at `now_ms`: the delivery as it was, or `None`. The claim
    /// counts the attempt.
    pub async fn claim_webhook_delivery(
        &self,
        endpoint: Id,
        id: &str,
        due_by_ms: u64,
        now_ms: u64,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let key = keys::webhook_delivery(endpoint, id);
        let stale_before = now_ms.saturating_sub(CLAIM_LEASE_MS);
        let write = Write::update(
            key.clone(),
            "SET hook_state = :sending, claimed_at_ms = :claimed, gsi2sk = :due, \
             tries = if_not_exists(tries, :zero) + :one",
        )
        .value(":claimed", n(now_ms))
        .value(":due", s(due_sk(now_ms + CLAIM_LEASE_MS, endpoint, id)))
        .value(":zero", n(0))
        .value(":one", n(1))
        .when(conditions::webhook_delivery_due(due_by_ms, stale_before))
        .answering_old();
        let old = match self.write(write).await? {
            Ok(Some(old)) => old,
            Ok(None) | Err(_) => return Ok(None),
        };
        match from_item(old) {
            Ok(delivery) => Ok(Some(delivery)),
            Err(e) => {
                // Claimed, but it can never be sent: settled as failed, or it would be claimed
                // again every time its lease ran out.
                tracing::error!(error = %e, delivery = id, "a webhook delivery that cannot be read is set aside");
                let failed =
                    Write::update(key, "SET hook_state = :failed, abandoned = :why REMOVE gsi2pk, gsi2sk")
                        .value(":failed", s("failed"))
                        .value(":why", s("the delivery's record cannot be read"));
                self.write(failed).await?.ok();
                Ok(None)
            }
        }
    }

    /// Records how the attempt claimed at `claimed_at_ms` went (after `interrupted`, the log of
    /// an attempt taken over from a sender that stopped), if the claim still stands, and what
    /// follows: the next attempt's time, or the end of the delivery. The endpoint is then marked
    /// failing (a last failure) or well (a success); that mark is best effort, the delivery being
    /// settled already.
    pub async fn settle_webhook_attempt(
        &self,
        delivery: &DeliveryRecord,
        claimed_at_ms: u64,
        interrupted: Option<AttemptRecord>,
        outcome: Outcome,
    ) -> Result<Settled, StoreError> {
        let (write, settled, at) = settlement(delivery, interrupted.as_ref(), outcome)?;
        if !self.write_settlement(write.when(conditions::webhook_delivery_claimed_at(claimed_at_ms))).await? {
            return Ok(Settled::NotOurs);
        }
        self.mark_endpoint(delivery, &settled, at).await;
        Ok(settled)
    }

    /// Marks the endpoint failing after a delivery's last failure, or well after a success; best
    /// effort, since the delivery is settled already.
    async fn mark_endpoint(&self, delivery: &DeliveryRecord, settled: &Settled, at: Instant) {
        let endpoint = keys::webhook(delivery.owner, delivery.endpoint_id);
        let at = s(at.to_string());
        let mark = match settled {
            Settled::GaveUp => {
                Write::update(endpoint, "SET failing_since = if_not_exists(failing_since, :at)")
                    .value(":at", at)
                    .when(conditions::not_delivered_since(":at"))
            }
            Settled::Delivered => Write::update(endpoint, "SET last_delivered_at = :at REMOVE failing_since")
                .value(":at", at)
                .when(conditions::exists()),
            _ => return,
        };
        if let Err(e) = self.write(mark).await {
            tracing::warn!(error = %e, endpoint = %delivery.endpoint_id, "an endpoint's failing mark is not updated");
        }
    }

    /// Writes an attempt's outcome: `false` when the claim was taken over meanwhile. The attempt
    /// was made, so a failure to record it is tried three times before the error is given up to
    /// the caller (the claim then goes stale, and the delivery is attempted again).
    async fn write_settlement(&self, write: Write) -> Result<bool, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.write(write.clone()).await {
                Ok(outcome) => return Ok(outcome.is_ok()),
                Err(e) if attempt == 3 => return Err(e),
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await,
            }
        }
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
                let key = super::tx::key_of(&item);
                match from_item(item) {
                    Ok(delivery) => due.push(delivery),
                    Err(e) => {
                        // Set aside, or every run would read it again until it expires.
                        tracing::error!(error = %e, "a due webhook delivery that cannot be read is set aside");
                        if let Some(key) = key {
                            let failed = Write::update(key, "SET hook_state = :failed REMOVE gsi2pk, gsi2sk")
                                .value(":failed", s("failed"));
                            self.write(failed).await?.ok();
                        }
                    }
                }
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

/// The write that records an attempt's outcome on its delivery (after `interrupted`, the log of
/// an attempt taken over from a sender that stopped), what it settles, and when.
fn settlement(
    delivery: &DeliveryRecord,
    interrupted: Option<&AttemptRecord>,
    outcome: Outcome,
) -> Result<(Write, Settled, Instant), StoreError> {
    let key = keys::webhook_delivery(delivery.endpoint_id, &delivery.id);
    let logged = |attempt: &AttemptRecord| -> Result<AttributeValue, StoreError> {
        let mut entries = Vec::new();
        for entry in interrupted.into_iter().chain(std::iter::once(attempt)) {
            entries.push(AttributeValue::M(to_item(entry)?));
        }
        Ok(AttributeValue::L(entries))
    };
    // The last attempt, logged and out of the due index.
    let last = |key, state: &str, logged| {
        Write::update(
            key,
            "SET hook_state = :state, attempts = list_append(attempts, :attempt) \
             REMOVE gsi2pk, gsi2sk, next_attempt_ms",
        )
        .value(":state", s(state))
        .value(":attempt", logged)
    };
    // This attempt's number: the claim counted it.
    let made = delivery.tries + 1;
    Ok(match outcome {
        Outcome::Delivered(attempt) => {
            (last(key, "delivered", logged(&attempt)?), Settled::Delivered, attempt.at)
        }
        Outcome::Failed(attempt) if made < MAX_ATTEMPTS => {
            let wait = RETRY_SCHEDULE_SECONDS[(made - 1) as usize];
            let next = attempt.at.unix_millis() + wait * 1000;
            let retry = Write::update(
                key,
                "SET hook_state = :pending, attempts = list_append(attempts, :attempt), \
                 next_attempt_ms = :next, gsi2sk = :due",
            )
            .value(":pending", s("pending"))
            .value(":attempt", logged(&attempt)?)
            .value(":next", n(next))
            .value(":due", s(due_sk(next, delivery.endpoint_id, &delivery.id)));
            (retry, Settled::RetryAt(next), attempt.at)
        }
        Outcome::Failed(attempt) => (last(key, "failed", logged(&attempt)?), Settled::GaveUp, attempt.at),
        Outcome::Abandoned(reason) => (
            Write::update(
                key,
                "SET hook_state = :failed, abandoned = :why REMOVE gsi2pk, gsi2sk, next_attempt_ms",
            )
            .value(":failed", s("failed"))
            .value(":why", s(reason)),
            Settled::Abandoned,
            Instant::now(),
        ),
    })
}
