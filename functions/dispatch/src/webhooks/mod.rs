//! Webhooks: what a change tells an organizer's endpoints, and the attempts to deliver it.
//!
//! 1. [`Webhooks::tell`]: a change to one of an organizer's events records one delivery per
//!    endpoint that subscribed to its type, each with an id fixed by the change (see
//!    `shared::store::webhooks`), so seeing the change again records nothing new.
//! 2. Each recorded delivery reaches the stream in turn, and its first attempt is made at once
//!    ([`Webhooks::attempt`]); a failed attempt is tried again on the schedule of
//!    `RETRY_SCHEDULE_SECONDS`, by the scheduled run ([`Webhooks::retry_due`]), for 27 hours;
//!    after the last, the delivery has failed and the endpoint is marked failing.
//!
//! An attempt is made only by whoever claims it, so two runs at once never send one message
//! twice; a receiver still gets a message again when its answer is lost, and tells by its
//! `webhook-id` (Standard Webhooks' at-least-once contract).

pub mod sender;

use futures::StreamExt;
use serde_json::{Value, json};
use shared::config::TargetPolicy;
use shared::domain::webhook::WebhookEvent;
use shared::domain::{Id, Instant};
use shared::records::{AttemptRecord, DeliveryRecord, DeliveryState};
use shared::store::webhooks::{Outcome, Settled, delivery_id};
use shared::store::{Store, StoreError};
use shared::telemetry::metrics;
use shared::webhook_signature::sign;
use std::sync::OnceLock;

use sender::{ATTEMPT_TIMEOUT, Answer, NameOverrides, Sender, Signed};

/// Attempts made at once, by a stream batch or a retry run.
const CONCURRENT_ATTEMPTS: usize = 10;
/// Due deliveries read from each shard of the due index per round of a retry run.
const DUE_PER_SHARD: i32 = 25;
/// What an attempt needs after its request: writing its outcome.
const SETTLE_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// What a change tells: its type, who hears of it (the event's organizer), when it happened, what
/// names it uniquely, and its `data`.
pub struct Message {
    pub kind: WebhookEvent,
    pub organizer: Id,
    pub occurred_ms: u64,
    pub cause: Vec<Vec<u8>>,
    pub data: Value,
}

/// What a retry run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RetryRun {
    pub attempted: usize,
    pub delivered: usize,
}

/// Webhook deliveries: recording them, and attempting them with a sender built at the first
/// attempt, so that an invocation with nothing to send (most of them) never loads the TLS roots.
pub struct Webhooks {
    policy: TargetPolicy,
    overrides: NameOverrides,
    sender: OnceLock<Sender>,
}

impl Webhooks {
    pub fn new(policy: TargetPolicy, overrides: NameOverrides) -> Self {
        Webhooks { policy, overrides, sender: OnceLock::new() }
    }

    /// The same policy, resolving the names in `overrides` to their addresses.
    pub fn with_name_overrides(self, overrides: NameOverrides) -> Self {
        Webhooks::new(self.policy, overrides)
    }

    fn sender(&self) -> &Sender {
        self.sender.get_or_init(|| Sender::new(self.policy, self.overrides.clone()))
    }

    /// Records `message` for every endpoint of its organizer that wants it.
    pub async fn tell(&self, store: &Store, message: Message) -> Result<(), StoreError> {
        let occurred_at = Instant::from_unix_millis(message.occurred_ms).unwrap_or_else(Instant::now);
        let endpoints: Vec<_> = store
            .webhooks_of(message.organizer)
            .await?
            .into_iter()
            .filter(|endpoint| endpoint.wants(message.kind))
            .collect();
        if endpoints.is_empty() {
            return Ok(());
        }
        let mut parts: Vec<&[u8]> = vec![message.kind.as_str().as_bytes()];
        parts.extend(message.cause.iter().map(Vec::as_slice));
        let id = delivery_id(message.occurred_ms, &parts);
        let payload = json!({
            "type": message.kind.as_str(),
            "timestamp": occurred_at,
            "data": message.data,
        })
        .to_string();
        store
            .record_deliveries(&endpoints, &id, message.kind, &payload, shared::store::unix_millis_now())
            .await?;
        Ok(())
    }

