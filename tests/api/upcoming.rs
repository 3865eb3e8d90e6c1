//! `GET /events/upcoming`: every filter and page size against a brute-force oracle, bucket
//! boundaries, exact bounds, bounded reads, and bad input.

use std::collections::BTreeSet;

use api_tests::{AppOptions, TestApp, TestUser, event_body, spawn_app, spawn_app_with};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Datelike, Duration, TimeZone, Utc};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use shared::domain::Instant;
use shared::domain::upcoming::UpcomingFilter;
use shared::store::upcoming::ReadBudget;

const TITLES: &[&str] = &["Rust", "Café", "ÜBER", "meetup", "Serverless", "Dynamo", "night", "Árvore"];
const PLACES: &[&str] = &["Lisbon", "Porto", "São Paulo", "BERLIN", "Zürich", "Faro"];
const CATEGORIES: &[Option<&str>] = &[None, Some("workshop"), Some("meetup"), Some("conference")];

/// A seeded spread of events over the next two years, including the edges of months.
fn scenario(seed: u64, count: usize) -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(seed);
    let now = Utc::now();
    (0..count)
        .map(|i| {
            let starts = if i % 10 == 0 {
                // The last and first second of a month, a few months ahead.
                let month_start =
                    Utc.with_ymd_and_hms(now.year() + 1, (i % 12 + 1) as u32, 1, 0, 0, 0).unwrap();
                if i % 20 == 0 { month_start } else { month_start - Duration::seconds(1) }
            } else {
                now + Duration::days(1) + Duration::seconds(rng.gen_range(0..(700 * 86_400)))
            };
            let title = format!(
                "{} {} {}",
                TITLES[rng.gen_range(0..TITLES.len())],
                TITLES[rng.gen_range(0..TITLES.len())],
                i
            );
            let mut body = event_body(json!({
                "title": title,
                "location": PLACES[rng.gen_range(0..PLACES.len())],
                "starts_at": starts.to_rfc3339(),
                "category": CATEGORIES[rng.gen_range(0..CATEGORIES.len())],
            }));
            if body["category"].is_null() {
                body.as_object_mut().unwrap().remove("category");
            }
            body
        })
        .collect()
}

async fn create_all(app: &TestApp, organizer: &TestUser, bodies: Vec<Value>) -> Vec<Value> {
    futures::stream::iter(bodies)
        .map(|body| async move { app.post("/events", Some(&organizer.token), body).await.ok(201).clone() })
        .buffer_unordered(16)
        .collect()
        .await
}

/// Walks every page of a query; asserts each page is full unless it is the last one or the read
/// budget cut it short (`strict`).
async fn walk(app: &TestApp, query: &str, limit: usize, strict: bool) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let mut path = format!("/events/upcoming?limit={limit}{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let reply = app.get(&path, None).await;
        let body = reply.ok(200);
        let results = body["results"].as_array().unwrap();
        assert!(results.len() <= limit);
        ids.extend(results.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(next) => {
                if strict {
                    assert_eq!(results.len(), limit, "a short page before the end: {path}");
                }
                cursor = Some(next.to_owned());
            }
            None => return ids,
        }
    }
    panic!("pagination did not end");
}

fn oracle(events: &[Value], filter: &UpcomingFilter) -> Vec<String> {
    let now = Instant::now();
    let mut matching: Vec<(String, String)> = events
        .iter()
        .filter(|e| {
            filter.matches(
                e["title"].as_str().unwrap(),
                e["location"].as_str().unwrap(),
                e["category"].as_str(),
                Instant::parse(e["starts_at"].as_str().unwrap()).unwrap(),
                now,
            )
        })
        .map(|e| (e["starts_at"].as_str().unwrap().to_owned(), e["id"].as_str().unwrap().to_owned()))
        .collect();
    matching.sort();
    matching.into_iter().map(|(_, id)| id).collect()
}

fn filter_of(pairs: &[(&str, String)]) -> (String, UpcomingFilter) {
    let query: String = pairs.iter().map(|(k, v)| format!("&{k}={}", urlencode(v))).collect();
    let filter =
        UpcomingFilter::parse(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()))
            .unwrap();
    (query, filter)
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect()
}

