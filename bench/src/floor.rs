//! The storage floor: the bare DynamoDB calls an endpoint needs, made directly with the SDK client
//! (no router, no HTTP, no (de)serialisation of records).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{KeysAndAttributes, ReturnConsumedCapacity, TransactWriteItem};
use shared::domain::upcoming::UpcomingFilter;
use shared::domain::{Id, Instant};
use shared::records::{EventRecord, RegistrationRecord, RegistrationStatus};
use shared::store::items::{IndexKeys, Stored};
use shared::store::tx::Item;
use shared::store::tx::{Write, key_item, n, s, to_item};
use shared::store::upcoming::{Bounds, ReadBudget, batch_size, month_partitions, upcoming_shard_query};
use shared::store::{conditions, keys};

use crate::fixtures::{Result, User};

/// `GET /events/{id}` needs the event with every seat shard's counters, read consistently: one
/// Query of the event's partition (the event and its first shard), then, for an event of more
/// shards, one BatchGetItem of the others, which live in partitions of their own (keys DynamoDB
/// leaves unprocessed are not asked again). Fails when the event item is not there.
pub async fn get_event(client: &Client, table: &str, event: Id, seat_shards: u8) -> Result<()> {
    let out = client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
        .expression_attribute_values(":pk", s(keys::event_pk(event)))
        .expression_attribute_values(":prefix", s(keys::EVENT_ITEMS_PREFIX))
        .consistent_read(true)
        .send()
        .await?;
    if seat_shards > 1 {
        let others = (1..seat_shards).map(|shard| key_item(&keys::seat_shard(event, shard))).collect();
        let keys = KeysAndAttributes::builder().set_keys(Some(others)).consistent_read(true).build()?;
        client.batch_get_item().request_items(table, keys).send().await?;
    }
    let event_sk = s(keys::event(event).sk);
    if !out.items().iter().any(|item| item.get("sk") == Some(&event_sk)) {
        return Err(format!("event {event} is not in the table").into());
    }
    Ok(())
}

/// Who registers for what, for [`registration`].
pub struct Registrant<'a> {
    pub event: Id,
    pub event_starts_at: Instant,
    pub user: Id,
    pub username: &'a str,
    /// The seat shard the seat is taken on.
    pub shard: u8,
}

/// The registration item the store writes for a seat, with its index keys (the user's list in
/// gsi1, the event's in gsi2).
pub fn registration_item(who: &Registrant<'_>, now: Instant) -> Result<shared::store::tx::Item> {
    let seq = Id::new().to_string();
    let record = RegistrationRecord {
        event_id: who.event,
        user_id: who.user,
        username: who.username.to_owned(),
        status: RegistrationStatus::Confirmed,
        seq: seq.clone(),
        shard: who.shard,
        created_at: now,
        event_starts_at: who.event_starts_at,
        ticket: Default::default(),
    };
    let key = keys::registration(who.event, who.user);
    let index = IndexKeys {
        gsi1pk: Some(keys::user_pk(who.user)),
        gsi1sk: Some(keys::user_registration_sk(who.event_starts_at, who.event)),
        gsi2pk: Some(key.pk.clone()),
        gsi2sk: Some(keys::confirmed_order(&seq)),
        ..IndexKeys::default()
    };
    Ok(to_item(&Stored { pk: &key.pk, sk: &key.sk, kind: "registration", index: &index, record: &record })?)
}

/// The transaction a registration for a seat needs: take the seat under the event's conditions,
/// put the registration, check the user. The same items the store writes.
pub fn registration(table: &str, who: &Registrant<'_>, now: Instant) -> Result<Vec<TransactWriteItem>> {
    let item = registration_item(who, now)?;
    let writes = vec![
        Write::update(keys::seat_shard(who.event, who.shard), "SET confirmed_count = confirmed_count + :one")
            .when(conditions::open_for_registration(who.event_starts_at, now).and(conditions::seat_free()))
            .value(":one", n(1))
            .return_old_on_failure(),
        Write::put(item).when(conditions::absent()).return_old_on_failure(),
        Write::check(keys::user(who.user), conditions::named(who.username)),
    ];
    Ok(writes.into_iter().map(|w| w.into_transact(table)).collect::<std::result::Result<_, _>>()?)
}

