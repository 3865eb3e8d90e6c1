//! Upcoming events: the time index, read bucket by bucket.
//!
//! Events are indexed by month of `starts_at` (gsi2: `TIME#<yyyy-mm>`; gsi3 per category:
//! `TIME#<category>#<yyyy-mm>`), sorted by `<starts_at>#<id>`. No partition takes every event,
//! and a date range is a key condition, not a filter. A small directory (`BUCKETS`) lists the
//! months that hold events, so empty months cost nothing.
//!
//! A page is filled even when substring filters are selective: the store keeps reading the index
//! until it has `limit` matches, but never more than a budget of items and round trips per
//! request. When the budget runs out first, the page is shorter and the cursor resumes exactly
//! where reading stopped. Either way the cursor is a position in (`starts_at`, `id`) order, so
//! walking all pages yields each match once, in order.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::Store;
use super::cursor::StartKey;
use super::directory::{Listing, Lookup};
use super::error::{StoreError, classify};
use super::items::EventRecord;
use super::keys;
use super::tx::{Item, from_item, s};
use crate::domain::Instant;
use crate::domain::upcoming::UpcomingFilter;
use crate::http::pagination::{Page, PageRequest};

/// Items the index may hand us per request, and round trips, before we answer with what we have.
#[derive(Clone, Copy, Debug)]
pub struct ReadBudget {
    pub items: usize,
    pub round_trips: usize,
    /// Read capacity units, as DynamoDB reports them consumed: items vary in size (a long
    /// description weighs more), so a count of items alone does not bound what a page costs. No
    /// Query starts once these are spent, so a request reads at most this plus one batch.
    pub units: f64,
}

impl Default for ReadBudget {
    fn default() -> Self {
        ReadBudget { items: 2000, round_trips: 40, units: 64.0 }
    }
}

impl ReadBudget {
    /// Whether a request that has read `stats` may send another Query.
    fn allows_more(&self, stats: &ReadStats) -> bool {
        stats.round_trips < self.round_trips && stats.items_read < self.items && stats.units < self.units
    }
}

/// What one request cost: for logs and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReadStats {
    pub round_trips: usize,
    pub items_read: usize,
    /// Read capacity units the index Queries consumed.
    pub units: f64,
}

impl ReadStats {
    /// Counts one Query's answer.
    fn add(&mut self, out: &QueryOutput) {
        self.round_trips += 1;
        self.items_read += out.scanned_count.max(0) as usize;
        self.units += out.consumed_capacity.as_ref().and_then(|c| c.capacity_units).unwrap_or(0.0);
    }
}

/// Which index a filter reads.
struct IndexPlan {
    index: &'static str,
    pk_attribute: &'static str,
    sk_attribute: &'static str,
    category: Option<&'static str>,
}

impl IndexPlan {
    fn for_filter(filter: &UpcomingFilter) -> Self {
        match filter.category {
            Some(category) => IndexPlan {
                index: keys::GSI3,
                pk_attribute: "gsi3pk",
                sk_attribute: "gsi3sk",
                category: Some(category.slug),
            },
            None => IndexPlan {
                index: keys::GSI2,
                pk_attribute: "gsi2pk",
                sk_attribute: "gsi2sk",
                category: None,
            },
        }
    }

    fn bucket(&self, month: &str) -> String {
        match self.category {
            Some(category) => keys::category_time_bucket(category, month),
            None => keys::time_bucket(month),
        }
    }

    fn directory_entry(&self, month: &str) -> String {
        keys::bucket_entry(self.category, month).sk
    }

    /// The position of an item, as a cursor.
    fn position(&self, month: &str, item: &Item) -> StartKey {
        StartKey::of_item(item, Some(self.index)).unwrap_or_default().with(BUCKET, month)
    }
}

/// The cursor field naming the month being read.
const BUCKET: &str = "_bucket";
/// Sorts after every id character, to make an inclusive upper bound on `starts_at`.
const AFTER_ANY_ID: &str = "#~";
const LAST_MONTH: &str = "9999-12";

impl Store {
    /// One page of upcoming events matching `filter`, in (`starts_at`, `id`) order, with their
    /// counters.
    pub async fn upcoming(
        &self,
        filter: &UpcomingFilter,
        page: &PageRequest,
        now: Instant,
    ) -> Result<(Page<EventRecord>, ReadStats), StoreError> {
        let (found, stats) = self.upcoming_events(filter, page, now).await?;
        Ok((Page { results: self.with_counters(found.results).await?, next: found.next }, stats))
    }

