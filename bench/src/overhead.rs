//! Overhead over the storage floor: each main endpoint through the whole API served in-process,
//! against the bare DynamoDB calls it needs, alternating one with the other in the same run.

use std::collections::BTreeMap;
use std::time::Duration;

use shared::domain::Instant;
use shared::domain::upcoming::UpcomingFilter;

use crate::fixtures::{self, EventSpec, Result, Served};
use crate::floor;
use crate::proxy::{CountingProxy, Counts};
use crate::report::{Report, heading};
use crate::stats::{Bound, Summary, ms, ratio, timed};

/// Samples of one side (API or floor) of one endpoint.
#[derive(Default)]
struct Side {
    times: Vec<Duration>,
    counts: Counts,
    statuses: BTreeMap<u16, usize>,
}

impl Side {
    fn record(&mut self, time: Duration, before: &Counts, after: &Counts, status: u16) {
        self.times.push(time);
        let delta = after.since(before);
        for (op, k) in delta.operations {
            *self.counts.operations.entry(op).or_default() += k;
        }
        *self.statuses.entry(status).or_default() += 1;
    }
}

/// A GET through the API, read whole; its status.
async fn get(http: &reqwest::Client, url: String) -> Result<u16> {
    let response = http.get(url).send().await?;
    let status = response.status().as_u16();
    response.bytes().await?;
    Ok(status)
}

pub struct Context<'a> {
    pub endpoint: &'a str,
    pub proxy: &'a CountingProxy,
    pub http: &'a reqwest::Client,
}

/// What one endpoint's measurement is called, and how many samples it takes.
struct Plan<'a> {
    name: &'a str,
    floor: &'a str,
    warmup: usize,
    bound: Bound,
}

/// A sequential pair of loops, one API request then its floor, `warmup` pairs not recorded.
async fn measure<A, AF, F, FF>(
    plan: Plan<'_>,
    proxy: &CountingProxy,
    mut api: A,
    mut floor_call: F,
    report: &mut Report,
) -> Result<()>
where
    A: FnMut(usize) -> AF,
    AF: std::future::Future<Output = Result<u16>>,
    F: FnMut(usize) -> FF,
    FF: std::future::Future<Output = Result<()>>,
{
    let (mut api_side, mut floor_side) = (Side::default(), Side::default());
    let Plan { name, floor: floor_name, warmup, bound } = plan;
    let bound = Bound { count: bound.count + warmup, time: bound.time };
    for i in bound.iter() {
        let before = proxy.counts();
        let (status, took) = timed(api(i)).await;
        let status = status?;
        let after = proxy.counts();
        if i >= warmup {
            api_side.record(took, &before, &after, status);
        }
        let before = proxy.counts();
        let (done, took) = timed(floor_call(i)).await;
        done?;
        let after = proxy.counts();
        if i >= warmup {
            floor_side.record(took, &before, &after, 200);
        }
    }
    let (Some(a), Some(f)) = (Summary::of(&api_side.times), Summary::of(&floor_side.times)) else {
        return Err(format!("{name}: no samples").into());
    };
    let n = a.count as u64;
    let statuses: Vec<String> = api_side.statuses.iter().map(|(s, k)| format!("{s}×{k}")).collect();
    println!("\n  {name}");
    println!("    API (local::app over HTTP)     {}", a.line());
    println!("    floor: {floor_name:<23} {}", f.line());
    println!("    p50 ratio {}   p99 ratio {}", ratio(a.p50, f.p50), ratio(a.p99, f.p99));
    println!(
        "    DynamoDB round trips per request: API {} ({} in all); floor {}",
        api_side.counts.per(n),
        format_args!("{:.2}", api_side.counts.requests() as f64 / n as f64),
        floor_side.counts.per(f.count as u64)
    );
    println!("    API statuses: {}", statuses.join(", "));
    report.add(
        "overhead",
        name,
        format!(
            "API {} vs floor {} p50 = {} (p99 {}); per request: {}",
            ms(a.p50),
            ms(f.p50),
            ratio(a.p50, f.p50),
            ratio(a.p99, f.p99),
            api_side.counts.per(n)
        ),
    );
    Ok(())
}

