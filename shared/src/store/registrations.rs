//! Registrations, the waitlist, and the capacity invariant.
//!
//! Every change of a registration changes the event's counters in the same transaction, under
//! conditions DynamoDB checks: a seat is taken only while `confirmed_count < capacity` and nobody
//! waits; a newcomer waits only while the event is full or others already wait; a seat is given
//! back only when nobody waits (otherwise the head of the queue is promoted in the same
//! transaction). So `confirmed_count` never exceeds `capacity`, the counters always equal the
//! stored registrations, and nobody waits while a seat is free, whatever runs concurrently.

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::Store;
use super::deadline;
use super::error::{StoreError, classify};
use super::hints::EventHint;
use super::items::{
    EventCounters, EventRecord, IndexKeys, NotificationKind, RegistrationRecord, RegistrationStatus, Stored,
    WaitlistEntry,
};
use super::keys::{self, Key};
use super::notifications::{notification, notification_write};
use super::query;
use super::tx::{Item, Write, from_item, n, s, to_item};
use crate::domain::{Id, Instant};
use crate::http::pagination::{Page, PageRequest};

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
/// the event, within DynamoDB's 100.
const PROMOTIONS_PER_TRANSACTION: usize = 30;

fn status_value(status: RegistrationStatus) -> AttributeValue {
    s(match status {
        RegistrationStatus::Confirmed => "confirmed",
        RegistrationStatus::Waitlisted => "waitlisted",
    })
}

fn registration_item(r: &RegistrationRecord, order: String) -> Result<Item, StoreError> {
    let key = keys::registration(r.event_id, r.user_id);
    let index = IndexKeys {
        gsi1pk: Some(keys::user_pk(r.user_id)),
        gsi1sk: Some(keys::user_registration_sk(r.event_starts_at, r.event_id)),
        gsi2pk: Some(keys::event_registrations_pk(r.event_id)),
        gsi2sk: Some(order),
        ..IndexKeys::default()
    };
    to_item(&Stored { pk: &key.pk, sk: &key.sk, kind: "registration", index: &index, record: r })
}

