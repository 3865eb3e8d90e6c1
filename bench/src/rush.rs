//! A registration rush: thousands of registrations for one event with bounded concurrency, then
//! the registration invariants checked against what is stored.

use std::collections::BTreeMap;
use std::time::{Duration, Instant as Clock};

use dynamodb_local::invariants::Stored;
use futures::{FutureExt, StreamExt};
use shared::domain::Instant;

use dynamodb_local::fidelity::{Behaviours, EMULATOR_SLOTS, Fidelity, SERVICE_TIME};

use crate::fixtures::{self, EventSpec, Result, Served};
use crate::floor;
use crate::overhead::Context;
use crate::proxy::per_line;
use crate::report::{Report, heading};
use crate::stats::{Summary, ms, timed};

/// Which rush to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rush {
    /// On DynamoDB Local as it is, served as the local server serves.
    Plain,
    /// Through the fidelity proxy, which cancels transactions that touch an item another
    /// in-flight transaction holds, as DynamoDB does (DynamoDB Local never does); served as the
    /// local server serves.
    Conflicts,
    /// As [`Rush::Conflicts`], with the server working on every request at once, as the API
    /// tests serve: what the local server's admission changes.
    ConflictsAllAtOnce,
}

impl Rush {
    pub const ALL: [Rush; 3] = [Rush::Plain, Rush::Conflicts, Rush::ConflictsAllAtOnce];

    /// The name `--rush` takes.
    pub fn parse(name: &str) -> Option<Rush> {
        match name {
            "plain" => Some(Rush::Plain),
            "conflicts" => Some(Rush::Conflicts),
            "all-at-once" => Some(Rush::ConflictsAllAtOnce),
            _ => None,
        }
    }

    fn conflicts(self) -> bool {
        self != Rush::Plain
    }

    fn admission(self) -> local::Admission {
        match self {
            Rush::ConflictsAllAtOnce => local::Admission::Unbounded,
            Rush::Plain | Rush::Conflicts => local::admission::LOCAL_SERVER,
        }
    }

    fn section(self) -> &'static str {
        match self {
            Rush::Plain => "rush",
            Rush::Conflicts => "rush, conflicts modelled",
            Rush::ConflictsAllAtOnce => "rush, conflicts, all at once",
        }
    }

    fn title(self) -> String {
        let admission = match self.admission() {
            local::Admission::AtMost(n) => {
                format!(
                    "the server working on {n} requests at once, the others waiting their turn, as the local server does"
                )
            }
            local::Admission::Unbounded => {
                "the server working on every request at once, as the API tests serve".to_owned()
            }
        };
        match self {
            Rush::Plain => format!(
                "Registration rush on DynamoDB Local as it is (no transaction ever conflicts),\n{admission}"
            ),
            Rush::Conflicts | Rush::ConflictsAllAtOnce => format!(
                "Registration rush with DynamoDB's transaction conflicts modelled (fidelity proxy: conflicts, 2 ms a call,\n\
                 DynamoDB Local given {EMULATOR_SLOTS} calls at once, a transaction holding its items only while it runs),\n{admission}"
            ),
        }
    }
}

