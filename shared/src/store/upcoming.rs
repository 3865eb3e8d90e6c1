//! Upcoming events: the time index, read month by month, each month's shards merged.
//!
//! Events are indexed by month of `starts_at` (gsi2: `TIME#<yyyy-mm>#<shard>`; gsi3 per
//! category: `TIME#<category>#<yyyy-mm>#<shard>`), sorted by `<starts_at>#<id>`. Each month is
//! spread over [`keys::TIME_SHARDS`] partitions by event id, so that neither the event writes of a
//! busy month nor the page reads of the current one all land on one partition. A date range is a
//! key condition, not a filter. A small directory (`BUCKETS`) lists the months that hold events,
//! so empty months cost nothing.
//!
//! A page merges a month's shards in (`starts_at`, `id`) order: each shard is read a little at a
//! time (all at once, in parallel), and a match is placed on the page only once every shard has
//! been read past it. The page is filled even when substring filters are selective: the store
//! keeps reading until it has `limit` matches, but never beyond a budget of items, read units and
//! rounds of reads per request. When the budget runs out first, the page is shorter and the cursor
//! resumes exactly where placing stopped. Either way the cursor is a position in (`starts_at`,
//! `id`) order (a month and a sort key to start from), so walking all pages yields each match
//! once, in order.

use std::collections::VecDeque;

use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;

use super::Store;
use super::conditions;
use super::cursor::StartKey;
use super::directory::{Listing, Lookup};
use super::error::{StoreError, classify};
use super::items::EventRecord;
use super::keys;
use super::page::{Page, PageRequest};
use super::tx::{Item, from_item, s};
use crate::domain::Instant;
use crate::domain::upcoming::UpcomingFilter;

/// Items the index may hand us per request, read units and rounds of reads, before we answer with
/// what we have.
#[derive(Clone, Copy, Debug)]
pub struct ReadBudget {
    pub items: usize,
    /// Rounds of reads one after the other (the shards of a round are read in parallel), the
    /// directory's included: what the latency of a page grows with.
    pub round_trips: usize,
    /// Read capacity units, as DynamoDB reports them consumed: items vary in size (a long
    /// description weighs more), so a count of items alone does not bound what a page costs. No
    /// round starts once these are spent, so a request reads at most this plus one round.
    pub units: f64,
}

impl Default for ReadBudget {
    fn default() -> Self {
        ReadBudget { items: 2000, round_trips: 40, units: 128.0 }
    }
}

impl ReadBudget {
    /// Whether a request that has read `stats` may start another round.
    fn allows_more(&self, stats: &ReadStats) -> bool {
        stats.round_trips < self.round_trips && stats.items_read < self.items && stats.units < self.units
    }
}

/// What one request cost: for logs and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReadStats {
    /// Rounds of reads one after the other.
    pub round_trips: usize,
    pub items_read: usize,
    /// Read capacity units the index Queries consumed.
    pub units: f64,
}

