//! Attempt tallies: one item per kind of attempt and subject, counted atomically.
//!
//! Counting is one `UpdateItem` that adds one to the tally, conditioned on the subject not being
//! made to wait (`allowed_at`, written after each count that leaves a wait), and answering with
//! the tally as it was. No read comes first, so concurrent attempts from one busy address do not
//! conflict with each other, and none can slip through on a stale reading: DynamoDB applies
//! updates to one item one after another, so each sees the count before it, and whether that
//! count allowed the attempt is decided from it. A tally's `expires_at` is the table's TTL
//! attribute, set to the end of its window; DynamoDB deletes expired items within a few days
//! rather than at once
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html>), so
//! a tally past its window is started afresh by the first attempt that finds it.

use serde::{Deserialize, Serialize};

use super::Store;
use super::conditions;
use super::error::StoreError;
use super::items::{IndexKeys, Stored};
use super::keys;
use super::tx::{Item, Write, from_item, n, s, to_item};
use crate::domain::Instant;
use crate::domain::throttle::{Limit, Tally};

/// What an attempt was counted against: its kind (`login-account`, `signup-address`, …) and
/// who made it.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub what: &'static str,
    pub who: &'a str,
}

/// Whether an attempt may go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Counted; go ahead.
    Counted(Count),
    /// Not counted: try again in this many seconds.
    Wait(u64),
}

/// One counted attempt: the tally as it was before it, so that giving the attempt back restores
/// the time of the last attempt too, and not only the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    before: Option<Tally>,
    at: i64,
}

/// How many times one attempt starts a tally afresh that concurrent attempts keep starting too.
/// Beyond that the subject is being flooded, and waiting a second is the right answer anyway.
const COUNTING_TRIES: u32 = 4;

/// A tally as stored.
#[derive(Serialize, Deserialize)]
struct TallyRecord {
    attempts: u32,
    first_at: i64,
    last_at: i64,
    /// Unix seconds; the table's TTL attribute.
    expires_at: i64,
    /// When the subject may try again, if a count left it waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allowed_at: Option<i64>,
}

impl From<&TallyRecord> for Tally {
    fn from(record: &TallyRecord) -> Self {
        Tally { attempts: record.attempts, first_at: record.first_at, last_at: record.last_at }
    }
}

fn tally_of(item: Option<Item>) -> Result<Option<TallyRecord>, StoreError> {
    item.filter(|item| !item.is_empty()).map(from_item).transpose()
}

/// Adds one attempt to a tally still in its window, unless the subject must wait.
fn count(subject: Subject<'_>, limit: &Limit, now: i64) -> Write {
    let stale_before = now.saturating_sub(limit.window as i64);
    Write::update(
        keys::throttle(subject.what, subject.who),
        "SET #type = :type, first_at = if_not_exists(first_at, :now), last_at = :now, \
         expires_at = if_not_exists(expires_at, :expires) ADD attempts :one",
    )
    .when(conditions::tally_open(stale_before, now))
    .name("#type", "type")
    .value(":type", s(KIND))
    .value(":expires", n(now.saturating_add(limit.window as i64)))
    .value(":one", n(1))
    .answering_old()
    .return_old_on_failure()
}

/// Starts afresh a tally whose window has passed (`stale` as read), with one attempt.
fn restart(subject: Subject<'_>, limit: &Limit, stale: &TallyRecord, now: i64) -> Result<Write, StoreError> {
    let key = keys::throttle(subject.what, subject.who);
    let fresh = limit.charge(None, now);
    let record = TallyRecord {
        attempts: fresh.attempts,
        first_at: fresh.first_at,
        last_at: fresh.last_at,
        expires_at: now.saturating_add(limit.window as i64),
        allowed_at: None,
    };
    let item = to_item(&Stored {
        pk: &key.pk,
        sk: &key.sk,
        kind: KIND,
        index: &IndexKeys::default(),
        record: &record,
    })?;
    Ok(Write::put(item).when(conditions::tally_began(stale.first_at)))
}