fn waitlist_item(event: Id, entry: &WaitlistEntry) -> Result<Item, StoreError> {
    let key = keys::waitlist_entry(event, &entry.seq);
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

/// Turns a waitlisted registration into a confirmed one, if it is still the same waitlisted one,
/// and tells its user in the same transaction.
fn promotion(event: Id, entry: &WaitlistEntry, title: &str, now: Instant) -> Result<Vec<Write>, StoreError> {
    let notice = notification(NotificationKind::Promoted, event, promotion_message(title), now);
    Ok(vec![
        Write::set_fields(
            keys::registration(event, entry.user_id),
            vec![
                ("status", status_value(RegistrationStatus::Confirmed)),
                ("gsi2sk", s(keys::confirmed_order(&Id::new().to_string()))),
            ],
            vec![],
        )
        .condition("#status = :waiting AND seq = :seq")
        .name("#status", "status")
        .value(":waiting", status_value(RegistrationStatus::Waitlisted))
        .value(":seq", s(&entry.seq)),
        Write::delete(keys::waitlist_entry(event, &entry.seq)).condition("attribute_exists(pk)"),
        notification_write(entry.user_id, &notice)?,
    ])
}

impl Store {
    /// The hint for an event, reading its counters when there is none.
    async fn event_hint(&self, event_id: Id) -> Result<Option<EventHint>, StoreError> {
        if let Some(hint) = self.hints.get(event_id) {
            return Ok(Some(hint));
        }
        Ok(self
            .find_counters(event_id)
            .await?
            .filter(|counters| !counters.deleting)
            .map(|counters| self.hints.remember(event_id, &counters)))
    }

    /// Registers a user: one transaction that takes a seat, or joins the waitlist, or finds the
    /// existing registration. See the module documentation for the conditions. When the event
    /// changed since its hint was taken, tries again with what the refusal showed, after a
    /// backoff (retrying at once would race the same writers again), until the request's deadline.
    pub async fn register(
        &self,
        event_id: Id,
        user_id: Id,
        username: &str,
        now: Instant,
    ) -> Result<Result<Registered, RegisterRefused>, StoreError> {
        let mut username = username.to_owned();
        let mut attempt = 0;
        loop {
            attempt += 1;
            if attempt > 1 {
                deadline::pause(attempt - 1, "a registration racing concurrent changes").await?;
            }
            let Some(hint) = self.event_hint(event_id).await? else {
                return Ok(Err(RegisterRefused::NoEvent));
            };
            let status =
                if hint.full { RegistrationStatus::Waitlisted } else { RegistrationStatus::Confirmed };
            let seq = Id::new().to_string();
            let record = RegistrationRecord {
                event_id,
                user_id,
                username: username.clone(),
                status,
                seq: seq.clone(),
                created_at: now,
                event_starts_at: hint.starts_at,
            };
            let open = "attribute_exists(pk) AND attribute_not_exists(deleting) AND starts_at = :start AND starts_at > :now";
            let (event_write, order) = match status {
                RegistrationStatus::Confirmed => (
                    Write::update(keys::event_counters(event_id), "SET confirmed_count = confirmed_count + :one")
                        .condition(format!("{open} AND confirmed_count < #capacity AND waitlist_count = :zero")),
                    keys::confirmed_order(&seq),
                ),
                RegistrationStatus::Waitlisted => (
                    Write::update(keys::event_counters(event_id), "SET waitlist_count = waitlist_count + :one").condition(
                        format!("{open} AND waitlist_enabled = :yes AND (confirmed_count >= #capacity OR waitlist_count > :zero)"),
                    ),
                    keys::waitlisted_order(&seq),
                ),
            };
            let event_write = event_write
                .name("#capacity", "capacity")
                .value(":start", s(hint.starts_at.to_string()))
                .value(":now", s(now.to_string()))
                .value(":one", n(1))
                .value(":zero", n(0))
                .return_old_on_failure();
            let event_write = match status {
                RegistrationStatus::Waitlisted => event_write.value(":yes", AttributeValue::Bool(true)),
                RegistrationStatus::Confirmed => event_write,
            };
            let mut writes = vec![
                event_write,
                Write::put(registration_item(&record, order)?)
                    .condition("attribute_not_exists(pk)")
                    .return_old_on_failure(),
                Write::check(keys::user(user_id), "attribute_exists(pk) AND username = :name")
                    .value(":name", s(&username)),
            ];
            if status == RegistrationStatus::Waitlisted {
                let entry = WaitlistEntry { user_id, seq: seq.clone() };
                writes
                    .push(Write::put(waitlist_item(event_id, &entry)?).condition("attribute_not_exists(pk)"));
            }
            let cancelled = match self.transact(writes).await? {
                Ok(()) => return Ok(Ok(Registered::Created(record))),
                Err(cancelled) => cancelled,
            };
            if cancelled.condition_failed(1) {
                let existing = match cancelled.old_item(1) {
                    Some(item) => from_item(item.clone())?,
                    None => match self.get_record(keys::registration(event_id, user_id)).await? {
                        Some(existing) => existing,
                        None => continue,
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
            let event: EventCounters = match cancelled.old_item(0) {
                Some(item) => from_item(item.clone())?,
                None => match self.find_counters(event_id).await? {
                    Some(event) => event,
                    None => {
                        self.hints.forget(event_id);
                        return Ok(Err(RegisterRefused::NoEvent));
                    }
                },
            };
            self.hints.remember(event_id, &event);
            if event.deleting {
                self.hints.forget(event_id);
                return Ok(Err(RegisterRefused::NoEvent));
            }
            if event.starts_at <= now {
                return Ok(Err(RegisterRefused::Started));
            }
            let seat_free = event.confirmed_count < event.capacity;
            if seat_free && event.waitlist_count > 0 {
                // A promotion was cut short: finish it before anyone new takes a seat.
                self.promote_waitlisted(event_id).await?;
            } else if !seat_free && !event.waitlist_enabled {
                return Ok(Err(RegisterRefused::Full));
            }
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

    /// The first `limit` entries of an event's waitlist, read consistently.
    async fn waitlist_head(&self, event: Id, limit: usize) -> Result<Vec<WaitlistEntry>, StoreError> {
        let out = self
            .partition(None, keys::event_pk(event), Some(keys::WAITLIST_PREFIX))
            .consistent_read(true)
            .limit(limit as i32)
            .send()
            .await
            .map_err(classify)?;
        out.items.unwrap_or_default().into_iter().map(from_item).collect()
    }

    /// 1-based place of a waitlisted registration in its queue, read consistently.
    pub async fn waitlist_position(
        &self,
        registration: &RegistrationRecord,
    ) -> Result<Option<u32>, StoreError> {
        if registration.status != RegistrationStatus::Waitlisted {
            return Ok(None);
        }
        let mut count = 0u32;
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :first AND :mine")
                .expression_attribute_values(":pk", s(keys::event_pk(registration.event_id)))
                .expression_attribute_values(":first", s(keys::WAITLIST_PREFIX))
                .expression_attribute_values(
                    ":mine",
                    s(keys::waitlist_entry(registration.event_id, &registration.seq).sk),
                )
                .select(Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            count += out.count.max(0) as u32;
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(Some(count.max(1)));
            }
        }
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
                .condition("#status = :status AND seq = :seq")
                .name("#status", "status")
                .value(":status", status_value(registration.status))
                .value(":seq", s(&registration.seq));
            let event_key = keys::event_counters(event_id);
            let (writes, promoted) = match registration.status {
                RegistrationStatus::Waitlisted => (
                    vec![
                        remove,
                        Write::delete(keys::waitlist_entry(event_id, &registration.seq)),
                        Write::update(event_key, "SET waitlist_count = waitlist_count - :one")
                            .condition("attribute_exists(pk) AND attribute_not_exists(deleting)")
                            .value(":one", n(1)),
                    ],
                    None,
                ),
                RegistrationStatus::Confirmed => match self.waitlist_head(event_id, 1).await?.pop() {
                    Some(next) => {
                        let title = self.find_event(event_id).await?.map(|e| e.title).unwrap_or_default();
                        let mut writes = vec![remove];
                        writes.extend(promotion(event_id, &next, &title, Instant::now())?);
                        writes.push(
                            Write::update(event_key, "SET waitlist_count = waitlist_count - :one")
                                .condition("attribute_exists(pk) AND attribute_not_exists(deleting)")
                                .value(":one", n(1)),
                        );
                        (writes, Some(next.user_id))
                    }
                    None => (
                        vec![
                            remove,
                            Write::update(event_key, "SET confirmed_count = confirmed_count - :one")
                                .condition("attribute_exists(pk) AND attribute_not_exists(deleting) AND waitlist_count = :zero")
                                .value(":one", n(1))
                                .value(":zero", n(0)),
                        ],
                        None,
                    ),
                },
            };
            let event_index = writes.len() - 1;
            match self.transact(writes).await? {
                Ok(()) => return Ok(Some(Cancelled { registration, promoted })),
                Err(cancelled)
                    if cancelled.condition_failed(event_index) && !cancelled.condition_failed(0) =>
                {
                    // The event is gone or going, or someone joined the waitlist meanwhile.
                    if self.find_event(event_id).await?.is_none() {
                        self.write(Write::delete(keys::registration(event_id, user_id))).await?.ok();
                        self.write(Write::delete(keys::waitlist_entry(event_id, &registration.seq)))
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
    /// thirty. Each transaction is conditioned on the exact counters it read, so concurrent
    /// registrations and cancellations can only make it retry, with backoff, until the request's
    /// deadline is near. Then it stops quietly, as the seats it gave are given and its caller's
    /// own change is made: a seat left free is given by the next registration, which finishes a
    /// promotion cut short before taking a seat. Returns who was promoted.
    pub async fn promote_waitlisted(&self, event_id: Id) -> Result<Vec<Id>, StoreError> {
        let mut promoted = Vec::new();
        let mut failures = 0;
        loop {
            let Some(event) = self.find_event(event_id).await? else { break };
            let free = event.capacity.saturating_sub(event.confirmed_count) as usize;
            let take = free.min(event.waitlist_count as usize).min(PROMOTIONS_PER_TRANSACTION);
            if take == 0 {
                break;
            }
            let head = self.waitlist_head(event_id, take).await?;
            if head.is_empty() {
                break;
            }
            let k = head.len();
            let now = Instant::now();
            let mut writes = Vec::with_capacity(head.len() * 3 + 1);
            for entry in &head {
                writes.extend(promotion(event_id, entry, &event.title, now)?);
            }
            writes.push(
                Write::update(
                    keys::event_counters(event_id),
                    "SET confirmed_count = confirmed_count + :k, waitlist_count = waitlist_count - :k",
                )
                .condition("confirmed_count = :confirmed AND waitlist_count = :waiting AND #capacity = :capacity AND attribute_not_exists(deleting)")
                .name("#capacity", "capacity")
                .value(":k", n(k))
                .value(":confirmed", n(event.confirmed_count))
                .value(":waiting", n(event.waitlist_count))
                .value(":capacity", n(event.capacity)),
            );
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
            query::page(self.partition(Some(keys::GSI2), keys::event_registrations_pk(event), None), page)
                .await?;
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
        let items = query::all(
            self.partition(None, keys::event_pk(event.id), Some(keys::REGISTRATION_PREFIX))
                .projection_expression("pk, sk, user_id")
                .consistent_read(true),
        )
        .await?;
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
                .condition("attribute_exists(pk)");
                self.write(write).await.map(|_| ())
            })
            .buffer_unordered(8)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}
