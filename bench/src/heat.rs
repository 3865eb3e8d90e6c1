//! A busy day, replayed through the fidelity proxy with capacity metered by partition: sign-ups,
//! events created over three months, registrations spread over them, a rush on one hot event,
//! edits and upcoming pages, each phase through the whole API. For each phase and each of the
//! table and its indexes: the hottest partition key value, its units per operation, and the
//! rate AWS would sustain for that phase before that partition reaches its documented limit
//! (1,000 write units or 3,000 read units a second per partition key value), which is
//! `limit ÷ units per operation` on the hottest key.

use std::collections::BTreeMap;
use std::time::Instant as Clock;

use dynamodb_local::fidelity::throughput::{READ_LIMIT, Units, WRITE_LIMIT};
use dynamodb_local::fidelity::{Behaviours, Fidelity};
use futures::StreamExt;
use rand::Rng;
use serde_json::{Value, json};

use crate::fixtures::{self, Result, Served};
use crate::overhead::Context;
use crate::report::{Report, heading};

/// The size of the day.
pub struct Day {
    pub sign_ups: usize,
    pub events: usize,
    pub attendees: usize,
    pub registrations_each: usize,
    pub hot_registrations: usize,
    pub edits: usize,
    pub pages: usize,
}

impl Default for Day {
    fn default() -> Self {
        Day {
            sign_ups: 100,
            events: 2000,
            attendees: 2000,
            registrations_each: 2,
            hot_registrations: 1000,
            edits: 200,
            pages: 1000,
        }
    }
}

const IN_FLIGHT: usize = 16;

/// One request to replay: method, URL, bearer token, JSON body.
type Request = (reqwest::Method, String, Option<String>, Option<Value>);