    /// The events of [`Store::upcoming`], read from the time index, without their counters.
    async fn upcoming_events(
        &self,
        filter: &UpcomingFilter,
        page: &PageRequest,
        now: Instant,
    ) -> Result<(Page<EventRecord>, ReadStats), StoreError> {
        let plan = IndexPlan::for_filter(filter);
        let budget = self.read_budget;
        let limit = page.limit.get();
        let lower = filter.from.map_or(now.plus_seconds(1), |from| from.max(now.plus_seconds(1)));
        let lower_sk = format!("{lower}#");
        let upper_sk = filter.to.map(|to| format!("{to}{AFTER_ANY_ID}"));
        let last_month = filter.to.map_or(LAST_MONTH.to_owned(), |to| to.month());
        let mut stats = ReadStats::default();
        let mut results: Vec<(EventRecord, StartKey)> = Vec::new();
        if upper_sk.as_ref().is_some_and(|upper| *upper < lower_sk) {
            // The range ends before it starts (its end has passed): nothing to read.
            return Ok((finish(results, None), stats));
        }

        // Where to resume: a month, and maybe a key inside it.
        let mut first_month = lower.month();
        let mut resume: Option<StartKey> = None;
        if let Some(start) = &page.start {
            let month = start.get(BUCKET).unwrap_or_default().to_owned();
            if month > first_month {
                first_month = month;
                resume = Some(start.clone());
            } else if month == first_month {
                resume = Some(start.clone());
            }
        }
        // A resume key before the lower bound (events started meanwhile) is just the bound.
        let resume_sk = resume.as_ref().and_then(|r| r.get(plan.sk_attribute).map(str::to_owned));
        if resume_sk.as_deref().is_some_and(|sk| sk < lower_sk.as_str()) {
            resume = None;
        }
        let mut resume = resume.filter(|r| r.get(keys::PK).is_some());

        let mut directory_from = plan.directory_entry(&first_month);
        let directory_to = plan.directory_entry(&last_month);
        let bounds = Bounds { lower: &lower_sk, upper: upper_sk.as_deref() };
        let bucket_query = |month: &str, start: Option<Item>, batch: usize| {
            upcoming_bucket_query(self.client(), &self.table, filter, month, bounds, start, batch)
        };
        // Unless this process read the directory a moment ago, the first month's bucket is read
        // alongside it: most pages come from it, and waiting for the directory first would add a
        // round trip's latency to every page. The answer is used only if the directory does list
        // that month first.
        let mut early: Option<(String, QueryOutput)> = None;
        // Not worth a read when no month is in range; and DynamoDB rejects a start key outside
        // the key condition.
        let early_is_valid =
            directory_from <= directory_to && !(resume.is_some() && resume_sk_beyond(&upper_sk, &resume_sk));
        loop {
            if stats.round_trips >= budget.round_trips {
                let next = results.last().map(|(_, key)| key.clone()).or_else(|| {
                    Some(
                        StartKey::default()
                            .with(BUCKET, directory_from.rsplit('#').next().unwrap_or(LAST_MONTH)),
                    )
                });
                return Ok((finish(results, next), stats));
            }
            let Listing { mut months, more: more_months } = match self
                .cached_directory(&directory_from, &directory_to)
            {
                Ok(listing) => listing,
                Err(generation) if stats.round_trips == 0 && early_is_valid => {
                    let start = resume.as_ref().map(StartKey::item_key);
                    let batch = batch_size(filter, limit + 1, budget.items);
                    let first = bucket_query(&first_month, start, batch).send();
                    let (directory, first) =
                        tokio::join!(self.read_directory(&directory_from, &directory_to, generation), first);
                    let first = first.map_err(classify)?;
                    stats.round_trips += 1;
                    stats.add(&first);
                    early = Some((first_month.clone(), first));
                    directory?
                }
                Err(generation) => {
                    stats.round_trips += 1;
                    self.read_directory(&directory_from, &directory_to, generation).await?
                }
            };
            if resume.is_some() && months.first() != Some(&first_month) {
                // The cursor was taken in `first_month`, so that month holds events even when
                // this listing does not show it (read by another process a moment before the
                // month's first event): resume there, not in whatever month is listed first.
                months.insert(0, first_month.clone());
            }
            for month in &months {
                let mut start: Option<HashMap<String, AttributeValue>> = resume.take().map(|r| r.item_key());
                if start.is_some() && resume_sk_beyond(&upper_sk, &resume_sk) {
                    continue;
                }
                loop {
                    let out = match early.take() {
                        // Already read alongside the directory, and already counted.
                        Some((early_month, out)) if early_month == *month => out,
                        _ => {
                            if !budget.allows_more(&stats) {
                                let next = resume_point(&results, limit, month, start.as_ref());
                                return Ok((finish(results, next), stats));
                            }
                            let wanted = limit + 1 - results.len();
                            let batch = batch_size(filter, wanted, budget.items - stats.items_read);
                            let out =
                                bucket_query(month, start.clone(), batch).send().await.map_err(classify)?;
                            stats.add(&out);
                            out
                        }
                    };
                    for item in out.items.unwrap_or_default() {
                        if results.len() == limit {
                            // One match more than the page holds: there is a next page.
                            let next = results.last().map(|(_, key)| key.clone());
                            return Ok((finish(results, next), stats));
                        }
                        let key = plan.position(month, &item);
                        results.push((from_item(item)?, key));
                    }
                    match out.last_evaluated_key {
                        Some(key) => start = Some(key),
                        None => break,
                    }
                }
            }
            match (more_months, months.last()) {
                (true, Some(last)) => directory_from = format!("{}~", plan.directory_entry(last)),
                _ => return Ok((finish(results, None), stats)),
            }
        }
    }

