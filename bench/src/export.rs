//! The attendee export of a large event: `GET /events/{id}/attendees.csv` over 10,000
//! registrations, read as it streams, with the process's peak resident memory before and during
//! it. The registrations are written straight to the table (as `POST .../registrations` stores
//! them), since the export reads only them and their users' profiles.

use std::time::Instant as Clock;

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use shared::domain::Instant;

use crate::fixtures::{self, EventSpec, Result, Served};
use crate::floor::{self, Registrant};
use crate::overhead::Context;
use crate::report::{Report, heading};

/// The process's peak resident set (`VmHWM`) in KiB, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak to the current resident set (Linux: writing 5 to `clear_refs`).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub async fn bench(ctx: &Context<'_>, registrations: usize, report: &mut Report) -> Result<()> {
    heading(
        "Attendee export",
        &format!(
            "   {registrations} registrations (written straight to the table) exported through the API in-process as\n\
             CSV, read chunk by chunk as it streams; the process's peak resident memory (VmHWM) is reset\n\
             before the request and read after it."
        ),
    );
    let (table, setup) = fixtures::fresh_table(ctx.endpoint, "export").await?;
    let served = Served::start(&table, ctx.endpoint).await?;
    let organizer = fixtures::users(&served.state, "organizer", 1).await?.remove(0);
    let attendees = fixtures::users(&served.state, "attendee", registrations).await?;
    let now = Instant::now();
    let event = fixtures::event(
        &organizer,
        &EventSpec {
            title: "A very large conference",
            location: "Lisbon",
            category: Some("conference"),
            starts_at: now.plus_seconds(30 * 86_400),
            capacity: registrations as u32,
        },
        now,
    )?;
    if !setup.create_event(&event, None).await? {
        return Err("creating the event failed".into());
    }
    let started = Clock::now();
    let mut requests = Vec::with_capacity(attendees.len());
    for attendee in &attendees {
        let who = Registrant {
            event: event.id,
            event_starts_at: event.starts_at,
            user: attendee.id,
            username: &attendee.username,
            shard: 0,
        };
        let item = floor::registration_item(&who, now)?;
        requests.push(
            WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build()?).build(),
        );
    }
    let client = fixtures::bare_client(ctx.endpoint);
    for batch in requests.chunks(25) {
        let mut pending = batch.to_vec();
        while !pending.is_empty() {
            let out = client.batch_write_item().request_items(&table, pending).send().await?;
            pending = out.unprocessed_items.and_then(|mut u| u.remove(&table)).unwrap_or_default();
        }
    }
    println!("\n  {registrations} registrations written in {:.1} s", started.elapsed().as_secs_f64());

    let before = peak_rss_kib().unwrap_or(0);
    let reset = reset_peak_rss();
    let baseline = peak_rss_kib().unwrap_or(0);
    let started = Clock::now();
    let mut response = ctx
        .http
        .get(served.url(&format!("/events/{}/attendees.csv", event.id)))
        .bearer_auth(&organizer.token)
        .send()
        .await?;
    if response.status() != 200 {
        return Err(format!("the export answered {}", response.status()).into());
    }
    let (mut bytes, mut lines, mut largest) = (0usize, 0usize, 0usize);
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len();
        largest = largest.max(chunk.len());
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    let took = started.elapsed();
    let peak = peak_rss_kib().unwrap_or(0);
    if lines != registrations + 1 {
        return Err(format!("the export had {lines} lines for {registrations} registrations").into());
    }
    let growth = peak.saturating_sub(baseline);
    println!(
        "  {lines} lines, {:.2} MB in {:.2} s; largest chunk {:.1} KB",
        bytes as f64 / 1e6,
        took.as_secs_f64(),
        largest as f64 / 1e3
    );
    match reset {
        true => println!(
            "  peak resident memory: {:.1} MB before the export, {:.1} MB during it (+{:.1} MB; the CSV is {:.2} MB)",
            baseline as f64 / 1024.0,
            peak as f64 / 1024.0,
            growth as f64 / 1024.0,
            bytes as f64 / 1e6
        ),
        false => println!(
            "  peak resident memory could not be reset; peak so far {:.1} MB",
            before as f64 / 1024.0
        ),
    }
    report.add(
        "export",
        format!("GET /events/{{id}}/attendees.csv, {registrations} rows"),
        format!("{:.2} MB in {:.2} s", bytes as f64 / 1e6, took.as_secs_f64()),
    );
    report.add(
        "export",
        "peak resident memory while exporting",
        format!(
            "+{:.1} MB over {:.1} MB (largest chunk {:.1} KB)",
            growth as f64 / 1024.0,
            baseline as f64 / 1024.0,
            largest as f64 / 1e3
        ),
    );
    Ok(())
}
