//! `make bench`: prints figures, never passes or fails on a time (see QUALITY.md, "Benchmarks").
//!
//! 1. Cold start of each function's release binary under a fake Lambda Runtime API, beside a
//!    minimal axum-under-lambda_http "hello" binary.
//! 2. Overhead of each main endpoint over the bare DynamoDB calls it needs, and its capacity units
//!    (table and each index) beside the floor the data needs.
//! 3. `GET /events/upcoming` over 100,000 events.
//! 4. A registration rush on one event, and the invariants afterwards.
//! 5. A busy day replayed with capacity metered by partition: the hottest partition key per phase
//!    and the rate AWS would sustain.
//! 6. What the login limits concede to a patient password guesser, per day.
//! 7. Zipped `bootstrap` size and peak RSS per function.
//!
//! It starts its own DynamoDB Local (in memory, on a free loopback port) and stops it at exit.
//! The release binaries are looked for next to this one (`target/release`), or in `--bin-dir`.

mod artefacts;
mod coldstart;
mod cost;
mod email;
mod export;
mod fixtures;
mod floor;
mod guessing;
mod hashing;
mod heat;
mod overhead;
mod proxy;
mod report;
mod runtime_api;
mod rush;
mod stats;
mod upcoming_scale;

use std::path::PathBuf;
use std::time::Instant;

use dynamodb_local::DynamoDbLocal;
use report::Report;

/// Registrations in the attendee export's events: memory that does not grow with them is bounded.
const EXPORT_ROWS: [usize; 2] = [10_000, 100_000];

const SECTIONS: &[&str] = &[
    "cold", "overhead", "cost", "upcoming", "rush", "heat", "export", "email", "guessing", "hashing", "size",
];

struct Options {
    runs: usize,
    samples: usize,
    events: usize,
    registrations: usize,
    capacity: u32,
    in_flight: usize,
    rushes: Vec<rush::Rush>,
    only: Vec<String>,
    bin_dir: PathBuf,
}

const USAGE: &str = "usage: bench [--runs N] [--samples N] [--events N] [--registrations N] [--capacity N]
             [--in-flight N] [--rush plain,conflicts,all-at-once] [--only cold,overhead,cost,upcoming,rush,heat,export,email,guessing,hashing,size] [--bin-dir DIR]
  --runs           cold starts per binary (default 60)
  --samples        samples per side and endpoint of the overhead section (default 400)
  --events         events for the upcoming section (default 100000)
  --registrations  registrations in the rush (default 5000)
  --capacity       capacity of the rushed event (default 1000)
  --in-flight      concurrent requests in the rush (default 200)
  --rush           which rushes to run: on DynamoDB Local as it is (plain), with conflicts modelled
                   (conflicts), with conflicts modelled and every request at work at once (all-at-once)
                   (default all three)
  --only           the sections to run (default all)
  --bin-dir        where the release binaries are (default: next to this binary)";

