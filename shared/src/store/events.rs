//! Events: create, read, edit and delete, and the index entries that keep them listable by
//! organizer, by time, by category and time, and by series.

use aws_sdk_dynamodb::types::AttributeValue;

use super::Store;
use super::batch;
use super::conditions;
use super::error::{StoreError, classify};
use super::event_edits::PendingEdit;
use super::idempotency::Remember;
use super::items::{EventRecord, IndexKeys, SeatShard, Stored};
use super::keys;
use super::seats::{self, Seats};
use super::tx::{Item, Write, from_item, key_item, n, s, to_item};
use crate::domain::Id;

/// Why an edit of an event did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum EditRefused {
    /// The event does not exist (or is being deleted).
    Gone,
    /// Someone else edited it meanwhile; re-read and apply again.
    Changed,
    /// The new capacity is below the seats already confirmed.
    BelowConfirmed { confirmed: u32 },
}

/// The index keys of an event: organizer, time, category and time, series.
pub fn event_index_keys(event: &EventRecord) -> IndexKeys {
    let month = event.starts_at.month();
    let time_sk = keys::time_sk(event.starts_at, event.id);
    let shard = keys::time_shard(event.id);
    IndexKeys {
        gsi1pk: Some(keys::user_pk(event.organizer_id)),
        gsi1sk: Some(keys::organized_sk(event.starts_at, event.id)),
        gsi2pk: Some(keys::time_bucket(&month, shard)),
        gsi2sk: Some(time_sk.clone()),
        gsi3pk: event.category.as_deref().map(|c| keys::category_time_bucket(c, &month, shard)),
        gsi3sk: event.category.as_ref().map(|_| time_sk.clone()),
        gsi4pk: event.series_id.map(keys::series_pk),
        gsi4sk: event.series_id.map(|_| time_sk),
    }
}

pub(crate) fn event_item(event: &EventRecord) -> Result<Item, StoreError> {
    let key = keys::event(event.id);
    to_item(&Stored {
        pk: &key.pk,
        sk: &key.sk,
        kind: "event",
        index: &event_index_keys(event),
        record: event,
    })
}

/// The puts that create an event: the event and its seat shards, none of which may exist yet.
pub(crate) fn new_event_writes(event: &EventRecord) -> Result<Vec<Write>, StoreError> {
    let mut writes = vec![Write::put(event_item(event)?).when(conditions::absent())];
    for shard in seats::fresh_shards(event) {
        writes.push(Write::put(seats::shard_item(event.id, &shard)?).when(conditions::absent()));
    }
    Ok(writes)
}

/// Every key an event's items have: the event and its seat shards.
pub(crate) fn event_keys(event: &EventRecord) -> Vec<keys::Key> {
    let mut all = vec![keys::event(event.id)];
    all.extend((0..event.seat_shards).map(|shard| keys::seat_shard(event.id, shard)));
    all
}

/// The directory entries that let the time index find the month of an event, for all events and
/// for its category. Idempotent puts.
pub(crate) fn bucket_keys(event: &EventRecord) -> Vec<keys::Key> {
    let month = event.starts_at.month();
    let mut entries = vec![keys::bucket_entry(None, &month)];
    if let Some(category) = &event.category {
        entries.push(keys::bucket_entry(Some(category), &month));
    }
    entries
}

/// A directory entry as an item.
pub(crate) fn bucket_item(key: &keys::Key) -> Item {
    let mut item = key_item(key);
    item.insert("type".into(), s("time_bucket"));
    item
}