pub async fn bench(ctx: &Context<'_>, samples: usize, report: &mut Report) -> Result<()> {
    let warmup = 30;
    heading(
        "Overhead over the storage floor",
        &format!(
            "The whole API (local::app) served in-process on 127.0.0.1, called over HTTP/1.1 keep-alive by one\n\
             client, one request at a time, alternating with the bare SDK calls each endpoint needs, on the same\n\
             table and through the same counting proxy in front of DynamoDB Local. {samples} samples per side\n\
             (after {warmup} warm-up pairs, at most 90 s per endpoint). Round trips are counted by the proxy.\n\
             The floor uses a plain SDK client with the store's timeouts and retries; the API's client also asks\n\
             for consumed capacity on every call (for its request log)."
        ),
    );
    let (table, setup) = fixtures::fresh_table(ctx.endpoint, "overhead").await?;
    let served = Served::start(&table, &ctx.proxy.endpoint).await?;
    let floor_client = fixtures::bare_client(&ctx.proxy.endpoint);
    let client = &floor_client;
    let organizer = fixtures::users(&served.state, "organizer", 1).await?.remove(0);
    let api_users = fixtures::users(&served.state, "apiuser", samples + warmup).await?;
    let floor_users = fixtures::users(&served.state, "flooruser", samples + warmup + 1).await?;
    let now = Instant::now();
    let event = fixtures::event(
        &organizer,
        &EventSpec {
            title: "Rust Lisbon meetup",
            location: "Lisbon",
            category: Some("meetup"),
            starts_at: now.plus_seconds(7 * 86_400),
            capacity: 100_000,
        },
        now,
    )?;
    if !setup.create_event(&event, None).await? {
        return Err("creating the event failed".into());
    }
    // A year of events for the upcoming list.
    let mut upcoming = Vec::new();
    for i in 0..1000i64 {
        let spec = EventSpec {
            title: "Weekly Rust study group",
            location: "Porto",
            category: Some("meetup"),
            starts_at: now.plus_seconds(3600 + i * 31_536),
            capacity: 50,
        };
        upcoming.push(fixtures::event(&organizer, &spec, now)?);
    }
    setup.import_events(&upcoming).await?;
    let last_month = now.plus_seconds(366 * 86_400).month();
    let bound = Bound::new(samples, 90);
    let http = ctx.http;
    let table = table.as_str();
    let (event_id, seat_shards) = (event.id, event.seat_shards);

    // GET /events/{id}
    let url = served.url(&format!("/events/{}", event.id));
    measure(
        Plan { name: "GET /events/{id}", floor: "event Query + shards BatchGetItem", warmup, bound },
        ctx.proxy,
        |_| get(http, url.clone()),
        move |_| floor::get_event(client, table, event_id, seat_shards),
        report,
    )
    .await?;

    // POST /events/{id}/registrations: a new user each time, a seat each time.
    let url = served.url(&format!("/events/{}/registrations", event.id));
    let prepared = floor::seat_registrations(table, &event, &floor_users)?;
    let mut prepared = prepared.into_iter();
    let capacity_sample = prepared.next().expect("one spare registration");
    measure(
        Plan { name: "POST /events/{id}/registrations", floor: "TransactWriteItems", warmup, bound },
        ctx.proxy,
        |i| {
            let (url, token) = (url.clone(), api_users[i].token.clone());
            async move {
                let response = http.post(url).bearer_auth(token).send().await?;
                let status = response.status().as_u16();
                response.bytes().await?;
                Ok(status)
            }
        },
        move |_| {
            let items = prepared.next();
            async move {
                floor::register(client, items.ok_or("out of prepared registrations")?, false).await?;
                Ok(())
            }
        },
        report,
    )
    .await?;

    // GET /events/upcoming
    let url = served.url("/events/upcoming");
    let unfiltered = UpcomingFilter::default();
    measure(
        Plan { name: "GET /events/upcoming", floor: "gsi2 Queries, 21 items", warmup, bound },
        ctx.proxy,
        |_| get(http, url.clone()),
        {
            let (unfiltered, last_month) = (&unfiltered, last_month.as_str());
            move |_| async move {
                floor::upcoming(client, table, unfiltered, 20, last_month, Instant::now()).await?;
                Ok(())
            }
        },
        report,
    )
    .await?;

    // Consumed capacity of the floor calls, as DynamoDB Local reports it.
    let tx = floor::register(client, capacity_sample, true).await?;
    let query = floor::upcoming(client, table, &unfiltered, 20, &last_month, Instant::now()).await?;
    let units = |u: Option<f64>| u.map_or("not reported".to_owned(), |u| format!("{u:.1}"));
    let line = format!(
        "registration TransactWriteItems {}, upcoming Query {}",
        units(tx),
        units((query.capacity > 0.0).then_some(query.capacity))
    );
    println!("\n  Consumed capacity units of the floor calls (DynamoDB Local's accounting): {line}");
    report.add("overhead", "floor capacity units", line);
    Ok(())
}