const KIND: &str = "throttle";

impl Store {
    /// Counts one attempt by `subject` at `now`, unless `limit` makes it wait.
    pub async fn count_attempt(
        &self,
        subject: Subject<'_>,
        limit: &Limit,
        now: Instant,
    ) -> Result<Attempt, StoreError> {
        let now = now.unix();
        for _ in 0..COUNTING_TRIES {
            let before = match self.write(count(subject, limit, now)).await? {
                Ok(old) => tally_of(old)?,
                Err(refused) => match tally_of(refused.old)? {
                    Some(stale) if limit.current(Some(Tally::from(&stale)), now).is_none() => {
                        if self.write(restart(subject, limit, &stale, now)?).await?.is_ok() {
                            return Ok(Attempt::Counted(Count { before: None, at: now }));
                        }
                        continue;
                    }
                    Some(waiting) => {
                        let allowed_at = waiting.allowed_at.unwrap_or(now);
                        return Ok(Attempt::Wait(allowed_at.saturating_sub(now).max(1) as u64));
                    }
                    None => continue,
                },
            };
            let before = limit.current(before.as_ref().map(Tally::from), now);
            self.close_gate(subject, limit, limit.charge(before, now), now).await?;
            // Concurrent attempts can pass the gate before the count ahead of them closes it;
            // the count as it was says whether this one was allowed.
            return Ok(match limit.wait(before, now) {
                None => Attempt::Counted(Count { before, at: now }),
                Some(wait) => Attempt::Wait(wait),
            });
        }
        Ok(Attempt::Wait(1))
    }

    /// After a count that leaves `subject` waiting, records until when, so the attempts made
    /// meanwhile are refused without being counted. Only while the tally is still `after`: a
    /// later count writes its own.
    async fn close_gate(
        &self,
        subject: Subject<'_>,
        limit: &Limit,
        after: Tally,
        now: i64,
    ) -> Result<(), StoreError> {
        let Some(wait) = limit.wait(Some(after), now) else {
            return Ok(());
        };
        let gate = Write::update(keys::throttle(subject.what, subject.who), "SET allowed_at = :allowed_at")
            .when(conditions::tally_counts(after.attempts))
            .value(":allowed_at", n(now.saturating_add(wait as i64)));
        let _ = self.write(gate).await?;
        Ok(())
    }

    /// Gives a counted attempt back (it turned out well, or was never made): the tally is put
    /// back as it was before it, its last attempt's time included, so a given-back attempt moves
    /// no wait forward. When other attempts were counted since, only the number goes back.
    pub async fn uncount_attempt(&self, subject: Subject<'_>, count: &Count) -> Result<(), StoreError> {
        let key = || keys::throttle(subject.what, subject.who);
        let mine = count.before.map_or(1, |before| before.attempts.saturating_add(1));
        let restore = match count.before {
            // The tally began with this attempt.
            None => Write::delete(key()).when(conditions::tally_left_at(mine, count.at)),
            Some(before) => {
                Write::update(key(), "SET attempts = :before, last_at = :before_at REMOVE allowed_at")
                    .when(conditions::tally_left_at(mine, count.at))
                    .value(":before", n(before.attempts))
                    .value(":before_at", n(before.last_at))
            }
        };
        if self.write(restore).await?.is_ok() {
            return Ok(());
        }
        let fewer = Write::update(key(), "SET attempts = attempts - :one")
            .when(conditions::attempts_counted())
            .value(":one", n(1));
        // Already at zero, or forgotten: nothing to give back.
        let _ = self.write(fewer).await?;
        Ok(())
    }

    /// Forgets every attempt of `subject`.
    pub async fn forget_attempts(&self, subject: Subject<'_>) -> Result<(), StoreError> {
        let _ = self.write(Write::delete(keys::throttle(subject.what, subject.who))).await?;
        Ok(())
    }
}
