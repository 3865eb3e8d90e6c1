//! Exactly one delivery per cause, however often the cause is seen: a stream record delivered
//! twice, a retried batch, or two dispatchers at once. Each delivery (an email) has an id fixed by
//! what caused it, and a record of it is written with a condition before anything is sent:
//!
//! 1. [`Store::claim_delivery`] writes the record as `sending` unless one is there: the one
//!    writer that succeeds sends; a record already `sent` means it was, and one being sent by
//!    someone else is left to them (the caller retries later, in case they stop).
//! 2. [`Store::delivered`] marks it `sent`; [`Store::give_back`] removes the claim when it surely
//!    was not sent, so a retry sends it; [`Store::undeliverable`] marks it `failed` when it never
//!    can be (SES refused it), so nothing waits on it.
//!
//! A claim whose outcome is unknown (the sender stopped, or SES did not answer in time, or the
//! mark could not be written) goes stale after [`CLAIM_LEASE`], and the delivery is sent again:
//! a second send, which SES (having no idempotency key) cannot rule out, but only where SES may
//! not have taken the first. Records expire with the table's TTL after
//! [`KEPT_DAYS`], far past the stream's 24 hours of retention, so no redelivered record can find
//! its record gone.

use std::time::Duration;

use super::Store;
use super::conditions;
use super::error::StoreError;
use super::keys;
use super::tx::{Write, key_item, n, s};
use crate::domain::Instant;

/// How long a claim stands before another sender may take it over: well past the time one send
/// takes (the dispatch function's timeout is 30 s).
pub const CLAIM_LEASE: Duration = Duration::from_secs(60);

/// How long a delivery's record is kept.
pub const KEPT_DAYS: i64 = 30;

/// What a claim found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// This sender holds the delivery, claimed at this time (milliseconds): send it.
    Ours(u64),
    /// It was sent already, or given up as undeliverable.
    Settled,
    /// Another sender is sending it now.
    InFlight,
}

impl Store {
    /// Claims the delivery `id` at `now_ms` (see the module's doc).
    pub async fn claim_delivery(&self, id: &str, now_ms: u64) -> Result<Claim, StoreError> {
        let key = keys::delivery(id);
        let mut item = key_item(&key);
        item.insert("type".into(), s("delivery"));
        item.insert("delivery_state".into(), s("sending"));
        item.insert("claimed_at_ms".into(), n(now_ms));
        let expires = Instant::now().plus_seconds(KEPT_DAYS * 86_400).unix();
        item.insert(super::table::TTL_ATTRIBUTE.into(), n(expires));
        let stale_before = now_ms.saturating_sub(CLAIM_LEASE.as_millis() as u64);
        let write =
            Write::put(item).when(conditions::delivery_unclaimed(stale_before)).return_old_on_failure();
        match self.write(write).await? {
            Ok(_) => Ok(Claim::Ours(now_ms)),
            Err(failed) => {
                let state =
                    failed.old.as_ref().and_then(|old| old.get("delivery_state")).and_then(|v| v.as_s().ok());
                let settled = state.is_some_and(|state| state == "sent" || state == "failed");
                Ok(if settled { Claim::Settled } else { Claim::InFlight })
            }
        }
    }

    /// Records the delivery `id` as sent (SES's `message_id`), if this sender's claim still stands.
    pub async fn delivered(&self, id: &str, claimed_at_ms: u64, message_id: &str) -> Result<(), StoreError> {
        let write = Write::update(keys::delivery(id), "SET delivery_state = :sent, message_id = :message")
            .value(":sent", s("sent"))
            .value(":message", s(message_id))
            .when(conditions::delivery_claimed_at(claimed_at_ms));
        // A claim taken over meanwhile (this sender was slower than the lease) is the other
        // sender's to finish; the email went out either way.
        let _ = self.write(write).await?;
        Ok(())
    }

    /// Records the delivery `id` as one that cannot be made (`reason`), if this sender's claim
    /// still stands: nothing retries it.
    pub async fn undeliverable(&self, id: &str, claimed_at_ms: u64, reason: &str) -> Result<(), StoreError> {
        let write = Write::update(keys::delivery(id), "SET delivery_state = :failed, failure = :reason")
            .value(":failed", s("failed"))
            .value(":reason", s(reason.chars().take(500).collect::<String>()))
            .when(conditions::delivery_claimed_at(claimed_at_ms));
        let _ = self.write(write).await?;
        Ok(())
    }

    /// Removes this sender's claim on `id` after a failed send, so that a retry sends it.
    pub async fn give_back(&self, id: &str, claimed_at_ms: u64) -> Result<(), StoreError> {
        let write = Write::delete(keys::delivery(id)).when(conditions::delivery_claimed_at(claimed_at_ms));
        let _ = self.write(write).await?;
        Ok(())
    }
}
