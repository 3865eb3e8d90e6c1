//! Registering a user for an event: one transaction that takes a seat, or joins the waitlist, or
//! finds the existing registration, under the conditions of [`super::seats`].
//!
//! Each try is a few named steps: wait as the last try's outcome asks ([`Retries::before_try`]),
//! decide from the seats as known ([`Store::plan_registration`]), build the writes
//! ([`registration_writes`], or [`latching_writes`] for the first to find every seat taken), send
//! them once, and on a refusal read what it showed
//! ([`Store::read_refusal`]). When the seats changed since they were last seen, the next try
//! uses what the refusal showed, until the request's deadline.

use super::Store;
use super::conditions;
use super::deadline;
use super::error::{Cancelled, StoreError};
use super::items::{RegistrationRecord, RegistrationStatus, SeatShard, WaitlistEntry};
use super::keys;
use super::registrations::{RegisterRefused, Registered, registration_item, waitlist_item};
use super::seats::{self, Seats};
use super::stats::{self, Counted};
use super::tx::{Write, from_item, n};
use crate::domain::{Id, Instant};

/// What a registration does, from the seats as known.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// Take a seat on this shard.
    Seat(u8),
    /// Every seat is taken: latch every shard and join the waitlist through this one, in one
    /// transaction.
    Latch(u8),
    /// Join the waitlist through this shard.
    Join(u8),
    /// Seats were added while people wait: promote them before anyone new comes in.
    FinishPromotions,
    Full,
}

fn plan(seats: &Seats, home: usize) -> Plan {
    if let Some(shard) = seats.open_shard(home) {
        return Plan::Seat(shard);
    }
    let home_shard = seats.shards[home % seats.shards.len()].shard;
    if !seats.latched() {
        return if seats.waitlist_enabled() { Plan::Latch(home_shard) } else { Plan::Full };
    }
    if seats.free() > 0 {
        Plan::FinishPromotions
    } else if seats.waitlist_enabled() {
        Plan::Join(home_shard)
    } else {
        Plan::Full
    }
}

/// A plan and the seats it was made from.
struct Planned {
    seats: Seats,
    next: Plan,
    starts_at: Instant,
}

/// What a registration waits for before its next try.
#[derive(Default)]
enum Wait {
    #[default]
    Nothing,
    /// Another transaction held the shard.
    Conflict,
    /// The seats were not as this process knew them.
    Refusal,
}

/// How a registration's tries have gone: the conflicts met, and the refusals of what this process
/// knew of the seats (a refused plan, or a latch that did not take). Each grows the backoff
/// before the next try.
#[derive(Default)]
struct Retries {
    conflicts: u32,
    refusals: u32,
    wait: Wait,
}

impl Retries {
    async fn before_try(&mut self) -> Result<(), StoreError> {
        match std::mem::take(&mut self.wait) {
            Wait::Nothing => Ok(()),
            // A backoff that grows with the conflicts met, so that a crowd on every shard thins out.
            Wait::Conflict => {
                deadline::pause(self.conflicts, "a registration racing concurrent registrations").await
            }
            Wait::Refusal => deadline::pause(self.refusals, "a registration racing concurrent changes").await,
        }
    }

    fn conflicted(&mut self) {
        self.conflicts += 1;
        self.wait = Wait::Conflict;
    }

    fn refused(&mut self) {
        self.refusals += 1;
        self.wait = Wait::Refusal;
    }

    /// A transaction refused because a shard was not as known: the first is retried at once, as
    /// the refusal brought the shard as it is now.
    fn shard_changed(&mut self) {
        self.refusals += 1;
        if self.refusals > 1 {
            self.wait = Wait::Refusal;
        }
    }

    /// The shard to start looking at: the user's own, or after a conflict one picked at random
    /// (the others that met the same conflict must not all move to the same next one).
    fn home(&self, user: Id, shards: usize) -> usize {
        match self.conflicts {
            0 => seats::home_shard(user, shards),
            _ => rand::Rng::gen_range(&mut rand::thread_rng(), 0..shards.max(1)),
        }
    }
}