fn options() -> Result<Options, String> {
    let here = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut options = Options {
        runs: 60,
        samples: 400,
        events: 100_000,
        registrations: 5000,
        capacity: 1000,
        in_flight: 200,
        rushes: rush::Rush::ALL.to_vec(),
        only: SECTIONS.iter().map(|s| s.to_string()).collect(),
        bin_dir: here.parent().map(PathBuf::from).unwrap_or_default(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.into());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = || value.parse::<usize>().map_err(|_| format!("{flag} needs a whole number"));
        match flag.as_str() {
            "--runs" => options.runs = number()?.clamp(1, 1000),
            "--samples" => options.samples = number()?.clamp(1, 100_000),
            "--events" => options.events = number()?.clamp(100, 1_000_000),
            "--registrations" => options.registrations = number()?.clamp(1, 100_000),
            "--capacity" => options.capacity = number()?.clamp(1, 100_000) as u32,
            "--in-flight" => options.in_flight = number()?.clamp(1, 1024),
            "--rush" => {
                options.rushes = value
                    .split(',')
                    .map(|name| {
                        rush::Rush::parse(name.trim()).ok_or_else(|| {
                            format!("unknown rush {name}; rushes: plain,conflicts,all-at-once")
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--only" => {
                options.only =
                    value.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
                if let Some(bad) = options.only.iter().find(|s| !SECTIONS.contains(&s.as_str())) {
                    return Err(format!("unknown section {bad}; sections: {}", SECTIONS.join(",")));
                }
            }
            "--bin-dir" => options.bin_dir = PathBuf::from(value),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(options)
}

/// The 1, 5 and 15 minute load averages: other work on the machine shows here.
fn load_average() -> String {
    let raw = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    raw.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// What the figures were measured on.
fn machine() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let memory = read("/proc/meminfo")
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map(|kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let kernel = read("/proc/sys/kernel/osrelease");
    format!("{cores} cores ({model}), {memory} RAM, Linux {}", kernel.trim())
}

#[tokio::main]
async fn main() {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let run = |section: &str| options.only.iter().any(|s| s == section);
    let started = Instant::now();
    println!("Event Management API benchmarks");
    println!("  machine: {}", machine());
    println!("  date: {}", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"));
    println!("  load average at start: {}", load_average());
    println!("  binaries: {}", options.bin_dir.display());

    let local =
        match tokio::task::spawn_blocking(|| DynamoDbLocal::start_or_use("BENCH_DYNAMODB_ENDPOINT")).await {
            Ok(Ok(local)) => local,
            Ok(Err(e)) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("starting DynamoDB Local: {e}");
                std::process::exit(1);
            }
        };
    println!("  DynamoDB Local {} (in memory) at {}", local.version, local.endpoint);
    let proxy = match proxy::CountingProxy::start(&local.endpoint).await {
        Ok(proxy) => proxy,
        Err(e) => {
            eprintln!("starting the counting proxy: {e}");
            std::process::exit(1);
        }
    };
    let http = fixtures::http_client();
    let ctx = overhead::Context { endpoint: &local.endpoint, proxy: &proxy, http: &http };
    let mut report = Report::new();
    let mut failed = Vec::new();

    let mut cold = Vec::new();
    if run("cold") {
        match coldstart::bench(&options.bin_dir, &local.endpoint, options.runs, &mut report).await {
            Ok(figures) => cold = figures,
            Err(e) => failed.push(format!("cold start: {e}")),
        }
    }
    if run("overhead")
        && let Err(e) = overhead::bench(&ctx, options.samples, &mut report).await
    {
        failed.push(format!("overhead: {e}"));
    }
    if run("cost")
        && let Err(e) = cost::bench(&ctx, &mut report).await
    {
        failed.push(format!("cost: {e}"));
    }
    if run("upcoming")
        && let Err(e) = upcoming_scale::bench(&ctx, options.events, &mut report).await
    {
        failed.push(format!("upcoming at scale: {e}"));
    }
    if run("rush") {
        // On DynamoDB Local as it is, then with DynamoDB's conflict rule put in front of it.
        for &which in &options.rushes {
            let (registrations, capacity, in_flight) =
                (options.registrations, options.capacity, options.in_flight);
            match rush::bench(&ctx, registrations, capacity, in_flight, which, &mut report).await {
                Ok(true) => {}
                Ok(false) => failed.push("registration rush: an invariant was violated".into()),
                Err(e) => failed.push(format!("registration rush: {e}")),
            }
        }
    }
    if run("heat")
        && let Err(e) = heat::bench(&ctx, &heat::Day::default(), &mut report).await
    {
        failed.push(format!("busy day: {e}"));
    }
    if run("export") {
        for rows in EXPORT_ROWS {
            if let Err(e) = export::bench(&ctx, rows, &mut report).await {
                failed.push(format!("attendee export of {rows}: {e}"));
            }
        }
    }
    if run("email")
        && let Err(e) = email::bench(&ctx, 100, 500, &mut report).await
    {
        failed.push(format!("email through the stream: {e}"));
    }
    if run("guessing") {
        guessing::bench(&mut report);
    }
    if run("hashing") {
        hashing::bench(&mut report);
    }
    if run("size")
        && let Err(e) = artefacts::bench(&options.bin_dir, &cold, &mut report)
    {
        failed.push(format!("size: {e}"));
    }

    report.print();
    println!(
        "\n  whole run: {:.0} s; load average at the end: {}",
        started.elapsed().as_secs_f64(),
        load_average()
    );
    drop(local);
    if !failed.is_empty() {
        for failure in &failed {
            eprintln!("FAILED: {failure}");
        }
        std::process::exit(1);
    }
}
