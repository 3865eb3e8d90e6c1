//! `GET /events/upcoming` over 100,000 events: latency, round trips and items read per returned
//! page, for an unfiltered list and three filters, against the store called directly and the bare
//! Queries.

use std::time::{Duration, Instant as Clock};

use rand::Rng;
use rand::seq::SliceRandom;
use shared::domain::upcoming::UpcomingFilter;
use shared::domain::{Instant, Limit, category};
use shared::http::PageRequest;
use shared::store::Store;

use crate::fixtures::{self, EventSpec, Result, Served};
use crate::floor;
use crate::overhead::Context;
use crate::proxy::Counts;
use crate::report::{Report, heading};
use crate::stats::{Bound, Summary, ratio, round_trips, timed};

const ADJECTIVES: &[&str] = &[
    "Advanced",
    "Beginner",
    "Hands-on",
    "Intro to",
    "Practical",
    "Modern",
    "Open",
    "Community",
    "Weekend",
    "Evening",
    "Morning",
    "Annual",
    "Monthly",
    "Lightning",
    "Friendly",
];
const TOPICS: &[&str] = &[
    "Rust",
    "Python",
    "Go",
    "Kubernetes",
    "Serverless",
    "Data",
    "Machine Learning",
    "Design",
    "Product",
    "Startup",
    "Jazz",
    "Photography",
    "Yoga",
    "Chess",
    "Wine",
    "Cooking",
    "Running",
    "Climbing",
    "Film",
    "Poetry",
    "Cloud",
    "Security",
    "DevOps",
    "Frontend",
    "Databases",
];
const FORMATS: &[&str] = &[
    "Meetup",
    "Workshop",
    "Conference",
    "Night",
    "Summit",
    "Bootcamp",
    "Festival",
    "Hackathon",
    "Social",
    "Talk",
    "Jam",
    "Session",
];
const CITIES: &[&str] = &[
    "Lisbon",
    "Porto",
    "Madrid",
    "Barcelona",
    "Paris",
    "Lyon",
    "Berlin",
    "Munich",
    "Hamburg",
    "Amsterdam",
    "Rotterdam",
    "Brussels",
    "London",
    "Manchester",
    "Dublin",
    "Edinburgh",
    "Copenhagen",
    "Stockholm",
    "Oslo",
    "Helsinki",
    "Warsaw",
    "Prague",
    "Vienna",
    "Zurich",
    "Milan",
    "Rome",
    "Athens",
    "Budapest",
    "Tallinn",
    "Online",
];
/// The word of the selective title filter: in about one title in 200.
const RARE: &str = "Quokka";
const RARE_ONE_IN: u32 = 200;
const DAYS: i64 = 730;

struct Case {
    name: &'static str,
    query: String,
}