/// The writes of one registration: the shard's count under the capacity rules, the registration
/// (only if the user has none), the check that the user still exists under that name with the
/// caller's sessions (`session_version`), for a waiter the queue entry, and the day's count.
/// Members 0, 1 and 2 are read back by [`Store::read_refusal`].
fn registration_writes(record: &RegistrationRecord, session_version: u32) -> Result<Vec<Write>, StoreError> {
    let open = conditions::open_for_registration(record.event_starts_at, record.created_at);
    let shard_key = keys::seat_shard(record.event_id, record.shard);
    let (shard_write, order) = match record.status {
        RegistrationStatus::Confirmed => (
            Write::update(shard_key, "SET confirmed_count = confirmed_count + :one")
                .when(open.and(conditions::seat_free())),
            keys::confirmed_order(&record.seq),
        ),
        RegistrationStatus::Waitlisted => (
            Write::update(shard_key, "SET waitlist_count = waitlist_count + :one")
                .when(open.and(conditions::waitlist_open())),
            keys::waitlisted_order(&record.seq),
        ),
    };
    let mut writes = vec![
        shard_write.value(":one", n(1)).return_old_on_failure(),
        Write::put(registration_item(record, order)?).when(conditions::absent()).return_old_on_failure(),
        Write::check(keys::user(record.user_id), conditions::signed_in_as(&record.username, session_version)),
    ];
    if record.status == RegistrationStatus::Waitlisted {
        let entry = WaitlistEntry { user_id: record.user_id, seq: record.seq.clone(), shard: record.shard };
        writes.push(Write::put(waitlist_item(record.event_id, &entry)?).when(conditions::absent()));
    }
    writes.extend(stats::counts(record.event_id, record.shard, &[(record.created_at, Counted::Registered)]));
    Ok(writes)
}

/// The writes of a registration that joins the waitlist as the last seat is found taken: the
/// shard it joins through is latched in its own update, on condition it is full, and every other
/// shard is latched on the same condition (see [`seats::latch_write`]). One transaction instead of
/// a latch and then a join: at the moment seats run out, every newcomer in flight needs both.
/// The other shards' members follow those of [`registration_writes`].
fn latching_writes(
    record: &RegistrationRecord,
    session_version: u32,
    seats: &Seats,
) -> Result<Vec<Write>, StoreError> {
    let mut writes = registration_writes(record, session_version)?;
    let open = conditions::open_for_registration(record.event_starts_at, record.created_at);
    writes[0] = Write::update(
        keys::seat_shard(record.event_id, record.shard),
        "SET waitlist_count = waitlist_count + :one, latched = :yes",
    )
    .when(open.and(conditions::waitlist_opening()))
    .value(":one", n(1))
    .return_old_on_failure();
    let others = seats.shards.iter().filter(|s| s.shard != record.shard);
    writes.extend(others.map(|s| seats::latch_write(record.event_id, s.shard)));
    Ok(writes)
}

impl Store {
    /// Registers a user, whose access token names them `username` and carries `session_version`.
    /// See the module documentation for the steps of each try.
    pub async fn register(
        &self,
        event_id: Id,
        user_id: Id,
        (username, session_version): (&str, u32),
        now: Instant,
    ) -> Result<Result<Registered, RegisterRefused>, StoreError> {
        let mut username = username.to_owned();
        let mut retries = Retries::default();
        loop {
            retries.before_try().await?;
            let Planned { mut seats, next, starts_at } =
                match self.plan_registration(event_id, user_id, &retries, now).await? {
                    Ok(planned) => planned,
                    Err(refused) => return Ok(Err(refused)),
                };
            let (status, shard) = match next {
                Plan::Seat(shard) => (RegistrationStatus::Confirmed, shard),
                Plan::Join(shard) | Plan::Latch(shard) => (RegistrationStatus::Waitlisted, shard),
                Plan::Full => return Ok(Err(RegisterRefused::Full)),
                Plan::FinishPromotions => {
                    self.promote_waitlisted(event_id).await?;
                    retries.refused();
                    continue;
                }
            };
            let record = RegistrationRecord {
                event_id,
                user_id,
                username: username.clone(),
                status,
                seq: Id::new().to_string(),
                shard,
                created_at: now,
                event_starts_at: starts_at,
                ticket: Default::default(),
            };
            let writes = match next {
                Plan::Latch(_) => latching_writes(&record, session_version, &seats)?,
                _ => registration_writes(&record, session_version)?,
            };
            match self.transact_once(writes).await? {
                Ok(()) => {
                    self.remember_taken(&record, &mut seats, matches!(next, Plan::Latch(_)));
                    return Ok(Ok(Registered::Created(record)));
                }
                Err(cancelled) if cancelled.is_conflict() => retries.conflicted(),
                Err(cancelled) => {
                    if let Some(answer) = self
                        .read_refusal(&cancelled, &record, (&mut username, session_version), &mut retries)
                        .await?
                    {
                        return Ok(answer);
                    }
                }
            }
        }
    }