    /// Months of the directory between two entries as this process last read them, if lately;
    /// else the generation to remember a fresh read under. An empty range needs no read.
    fn cached_directory(&self, from: &str, to: &str) -> Result<Listing, u64> {
        if from > to {
            return Ok(Listing::default());
        }
        match self.directory.get(from, to) {
            Lookup::Hit(listing) => Ok(listing),
            Lookup::Miss { generation } => Err(generation),
        }
    }

    /// Months of the directory between two entries, at most 50 at a time, read from DynamoDB.
    async fn read_directory(&self, from: &str, to: &str, generation: u64) -> Result<Listing, StoreError> {
        let out = self
            .client()
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(keys::BUCKETS_PK))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .limit(50)
            // Kept for a second: it should not be older than the read.
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let months = out
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| item.get(keys::SK).and_then(|v| v.as_s().ok()))
            .filter_map(|sk| sk.rsplit('#').next().map(str::to_owned))
            .collect();
        let listing = Listing { months, more: out.last_evaluated_key.is_some() };
        self.directory.remember(generation, from, to, &listing);
        Ok(listing)
    }
}

/// The sort-key range of a request: from the lower bound, up to the upper one if any.
#[derive(Clone, Copy)]
pub struct Bounds<'a> {
    pub lower: &'a str,
    pub upper: Option<&'a str>,
}

/// The Query of one month's bucket that a page of upcoming events sends: events in `bounds`
/// that pass the substring filters, reading at most `batch` index items. Public so that a
/// benchmark can time exactly this request on its own.
pub fn upcoming_bucket_query(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    filter: &UpcomingFilter,
    month: &str,
    bounds: Bounds<'_>,
    start: Option<Item>,
    batch: usize,
) -> QueryFluentBuilder {
    let plan = IndexPlan::for_filter(filter);
    let mut query = client
        .query()
        .table_name(table)
        .index_name(plan.index)
        .expression_attribute_names("#pk", plan.pk_attribute)
        .expression_attribute_names("#sk", plan.sk_attribute)
        .expression_attribute_values(":bucket", s(plan.bucket(month)))
        .expression_attribute_values(":lower", s(bounds.lower))
        .limit(batch as i32)
        .set_exclusive_start_key(start)
        .return_consumed_capacity(ReturnConsumedCapacity::Total);
    query = match bounds.upper {
        Some(upper) => query
            .key_condition_expression("#pk = :bucket AND #sk BETWEEN :lower AND :upper")
            .expression_attribute_values(":upper", s(upper)),
        None => query.key_condition_expression("#pk = :bucket AND #sk >= :lower"),
    };
    let mut conditions = vec!["attribute_not_exists(deleting)"];
    if let Some(title) = &filter.title {
        conditions.push("contains(title_search, :title)");
        query = query.expression_attribute_values(":title", s(title));
    }
    if let Some(location) = &filter.location {
        conditions.push("contains(location_search, :location)");
        query = query.expression_attribute_values(":location", s(location));
    }
    query.filter_expression(conditions.join(" AND "))
}

/// How many index items to ask for when `wanted` more matches are needed: just those without
/// substring filters, more with them (most items will not match), never beyond what the budget
/// has `left`. Public for the same reason as [`upcoming_bucket_query`].
pub fn batch_size(filter: &UpcomingFilter, wanted: usize, left: usize) -> usize {
    let batch = if filter.title.is_some() || filter.location.is_some() { wanted.max(100) } else { wanted };
    batch.min(left).max(1)
}

/// Where the next page starts when the read budget runs out while reading `month` from
/// `start`: after the last result of a full page, else where reading stopped.
fn resume_point(
    results: &[(EventRecord, StartKey)],
    limit: usize,
    month: &str,
    start: Option<&Item>,
) -> Option<StartKey> {
    if results.len() == limit {
        return results.last().map(|(_, key)| key.clone());
    }
    let stopped_at = start.and_then(StartKey::from_item_key).unwrap_or_default();
    Some(stopped_at.with(BUCKET, month))
}

fn resume_sk_beyond(upper_sk: &Option<String>, resume_sk: &Option<String>) -> bool {
    matches!((upper_sk, resume_sk), (Some(upper), Some(sk)) if sk > upper)
}

fn finish(results: Vec<(EventRecord, StartKey)>, next: Option<StartKey>) -> Page<EventRecord> {
    Page { results: results.into_iter().map(|(event, _)| event).collect(), next }
}