pub async fn bench(ctx: &Context<'_>, count: usize, report: &mut Report) -> Result<()> {
    heading(
        "Upcoming at scale",
        &format!(
            "{count} events spread over {DAYS} days (random titles, 30 locations, 11 categories; \"{RARE}\" in ~1/{RARE_ONE_IN} titles),\n\
             imported with Store::import_events into a fresh table on DynamoDB Local. First page (limit 20) of\n\
             GET /events/upcoming through the API in-process, Store::upcoming called directly (ReadStats), and the\n\
             bare Queries (same index, key condition, filter, page size and read budget; no directory read),\n\
             one after the other, at most 60 samples or 40 s per filter."
        ),
    );
    let (table, setup) = fixtures::fresh_table(ctx.endpoint, "upcoming").await?;
    let served = Served::start(&table, &ctx.proxy.endpoint).await?;
    let organizer = fixtures::users(&served.state, "organizer", 1).await?.remove(0);
    let now = Instant::now();
    let mut rng = rand::thread_rng();
    let categories: Vec<&str> = category::ALL.iter().map(|c| c.slug).collect();
    let mut events = Vec::with_capacity(count);
    for _ in 0..count {
        let mut title = format!(
            "{} {} {}",
            ADJECTIVES.choose(&mut rng).unwrap_or(&"Open"),
            TOPICS.choose(&mut rng).unwrap_or(&"Rust"),
            FORMATS.choose(&mut rng).unwrap_or(&"Meetup")
        );
        if rng.gen_ratio(1, RARE_ONE_IN) {
            title = format!("{RARE} {title}");
        }
        let spec = EventSpec {
            title: &title,
            location: CITIES.choose(&mut rng).unwrap_or(&"Lisbon"),
            category: categories.choose(&mut rng).copied(),
            starts_at: now.plus_seconds(rng.gen_range(3600..DAYS * 86_400)),
            capacity: rng.gen_range(10..500),
        };
        events.push(fixtures::event(&organizer, &spec, now)?);
    }
    let rare = events.iter().filter(|e| e.title.starts_with(RARE)).count();
    let started = Clock::now();
    let mut imported = 0;
    for chunk in events.chunks(5000) {
        if started.elapsed() > Duration::from_secs(480) {
            println!("  import stopped after 480 s");
            break;
        }
        setup.import_events(chunk).await?;
        imported += chunk.len();
    }
    let took = started.elapsed();
    println!(
        "\n  imported {imported} events in {:.1} s ({:.0} events/s, 25 per BatchWriteItem, 8 in flight); {rare} titles hold \"{RARE}\"",
        took.as_secs_f64(),
        imported as f64 / took.as_secs_f64()
    );
    report.add("upcoming", "events imported", format!("{imported} in {:.0} s", took.as_secs_f64()));

    let from = (chrono::Utc::now() + chrono::Duration::days(180)).date_naive();
    let to = from + chrono::Duration::days(6);
    let cases = [
        Case { name: "unfiltered", query: String::new() },
        Case { name: "category=workshop", query: "category=workshop".into() },
        Case { name: "one week, 6 months ahead", query: format!("from={from}&to={to}") },
        Case { name: "selective title", query: format!("title={}", RARE.to_lowercase()) },
    ];
    let last_month = now.plus_seconds(DAYS * 86_400 + 86_400).month();
    let store: &Store = &served.state.store;
    let bare_client = fixtures::bare_client(&ctx.proxy.endpoint);
    let client = &bare_client;
    for case in &cases {
        let pairs: Vec<(String, String)> = query_pairs(&case.query);
        let filter =
            UpcomingFilter::parse(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()))
                .map_err(|e| format!("{}: {e:?}", case.name))?;
        let url = served.url(&format!(
            "/events/upcoming{}{}",
            if case.query.is_empty() { "" } else { "?" },
            case.query
        ));
        let page = PageRequest { limit: Limit::default(), start: None };
        let (mut api, mut direct, mut bare) = (Vec::new(), Vec::new(), Vec::new());
        let mut api_counts = Counts::default();
        let mut stats = None;
        let mut bare_stats = None;
        let mut returned = 0;
        let mut has_next = false;
        for i in Bound::new(61, 40).iter() {
            let before = ctx.proxy.counts();
            let (body, took) = timed(async {
                let response = ctx.http.get(&url).send().await?;
                let status = response.status();
                let body: serde_json::Value = response.json().await?;
                if !status.is_success() {
                    return Err(format!("{status}: {body}").into());
                }
                Ok::<_, fixtures::Error>(body)
            })
            .await;
            let body = body?;
            let delta = ctx.proxy.counts().since(&before);
            let (page_out, direct_took) = timed(store.upcoming(&filter, &page, Instant::now())).await;
            let (records, read) = page_out?;
            let (bare_out, bare_took) =
                timed(floor::upcoming(client, &table, &filter, 20, &last_month, Instant::now())).await;
            let bare_out = bare_out?;
            if i == 0 {
                continue; // warm-up
            }
            api.push(took);
            direct.push(direct_took);
            bare.push(bare_took);
            for (op, k) in delta.operations {
                *api_counts.operations.entry(op).or_default() += k;
            }
            returned = body["results"].as_array().map_or(0, Vec::len);
            has_next = body["next_cursor"].is_string();
            debug_assert_eq!(records.results.len(), returned);
            stats = Some(read);
            bare_stats = Some(bare_out);
        }
        let (Some(a), Some(d), Some(b), Some(read), Some(bare_read)) =
            (Summary::of(&api), Summary::of(&direct), Summary::of(&bare), stats, bare_stats)
        else {
            continue;
        };
        let per_event = if returned == 0 {
            "n/a".to_owned()
        } else {
            format!("{:.1}", read.items_read as f64 / returned as f64)
        };
        println!(
            "\n  {} (GET /events/upcoming{}{})",
            case.name,
            if case.query.is_empty() { "" } else { "?" },
            case.query
        );
        println!("    API                      {}", a.line());
        println!("    Store::upcoming direct   {}", d.line());
        println!("    bare Queries             {}", b.line());
        println!(
            "    page: {returned} events, next page {}; round trips {} (proxy: {}); items read {} = {per_event} per returned event",
            if has_next { "yes" } else { "no" },
            read.round_trips,
            api_counts.per(a.count as u64),
            read.items_read,
        );
        println!(
            "    bare Queries: {}, {} items read; API/bare p50 {}, API/store p50 {}",
            round_trips(bare_read.round_trips),
            bare_read.items_read,
            ratio(a.p50, b.p50),
            ratio(a.p50, d.p50)
        );
        report.add(
            "upcoming",
            case.name,
            format!(
                "p50 {} = {} bare, {} store; {returned} events, {}, {} items read ({per_event}/event)",
                a.median_and_tail(),
                ratio(a.p50, b.p50),
                ratio(a.p50, d.p50),
                round_trips(read.round_trips),
                read.items_read
            ),
        );
    }
    // A hundred thousand events held in DynamoDB Local's memory would slow every later section.
    setup.client().delete_table().table_name(&table).send().await?;
    Ok(())
}

/// `a=1&b=2` as pairs (values here need no decoding).
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}