/// Sends `requests` with [`IN_FLIGHT`] in flight; returns each answer's status and JSON body, in
/// the order of `requests` (0 when the request could not be sent).
async fn replay(http: &reqwest::Client, requests: Vec<Request>) -> Vec<(u16, Value)> {
    futures::stream::iter(requests)
        .map(|(method, url, token, body)| async move {
            let mut request = http.request(method, url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    (status, response.json().await.unwrap_or_default())
                }
                Err(_) => (0, Value::Null),
            }
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await
}

/// Sends `requests` as [`replay`] does, each from a loopback address of its own (127.1.0.1,
/// 127.1.0.2, …): a day's sign-ups come from many addresses, and the server keeps a tally of
/// sign-ups per address, one partition each.
async fn replay_from_many_addresses(requests: Vec<Request>) -> Vec<(u16, Value)> {
    futures::stream::iter(requests.into_iter().enumerate())
        .map(|(i, request)| async move {
            let address = std::net::Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8);
            match reqwest::Client::builder().no_proxy().local_address(std::net::IpAddr::V4(address)).build() {
                Ok(client) => replay(&client, vec![request]).await.remove(0),
                Err(_) => (0, Value::Null),
            }
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await
}

/// How many answers had each status.
fn statuses(answers: &[(u16, Value)]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for (status, _) in answers {
        *counts.entry(*status).or_default() += 1;
    }
    counts
}

/// The hottest partition of each scope after a phase of `operations` operations, printed and
/// reported with the phase's sustainable rate (the lowest over scopes).
fn hottest(fidelity: &Fidelity, phase: &str, operations: usize, report: &mut Report) {
    let mut by_scope: BTreeMap<String, (String, Units)> = BTreeMap::new();
    let mut totals: BTreeMap<String, Units> = BTreeMap::new();
    for ((scope, partition), units) in fidelity.units() {
        let total = totals.entry(scope.clone()).or_default();
        total.read += units.read;
        total.write += units.write;
        // Hottest: the larger share of its own limit.
        let heat = |u: &Units| (u.write / WRITE_LIMIT).max(u.read / READ_LIMIT);
        let entry = by_scope.entry(scope).or_insert_with(|| (partition.clone(), units));
        if heat(&units) > heat(&entry.1) {
            *entry = (partition, units);
        }
    }
    let ops = operations.max(1) as f64;
    let mut sustainable = f64::INFINITY;
    for (scope, (partition, units)) in &by_scope {
        let (w, r) = (units.write / ops, units.read / ops);
        let rate = (WRITE_LIMIT / w.max(f64::MIN_POSITIVE)).min(READ_LIMIT / r.max(f64::MIN_POSITIVE));
        sustainable = sustainable.min(rate);
        let all = &totals[scope];
        println!(
            "    {scope:<6} hottest {:<34} {w:>7.2} WCU/op {r:>7.2} RCU/op -> {rate:>9.0} ops/s   (whole {scope}: {:.2} WCU/op, {:.2} RCU/op)",
            shorten(partition),
            all.write / ops,
            all.read / ops
        );
    }
    println!("    sustainable on AWS: {sustainable:.0} {phase}/s (the hottest partition at its limit)");
    let hottest = by_scope
        .iter()
        .map(|(scope, (partition, units))| {
            let share = (units.write / ops / WRITE_LIMIT).max(units.read / ops / READ_LIMIT);
            (share, format!("{scope} {}", shorten(partition)))
        })
        .fold((0.0, String::new()), |best, next| if next.0 > best.0 { next } else { best });
    report.add("busy day", phase, format!("{sustainable:.0}/s sustainable (hottest: {})", hottest.1));
}

/// Partition keys carry ids; keep them readable.
fn shorten(partition: &str) -> String {
    if partition.chars().count() > 34 {
        format!("{}…", partition.chars().take(33).collect::<String>())
    } else {
        partition.to_owned()
    }
}

pub async fn bench(ctx: &Context<'_>, day: &Day, report: &mut Report) -> Result<()> {
    heading(
        "Busy day: the hottest partition per phase, and what AWS would sustain",
        &format!(
            "Through the fidelity proxy (capacity metered by partition key, units as AWS documents them), the whole\n\
             API in-process, {IN_FLIGHT} requests in flight: {} sign-ups, each from an address of its own; {} events over three months; {} attendees\n\
             registering for {} random events each; {} registrations on one hot event (capacity 500); {} edits;\n\
             {} upcoming pages (unfiltered, by category, by month). Per phase and per table/index: the hottest\n\
             partition key, its units per operation, and limit ÷ units per operation.",
            day.sign_ups,
            day.events,
            day.attendees,
            day.registrations_each,
            day.hot_registrations,
            day.edits,
            day.pages
        ),
    );
    let (table, _setup) = fixtures::fresh_table(ctx.endpoint, "heat").await?;
    let behaviours = Behaviours { metering: true, ..Behaviours::none() };
    let fidelity = Fidelity::start(&ctx.proxy.endpoint, behaviours).await;
    let served = Served::start(&table, &fidelity.endpoint).await?;
    let http = ctx.http;
    let post = reqwest::Method::POST;
    let started = Clock::now();

    println!("\n  sign-ups ({}):", day.sign_ups);
    fidelity.reset_units();
    let sign_ups = (0..day.sign_ups)
        .map(|i| {
            let body = json!({"username": format!("signup{i}"), "email": format!("signup{i}@example.com"), "password": "correct-horse-battery"});
            (post.clone(), served.url("/users"), None, Some(body))
        })
        .collect();
    println!("    statuses {:?}", statuses(&replay_from_many_addresses(sign_ups).await));
    hottest(&fidelity, "sign-ups", day.sign_ups, report);

    let organizers = fixtures::users(&served.state, "organizer", 40).await?;
    let categories: Vec<&str> = shared::domain::category::ALL.iter().map(|c| c.slug).collect();
    println!("\n  events created ({}):", day.events);
    fidelity.reset_units();
    let creations: Vec<_> = {
        let mut rng = rand::thread_rng();
        (0..day.events)
            .map(|i| {
                let organizer = &organizers[i % organizers.len()];
                let starts =
                    chrono::Utc::now() + chrono::Duration::minutes(rng.gen_range(60 * 24..60 * 24 * 90));
                let body = json!({
                    "title": format!("Event {i}"),
                    "description": "A day of talks, workshops and conversations. ".repeat(8),
                    "starts_at": starts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "location": "Lisbon",
                    "capacity": 200,
                    "category": categories[rng.gen_range(0..categories.len())],
                });
                (post.clone(), served.url("/events"), Some(organizer.token.clone()), Some(body))
            })
            .collect()
    };
    let created = replay(http, creations).await;
    println!("    statuses {:?}", statuses(&created));
    hottest(&fidelity, "event creations", day.events, report);
    // Each event with its organizer (creation i was made by organizer i mod their number).
    let events: Vec<(usize, String)> = created
        .iter()
        .enumerate()
        .filter_map(|(i, (_, body))| Some((i % organizers.len(), body["id"].as_str()?.to_owned())))
        .collect();
    if events.is_empty() {
        return Err("no event could be created".into());
    }

    let attendees = fixtures::users(&served.state, "attendee", day.attendees).await?;
    let spread = day.attendees * day.registrations_each;
    println!("\n  registrations spread over the events ({spread}):");
    fidelity.reset_units();
    let registrations: Vec<_> = {
        let mut rng = rand::thread_rng();
        attendees
            .iter()
            .flat_map(|a| std::iter::repeat_n(a, day.registrations_each))
            .map(|a| {
                let (_, event) = &events[rng.gen_range(0..events.len())];
                (
                    post.clone(),
                    served.url(&format!("/events/{event}/registrations")),
                    Some(a.token.clone()),
                    None,
                )
            })
            .collect()
    };
    println!("    statuses {:?}", statuses(&replay(http, registrations).await));
    hottest(&fidelity, "registrations across events", spread, report);

    println!("\n  registrations on one hot event ({}):", day.hot_registrations);
    let hot_organizer = &organizers[0];
    let hot: Value = http
        .post(served.url("/events"))
        .bearer_auth(&hot_organizer.token)
        .json(&json!({"title": "The hot one", "starts_at": (chrono::Utc::now() + chrono::Duration::days(20)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "location": "Lisbon", "capacity": 500}))
        .send()
        .await?
        .json()
        .await?;
    let hot_id = hot["id"].as_str().ok_or("creating the hot event failed")?.to_owned();
    let crowd = fixtures::users(&served.state, "rusher", day.hot_registrations).await?;
    fidelity.reset_units();
    let rush = crowd
        .iter()
        .map(|u| {
            (
                post.clone(),
                served.url(&format!("/events/{hot_id}/registrations")),
                Some(u.token.clone()),
                None,
            )
        })
        .collect();
    println!("    statuses {:?}", statuses(&replay(http, rush).await));
    hottest(&fidelity, "registrations on one event", day.hot_registrations, report);

    println!("\n  event edits ({}):", day.edits);
    // Only an event's organizer may edit it.
    fidelity.reset_units();
    let edits: Vec<_> = events
        .iter()
        .take(day.edits)
        .enumerate()
        .map(|(i, (organizer, event))| {
            let body = json!({"title": format!("Edited {i}")});
            let token = organizers[*organizer].token.clone();
            (reqwest::Method::PATCH, served.url(&format!("/events/{event}")), Some(token), Some(body))
        })
        .collect();
    println!("    statuses {:?}", statuses(&replay(http, edits).await));
    hottest(&fidelity, "event edits", day.edits, report);

    println!("\n  upcoming pages ({}):", day.pages);
    fidelity.reset_units();
    let pages: Vec<_> = {
        let mut rng = rand::thread_rng();
        (0..day.pages)
            .map(|_| {
                let query = match rng.gen_range(0..3) {
                    0 => "limit=20".to_owned(),
                    1 => format!("limit=20&category={}", categories[rng.gen_range(0..categories.len())]),
                    _ => {
                        let from = chrono::Utc::now() + chrono::Duration::days(rng.gen_range(1..80));
                        format!("limit=20&from={}", from.format("%Y-%m-%d"))
                    }
                };
                (reqwest::Method::GET, served.url(&format!("/events/upcoming?{query}")), None, None)
            })
            .collect()
    };
    println!("    statuses {:?}", statuses(&replay(http, pages).await));
    hottest(&fidelity, "upcoming pages", day.pages, report);
    println!("\n  whole day replayed in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