/// The event item rewritten as `next`, index keys included, on condition it is still `current`'s
/// version.
fn event_rewrite(current: &EventRecord, next: &EventRecord) -> Write {
    let index = event_index_keys(next);
    let mut set = vec![
        ("title", s(&next.title)),
        ("title_search", s(&next.title_search)),
        ("starts_at", s(next.starts_at.to_string())),
        ("timezone", s(&next.timezone)),
        ("location", s(&next.location)),
        ("location_search", s(&next.location_search)),
        ("capacity", n(next.capacity)),
        ("waitlist_enabled", AttributeValue::Bool(next.waitlist_enabled)),
        ("visibility", s(next.visibility.as_str())),
        ("version", n(next.version)),
        ("updated_at", s(next.updated_at.to_string())),
    ];
    let mut remove = Vec::new();
    let optional = [
        ("description", next.description.clone()),
        ("ends_at", next.ends_at.map(|e| e.to_string())),
        ("category", next.category.clone()),
        ("gsi1sk", index.gsi1sk.clone()),
        ("gsi2pk", index.gsi2pk.clone()),
        ("gsi2sk", index.gsi2sk.clone()),
        ("gsi3pk", index.gsi3pk.clone()),
        ("gsi3sk", index.gsi3sk.clone()),
    ];
    for (attribute, value) in optional {
        match value {
            Some(v) => set.push((attribute, s(v))),
            None => remove.push(attribute),
        }
    }
    Write::set_fields(keys::event(next.id), set, remove)
        .when(conditions::event_version(current.version))
        .return_old_on_failure()
}

/// Each seat shard given its new capacity and the facts it copies from `next`, on condition it
/// has not given more seats than that.
fn shard_rewrites(next: &EventRecord, seats: &Seats, capacities: Vec<u32>) -> Vec<Write> {
    seats
        .shards
        .iter()
        .zip(capacities)
        .map(|(shard, capacity)| {
            Write::set_fields(
                keys::seat_shard(next.id, shard.shard),
                vec![
                    ("capacity", n(capacity)),
                    ("waitlist_enabled", AttributeValue::Bool(next.waitlist_enabled)),
                    ("starts_at", s(next.starts_at.to_string())),
                ],
                vec![],
            )
            .when(conditions::capacity_covers_confirmed(capacity))
            .return_old_on_failure()
        })
        .collect()
}

impl Store {
    /// The directory entries `events` need that this process has not written yet (see
    /// [`super::directory`]): the puts to add to the transaction that writes them.
    pub(crate) fn directory_entries(&self, events: &[&EventRecord]) -> Vec<keys::Key> {
        self.directory.unwritten(events.iter().flat_map(|event| bucket_keys(event)))
    }

    /// Runs `writes` with puts of the directory `entries` added; once it commits, the entries are
    /// known written.
    pub(crate) async fn transact_with_directory(
        &self,
        mut writes: Vec<Write>,
        entries: Vec<keys::Key>,
        remember: Option<Remember>,
    ) -> Result<Result<(), super::error::Cancelled>, StoreError> {
        writes.extend(entries.iter().map(|key| Write::put(bucket_item(key))));
        let outcome = self.transact_remembering(writes, remember).await?;
        if outcome.is_ok() {
            self.directory.wrote(&entries);
        }
        Ok(outcome)
    }

    /// Writes a new event, checking in the same transaction that its organizer still exists,
    /// and remembering its answer when the request carried an idempotency key.
    pub async fn create_event(
        &self,
        event: &EventRecord,
        remember: Option<Remember>,
    ) -> Result<bool, StoreError> {
        let mut writes = vec![Write::check(keys::user(event.organizer_id), conditions::exists())];
        writes.extend(new_event_writes(event)?);
        let entries = self.directory_entries(&[event]);
        Ok(self.transact_with_directory(writes, entries, remember).await?.is_ok())
    }

    /// An event by id with its counters, read consistently: for an event of one seat shard, one
    /// Query of its partition, which costs what a GetItem of the event alone would while the two
    /// fit in 4 KB (a Query's units count the bytes read together); an event of more shards reads
    /// the others with one BatchGetItem. An event being deleted is already gone.
    pub async fn find_event(&self, id: Id) -> Result<Option<EventRecord>, StoreError> {
        Ok(match self.event_with_seats(id).await? {
            Some((event, seats)) if !event.deleting && !seats.shards.is_empty() => {
                Some(event.with_counters(&seats.shards))
            }
            _ => None,
        })
    }