#[tokio::test]
async fn every_filter_and_page_size_matches_the_oracle() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let events = create_all(&app, &organizer, scenario(7, 240)).await;
    let year = Utc::now().year() + 1;
    let combos: Vec<Vec<(&str, String)>> = vec![
        vec![],
        vec![("title", "café".into())],
        vec![("title", "RUST".into())],
        vec![("location", "zürich".into())],
        vec![("location", "o".into()), ("title", "e".into())],
        vec![("category", "workshop".into())],
        vec![("category", "meetup".into()), ("title", "night".into())],
        vec![("from", format!("{year}-03-01")), ("to", format!("{year}-06-30"))],
        vec![("from", format!("{year}-04-30T23:59:59Z")), ("to", format!("{year}-05-01T00:00:00+00:00"))],
        vec![
            ("category", "conference".into()),
            ("from", format!("{year}-01-15")),
            ("location", "PORTO".into()),
        ],
        vec![("to", format!("{year}-02-01"))],
        vec![("title", "no such title anywhere".into())],
    ];
    for (i, combo) in combos.iter().enumerate() {
        let (query, filter) = filter_of(combo);
        let expected = oracle(&events, &filter);
        let limit = [1, 7, 20, 100][i % 4];
        let limit = if limit == 1 && expected.len() > 40 { 3 } else { limit };
        let got = walk(&app, &query, limit, true).await;
        assert_eq!(got, expected, "filter {combo:?} with limit {limit}");
    }
    let (_, everything) = filter_of(&[]);
    assert_eq!(walk(&app, "", 20, true).await.len(), oracle(&events, &everything).len());
}

#[tokio::test]
async fn a_tight_read_budget_still_yields_every_match_once() {
    // The second budget is spent by the directory read and the first bucket read alone; the
    // third by the read units of a single Query.
    for budget in [
        ReadBudget { items: 12, round_trips: 3, units: 64.0 },
        ReadBudget { items: 4, round_trips: 2, units: 64.0 },
        ReadBudget { items: 2000, round_trips: 40, units: 0.5 },
    ] {
        let app = spawn_app_with(AppOptions { read_budget: Some(budget), ..AppOptions::default() }).await;
        let organizer = app.user("org").await;
        let events = create_all(&app, &organizer, scenario(11, 120)).await;
        for combo in [
            vec![("title", "über".to_owned())],
            vec![],
            vec![("category", "workshop".to_owned()), ("location", "a".to_owned())],
        ] {
            let (query, filter) = filter_of(&combo);
            let got = walk(&app, &query, 5, false).await;
            let unique: BTreeSet<&String> = got.iter().collect();
            assert_eq!(unique.len(), got.len(), "duplicates for {combo:?} with {budget:?}");
            assert_eq!(got, oracle(&events, &filter), "{combo:?} with {budget:?}");
        }
    }
}

#[tokio::test]
async fn bounds_are_inclusive_to_the_second() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let year = Utc::now().year() + 1;
    let at = |s: &str| format!("{year}-{s}");
    let mut ids = Vec::new();
    for starts in ["07-31T23:59:59Z", "08-01T00:00:00Z", "08-01T00:00:01Z", "08-31T23:59:59Z"] {
        let e = app.event(&organizer, json!({"starts_at": at(starts)})).await;
        ids.push(e["id"].as_str().unwrap().to_owned());
    }
    let query =
        format!("&from={}&to={}", urlencode(&at("08-01T00:00:00Z")), urlencode(&at("08-31T23:59:59Z")));
    assert_eq!(walk(&app, &query, 20, true).await, ids[1..].to_vec());
    let query = format!("&from={}&to={}", at("07-31"), at("07-31"));
    assert_eq!(walk(&app, &query, 20, true).await, ids[..1].to_vec());
    let query = format!("&from={}", urlencode(&at("08-01T02:00:01+02:00")));
    assert_eq!(walk(&app, &query, 1, true).await, ids[2..].to_vec());
    // The same bound with its `+` left unencoded (a query string reads it as a space).
    let query = format!("&from={}", at("08-01T02:00:01+02:00"));
    assert_eq!(walk(&app, &query, 1, true).await, ids[2..].to_vec());
    // A range wholly in the past, even just past, is a valid question with no answer, also when
    // the current month holds events.
    app.event(&organizer, json!({"starts_at": (Utc::now() + chrono::Duration::minutes(2)).to_rfc3339()}))
        .await;
    let hour_ago =
        (Utc::now() - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(walk(&app, &format!("&to={}", urlencode(&hour_ago)), 20, true).await, Vec::<String>::new());
    let query = format!("&from={}&to={}", at("08-01"), at("08-01T00:00:00Z"));
    assert_eq!(walk(&app, &query, 20, true).await, ids[1..2].to_vec());
    assert_eq!(walk(&app, "&to=2020-01-01", 20, true).await, Vec::<String>::new());
}

