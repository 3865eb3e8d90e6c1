//! Registrations, the waitlist, and the capacity invariant.
//!
//! Every change of a registration changes one of the event's seat shards in the same transaction,
//! under conditions DynamoDB checks (see [`super::seats`] for the rules): a seat is taken only on
//! a shard with one free that is not latched; a newcomer waits only on a latched shard; a seat is
//! given back only when nobody waits (otherwise the head of the queue is promoted in the same
//! transaction). So no shard's `confirmed_count` exceeds its capacity, the counters always equal
//! the stored registrations, and nobody waits while a seat is free, whatever runs concurrently.

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::Store;
use super::conditions;
use super::deadline;
use super::error::{StoreError, classify};
use super::items::{
    EventRecord, IndexKeys, NotificationKind, RegistrationRecord, RegistrationStatus, SeatShard, Stored,
    WaitlistEntry,
};
use super::keys::{self, Key};
use super::notifications::{notification, notification_write};
use super::page::{Page, PageRequest};
use super::query;
use super::seats::{self, Seats};
use super::tx::{Item, Write, from_item, n, s, to_item};
use crate::domain::{Id, Instant};

/// A registration with its place in the queue (`None` when confirmed).
#[derive(Clone, Debug)]
pub struct Placed {
    pub registration: RegistrationRecord,
    pub waitlist_position: Option<u32>,
}

#[derive(Debug)]
pub enum Registered {
    Created(RegistrationRecord),
    Existing(RegistrationRecord),
}

#[derive(Debug, PartialEq, Eq)]
pub enum RegisterRefused {
    NoEvent,
    Started,
    /// Full and without a waitlist.
    Full,
    /// The caller no longer exists.
    UserGone,
}

/// What a cancellation did.
#[derive(Debug)]
pub struct Cancelled {
    pub registration: RegistrationRecord,
    /// The waitlisted user who got the seat, if any.
    pub promoted: Option<Id>,
}

/// Promotions per transaction: three writes each (registration, queue entry, notification), plus
/// up to one update per seat shard, within DynamoDB's 100.
const PROMOTIONS_PER_TRANSACTION: usize = 25;

fn status_value(status: RegistrationStatus) -> AttributeValue {
    s(status.as_str())
}

fn registration_item(r: &RegistrationRecord, order: String) -> Result<Item, StoreError> {
    let key = keys::registration(r.event_id, r.user_id);
    let index = IndexKeys {
        gsi1pk: Some(keys::user_pk(r.user_id)),
        gsi1sk: Some(keys::user_registration_sk(r.event_starts_at, r.event_id)),
        gsi2pk: Some(key.pk.clone()),
        gsi2sk: Some(order),
        ..IndexKeys::default()
    };
    to_item(&Stored { pk: &key.pk, sk: &key.sk, kind: "registration", index: &index, record: r })
}

fn waitlist_item(event: Id, entry: &WaitlistEntry) -> Result<Item, StoreError> {
    let key = keys::waitlist_entry(event, entry.user_id, &entry.seq);
    to_item(&Stored {
        pk: &key.pk,
        sk: &key.sk,
        kind: "waitlist_entry",
        index: &IndexKeys::default(),
        record: entry,
    })
}

/// What a promoted user is told.
pub fn promotion_message(title: &str) -> String {
    format!("A seat opened up: you are now confirmed for \"{title}\".")
}

/// Turns a waitlisted registration into a confirmed one holding a seat on `seat_shard`, if it is
/// still the same waitlisted one, and tells its user in the same transaction. The shards' counters
/// are the caller's to change.
fn promotion(
    event: Id,
    entry: &WaitlistEntry,
    seat_shard: u8,
    title: &str,
    now: Instant,
) -> Result<Vec<Write>, StoreError> {
    let notice = notification(NotificationKind::Promoted, event, promotion_message(title), now);
    Ok(vec![
        Write::set_fields(
            keys::registration(event, entry.user_id),
            vec![
                ("status", status_value(RegistrationStatus::Confirmed)),
                ("gsi2sk", s(keys::confirmed_order(&Id::new().to_string()))),
                ("shard", n(seat_shard)),
            ],
            vec![],
        )
        .when(conditions::registration_is(RegistrationStatus::Waitlisted, &entry.seq)),
        Write::delete(keys::waitlist_entry(event, entry.user_id, &entry.seq)).when(conditions::exists()),
        notification_write(entry.user_id, &notice)?,
    ])
}