/// One seat transaction for each of `users` on `event`, their seats taken on its shards in turn
/// (so no shard runs out before the event does).
pub fn seat_registrations(
    table: &str,
    event: &EventRecord,
    users: &[User],
) -> Result<Vec<Vec<TransactWriteItem>>> {
    let shards = usize::from(event.seat_shards.max(1));
    users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let who = Registrant {
                event: event.id,
                event_starts_at: event.starts_at,
                user: user.id,
                username: &user.username,
                shard: (i % shards) as u8,
            };
            registration(table, &who, Instant::now())
        })
        .collect()
}

/// Sends a registration transaction; with `capacity`, returns the units DynamoDB reports.
pub async fn register(client: &Client, items: Vec<TransactWriteItem>, capacity: bool) -> Result<Option<f64>> {
    let mut call = client.transact_write_items().set_transact_items(Some(items));
    if capacity {
        call = call.return_consumed_capacity(ReturnConsumedCapacity::Total);
    }
    let out = call.send().await?;
    Ok(out.consumed_capacity.map(|all| all.iter().filter_map(|c| c.capacity_units).sum()))
}

/// What a run of the upcoming Queries read.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueryStats {
    pub returned: usize,
    pub round_trips: usize,
    pub items_read: usize,
    pub capacity: f64,
}

/// The months from `first` to `last` (`YYYY-MM`), both included.
pub fn months(first: &str, last: &str) -> Vec<String> {
    let parse = |m: &str| {
        let (y, mo) = m.split_once('-').unwrap_or(("9999", "12"));
        (y.parse::<i32>().unwrap_or(9999), mo.parse::<u32>().unwrap_or(12))
    };
    let (mut y, mut m) = parse(first);
    let end = parse(last);
    let mut out = Vec::new();
    while (y, m) <= end && out.len() < 1200 {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// The Queries one page of `GET /events/upcoming` needs, made directly: the time index of the
/// filter (gsi2, or gsi3 for a category), month by month from the lower bound, each month's
/// shards read in parallel rounds with the store's own request (`upcoming_shard_query`), batch
/// size and read budget, until a page (limit + 1) is returned, stopping at `last_month` (the last
/// month holding events). What it leaves out is the store's read of the month directory, the
/// ordering of the shards' answers, and turning items into records.
pub async fn upcoming(
    client: &Client,
    table: &str,
    filter: &UpcomingFilter,
    limit: usize,
    last_month: &str,
    now: Instant,
) -> Result<QueryStats> {
    let budget = ReadBudget::default();
    let lower = filter.from.map_or(now.plus_seconds(1), |from| from.max(now.plus_seconds(1)));
    let lower_sk = format!("{lower}#");
    let upper_sk = filter.to.map(|to| format!("{to}#~"));
    let last = filter.to.map_or(last_month.to_owned(), |to| to.month().min(last_month.to_owned()));
    let bounds = Bounds { lower: &lower_sk, upper: upper_sk.as_deref() };
    let mut stats = QueryStats::default();
    for month in months(&lower.month(), &last) {
        let mut unread: Vec<(String, Option<Item>)> =
            month_partitions(filter, &month).into_iter().map(|pk| (pk, None)).collect();
        while !unread.is_empty() {
            if stats.round_trips >= budget.round_trips
                || stats.items_read >= budget.items
                || stats.capacity >= budget.units
            {
                return Ok(stats);
            }
            let wanted = limit + 1 - stats.returned;
            let batch = batch_size(filter, wanted, budget.items - stats.items_read);
            let reads = unread.iter().map(|(pk, start)| {
                upcoming_shard_query(client, table, filter, pk, bounds)
                    .set_exclusive_start_key(start.clone())
                    .limit(batch as i32)
                    .send()
            });
            let answers = futures::future::join_all(reads).await;
            stats.round_trips += 1;
            let mut still = Vec::new();
            for ((pk, _), answer) in unread.into_iter().zip(answers) {
                let out = answer?;
                stats.items_read += out.scanned_count.max(0) as usize;
                stats.capacity += out.consumed_capacity.and_then(|c| c.capacity_units).unwrap_or(0.0);
                stats.returned += out.items.map_or(0, |i| i.len());
                if let Some(key) = out.last_evaluated_key {
                    still.push((pk, Some(key)));
                }
            }
            if stats.returned > limit {
                stats.returned = limit + 1;
                return Ok(stats);
            }
            unread = still;
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::months;

    #[test]
    fn months_cross_years() {
        assert_eq!(months("2026-11", "2027-02"), ["2026-11", "2026-12", "2027-01", "2027-02"]);
        assert_eq!(months("2027-02", "2027-02"), ["2027-02"]);
        assert!(months("2027-03", "2027-02").is_empty());
    }
}