#[tokio::test]
async fn only_future_events_appear_and_edits_move_them() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let soon = app
        .event(&organizer, json!({"starts_at": api_tests::days_from_now(1), "category": "workshop"}))
        .await;
    let later = app.event(&organizer, json!({"starts_at": api_tests::days_from_now(90)})).await;
    let gone = app.event(&organizer, json!({"starts_at": api_tests::days_from_now(2)})).await;
    let id = |e: &Value| e["id"].as_str().unwrap().to_owned();
    assert_eq!(walk(&app, "", 10, true).await, vec![id(&soon), id(&gone), id(&later)]);

    app.delete(&format!("/events/{}", id(&gone)), Some(&organizer.token)).await;
    app.patch(
        &format!("/events/{}", id(&soon)),
        Some(&organizer.token),
        json!({"starts_at": api_tests::days_from_now(200), "category": "meetup"}),
    )
    .await
    .ok(200);
    // The edit moved `soon` into a month the directory did not list a moment ago: the process's
    // memory of the directory must not hide it.
    assert_eq!(walk(&app, "", 10, true).await, vec![id(&later), id(&soon)]);
    assert_eq!(walk(&app, "&category=workshop", 10, true).await, Vec::<String>::new());
    assert_eq!(walk(&app, "&category=meetup", 10, true).await, vec![id(&later), id(&soon)]);
}

