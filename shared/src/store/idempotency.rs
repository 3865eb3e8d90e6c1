//! Answers remembered for creates sent with an `Idempotency-Key`, as payment APIs do: the same
//! key and request get the first answer again; the same key with another request is refused.
//!
//! The answer is written in the same transaction as the create (the last one, for a series), so
//! a create is remembered exactly when it happened: a crash between the two cannot leave a
//! create that a retry would make again, nor an answer for a create that did not happen. Two
//! requests with one key racing both try that transaction; the remembered answer's condition lets
//! one through, and the other is told [`StoreError::Repeated`] and replays the winner's answer.
//! Answers are kept a day (`expires_at`, the table's TTL attribute; an expired answer still
//! waiting for TTL's deletion counts as gone).

use serde::{Deserialize, Serialize};

use super::Store;
use super::conditions;
use super::error::{Cancelled, StoreError};
use super::items::{IndexKeys, Stored};
use super::keys;
use super::tx::{Write, to_item};
use crate::domain::Instant;

/// How long an answer is remembered.
pub const KEPT_SECONDS: i64 = 24 * 3600;

/// One answer as it was sent: status, the headers that matter (`Location`, `Link`) and the body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A request made with a key: the key within its scope (`user:<id>` for a signed-in caller,
/// `anonymous` for a sign-up), and a fingerprint of the request itself.
#[derive(Clone, Debug)]
pub struct Keyed {
    scope: String,
    key: String,
    /// The request's fingerprint, then any other it may have been remembered under (made with
    /// a secret since rotated).
    fingerprints: Vec<String>,
}

impl Keyed {
    /// `key` as sent; `fingerprints` identify the request, the current one first (see
    /// `http::idempotency`).
    pub fn new(scope: String, key: &str, fingerprints: Vec<String>) -> Self {
        Keyed { scope, key: key.to_owned(), fingerprints }
    }

    /// The write that remembers `answer`, to go in the create's transaction.
    pub fn remember(&self, answer: &Answer, now: Instant) -> Result<Remember, StoreError> {
        let key = keys::remembered_answer(&self.scope, &self.key);
        let record = AnswerRecord {
            fingerprint: self.fingerprints.first().cloned().unwrap_or_default(),
            answer: answer.clone(),
            expires_at: now.unix().saturating_add(KEPT_SECONDS),
        };
        let index = IndexKeys::default();
        let item =
            to_item(&Stored { pk: &key.pk, sk: &key.sk, kind: "answer", index: &index, record: &record })?;
        Ok(Remember(Write::put(item).when(conditions::absent_or_expired(now))))
    }
}

/// The write that remembers an answer; only the store runs it.
pub struct Remember(Write);

/// What a key was used for before.
#[derive(Debug, PartialEq, Eq)]
pub enum Prior {
    /// Never (or more than a day ago).
    Unseen,
    /// For this same request, answered so.
    Same(Answer),
    /// For another request.
    Different,
}

#[derive(Serialize, Deserialize)]
struct AnswerRecord {
    fingerprint: String,
    answer: Answer,
    expires_at: i64,
}

impl Store {
    /// What `keyed`'s key was used for before, read consistently.
    pub async fn prior_answer(&self, keyed: &Keyed, now: Instant) -> Result<Prior, StoreError> {
        let key = keys::remembered_answer(&keyed.scope, &keyed.key);
        Ok(match self.get_record::<AnswerRecord>(key).await? {
            Some(record) if record.expires_at > now.unix() => {
                if keyed.fingerprints.contains(&record.fingerprint) {
                    Prior::Same(record.answer)
                } else {
                    Prior::Different
                }
            }
            _ => Prior::Unseen,
        })
    }

    /// Runs `writes` as one transaction, with `remember` last when given. When the key was used
    /// meanwhile (its answer is there), nothing is written and the outcome is
    /// [`StoreError::Repeated`], whatever else failed: the request was answered already.
    pub(crate) async fn transact_remembering(
        &self,
        mut writes: Vec<Write>,
        remember: Option<Remember>,
    ) -> Result<Result<(), Cancelled>, StoreError> {
        let Some(Remember(write)) = remember else {
            return self.transact(writes).await;
        };
        writes.push(write);
        let last = writes.len() - 1;
        match self.transact(writes).await? {
            Err(cancelled) if cancelled.condition_failed(last) => Err(StoreError::Repeated),
            outcome => Ok(outcome),
        }
    }
}