/// Returns whether every invariant held.
pub async fn bench(
    ctx: &Context<'_>,
    registrations: usize,
    capacity: u32,
    in_flight: usize,
    rush: Rush,
    report: &mut Report,
) -> Result<bool> {
    let (section, title, conflicts) = (rush.section(), rush.title(), rush.conflicts());
    heading(
        &title,
        &format!(
            "{registrations} users (written straight to the store, with tokens) register for one event of capacity {capacity}\n\
             (waitlist enabled) through the API in-process, {in_flight} requests in flight, at most 300 s; then the\n\
             invariants are checked against the event's partition, read consistently. Round trips and\n\
             DynamoDB's answers are counted by the proxy. Then the floor: the same number of bare\n\
             registration transactions at the same concurrency, on a second event with room for all."
        ),
    );
    let (table, setup) = fixtures::fresh_table(ctx.endpoint, "rush").await?;
    let fidelity = match conflicts {
        // The conflict rule needs the service's time per call too: transactions overlap only
        // if they take time.
        true => {
            let behaviours = Behaviours {
                conflicts: true,
                service_time: SERVICE_TIME,
                emulator_slots: Some(EMULATOR_SLOTS),
                ..Behaviours::none()
            };
            Some(Fidelity::start(&ctx.proxy.endpoint, behaviours).await)
        }
        false => None,
    };
    let endpoint = fidelity.as_ref().map_or(ctx.proxy.endpoint.clone(), |f| f.endpoint.clone());
    let served = Served::start_with(&fixtures::config(&table, &endpoint), rush.admission()).await?;
    let organizer = fixtures::users(&served.state, "organizer", 1).await?.remove(0);
    let started = Clock::now();
    let users = fixtures::users(&served.state, "rusher", registrations).await?;
    println!("\n  {} users created in {:.1} s", users.len(), started.elapsed().as_secs_f64());
    let now = Instant::now();
    let event = fixtures::event(
        &organizer,
        &EventSpec {
            title: "Sold-out Rust conference",
            location: "Lisbon",
            category: Some("conference"),
            starts_at: now.plus_seconds(30 * 86_400),
            capacity,
        },
        now,
    )?;
    if !setup.create_event(&event, None).await? {
        return Err("creating the event failed".into());
    }
    let url = served.url(&format!("/events/{}/registrations", event.id));

    let before = ctx.proxy.counts();
    let started = Clock::now();
    let deadline = Duration::from_secs(300);
    let http = ctx.http;
    let mut numbered: Vec<(usize, Option<(String, Duration)>)> =
        futures::stream::iter(users.iter().enumerate())
            .map(|(sent_as, user)| {
                let url = url.clone();
                async move {
                    if started.elapsed() > deadline {
                        return None;
                    }
                    let sent = Clock::now();
                    let outcome = match http.post(url).bearer_auth(&user.token).send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let body: serde_json::Value = response.json().await.unwrap_or_default();
                            match (status, body["status"].as_str(), body["type"].as_str()) {
                                (201, Some(s), _) => format!("201 {s}"),
                                (_, _, Some(problem)) => {
                                    format!("{status} {}", problem.rsplit('/').next().unwrap_or(problem))
                                }
                                _ => status.to_string(),
                            }
                        }
                        Err(e) => format!("transport error: {e}"),
                    };
                    Some((outcome, sent.elapsed()))
                }
                .map(move |outcome| (sent_as, outcome))
            })
            .buffer_unordered(in_flight)
            .collect()
            .await;
    let wall = started.elapsed();
    numbered.sort_by_key(|(sent_as, _)| *sent_as);
    let outcomes: Vec<Option<(String, Duration)>> =
        numbered.into_iter().map(|(_, outcome)| outcome).collect();
    let delta = ctx.proxy.counts().since(&before);

    let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
    let mut all = Vec::new();
    let mut created = Vec::new();
    let mut not_sent = 0;
    for outcome in &outcomes {
        match outcome {
            Some((what, took)) => {
                *by_outcome.entry(what.clone()).or_default() += 1;
                all.push(*took);
                if what.starts_with("201") {
                    created.push(*took);
                }
            }
            None => not_sent += 1,
        }
    }
    let successes = created.len();
    let done = all.len();
    println!(
        "\n  {done} requests in {:.2} s: {:.0} requests/s, {:.0} registrations created/s{}",
        wall.as_secs_f64(),
        done as f64 / wall.as_secs_f64(),
        successes as f64 / wall.as_secs_f64(),
        if not_sent > 0 { format!(" ({not_sent} not sent: time bound reached)") } else { String::new() }
    );
    if let Some(s) = Summary::of(&all) {
        println!("    latency, every request     {}", s.line());
        report.add(
            section,
            "latency p50, p99, slowest",
            format!("{}, {}, {} (every request)", ms(s.p50), ms(s.p99), ms(s.max)),
        );
    }
    if let Some(s) = Summary::of(&created) {
        println!("    latency, 201 Created       {}", s.line());
    }
    // By outcome: a slow tail among the seats and one among the waitlist have different causes.
    for kind in by_outcome.keys() {
        let took: Vec<Duration> =
            outcomes.iter().flatten().filter(|(what, _)| what == kind).map(|(_, took)| *took).collect();
        if let Some(s) = Summary::of(&took) {
            println!("    latency, {kind:<17} {}", s.line());
        }
    }
    // By order of sending: where in the rush the slow answers are (as seats run out, say).
    let sent: Vec<Duration> = outcomes.iter().flatten().map(|(_, took)| *took).collect();
    let tenths: Vec<String> = sent
        .chunks(sent.len().div_ceil(10).max(1))
        .filter_map(Summary::of)
        .map(|s| format!("{}/{}", ms(s.p50), ms(s.p99)))
        .collect();
    println!("    p50/p99 by tenth sent  {}", tenths.join("  "));
    let outcomes_line: Vec<String> = by_outcome.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    println!("    outcomes: {}", outcomes_line.join(", "));
    println!(
        "    DynamoDB requests: {} in all = {:.2} per created registration ({} per created registration)",
        delta.requests(),
        delta.requests() as f64 / successes.max(1) as f64,
        per_line(&delta.operations, successes as u64)
    );
    let errors: Vec<String> = delta.errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let reasons: Vec<String> = delta.reasons.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "    DynamoDB error answers: {}; cancellation reasons: {}",
        if errors.is_empty() { "none".into() } else { errors.join(", ") },
        if reasons.is_empty() { "none".into() } else { reasons.join(", ") }
    );
    report.add(
        section,
        "throughput",
        format!(
            "{:.0} requests/s, {:.0} created/s ({in_flight} in flight, {done} requests)",
            done as f64 / wall.as_secs_f64(),
            successes as f64 / wall.as_secs_f64()
        ),
    );
    report.add(section, "outcomes", outcomes_line.join(", "));
    let api_stats = fidelity.as_ref().map(Fidelity::stats);
    if let Some(stats) = api_stats {
        let cancelled = stats.transactions_cancelled_by_conflict;
        println!(
            "    modelled conflicts: {cancelled} of {} transactions cancelled (TransactionConflict) = {:.2} per created registration; {} single writes refused",
            stats.transactions,
            cancelled as f64 / successes.max(1) as f64,
            stats.writes_refused_by_conflict
        );
        let went_through = stats.transactions.saturating_sub(cancelled).max(1);
        println!(
            "    a transaction that went through held its items {} on average (the service time included)",
            ms(stats.held_for / u32::try_from(went_through).unwrap_or(u32::MAX))
        );
        report.add(
            section,
            "conflict retries per created registration",
            format!(
                "{:.2} ({cancelled} of {} transactions cancelled)",
                cancelled as f64 / successes.max(1) as f64,
                stats.transactions
            ),
        );
    }
    // Conflicts as DynamoDB would report them: the proxy's, when it models them.
    let conflict_count = api_stats.map_or_else(
        || delta.reasons.get("TransactionConflict").copied().unwrap_or(0),
        |stats| stats.transactions_cancelled_by_conflict,
    );
    report.add(
        section,
        "round trips per created registration",
        format!(
            "{:.2} reaching DynamoDB ({}); conflicts: {conflict_count}",
            delta.requests() as f64 / successes.max(1) as f64,
            per_line(&delta.operations, successes as u64),
        ),
    );

    let stored = Stored::read(&setup, &event.id.to_string()).await?;
    let checks = stored.invariants();
    let created_stored = stored.registrations.len();
    println!("\n  invariants against the stored partition ({created_stored} registrations stored):");
    let mut ok = true;
    for (what, holds) in &checks {
        println!("    [{}] {what}", if *holds { "ok" } else { "VIOLATED" });
        ok &= holds;
    }
    let answered_created =
        by_outcome.iter().filter(|(k, _)| k.starts_with("201")).map(|(_, v)| v).sum::<usize>();
    let matches = answered_created == created_stored;
    println!(
        "    [{}] 201 answers {answered_created} = registrations stored {created_stored}",
        if matches { "ok" } else { "VIOLATED" }
    );
    ok &= matches;

    // The floor is measured once, on DynamoDB Local as it is: bare transactions do not retry
    // conflicts, so with the conflict rule it would measure only how many lose.
    if rush == Rush::Plain {
        // The floor: as many bare seat-taking transactions, at the same concurrency, on a second event
        // with room for everyone (the same users, so the same items).
        let floor_event = fixtures::event(
            &organizer,
            &EventSpec {
                title: "Roomy Rust conference",
                location: "Lisbon",
                category: Some("conference"),
                starts_at: now.plus_seconds(30 * 86_400),
                capacity: 100_000,
            },
            now,
        )?;
        if !setup.create_event(&floor_event, None).await? {
            return Err("creating the floor event failed".into());
        }
        let bare = fixtures::bare_client(&endpoint);
        let transactions = floor::seat_registrations(&table, &floor_event, &users)?;
        let started = Clock::now();
        let client = &bare;
        let floor_outcomes: Vec<Option<(bool, Duration)>> = futures::stream::iter(transactions)
            .map(|items| async move {
                if started.elapsed() > deadline {
                    return None;
                }
                let (result, took) = timed(floor::register(client, items, false)).await;
                Some((result.is_ok(), took))
            })
            .buffer_unordered(in_flight)
            .collect()
            .await;
        let floor_wall = started.elapsed();
        let floor_times: Vec<Duration> = floor_outcomes.iter().flatten().map(|(_, t)| *t).collect();
        let floor_ok = floor_outcomes.iter().flatten().filter(|(ok, _)| *ok).count();
        let floor_rate = floor_ok as f64 / floor_wall.as_secs_f64();
        let api_rate = successes as f64 / wall.as_secs_f64();
        println!(
            "\n  floor: {} bare registration transactions (TransactWriteItems), {in_flight} in flight, on a second event: \
             {floor_ok} succeeded in {:.2} s = {floor_rate:.0}/s",
            floor_times.len(),
            floor_wall.as_secs_f64()
        );
        if let Some(s) = Summary::of(&floor_times) {
            println!("    latency                    {}", s.line());
        }
        println!(
            "    API created/s ÷ floor transactions/s = {:.2}",
            api_rate / floor_rate.max(f64::MIN_POSITIVE)
        );
        report.add(
            section,
            "throughput vs the floor",
            format!(
                "{api_rate:.0} created/s vs {floor_rate:.0} bare transactions/s at the same concurrency = {:.2}",
                api_rate / floor_rate.max(f64::MIN_POSITIVE)
            ),
        );
    }
    report.add(
        section,
        "invariants",
        format!(
            "{} (confirmed {} of {}, waitlisted {})",
            if ok { "all hold" } else { "VIOLATED" },
            stored.confirmed_count,
            stored.capacity,
            stored.waitlist_count
        ),
    );
    Ok(ok)
}