#[tokio::test]
async fn an_event_that_starts_while_paging_is_skipped_not_repeated() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let mut ids = Vec::new();
    for day in 1..=6 {
        ids.push(
            app.event(&organizer, json!({"starts_at": api_tests::days_from_now(day)})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let first = app.get("/events/upcoming?limit=2", None).await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    // The third event starts now: it must not show up on the next page.
    app.state
        .store
        .client()
        .update_item()
        .table_name(&app.table)
        .key("pk", AttributeValue::S(format!("EVENT#{}", ids[2])))
        .key("sk", AttributeValue::S("EVENT".into()))
        .update_expression("SET starts_at = :past, gsi2sk = :sk")
        .expression_attribute_values(":past", AttributeValue::S("2020-01-01T00:00:00Z".into()))
        .expression_attribute_values(":sk", AttributeValue::S(format!("2020-01-01T00:00:00Z#{}", ids[2])))
        .send()
        .await
        .unwrap();
    let second = app.get(&format!("/events/upcoming?limit=10&cursor={cursor}"), None).await;
    let rest: Vec<&str> =
        second.ok(200)["results"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(rest, vec![ids[3].as_str(), ids[4].as_str(), ids[5].as_str()]);
}

#[tokio::test]
async fn bad_query_values_are_400s() {
    let app = spawn_app().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("from=yesterday", "from"),
        ("to=2027-02-30", "to"),
        ("from=2027-03-01T10:00:00", "from"),
        ("category=knitting", "category"),
        ("from=2027-03-02&to=2027-03-01", "to"),
        ("limit=5&limit=6", "limit"),
    ] {
        let reply = app.get(&format!("/events/upcoming?{query}"), None).await;
        assert!(reply.problem(400)["errors"][field].is_array(), "{query}: {}", reply.text);
    }
    let long = "x".repeat(201);
    app.get(&format!("/events/upcoming?title={long}"), None).await.problem(400);
    app.get("/events/upcoming?title=%27%20OR%201%3D1%20--", None).await.ok(200);
    app.get("/events/upcoming?cursor=not-a-cursor", None).await.problem(400);
}

#[tokio::test]
async fn a_cursor_resumes_in_its_month_even_when_the_directory_does_not_list_it() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let day = |days: i64, hour: u32| {
        let date = (Utc::now() + Duration::days(days)).date_naive();
        date.and_hms_opt(hour, 0, 0).unwrap().and_utc().to_rfc3339()
    };
    let mut ids = Vec::new();
    for hour in [9, 10, 11] {
        ids.push(
            app.event(&organizer, json!({"starts_at": day(60, hour)})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let first = app.get("/events/upcoming?limit=1", None).await;
    assert_eq!(first.ok(200)["results"][0]["id"], ids[0].as_str());
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();

    // As another process may see it a moment before the month's first event is indexed: the
    // directory lacks the cursor's month (and a write through this process forgets the copy
    // it kept).
    let month = day(60, 9)[..7].to_owned();
    let bucket = app.state.store.client().delete_item().table_name(&app.table);
    let bucket = bucket
        .key("pk", AttributeValue::S("BUCKETS".into()))
        .key("sk", AttributeValue::S(format!("ALL#{month}")));
    bucket.send().await.unwrap();
    ids.push(
        app.event(&organizer, json!({"starts_at": day(150, 9)})).await["id"].as_str().unwrap().to_owned(),
    );

    let mut rest = Vec::new();
    let mut next = Some(cursor);
    while let Some(cursor) = next {
        let page = app.get(&format!("/events/upcoming?limit=1&cursor={cursor}"), None).await;
        let body = page.ok(200);
        rest.extend(body["results"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        next = body["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(rest, ids[1..].to_vec());
}

#[tokio::test]
async fn cursors_are_bound_to_their_filters() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    for day in 1..=3 {
        app.event(&organizer, json!({"starts_at": api_tests::days_from_now(day), "title": "Rust night"}))
            .await;
    }
    let page = app.get("/events/upcoming?limit=1&title=rust", None).await;
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    app.get(&format!("/events/upcoming?limit=1&title=rust&cursor={cursor}"), None).await.ok(200);
    app.get(&format!("/events/upcoming?limit=1&title=night&cursor={cursor}"), None).await.problem(400);
    app.get(&format!("/events/upcoming?limit=1&cursor={cursor}"), None).await.problem(400);
    let mut tampered = cursor.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    app.get(&format!("/events/upcoming?limit=1&title=rust&cursor={tampered}"), None).await.problem(400);
    let users_cursor = {
        let admin = app.admin("root").await;
        app.get("/users?limit=1", Some(&admin.token)).await.body["next_cursor"].as_str().unwrap().to_owned()
    };
    app.get(&format!("/events/upcoming?cursor={users_cursor}"), None).await.problem(400);
}

#[tokio::test]
async fn only_the_first_event_of_a_month_writes_the_directory() {
    let app = spawn_app_with(AppOptions {
        fidelity: api_tests::fidelity::Behaviours { metering: true, ..Default::default() },
        ..AppOptions::default()
    })
    .await;
    let organizer = app.user("org").await;
    let directory_writes = |app: &TestApp| {
        app.fidelity
            .units()
            .iter()
            .filter(|((scope, partition), _)| scope == "table" && partition == "BUCKETS")
            .map(|(_, units)| units.write)
            .sum::<f64>()
    };
    let month = |day: u32| format!("2031-05-{day:02}T18:00:00Z");
    app.event(&organizer, json!({"starts_at": month(1), "category": "meetup"})).await;
    assert!(directory_writes(&app) > 0.0, "the month's first event lists the month");

    // Later events of that month and category, created or edited, leave the directory alone:
    // otherwise its one partition would take a write for every event write on the platform.
    app.fidelity.reset_units();
    let second = app.event(&organizer, json!({"starts_at": month(2), "category": "meetup"})).await;
    let path = format!("/events/{}", second["id"].as_str().unwrap());
    app.patch(&path, Some(&organizer.token), json!({"title": "Renamed"})).await.ok(200);
    assert_eq!(directory_writes(&app), 0.0);

    // Both show in the month's pages.
    let page = app.get("/events/upcoming?from=2031-05-01&to=2031-05-31&category=meetup", None).await;
    assert_eq!(page.ok(200)["results"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn pages_show_live_counts_and_may_be_cached_briefly() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 3).await;
    let event = app.event(&organizer, json!({"capacity": 2, "starts_at": api_tests::days_from_now(3)})).await;
    let id = event["id"].as_str().unwrap();
    for person in &people {
        app.post(format!("/events/{id}/registrations"), Some(&person.token), json!({})).await;
    }
    let page = app.get("/events/upcoming", None).await;
    assert_eq!(page.header("cache-control"), Some("public, max-age=10"));
    let listed = &page.ok(200)["results"][0];
    assert_eq!(listed["id"], id);
    assert_eq!(
        (
            listed["confirmed_count"].as_u64(),
            listed["waitlist_count"].as_u64(),
            listed["seats_left"].as_u64()
        ),
        (Some(2), Some(1), Some(0))
    );
}

#[tokio::test]
async fn a_selective_filter_stops_at_its_read_units() {
    let budget = ReadBudget { items: 2000, round_trips: 40, units: 2.0 };
    let app = spawn_app_with(AppOptions { read_budget: Some(budget), ..AppOptions::default() }).await;
    let organizer = app.user("org").await;
    let long = "d".repeat(1500);
    let bodies =
        (0..240).map(|i| event_body(json!({"title": format!("Talk {i}"), "description": long}))).collect();
    create_all(&app, &organizer, bodies).await;
    let (_, filter) = filter_of(&[("title", "no such talk".to_owned())]);
    let page = shared::http::PageRequest { limit: shared::domain::Limit::default(), start: None };
    let (found, stats) = app.state.store.upcoming(&filter, &page, Instant::now()).await.unwrap();
    // A filtered round reads 13 items from each of the 8 shards; the first round spends the
    // budget of 2 units, so no second is sent and the page ends short with a cursor, after 104
    // of the 240 items.
    assert!(found.results.is_empty() && found.next.is_some(), "{stats:?}");
    assert!(stats.units >= 2.0 && stats.items_read == 104 && stats.round_trips <= 2, "{stats:?}");
}