/// Changes one shard's counters by `seats` and `waiting`, on condition it is exactly as read.
fn shard_change(event: Id, shard: &SeatShard, seats: i64, waiting: i64) -> Write {
    Write::update(
        keys::seat_shard(event, shard.shard),
        "SET confirmed_count = confirmed_count + :seats, waitlist_count = waitlist_count + :waiting",
    )
    .when(conditions::shard_as_read(shard))
    .value(":seats", n(seats))
    .value(":waiting", n(waiting))
}

/// What a registration does, from the seats as known.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// Take a seat on this shard.
    Seat(u8),
    /// Every seat is taken: latch the shards, then join.
    Latch,
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
    if !seats.latched() {
        return if seats.waitlist_enabled() { Plan::Latch } else { Plan::Full };
    }
    if seats.free() > 0 {
        Plan::FinishPromotions
    } else if seats.waitlist_enabled() {
        Plan::Join(seats.shards[home % seats.shards.len()].shard)
    } else {
        Plan::Full
    }
}

impl Store {
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

    /// Registers a user: one transaction that takes a seat, or joins the waitlist, or finds the
    /// existing registration. See the module documentation for the conditions. When the seats
    /// changed since they were last seen, tries again with what the refusal showed, after a
    /// backoff (retrying at once would race the same writers again), until the request's deadline.
    pub async fn register(
        &self,
        event_id: Id,
        user_id: Id,
        username: &str,
        now: Instant,
    ) -> Result<Result<Registered, RegisterRefused>, StoreError> {
        let mut username = username.to_owned();
        // Conflicts met, and refusals of what this process knew of the seats (a refused plan, or
        // a latch that did not take): each grows the backoff before the next try. A first
        // refusal is retried at once, as it brought the shard as it is now.
        let (mut conflicts, mut refusals) = (0, 0);
        let (mut conflicted, mut refused) = (false, false);
        loop {
            if conflicted {
                // Another transaction held the shard: the next try goes to a shard picked at
                // random (the others that met the same conflict must not all move to the same
                // next one), after a backoff that grows with the conflicts met (a crowd on every
                // shard thins out).
                deadline::pause(conflicts, "a registration racing concurrent registrations").await?;
            } else if refused {
                deadline::pause(refusals, "a registration racing concurrent changes").await?;
            }
            refused = false;
            conflicted = false;
            let (mut seats, fresh) = self.seats_hint(event_id).await?;
            if seats.shards.is_empty() {
                return Ok(Err(RegisterRefused::NoEvent));
            }
            let home = match conflicts {
                0 => seats::home_shard(user_id, seats.shards.len()),
                _ => rand::Rng::gen_range(&mut rand::thread_rng(), 0..seats.shards.len()),
            };
            let mut next = plan(&seats, home);
            let started = |seats: &Seats| seats.starts_at().is_none_or(|start| start <= now);
            if !fresh
                && (started(&seats) || matches!(next, Plan::Latch | Plan::Full | Plan::FinishPromotions))
            {
                // Decided on what this process saw a while ago: look again before acting on it.
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
            let (status, shard) = match next {
                Plan::Seat(shard) => (RegistrationStatus::Confirmed, shard),
                Plan::Join(shard) => (RegistrationStatus::Waitlisted, shard),
                Plan::Full => return Ok(Err(RegisterRefused::Full)),
                Plan::FinishPromotions => {
                    self.promote_waitlisted(event_id).await?;
                    refusals += 1;
                    refused = true;
                    continue;
                }
                Plan::Latch => {
                    if self.latch(event_id, &seats).await? {
                        for shard in &mut seats.shards {
                            shard.latched = true;
                        }
                        self.hints.remember(event_id, &seats);
                    } else {
                        self.hints.forget(event_id);
                        refusals += 1;
                        refused = true;
                    }
                    continue;
                }
            };
            let seq = Id::new().to_string();
            let record = RegistrationRecord {
                event_id,
                user_id,
                username: username.clone(),
                status,
                seq: seq.clone(),
                shard,
                created_at: now,
                event_starts_at: starts_at,
            };
            let open = conditions::open_for_registration(starts_at, now);
            let shard_key = keys::seat_shard(event_id, shard);
            let (shard_write, order) = match status {
                RegistrationStatus::Confirmed => (
                    Write::update(shard_key, "SET confirmed_count = confirmed_count + :one")
                        .when(open.and(conditions::seat_free())),
                    keys::confirmed_order(&seq),
                ),
                RegistrationStatus::Waitlisted => (
                    Write::update(shard_key, "SET waitlist_count = waitlist_count + :one")
                        .when(open.and(conditions::waitlist_open())),
                    keys::waitlisted_order(&seq),
                ),
            };
            let shard_write = shard_write.value(":one", n(1)).return_old_on_failure();
            let mut writes = vec![
                shard_write,
                Write::put(registration_item(&record, order)?)
                    .when(conditions::absent())
                    .return_old_on_failure(),
                Write::check(keys::user(user_id), conditions::named(&username)),
            ];
            if status == RegistrationStatus::Waitlisted {
                let entry = WaitlistEntry { user_id, seq: seq.clone(), shard };
                writes.push(Write::put(waitlist_item(event_id, &entry)?).when(conditions::absent()));
            }
            let cancelled = match self.transact_once(writes).await? {
                Err(cancelled) if cancelled.is_conflict() => {
                    (conflicted, conflicts) = (true, conflicts + 1);
                    continue;
                }
                Ok(()) => {
                    if let Some(known) = seats.shards.iter_mut().find(|s| s.shard == shard) {
                        match status {
                            RegistrationStatus::Confirmed => known.confirmed_count += 1,
                            RegistrationStatus::Waitlisted => known.waitlist_count += 1,
                        }
                        self.hints.update(event_id, known.clone());
                    }
                    return Ok(Ok(Registered::Created(record)));
                }
                Err(cancelled) => cancelled,
            };
            if cancelled.condition_failed(1) {
                let existing = match cancelled.old_item(1) {
                    Some(item) => from_item(item.clone())?,
                    None => match self.get_record(keys::registration(event_id, user_id)).await? {
                        Some(existing) => existing,
                        None => {
                            // Cancelled meanwhile: try again.
                            refusals += 1;
                            refused = true;
                            continue;
                        }
                    },
                };
                return Ok(Ok(Registered::Existing(existing)));
            }
            if cancelled.condition_failed(2) {
                match self.find_user(user_id).await? {
                    None => return Ok(Err(RegisterRefused::UserGone)),
                    Some(user) => username = user.username,
                }
                continue;
            }
            if !cancelled.condition_failed(0) {
                return Err(StoreError::Internal(format!("registration cancelled: {:?}", cancelled.reasons)));
            }
            let Some(old) = cancelled.old_item(0) else {
                // The shard is gone: so is the event, or it is being created.
                self.hints.forget(event_id);
                if self.find_seats(event_id).await?.shards.is_empty() {
                    return Ok(Err(RegisterRefused::NoEvent));
                }
                refusals += 1;
                refused = true;
                continue;
            };
            refusals += 1;
            refused = refusals > 1;
            let old: SeatShard = from_item(old.clone())?;
            if old.deleting {
                self.hints.forget(event_id);
                return Ok(Err(RegisterRefused::NoEvent));
            }
            if old.starts_at <= now {
                return Ok(Err(RegisterRefused::Started));
            }
            // The seats were not as this process knew them: the next try reads them all again
            // rather than learning them one refused shard at a time.
            self.hints.forget(event_id);
        }
    }

    /// A user's registration for an event.
    pub async fn find_registration(
        &self,
        event: Id,
        user: Id,
    ) -> Result<Option<RegistrationRecord>, StoreError> {
        self.get_record(keys::registration(event, user)).await
    }

    /// The first `limit` entries of an event's waitlist, read consistently: the first `limit` of
    /// each registration group, all at once, merged in arrival order.
    async fn waitlist_head(&self, event: Id, limit: usize) -> Result<Vec<WaitlistEntry>, StoreError> {
        let reads = keys::registration_partitions(event).into_iter().map(|pk| {
            self.partition(None, pk, Some(keys::WAITLIST_PREFIX))
                .consistent_read(true)
                .limit(limit as i32)
                .send()
        });
        let mut head = Vec::new();
        for out in futures::future::join_all(reads).await {
            for item in out.map_err(classify)?.items.unwrap_or_default() {
                head.push(from_item::<WaitlistEntry>(item)?);
            }
        }
        head.sort_by(|a, b| a.seq.cmp(&b.seq));
        head.truncate(limit);
        Ok(head)
    }

    /// The place of a registration that has just joined the waitlist: how many wait right after
    /// it joined, from the seat shards' counters read consistently in one round trip (`None` when
    /// confirmed). That is its exact place unless others joined in the milliseconds since, who
    /// are then counted too. Counting the entries ahead ([`Store::waitlist_position`]) reads
    /// every one of them, so in a rush of thousands each join would cost more than the last.
    pub async fn place_on_joining(
        &self,
        registration: &RegistrationRecord,
    ) -> Result<Option<u32>, StoreError> {
        if registration.status != RegistrationStatus::Waitlisted {
            return Ok(None);
        }
        deadline::after_commit(self.waiting_now(registration.event_id)).await.map(Some)
    }

    /// How many wait for an event now, at least one, from its seat shards read consistently.
    async fn waiting_now(&self, event: Id) -> Result<u32, StoreError> {
        let seats = match self.hints.get(event) {
            Some(known) => {
                Seats { shards: self.read_shards(event, known.shards.iter().map(|s| s.shard)).await? }
            }
            None => self.find_seats(event).await?,
        };
        Ok(seats.waiting().max(1))
    }

    /// 1-based place of a waitlisted registration in its queue, read consistently: the entries
    /// that arrived before it, counted in each registration group at once.
    pub async fn waitlist_position(
        &self,
        registration: &RegistrationRecord,
    ) -> Result<Option<u32>, StoreError> {
        if registration.status != RegistrationStatus::Waitlisted {
            return Ok(None);
        }
        let mine = keys::waitlist_entry(registration.event_id, registration.user_id, &registration.seq).sk;
        let counts = keys::registration_partitions(registration.event_id).into_iter().map(|pk| {
            let mine = mine.clone();
            async move {
                let mut count = 0u32;
                let mut start = None;
                loop {
                    let out = self
                        .client()
                        .query()
                        .table_name(&self.table)
                        .key_condition_expression("pk = :pk AND sk BETWEEN :first AND :mine")
                        .expression_attribute_values(":pk", s(&pk))
                        .expression_attribute_values(":first", s(keys::WAITLIST_PREFIX))
                        .expression_attribute_values(":mine", s(&mine))
                        .select(Select::Count)
                        .consistent_read(true)
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .map_err(classify)?;
                    count += out.count.max(0) as u32;
                    start = out.last_evaluated_key;
                    if start.is_none() {
                        return Ok::<u32, StoreError>(count);
                    }
                }
            }
        });
        let ahead: u32 = futures::future::try_join_all(counts).await?.into_iter().sum();
        Ok(Some(ahead.max(1)))
    }

    /// Cancels a user's registration. A confirmed seat goes to the head of the waitlist in the
    /// same transaction; with nobody waiting, the seat is given back (only while nobody waits).
    pub async fn cancel_registration(
        &self,
        event_id: Id,
        user_id: Id,
    ) -> Result<Option<Cancelled>, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                // Concurrent cancellations all reach for the head of the same queue; only one
                // wins each round, so the others back off before trying the next head, for as
                // long as the request has time.
                deadline::pause(attempt - 1, "a cancellation racing concurrent changes").await?;
            }
            let Some(registration) = self.find_registration(event_id, user_id).await? else {
                return Ok(None);
            };
            let remove = Write::delete(keys::registration(event_id, user_id))
                .when(conditions::registration_is(registration.status, &registration.seq));
            let (writes, promoted) = match registration.status {
                RegistrationStatus::Waitlisted => (
                    vec![
                        remove,
                        Write::delete(keys::waitlist_entry(event_id, user_id, &registration.seq)),
                        Write::update(
                            keys::seat_shard(event_id, registration.shard),
                            "SET waitlist_count = waitlist_count - :one",
                        )
                        .when(conditions::live())
                        .value(":one", n(1)),
                    ],
                    None,
                ),
                RegistrationStatus::Confirmed => {
                    // Gone, the event has no shards: the shard update below fails, and the
                    // registration is cleaned up after it.
                    let (title, seats) = match self.event_with_seats(event_id).await? {
                        Some((event, seats)) => (event.title, seats),
                        None => (String::new(), Seats::default()),
                    };
                    let head = match seats.waiting() {
                        0 => None,
                        _ => self.waitlist_head(event_id, 1).await?.pop(),
                    };
                    match head {
                        Some(next) => {
                            // The seat passes to the head of the queue and stays taken.
                            let mut writes = vec![remove];
                            writes.extend(promotion(
                                event_id,
                                &next,
                                registration.shard,
                                &title,
                                Instant::now(),
                            )?);
                            writes.push(
                                Write::update(
                                    keys::seat_shard(event_id, next.shard),
                                    "SET waitlist_count = waitlist_count - :one",
                                )
                                .when(conditions::live().and(conditions::someone_waiting()))
                                .value(":one", n(1)),
                            );
                            (writes, Some(next.user_id))
                        }
                        None if seats.latched() => {
                            // The seat is given back and every shard unlatched, on condition
                            // nobody waits anywhere.
                            let mut writes = vec![
                                remove,
                                Write::update(
                                    keys::seat_shard(event_id, registration.shard),
                                    "SET confirmed_count = confirmed_count - :one, latched = :no",
                                )
                                .when(conditions::live().and(conditions::nobody_waiting()))
                                .value(":one", n(1))
                                .value(":no", AttributeValue::Bool(false)),
                            ];
                            writes.extend(seats::unlatch_writes(event_id, &seats, Some(registration.shard)));
                            (writes, None)
                        }
                        None => (
                            // Not latched, so nobody can be waiting.
                            vec![
                                remove,
                                Write::update(
                                    keys::seat_shard(event_id, registration.shard),
                                    "SET confirmed_count = confirmed_count - :one",
                                )
                                .when(conditions::live().and(conditions::not_latched()))
                                .value(":one", n(1)),
                            ],
                            None,
                        ),
                    }
                }
            };
            self.hints.forget(event_id);
            match self.transact(writes).await? {
                Ok(()) => return Ok(Some(Cancelled { registration, promoted })),
                Err(cancelled) if !cancelled.condition_failed(0) => {
                    // The event is gone or going, or the seats changed meanwhile.
                    if self.find_event(event_id).await?.is_none() {
                        self.write(Write::delete(keys::registration(event_id, user_id))).await?.ok();
                        self.write(Write::delete(keys::waitlist_entry(event_id, user_id, &registration.seq)))
                            .await?
                            .ok();
                        return Ok(Some(Cancelled { registration, promoted: None }));
                    }
                }
                Err(_) => {}
            }
        }
    }

    /// Gives free seats to the head of the waitlist, as many as fit, in transactions of up to
    /// twenty-five; once nobody waits, unlatches the shards so that the seats left open to
    /// newcomers. Each transaction is conditioned on the exact counters it read, so concurrent
    /// registrations and cancellations can only make it retry, with backoff, until the request's
    /// deadline is near. Then it stops quietly, as the seats it gave are given and its caller's
    /// own change is made: a seat left free is given by the next registration, which finishes a
    /// promotion cut short before taking a seat. Returns who was promoted.
    pub async fn promote_waitlisted(&self, event_id: Id) -> Result<Vec<Id>, StoreError> {
        let mut promoted = Vec::new();
        let mut failures = 0;
        loop {
            let Some((event, seats)) = self.event_with_seats(event_id).await? else { break };
            if seats.shards.is_empty() || seats.deleting() {
                break;
            }
            let title = event.title;
            let (free, waiting) = (seats.free() as usize, seats.waiting() as usize);
            if waiting == 0 {
                if seats.latched() && free > 0 {
                    self.unlatch(event_id, &seats).await?;
                }
                break;
            }
            let take = free.min(waiting).min(PROMOTIONS_PER_TRANSACTION);
            if take == 0 {
                break;
            }
            let head = self.waitlist_head(event_id, take).await?;
            if head.is_empty() {
                break;
            }
            let now = Instant::now();
            let mut open: Vec<(u8, u32)> = seats
                .shards
                .iter()
                .filter(|s| s.seats_left() > 0)
                .map(|s| (s.shard, s.seats_left()))
                .collect();
            let mut changes: std::collections::BTreeMap<u8, (i64, i64)> = Default::default();
            let mut writes = Vec::with_capacity(head.len() * 3 + seats.shards.len());
            for entry in &head {
                let Some(seat) = open.iter_mut().find(|(_, left)| *left > 0) else { break };
                seat.1 -= 1;
                writes.extend(promotion(event_id, entry, seat.0, &title, now)?);
                changes.entry(seat.0).or_default().0 += 1;
                changes.entry(entry.shard).or_default().1 -= 1;
            }
            for (shard, (seats_taken, waiting_change)) in &changes {
                let Some(known) = seats.shards.iter().find(|s| s.shard == *shard) else {
                    return Err(StoreError::Internal(format!(
                        "a waitlist entry names shard {shard}, which is missing"
                    )));
                };
                writes.push(shard_change(event_id, known, *seats_taken, *waiting_change));
            }
            match self.transact(writes).await? {
                Ok(()) => promoted.extend(head.iter().map(|e| e.user_id)),
                Err(_) => {
                    failures += 1;
                    if deadline::pause(failures, "promoting from the waitlist").await.is_err() {
                        break;
                    }
                }
            }
        }
        self.hints.forget(event_id);
        Ok(promoted)
    }

    /// An event's registrations: confirmed first, then the waitlist in order, with positions.
    /// The cursor carries how many waitlisted entries earlier pages held.
    pub async fn event_registrations(
        &self,
        event: Id,
        page: &PageRequest,
    ) -> Result<Page<Placed>, StoreError> {
        let before: u32 =
            page.start.as_ref().and_then(|s| s.get("_waiting")).and_then(|v| v.parse().ok()).unwrap_or(0);
        let listed: Page<RegistrationRecord> =
            self.merged_page(keys::GSI2, keys::registration_partitions(event), page).await?;
        let mut waiting = before;
        let mut results = Vec::new();
        for registration in listed.results {
            let waitlist_position = match registration.status {
                RegistrationStatus::Confirmed => None,
                RegistrationStatus::Waitlisted => {
                    waiting += 1;
                    Some(waiting)
                }
            };
            results.push(Placed { registration, waitlist_position });
        }
        let next = listed.next.map(|start| start.with("_waiting", waiting.to_string()));
        Ok(Page { results, next })
    }

    /// Every item of an event's registration groups whose sort key begins with `prefix`
    /// (registrations, reminder markers), read consistently from each group at once, with the
    /// attributes of `projection`.
    pub(crate) async fn group_items(
        &self,
        event: Id,
        prefix: &str,
        projection: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let reads = keys::registration_partitions(event).into_iter().map(|pk| {
            query::all(
                self.partition(None, pk, Some(prefix))
                    .projection_expression(projection)
                    .consistent_read(true),
            )
        });
        Ok(futures::future::try_join_all(reads).await?.into_iter().flatten().collect())
    }

    /// A user's registrations, soonest event first.
    pub async fn user_registrations(&self, user: Id, page: &PageRequest) -> Result<Page<Placed>, StoreError> {
        let soonest_first =
            self.partition(Some(keys::GSI1), keys::user_pk(user), Some(keys::REGISTRATION_PREFIX));
        let listed: Page<RegistrationRecord> = query::page(soonest_first, page).await?;
        let results = stream::iter(listed.results)
            .map(|registration| async move {
                let waitlist_position = self.waitlist_position(&registration).await?;
                Ok::<_, StoreError>(Placed { registration, waitlist_position })
            })
            .buffered(8)
            .try_collect()
            .await?;
        Ok(Page { results, next: listed.next })
    }

    /// Every registration of a user (for deleting the user).
    pub(crate) async fn all_user_registrations(
        &self,
        user: Id,
    ) -> Result<Vec<RegistrationRecord>, StoreError> {
        let items = self.owned_by(user, keys::REGISTRATION_PREFIX).await?;
        items.into_iter().map(from_item).collect()
    }

    /// After an event's start moved, re-files its registrations under the new start so users'
    /// lists stay ordered by it.
    pub async fn refile_registrations(&self, event: &EventRecord) -> Result<(), StoreError> {
        let items = self.group_items(event.id, keys::REGISTRATION_PREFIX, "pk, sk, user_id").await?;
        self.hints.forget(event.id);
        stream::iter(items)
            .map(|item| async move {
                let key = Key {
                    pk: item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default(),
                    sk: item.get("sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default(),
                };
                let write = Write::set_fields(
                    key,
                    vec![
                        ("event_starts_at", s(event.starts_at.to_string())),
                        ("gsi1sk", s(keys::user_registration_sk(event.starts_at, event.id))),
                    ],
                    vec![],
                )
                .when(conditions::exists());
                self.write(write).await.map(|_| ())
            })
            .buffer_unordered(8)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}
