//! Email through the table's stream, end to end on this machine: the time from a registration's
//! 201 to its confirmation in the SES stand-in's inbox, as `make run` works (the stream read
//! every 20 ms, as the event source mapping polls it several times a second), and how many stream
//! records a second the dispatch function gets through when a backlog waits.

use std::time::{Duration, Instant as Clock};

use dynamodb_local::SesLocal;
use futures::stream::{self, StreamExt};
use shared::domain::Instant;
use shared::store::table::Stream;

use crate::fixtures::{self, EventSpec, Result, Served};
use crate::overhead::Context;
use crate::report::{Report, heading};
use crate::stats::Summary;

/// How long one email may take to arrive before the run gives up on it.
const ARRIVAL_LIMIT: Duration = Duration::from_secs(30);

/// A table with its stream, an event of `capacity` seats, and the API serving it with email on.
async fn world(
    ctx: &Context<'_>,
    ses: &SesLocal,
    purpose: &str,
    capacity: u32,
) -> Result<(Served, shared::Config, shared::domain::Id)> {
    let (table, setup) = fixtures::fresh_table_with(ctx.endpoint, purpose, Stream::On).await?;
    let mut settings = fixtures::settings(&table, ctx.endpoint);
    settings.push(("EMAIL_FROM", "events@example.com".into()));
    settings.push(("PUBLIC_API_URL", "http://127.0.0.1".into()));
    settings.push(("SES_ENDPOINT", ses.endpoint.clone()));
    let config = fixtures::config_from(&settings);
    let served = Served::start_with(&config, local::admission::LOCAL_SERVER).await?;
    let organizer = fixtures::users(&served.state, &format!("{purpose}-org"), 1).await?.remove(0);
    let now = Instant::now();
    let spec = EventSpec {
        title: "Mail bench",
        location: "Lisbon",
        category: None,
        starts_at: now.plus_seconds(30 * 86_400),
        capacity,
    };
    let event = fixtures::event(&organizer, &spec, now)?;
    if !setup.create_event(&event, None).await? {
        return Err("creating the event failed".into());
    }
    Ok((served, config, event.id))
}

async fn register(ctx: &Context<'_>, served: &Served, event: shared::domain::Id, token: &str) -> Result<()> {
    let reply = ctx
        .http
        .post(served.url(&format!("/events/{event}/registrations")))
        .bearer_auth(token)
        .send()
        .await?;
    if reply.status() != 201 {
        return Err(format!("registering answered {}", reply.status()).into());
    }
    Ok(())
}

pub async fn bench(ctx: &Context<'_>, samples: usize, backlog: usize, report: &mut Report) -> Result<()> {
    heading(
        "Email through the stream",
        &format!(
            "   Latency: {samples} registrations one after another, each timed from its 201 to its confirmation\n\
             in the SES stand-in (aws-ses-v2-local), with the stream read every 20 ms. Throughput: {backlog}\n\
             registrations made with nobody reading the stream, then the whole backlog dispatched at once\n\
             (every stream record of the table: registrations, seat shards, day counts, users)."
        ),
    );
    let ses = SesLocal::start()?;

    // Latency, one email at a time.
    let (served, config, event) = world(ctx, &ses, "mail-latency", samples as u32).await?;
    let dispatcher = std::sync::Arc::new(dispatch::Dispatcher::new(&config).await);
    let reading = tokio::spawn(local::stream::run(
        ctx.endpoint.to_owned(),
        config.table_name.clone(),
        dispatcher,
        Duration::from_millis(20),
    ));
    let people = fixtures::users(&served.state, "mail-latency", samples).await?;
    let mut latencies = Vec::with_capacity(samples);
    for person in &people {
        let address = format!("{}@example.com", person.username);
        register(ctx, &served, event, &person.token).await?;
        let sent = Clock::now();
        loop {
            let arrived = ses.emails().await.iter().any(|e| e["destination"]["to"][0] == address.as_str());
            if arrived {
                latencies.push(sent.elapsed());
                break;
            }
            if sent.elapsed() > ARRIVAL_LIMIT {
                reading.abort();
                return Err(format!("no email for {address} within {} s", ARRIVAL_LIMIT.as_secs()).into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    reading.abort();
    let latency = Summary::of(&latencies).ok_or("no samples")?;
    println!("\n  201 → email in the inbox      {}", latency.line());
    report.add(
        "email",
        "201 → inbox",
        format!("p50 {:.0} ms, p99 {:.0} ms (n={samples})", ms(latency.p50), ms(latency.p99)),
    );

    // Throughput, a backlog at once.
    let (served, config, event) = world(ctx, &ses, "mail-backlog", backlog as u32).await?;
    let people = fixtures::users(&served.state, "mail-backlog", backlog).await?;
    let made = stream::iter(&people).map(|p| register(ctx, &served, event, &p.token)).buffer_unordered(16);
    let results: Vec<Result<()>> = made.collect().await;
    results.into_iter().collect::<Result<Vec<()>>>()?;
    let dispatcher = dispatch::Dispatcher::new(&config).await;
    let mut reader = local::stream::StreamReader::new(ctx.endpoint, &config.table_name);
    let emails_before = ses.emails().await.len();
    let started = Clock::now();
    let records = reader.drain(&dispatcher, Duration::from_secs(600)).await?;
    let took = started.elapsed();
    let emails = ses.emails().await.len() - emails_before;
    if emails != backlog {
        return Err(format!("{backlog} registrations but {emails} emails").into());
    }
    let rate = records as f64 / took.as_secs_f64();
    println!(
        "  backlog: {records} stream records ({emails} emails) dispatched in {:.1} s: {rate:.0} records/s, {:.0} emails/s",
        took.as_secs_f64(),
        emails as f64 / took.as_secs_f64()
    );
    report.add(
        "email",
        "dispatch",
        format!(
            "{rate:.0} records/s, {:.0} emails/s ({records} records)",
            emails as f64 / took.as_secs_f64()
        ),
    );
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