impl ReadStats {
    /// Counts one Query's answer (its round is counted apart).
    fn add(&mut self, out: &QueryOutput) {
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

    fn directory_entry(&self, month: &str) -> String {
        keys::bucket_entry(self.category, month).sk
    }
}

/// The partitions of a month of the time index a filter reads: one per shard.
pub fn month_partitions(filter: &UpcomingFilter, month: &str) -> Vec<String> {
    (0..keys::TIME_SHARDS)
        .map(|shard| match filter.category {
            Some(category) => keys::category_time_bucket(category.slug, month, shard),
            None => keys::time_bucket(month, shard),
        })
        .collect()
}

/// The cursor field naming the month being read.
const BUCKET: &str = "_bucket";
/// The cursor field holding the sort key to resume from, inclusive.
const FROM: &str = "_from";
/// Sorts after every id character, to make an inclusive upper bound on `starts_at`.
const AFTER_ANY_ID: &str = "#~";
const LAST_MONTH: &str = "9999-12";

/// The smallest sort key after `sk`. Every sort key of the time index has the same shape (a
/// start to the second, `#`, a 26-character id), so none begins with another and `~` (after
/// every character they use) makes a key between `sk` and the next one.
fn just_after(sk: &str) -> String {
    format!("{sk}~")
}

/// One shard of a month, as far as the page has read it.
struct ShardRead {
    pk: String,
    /// Matches read but not yet placed, in order, with their sort keys.
    buffer: VecDeque<(String, Item)>,
    /// Where the next Query continues (DynamoDB's `LastEvaluatedKey`).
    next: Option<Item>,
    /// The last sort key read (matched or not); `None` before the first read.
    read_to: Option<String>,
    exhausted: bool,
}

impl ShardRead {
    /// Whether this shard may hold an unread match that sorts before `sk`.
    fn may_hold_before(&self, sk: &str) -> bool {
        !self.exhausted && self.buffer.is_empty() && self.read_to.as_deref().is_none_or(|read| read < sk)
    }
}

/// What the merge of a month's shards can do next.
enum Step {
    /// The next match of the month, in order.
    Match(String, Item),
    /// These shards must be read further before anything more can be placed.
    Read(Vec<usize>),
    /// Every shard is read to the end and every match placed.
    Done,
}

/// The merge of a month's shards into one ordered stream of matches.
struct MonthMerge {
    shards: Vec<ShardRead>,
    /// Where reading starts (inclusive), the same for every shard.
    from: String,
    sk_attribute: &'static str,
}

impl MonthMerge {
    fn new(partitions: Vec<String>, from: String, sk_attribute: &'static str) -> Self {
        let shards = partitions
            .into_iter()
            .map(|pk| ShardRead { pk, buffer: VecDeque::new(), next: None, read_to: None, exhausted: false })
            .collect();
        MonthMerge { shards, from, sk_attribute }
    }

    fn step(&mut self) -> Step {
        let head = self
            .shards
            .iter()
            .enumerate()
            .filter_map(|(i, shard)| shard.buffer.front().map(|(sk, _)| (sk.clone(), i)))
            .min();
        let Some((sk, first)) = head else {
            let unread: Vec<usize> = (0..self.shards.len()).filter(|&i| !self.shards[i].exhausted).collect();
            return if unread.is_empty() { Step::Done } else { Step::Read(unread) };
        };
        let blocking: Vec<usize> =
            (0..self.shards.len()).filter(|&i| self.shards[i].may_hold_before(&sk)).collect();
        if !blocking.is_empty() {
            return Step::Read(blocking);
        }
        match self.shards[first].buffer.pop_front() {
            Some((sk, item)) => Step::Match(sk, item),
            None => Step::Done,
        }
    }

    /// Takes in what a Query of shard `i` answered.
    fn absorb(&mut self, i: usize, out: QueryOutput) {
        let sk_attribute = self.sk_attribute;
        let shard = &mut self.shards[i];
        let sk_of = |item: &Item| item.get(sk_attribute).and_then(|v| v.as_s().ok()).cloned();
        for item in out.items.unwrap_or_default() {
            if let Some(sk) = sk_of(&item) {
                shard.read_to = Some(sk.clone());
                shard.buffer.push_back((sk, item));
            }
        }
        match out.last_evaluated_key {
            Some(key) => {
                shard.read_to = sk_of(&key).or(shard.read_to.take());
                shard.next = Some(key);
            }
            None => shard.exhausted = true,
        }
    }

    /// Where a later page resumes so that no match of this month is skipped or repeated: the
    /// first match read but not placed, or just past what a shard without one has read. `None`
    /// when every match of the month is placed.
    fn resume_from(&self) -> Option<String> {
        self.shards
            .iter()
            .filter_map(|shard| match shard.buffer.front() {
                Some((sk, _)) => Some(sk.clone()),
                None if shard.exhausted => None,
                None => Some(shard.read_to.as_deref().map_or_else(|| self.from.clone(), just_after)),
            })
            .min()
    }
}

/// A page of upcoming events being gathered: the matches so far, and what reading them cost.
struct Gathering<'a> {
    filter: &'a UpcomingFilter,
    budget: ReadBudget,
    limit: usize,
    /// The sort keys read lie from `lower_sk` to `upper_sk`.
    lower_sk: String,
    upper_sk: Option<String>,
    stats: ReadStats,
    matches: Vec<Item>,
    rounds: usize,
}

