//! Registrations, the waitlist, and the capacity invariant.
//!
//! Every change of a registration changes one of the event's seat shards in the same transaction,
//! under conditions DynamoDB checks (see [`super::seats`] for the rules): a seat is taken only on
//! a shard with one free that is not latched; a newcomer waits only on a latched shard; a seat is
//! given back only when nobody waits (otherwise the head of the queue is promoted in the same
//! transaction). So no shard's `confirmed_count` exceeds its capacity, the counters always equal
//! the stored registrations, and nobody waits while a seat is free, whatever runs concurrently.

use crate::telemetry::metrics;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::Store;
use super::conditions::{self, Condition};
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
use super::stats::{self, Counted};
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

pub(super) fn registration_item(r: &RegistrationRecord, order: String) -> Result<Item, StoreError> {
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

pub(super) fn waitlist_item(event: Id, entry: &WaitlistEntry) -> Result<Item, StoreError> {
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
                ("status", s(RegistrationStatus::Confirmed.as_str())),
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

/// One fewer waiting on `shard`, on `condition`.
fn one_fewer_waiting(event: Id, shard: u8, condition: Condition) -> Write {
    Write::update(keys::seat_shard(event, shard), "SET waitlist_count = waitlist_count - :one")
        .when(condition)
        .value(":one", n(1))
}

/// A confirmed seat given back to its shard when nobody takes it over. With the shards latched,
/// on condition nobody waits anywhere, and every shard is unlatched in the same transaction;
/// otherwise on condition the shard is not latched, so nobody can be waiting.
fn seat_given_back(registration: &RegistrationRecord, seats: &Seats) -> Vec<Write> {
    let (event, shard) = (registration.event_id, registration.shard);
    if !seats.latched() {
        return vec![
            Write::update(keys::seat_shard(event, shard), "SET confirmed_count = confirmed_count - :one")
                .when(conditions::live().and(conditions::not_latched()))
                .value(":one", n(1)),
        ];
    }
    let mut writes = vec![
        Write::update(
            keys::seat_shard(event, shard),
            "SET confirmed_count = confirmed_count - :one, latched = :no",
        )
        .when(conditions::live().and(conditions::nobody_waiting()))
        .value(":one", n(1))
        .value(":no", AttributeValue::Bool(false)),
    ];
    writes.extend(seats::unlatch_writes(event, seats, Some(shard)));
    writes
}

/// The writes that promote `head` (the first of the queue) into the seats free on `seats`, in one
/// transaction: each promotion, then each shard's counters changed on condition it is as read.
fn promotions(
    event_id: Id,
    head: &[WaitlistEntry],
    seats: &Seats,
    title: &str,
    now: Instant,
) -> Result<Vec<Write>, StoreError> {
    let mut open: Vec<(u8, u32)> =
        seats.shards.iter().filter(|s| s.seats_left() > 0).map(|s| (s.shard, s.seats_left())).collect();
    let mut changes: std::collections::BTreeMap<u8, (i64, i64)> = Default::default();
    let mut writes = Vec::with_capacity(head.len() * 3 + seats.shards.len());
    for entry in head {
        let Some(seat) = open.iter_mut().find(|(_, left)| *left > 0) else { break };
        seat.1 -= 1;
        writes.extend(promotion(event_id, entry, seat.0, title, now)?);
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
    Ok(writes)
}

impl Store {
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
            let (writes, promoted) = self.cancellation(&registration).await?;
            self.hints.forget(event_id);
            match self.transact(writes).await? {
                Ok(()) => {
                    metrics::count(metrics::CANCELLATIONS, 1);
                    metrics::count(metrics::PROMOTIONS, usize::from(promoted.is_some()));
                    return Ok(Some(Cancelled { registration, promoted }));
                }
                Err(cancelled) if !cancelled.condition_failed(0) => {
                    // The event is gone or going, or the seats changed meanwhile.
                    if self.find_event(event_id).await?.is_none() {
                        self.remove_orphan(&registration).await?;
                        return Ok(Some(Cancelled { registration, promoted: None }));
                    }
                }
                Err(_) => {}
            }
        }
    }

    /// The writes that cancel `registration`, and who is promoted by them. A waiter leaves the
    /// queue; a confirmed seat passes to the head of the queue, or is given back when nobody
    /// waits. When the event is gone it has no shards: the shard update fails, and the caller
    /// cleans the registration up.
    async fn cancellation(
        &self,
        registration: &RegistrationRecord,
    ) -> Result<(Vec<Write>, Option<Id>), StoreError> {
        let event_id = registration.event_id;
        let checked_in_at = registration.ticket.checked_in_at;
        let remove = Write::delete(keys::registration(event_id, registration.user_id)).when(
            conditions::registration_is(registration.status, &registration.seq)
                .and(conditions::checked_in_as_read(checked_in_at)),
        );
        let mut changes = vec![(Instant::now(), Counted::Cancelled)];
        changes.extend(checked_in_at.map(|at| (at, Counted::CheckInUndone)));
        let day_counts = stats::counts(event_id, registration.shard, &changes);
        if registration.status == RegistrationStatus::Waitlisted {
            let entry =
                Write::delete(keys::waitlist_entry(event_id, registration.user_id, &registration.seq));
            let counted = one_fewer_waiting(event_id, registration.shard, conditions::live());
            let mut writes = vec![remove, entry, counted];
            writes.extend(day_counts);
            return Ok((writes, None));
        }
        let (title, seats) = match self.event_with_seats(event_id).await? {
            Some((event, seats)) => (event.title, seats),
            None => (String::new(), Seats::default()),
        };
        let head = match seats.waiting() {
            0 => None,
            _ => self.waitlist_head(event_id, 1).await?.pop(),
        };
        let mut writes = vec![remove];
        let promoted = match head {
            Some(next) => {
                // The seat passes to the head of the queue and stays taken.
                writes.extend(promotion(event_id, &next, registration.shard, &title, Instant::now())?);
                let counted = conditions::live().and(conditions::someone_waiting());
                writes.push(one_fewer_waiting(event_id, next.shard, counted));
                Some(next.user_id)
            }
            None => {
                writes.extend(seat_given_back(registration, &seats));
                None
            }
        };
        writes.extend(day_counts);
        Ok((writes, promoted))
    }

    /// Deletes what is left of a registration whose event is gone.
    async fn remove_orphan(&self, registration: &RegistrationRecord) -> Result<(), StoreError> {
        let (event, user) = (registration.event_id, registration.user_id);
        self.write(Write::delete(keys::registration(event, user))).await?.ok();
        self.write(Write::delete(keys::waitlist_entry(event, user, &registration.seq))).await?.ok();
        Ok(())
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
            let writes = promotions(event_id, &head, &seats, &title, Instant::now())?;
            match self.transact(writes).await? {
                Ok(()) => {
                    metrics::count(metrics::PROMOTIONS, head.len());
                    promoted.extend(head.iter().map(|e| e.user_id));
                }
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