    /// Makes an attempt at `delivery` if it is due by `due_by_ms` and nobody else holds it, and
    /// there is time to make it before `stop_at`: whether one was made, and succeeded.
    pub async fn attempt(
        &self,
        store: &Store,
        delivery: &DeliveryRecord,
        due_by_ms: u64,
        stop_at: std::time::Instant,
    ) -> Result<Option<bool>, StoreError> {
        // Claimed only with time to finish: an attempt the invocation's timeout cuts short would
        // be made again once its claim went stale, and never logged.
        if stop_at.saturating_duration_since(std::time::Instant::now()) < ATTEMPT_TIMEOUT + SETTLE_TIME {
            return Ok(None);
        }
        // The attempt's time: the clock, or the run's time when that is later (the tests' runs
        // stand in for hours to come).
        let now_ms = due_by_ms.max(shared::store::unix_millis_now());
        let Some(claimed) =
            store.claim_webhook_delivery(delivery.endpoint_id, &delivery.id, due_by_ms, now_ms).await?
        else {
            return Ok(None);
        };
        let instant = |ms: u64| Instant::from_unix_millis(ms).unwrap_or_else(Instant::now);
        // Claimed from a sender that stopped mid-attempt: that attempt is logged, outcome unknown.
        let interrupted = (claimed.hook_state == DeliveryState::Sending).then(|| AttemptRecord {
            at: instant(claimed.claimed_at_ms.unwrap_or(now_ms)),
            status_code: None,
            error: Some("cut short (its sender stopped): whether it arrived is unknown".to_owned()),
            duration_ms: 0,
        });
        let Some(endpoint) = store.find_webhook(claimed.owner, claimed.endpoint_id).await? else {
            let outcome = Outcome::Abandoned("the webhook was deleted".to_owned());
            store.settle_webhook_attempt(&claimed, now_ms, interrupted, outcome).await?;
            return Ok(Some(false));
        };
        let started = std::time::Instant::now();
        // Receivers check the timestamp against their own clock: it is always the real time.
        let timestamp = Instant::now().unix();
        let answer = match sign(&endpoint.secret, &claimed.id, timestamp, &claimed.payload) {
            Some(signature) => {
                let signed = Signed { id: &claimed.id, timestamp, signature: &signature };
                self.sender().post(&endpoint.url, &signed, &claimed.payload).await
            }
            None => Answer::Failed("the endpoint's secret cannot sign".to_owned()),
        };
        let duration_ms = started.elapsed().as_millis() as u64;
        let at = instant(now_ms);
        let attempt = |status_code, error| AttemptRecord { at, status_code, error, duration_ms };
        let outcome = match answer {
            Answer::Status(code) if (200..300).contains(&code) => {
                Outcome::Delivered(attempt(Some(code), None))
            }
            Answer::Status(code) => {
                Outcome::Failed(attempt(Some(code), Some(format!("the endpoint answered {code}"))))
            }
            Answer::Failed(why) => Outcome::Failed(attempt(None, Some(why))),
        };
        let settled = store.settle_webhook_attempt(&claimed, now_ms, interrupted, outcome).await?;
        match settled {
            Settled::Delivered => metrics::count(metrics::WEBHOOKS_DELIVERED, 1),
            Settled::GaveUp => {
                metrics::count(metrics::WEBHOOK_ATTEMPTS_FAILED, 1);
                metrics::count(metrics::WEBHOOKS_GIVEN_UP, 1);
                tracing::warn!(delivery = %claimed.id, endpoint = %endpoint.id, "a webhook delivery failed for good; its endpoint is failing");
            }
            Settled::RetryAt(next_ms) => {
                metrics::count(metrics::WEBHOOK_ATTEMPTS_FAILED, 1);
                tracing::info!(delivery = %claimed.id, endpoint = %endpoint.id, next_ms, "a webhook attempt failed; it is tried again");
            }
            Settled::Abandoned | Settled::NotOurs => {}
        }
        Ok(Some(settled == Settled::Delivered))
    }

    /// Makes the first attempt of each of `deliveries` at once, those there is time for before
    /// `stop_at`. One not made now (no time, or storage failing) stays due, for the scheduled
    /// run: it never holds up the stream.
    pub async fn attempt_all(
        &self,
        store: &Store,
        deliveries: Vec<DeliveryRecord>,
        stop_at: std::time::Instant,
    ) {
        futures::stream::iter(deliveries)
            .for_each_concurrent(CONCURRENT_ATTEMPTS, |delivery| async move {
                let now = shared::store::unix_millis_now();
                if let Err(e) = self.attempt(store, &delivery, now, stop_at).await {
                    tracing::warn!(error = %e, delivery = %delivery.id, "a webhook attempt is left to the scheduled run");
                }
            })
            .await;
    }

    /// Attempts every delivery due by `due_by_ms`, until none is left or `budget` is spent. A
    /// delivery that fails for want of storage is logged and left due; the run goes on.
    pub async fn retry_due(
        &self,
        store: &Store,
        due_by_ms: u64,
        budget: std::time::Duration,
    ) -> Result<RetryRun, StoreError> {
        let stop_at = std::time::Instant::now() + budget;
        let mut run = RetryRun::default();
        loop {
            let due = store.due_webhook_deliveries(due_by_ms, DUE_PER_SHARD).await?;
            let outcomes: Vec<Result<Option<bool>, StoreError>> = futures::stream::iter(due)
                .map(|delivery| async move { self.attempt(store, &delivery, due_by_ms, stop_at).await })
                .buffer_unordered(CONCURRENT_ATTEMPTS)
                .collect()
                .await;
            let mut made = 0;
            for outcome in outcomes {
                match outcome {
                    Ok(Some(delivered)) => {
                        made += 1;
                        run.delivered += usize::from(delivered);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "a webhook attempt is left to the next run"),
                }
            }
            run.attempted += made;
            // Nothing claimed: what was read is held by another run, already moved on (the index
            // lags the table), or there is no time left for it.
            if made == 0 {
                return Ok(run);
            }
        }
    }
}