impl Gathering<'_> {
    /// Whether another round of reads fits the budget (the first always does, so that every
    /// page makes progress).
    fn may_read(&self) -> bool {
        self.rounds == 0 || self.budget.allows_more(&self.stats)
    }

    /// The page, continued from `next` if given.
    fn done(self, next: Option<StartKey>) -> Result<(Page<EventRecord>, ReadStats), StoreError> {
        Ok((finish(self.matches, next)?, self.stats))
    }
}

/// Where a page begins: a month (or just past one), and maybe a sort key inside it. A cursor
/// before the lower bound's month (events started meanwhile) is just the bound.
fn resume_point(page: &PageRequest, lower_month: String) -> (String, Option<String>) {
    if let Some(start) = &page.start {
        let month = start.get(BUCKET).unwrap_or_default();
        if month >= lower_month.as_str() {
            return (month.to_owned(), start.get(FROM).map(str::to_owned));
        }
    }
    (lower_month, None)
}

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
        let lower = filter.from.map_or(now.plus_seconds(1), |from| from.max(now.plus_seconds(1)));
        let mut gathering = Gathering {
            filter,
            budget: self.read_budget,
            limit: page.limit.get(),
            lower_sk: format!("{lower}#"),
            upper_sk: filter.to.map(|to| format!("{to}{AFTER_ANY_ID}")),
            stats: ReadStats::default(),
            matches: Vec::new(),
            rounds: 0,
        };
        if gathering.upper_sk.as_ref().is_some_and(|upper| *upper < gathering.lower_sk) {
            // The range ends before it starts (its end has passed): nothing to read.
            return gathering.done(None);
        }
        let (first_month, mut resume_from) = resume_point(page, lower.month());
        let last_month = filter.to.map_or(LAST_MONTH.to_owned(), |to| to.month());
        let mut directory_from = plan.directory_entry(&first_month);
        let directory_to = plan.directory_entry(&last_month);
        loop {
            if !gathering.may_read() {
                let past = directory_from.rsplit('#').next().unwrap_or(LAST_MONTH);
                return gathering.done(Some(StartKey::default().with(BUCKET, past)));
            }
            let Listing { mut months, more: more_months } =
                self.months_listed(&directory_from, &directory_to, &mut gathering.stats).await?;
            if resume_from.is_some() && months.first() != Some(&first_month) {
                // The cursor was taken in `first_month`, so that month holds events even when
                // this listing does not show it (read by another process a moment before the
                // month's first event): resume there, not in whatever month is listed first.
                months.insert(0, first_month.clone());
            }
            for month in &months {
                let from = match resume_from.take() {
                    Some(from) if *month == first_month => from.max(gathering.lower_sk.clone()),
                    _ => gathering.lower_sk.clone(),
                };
                if let Some(next) = self.scan_month(&mut gathering, &plan, month, from).await? {
                    return gathering.done(Some(next));
                }
            }
            match (more_months, months.last()) {
                (true, Some(last)) => directory_from = format!("{}~", plan.directory_entry(last)),
                _ => return gathering.done(None),
            }
        }
    }

    /// The months between two directory entries that hold events, from this process's copy of
    /// the directory when it is current, else read (one round trip, counted in `stats`).
    async fn months_listed(
        &self,
        from: &str,
        to: &str,
        stats: &mut ReadStats,
    ) -> Result<Listing, StoreError> {
        match self.cached_directory(from, to) {
            Ok(listing) => Ok(listing),
            Err(generation) => {
                stats.round_trips += 1;
                self.read_directory(from, to, generation).await
            }
        }
    }

    /// Reads `month` from sort key `from` on, its shards merged in start order, into the page;
    /// the cursor to resume at when the page filled up or the read budget ran out in it.
    async fn scan_month(
        &self,
        gathering: &mut Gathering<'_>,
        plan: &IndexPlan,
        month: &str,
        from: String,
    ) -> Result<Option<StartKey>, StoreError> {
        let upper = gathering.upper_sk.clone();
        if upper.as_ref().is_some_and(|upper| from > *upper) {
            return Ok(None);
        }
        let bounds = Bounds { lower: &from, upper: upper.as_deref() };
        let mut merge =
            MonthMerge::new(month_partitions(gathering.filter, month), from.clone(), plan.sk_attribute);
        loop {
            match merge.step() {
                Step::Match(sk, item) => {
                    if gathering.matches.len() == gathering.limit {
                        // One match more than the page holds: there is a next page.
                        return Ok(Some(StartKey::default().with(BUCKET, month).with(FROM, sk)));
                    }
                    gathering.matches.push(item);
                }
                Step::Done => return Ok(None),
                Step::Read(shards) => {
                    if !gathering.may_read() {
                        return Ok(Some(match merge.resume_from() {
                            Some(from) => StartKey::default().with(BUCKET, month).with(FROM, from),
                            None => StartKey::default().with(BUCKET, format!("{month}~")),
                        }));
                    }
                    self.read_round(gathering, &mut merge, &shards, bounds).await?;
                }
            }
        }
    }

    /// One round of reads: the next batch of each of `shards`, all at once.
    async fn read_round(
        &self,
        gathering: &mut Gathering<'_>,
        merge: &mut MonthMerge,
        shards: &[usize],
        bounds: Bounds<'_>,
    ) -> Result<(), StoreError> {
        let wanted = gathering.limit + 1 - gathering.matches.len();
        let left = gathering.budget.items.saturating_sub(gathering.stats.items_read);
        let batch = batch_size(gathering.filter, wanted, left);
        let reads = shards.iter().map(|&i| {
            let shard = &merge.shards[i];
            upcoming_shard_query(self.client(), &self.table, gathering.filter, &shard.pk, bounds)
                .set_exclusive_start_key(shard.next.clone())
                .limit(batch as i32)
                .send()
        });
        let answers = futures::future::join_all(reads).await;
        gathering.rounds += 1;
        gathering.stats.round_trips += 1;
        for (&i, answer) in shards.iter().zip(answers) {
            let out = answer.map_err(classify)?;
            gathering.stats.add(&out);
            merge.absorb(i, out);
        }
        Ok(())
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

/// The Query of one shard partition (`pk`) of a month that a page of upcoming events sends:
/// events in `bounds` that pass the substring filters. The caller sets where it continues and how
/// many items it reads. Public so that a benchmark can time exactly this request on its own.
pub fn upcoming_shard_query(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    filter: &UpcomingFilter,
    pk: &str,
    bounds: Bounds<'_>,
) -> QueryFluentBuilder {
    let plan = IndexPlan::for_filter(filter);
    let mut query = client
        .query()
        .table_name(table)
        .index_name(plan.index)
        .expression_attribute_names("#pk", plan.pk_attribute)
        .expression_attribute_names("#sk", plan.sk_attribute)
        .expression_attribute_values(":bucket", s(pk))
        .expression_attribute_values(":lower", s(bounds.lower))
        .return_consumed_capacity(ReturnConsumedCapacity::Total);
    query = match bounds.upper {
        Some(upper) => query
            .key_condition_expression("#pk = :bucket AND #sk BETWEEN :lower AND :upper")
            .expression_attribute_values(":upper", s(upper)),
        None => query.key_condition_expression("#pk = :bucket AND #sk >= :lower"),
    };
    // Unlisted events are in the time index (the reminders find them there) but in no list.
    let mut matching = conditions::listed();
    if let Some(title) = &filter.title {
        matching = matching.and(conditions::title_contains(title));
    }
    if let Some(location) = &filter.location {
        matching = matching.and(conditions::location_contains(location));
    }
    matching.filtering(query)
}

/// How many index items to ask each shard for when `wanted` more matches are needed: its share
/// of them (plus one, as shards are not evenly filled), or of a hundred with substring filters
/// (most items will not match), never beyond its share of what the budget has `left`. Public for
/// the same reason as [`upcoming_shard_query`].
pub fn batch_size(filter: &UpcomingFilter, wanted: usize, left: usize) -> usize {
    let shards = usize::from(keys::TIME_SHARDS);
    let filtered = filter.title.is_some() || filter.location.is_some();
    let batch = if filtered { wanted.max(100).div_ceil(shards) } else { wanted.div_ceil(shards) + 1 };
    batch.min(left.div_ceil(shards)).max(1)
}

/// The page of events from the matches placed on it.
fn finish(matches: Vec<Item>, next: Option<StartKey>) -> Result<Page<EventRecord>, StoreError> {
    let results = matches.into_iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { results, next })
}