    /// What to do, from the seats as this process knows them; read again when what it knows is
    /// old and would decide anything but a seat or a place in the queue. Refused when the event is
    /// gone or has started.
    async fn plan_registration(
        &self,
        event_id: Id,
        user_id: Id,
        retries: &Retries,
        now: Instant,
    ) -> Result<Result<Planned, RegisterRefused>, StoreError> {
        let (mut seats, fresh) = self.seats_hint(event_id).await?;
        if seats.shards.is_empty() {
            return Ok(Err(RegisterRefused::NoEvent));
        }
        let home = retries.home(user_id, seats.shards.len());
        let mut next = plan(&seats, home);
        let started = |seats: &Seats| seats.starts_at().is_none_or(|start| start <= now);
        // A latching join checks every shard's count itself, so it needs no fresh read: when a
        // seat is free after all, its refusal says so.
        if !fresh && (started(&seats) || matches!(next, Plan::Full | Plan::FinishPromotions)) {
            seats = self.fresh_seats(event_id).await?;
            if seats.shards.is_empty() {
                return Ok(Err(RegisterRefused::NoEvent));
            }
            next = plan(&seats, home);
        }
        let Some(starts_at) = seats.starts_at() else { return Ok(Err(RegisterRefused::NoEvent)) };
        if starts_at <= now {
            return Ok(Err(RegisterRefused::Started));
        }
        Ok(Ok(Planned { seats, next, starts_at }))
    }

    /// Counts a registration just made in what this process knows of the seats; a latching one
    /// latched them all.
    fn remember_taken(&self, record: &RegistrationRecord, seats: &mut Seats, latched: bool) {
        let Some(known) = seats.shards.iter_mut().find(|s| s.shard == record.shard) else { return };
        match record.status {
            RegistrationStatus::Confirmed => known.confirmed_count += 1,
            RegistrationStatus::Waitlisted => known.waitlist_count += 1,
        }
        if latched {
            seats.shards.iter_mut().for_each(|shard| shard.latched = true);
            self.hints.remember(record.event_id, seats);
        } else {
            self.hints.update(record.event_id, known.clone());
        }
    }

    /// What a refused registration's transaction showed: the answer, or `None` to try again
    /// (after renaming `username` when the user was renamed meanwhile).
    async fn read_refusal(
        &self,
        cancelled: &Cancelled,
        record: &RegistrationRecord,
        (username, session_version): (&mut String, u32),
        retries: &mut Retries,
    ) -> Result<Option<Result<Registered, RegisterRefused>>, StoreError> {
        let (event_id, user_id) = (record.event_id, record.user_id);
        if cancelled.condition_failed(1) {
            let existing = match cancelled.old_item(1) {
                Some(item) => from_item(item.clone())?,
                None => match self.find_registration(event_id, user_id).await? {
                    Some(existing) => existing,
                    None => {
                        // Cancelled meanwhile: try again.
                        retries.refused();
                        return Ok(None);
                    }
                },
            };
            return Ok(Some(Ok(Registered::Existing(existing))));
        }
        if cancelled.condition_failed(2) {
            return Ok(match self.find_user(user_id).await? {
                None => Some(Err(RegisterRefused::UserGone)),
                // Signed out everywhere, or the password changed, since the token was issued.
                Some(user) if user.session_version != session_version => Some(Err(RegisterRefused::UserGone)),
                Some(user) => {
                    *username = user.username;
                    None
                }
            });
        }
        if cancelled.condition_failed(0) {
            return self.read_refused_shard(cancelled, record, retries).await;
        }
        if (3..cancelled.reasons.len()).any(|member| cancelled.condition_failed(member)) {
            // A latching join found a seat free on another shard, or the event going: the next
            // try reads the seats again.
            self.hints.forget(event_id);
            retries.refused();
            return Ok(None);
        }
        Err(StoreError::Internal(format!("registration cancelled: {:?}", cancelled.reasons)))
    }