    /// An event by id with its counters, whether or not it is being deleted: for finishing a
    /// deletion that was cut short.
    pub async fn find_event_as_stored(&self, id: Id) -> Result<Option<EventRecord>, StoreError> {
        Ok(self.event_with_seats(id).await?.map(|(event, seats)| event.with_counters(&seats.shards)))
    }

    /// An event as stored (being deleted or not) with its seat shards, read consistently: one
    /// Query of its partition (the event and its first shard), then, for an event of more shards,
    /// one BatchGetItem of the others; `None` when the event item is gone.
    pub(crate) async fn event_with_seats(
        &self,
        id: Id,
    ) -> Result<Option<(EventRecord, seats::Seats)>, StoreError> {
        let out = self
            .partition(None, keys::event_pk(id), Some(keys::EVENT_ITEMS_PREFIX))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let (mut event, mut seats) = (None, seats::Seats::default());
        for item in out.items.unwrap_or_default() {
            let sk = item.get(keys::SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            if sk.starts_with(keys::SEATS_PREFIX) {
                seats.shards.push(from_item::<SeatShard>(item)?);
            } else {
                event = Some(from_item::<EventRecord>(item)?);
            }
        }
        let Some(event) = event else { return Ok(None) };
        seats.shards.extend(self.read_shards(id, 1..event.seat_shards).await?);
        seats.shards.sort_by_key(|shard| shard.shard);
        Ok(Some((event, seats)))
    }

    /// `events` with their counters, read eventually consistently (a list shows counts as they
    /// were a moment ago; a single event is read consistently): every shard of every event in
    /// BatchGetItem calls, at half a unit each.
    pub async fn with_counters(&self, events: Vec<EventRecord>) -> Result<Vec<EventRecord>, StoreError> {
        // Each shard's partition key names one shard of one event.
        let (mut keys, mut owners) = (Vec::new(), std::collections::HashMap::new());
        for event in &events {
            for shard in 0..event.seat_shards.max(1) {
                let key = keys::seat_shard(event.id, shard);
                owners.insert(key.pk.clone(), event.id);
                keys.push(key);
            }
        }
        let mut shards: std::collections::HashMap<Id, Vec<SeatShard>> = Default::default();
        for item in self.batch_get(&keys, None, batch::Consistency::Eventual).await? {
            let pk = item.get(keys::PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let Some(&event) = owners.get(&pk) else { continue };
            shards.entry(event).or_default().push(from_item::<SeatShard>(item)?);
        }
        Ok(events
            .into_iter()
            .map(|event| match shards.get(&event.id) {
                Some(found) => event.with_counters(found),
                None => event,
            })
            .collect())
    }

    /// Saves an edit computed by [`edited`] from `current`. Only the writable fields and index
    /// keys are set: the counters, which registrations change concurrently, are never written
    /// here. `version` makes a concurrent edit a refusal. When the edit changes a fact the seat
    /// shards keep a copy of (capacity, waitlist, start), the same transaction updates every
    /// shard: the new capacity is split over them above the seats each has confirmed, on
    /// condition none has confirmed more meanwhile. The same transaction records what the edit
    /// leaves to do ([`PendingEdit`]), so that it is done even if this process stops next.
    pub async fn save_event_edit(
        &self,
        current: &EventRecord,
        next: &EventRecord,
    ) -> Result<Result<PendingEdit, EditRefused>, StoreError> {
        let pending = PendingEdit::of(current, next);
        let mut writes = vec![event_rewrite(current, next)];
        let copied = |e: &EventRecord| (e.capacity, e.waitlist_enabled, e.starts_at);
        if copied(current) != copied(next) {
            let seats = self.find_seats(next.id).await?;
            let Some(capacities) = seats::redistribute(&seats.shards, next.capacity) else {
                let confirmed = seats.shards.iter().map(|s| s.confirmed_count).sum();
                return Ok(Err(EditRefused::BelowConfirmed { confirmed }));
            };
            writes.extend(shard_rewrites(next, &seats, capacities));
        }
        writes.push(pending.write()?);
        let entries = self.directory_entries(&[next]);
        let cancelled = match self.transact_with_directory(writes, entries, None).await? {
            Ok(()) => return Ok(Ok(pending)),
            Err(cancelled) => cancelled,
        };
        if cancelled.condition_failed(0) {
            let Some(old) = cancelled.old_item(0).cloned() else {
                return Ok(Err(EditRefused::Gone));
            };
            let old: EventRecord = from_item(old)?;
            return Ok(Err(if old.deleting { EditRefused::Gone } else { EditRefused::Changed }));
        }
        // A shard refused: the event is going, or a registration took a seat the split gave
        // away; read again and split anew.
        let gone = (1..cancelled.reasons.len())
            .filter_map(|i| cancelled.old_item(i))
            .map(|old| from_item::<SeatShard>(old.clone()).map(|shard| shard.deleting))
            .collect::<Result<Vec<bool>, _>>()?;
        Ok(Err(if gone.contains(&true) { EditRefused::Gone } else { EditRefused::Changed }))
    }

    /// The users registered for an event, confirmed or waiting.
    pub async fn registrants(&self, event: Id) -> Result<Vec<Id>, StoreError> {
        let items = self.group_items(event, keys::REGISTRATION_PREFIX, "user_id").await?;
        Ok(items
            .iter()
            .filter_map(|item| item.get("user_id").and_then(|v| v.as_s().ok()).and_then(|raw| Id::parse(raw)))
            .collect())
    }

    /// Writes many events at once, without the per-event transaction (no organizer check): for
    /// seeding a table and for benchmarks. Batches of 25, a few at a time.
    pub async fn import_events(&self, events: &[EventRecord]) -> Result<(), StoreError> {
        let mut items = Vec::with_capacity(events.len() + 16);
        let mut buckets = std::collections::BTreeMap::new();
        for event in events {
            items.push(event_item(event)?);
            for shard in seats::fresh_shards(event) {
                items.push(seats::shard_item(event.id, &shard)?);
            }
            for write in bucket_keys(event) {
                buckets.insert((write.pk.clone(), write.sk.clone()), write);
            }
        }
        items.extend(buckets.values().map(bucket_item));
        let requests = items.into_iter().map(batch::put).collect::<Result<Vec<_>, _>>()?;
        self.write_batches(requests, 8).await?;
        self.directory.wrote(&buckets.into_values().collect::<Vec<_>>());
        Ok(())
    }

    /// Every event organised by a user (for deleting the user).
    pub async fn events_organized_by(&self, user: Id) -> Result<Vec<EventRecord>, StoreError> {
        let items = self.owned_by(user, keys::ORGANIZED_PREFIX).await?;
        items.into_iter().map(from_item).collect()
    }

    /// Deletes every item of a partition except those whose sort key begins with `keep`, 25 per
    /// batch and a few batches at a time, retrying what DynamoDB hands back unprocessed.
    pub(crate) async fn purge_partition(&self, pk: &str, keep: Option<&str>) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let page = self
                .partition(None, pk, None)
                .projection_expression("pk, sk")
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .limit(500)
                .send()
                .await
                .map_err(classify)?;
            let deletes = page
                .items
                .unwrap_or_default()
                .into_iter()
                .filter(|item| {
                    item.get("sk")
                        .and_then(|v| v.as_s().ok())
                        .is_none_or(|sk| keep.is_none_or(|keep| !sk.starts_with(keep)))
                })
                .map(batch::delete)
                .collect::<Result<Vec<_>, _>>()?;
            self.write_batches(deletes, 4).await?;
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }
}