    /// A registration refused by its shard's condition: the event is gone, going or started, or
    /// the seats were not as this process knew them. The refusal brought the shard as it is now,
    /// and the next try plans from that: another shard believed to have a seat is one round trip
    /// away, while reading every shard again costs one more (and in a rush for the last seats,
    /// what a read shows is gone by the time the write that follows it lands). A plan that would
    /// refuse or promote is made from a fresh read anyway (see [`Store::plan_registration`]), and
    /// one that would latch checks every shard's count itself.
    async fn read_refused_shard(
        &self,
        cancelled: &Cancelled,
        record: &RegistrationRecord,
        retries: &mut Retries,
    ) -> Result<Option<Result<Registered, RegisterRefused>>, StoreError> {
        let event_id = record.event_id;
        let Some(old) = cancelled.old_item(0) else {
            self.hints.forget(event_id);
            // The shard is gone: so is the event, or it is being created.
            if self.find_seats(event_id).await?.shards.is_empty() {
                return Ok(Some(Err(RegisterRefused::NoEvent)));
            }
            retries.refused();
            return Ok(None);
        };
        retries.shard_changed();
        let old: SeatShard = from_item(old.clone())?;
        if old.deleting {
            self.hints.forget(event_id);
            return Ok(Some(Err(RegisterRefused::NoEvent)));
        }
        if old.starts_at <= record.created_at {
            self.hints.forget(event_id);
            return Ok(Some(Err(RegisterRefused::Started)));
        }
        match self.hints.get(event_id) {
            Some(known) if known.shares_facts(&old) => self.hints.update(event_id, old),
            _ => self.hints.forget(event_id),
        }
        Ok(None)
    }

    /// The seats of an event as this process last saw them, reading them when it has not; and
    /// whether they were just read. Empty when the event is gone or going.
    async fn seats_hint(&self, event_id: Id) -> Result<(Seats, bool), StoreError> {
        if let Some(seats) = self.hints.get(event_id) {
            return Ok((seats, false));
        }
        Ok((self.fresh_seats(event_id).await?, true))
    }

    /// The seats of an event, read now and remembered.
    async fn fresh_seats(&self, event_id: Id) -> Result<Seats, StoreError> {
        let seats = self.find_seats(event_id).await?;
        if seats.shards.is_empty() || seats.deleting() {
            self.hints.forget(event_id);
            return Ok(Seats::default());
        }
        self.hints.remember(event_id, &seats);
        Ok(seats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_takes_a_free_seat_latches_when_full_and_joins_once_latched() {
        let open =
            Seats { shards: vec![SeatShard::for_test(0, 2, 2, false), SeatShard::for_test(1, 2, 1, false)] };
        assert_eq!(plan(&open, 0), Plan::Seat(1), "the next shard with a seat");
        let full =
            Seats { shards: vec![SeatShard::for_test(0, 2, 2, false), SeatShard::for_test(1, 2, 2, false)] };
        assert_eq!(plan(&full, 1), Plan::Latch(1), "latching, and joining through the user's own shard");
        let latched =
            Seats { shards: vec![SeatShard::for_test(0, 2, 2, true), SeatShard::for_test(1, 2, 2, true)] };
        assert_eq!(plan(&latched, 3), Plan::Join(1), "through the user's own shard");
        let grown =
            Seats { shards: vec![SeatShard::for_test(0, 3, 2, true), SeatShard::for_test(1, 2, 2, true)] };
        assert_eq!(plan(&grown, 0), Plan::FinishPromotions);
        let mut no_waitlist = full.clone();
        no_waitlist.shards.iter_mut().for_each(|s| s.waitlist_enabled = false);
        assert_eq!(plan(&no_waitlist, 0), Plan::Full);
    }

    #[test]
    fn a_first_refusal_is_retried_at_once_and_later_ones_after_a_pause() {
        let mut retries = Retries::default();
        retries.shard_changed();
        assert!(matches!(retries.wait, Wait::Nothing));
        retries.shard_changed();
        assert!(matches!(retries.wait, Wait::Refusal));
        retries.conflicted();
        assert!(matches!(retries.wait, Wait::Conflict));
    }

    #[test]
    fn a_waiter_writes_its_queue_entry_and_a_seat_does_not() {
        let now = Instant::now();
        let mut record = RegistrationRecord {
            event_id: Id::new(),
            user_id: Id::new(),
            username: "ana".into(),
            status: RegistrationStatus::Confirmed,
            seq: Id::new().to_string(),
            shard: 3,
            created_at: now,
            event_starts_at: now.plus_seconds(60),
            ticket: Default::default(),
        };
        assert_eq!(registration_writes(&record, 0).expect("writes").len(), 4);
        record.status = RegistrationStatus::Waitlisted;
        assert_eq!(registration_writes(&record, 0).expect("writes").len(), 5);
        let seats = Seats { shards: (0..4).map(|i| SeatShard::for_test(i, 2, 2, false)).collect() };
        assert_eq!(
            latching_writes(&record, 0, &seats).expect("writes").len(),
            5 + 3,
            "and every other shard latched"
        );
    }
}
