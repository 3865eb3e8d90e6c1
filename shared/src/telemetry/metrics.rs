//! Metrics in CloudWatch's Embedded Metric Format: a log line that is a JSON object with an
//! `_aws` member naming the metrics and dimensions, and the values beside it. CloudWatch Logs
//! turns each such line into metric data, with no call and no latency on the request
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
//!
//! What happened during one request is counted with [`count`] wherever it happens (a handler, the
//! store) into the request's own tally ([`counting`]); the request log emits the tally as one
//! line with the function and route as dimensions, both of few values.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "EventsApi";
/// The tracing target of metric lines: written out as they are (see `telemetry::init`).
pub const TARGET: &str = "emf";

/// Names of the business counters.
pub const REGISTRATIONS_CONFIRMED: &str = "RegistrationsConfirmed";
pub const REGISTRATIONS_WAITLISTED: &str = "RegistrationsWaitlisted";
pub const REGISTRATIONS_REFUSED_FULL: &str = "RegistrationsRefusedFull";
pub const PROMOTIONS: &str = "Promotions";
pub const CANCELLATIONS: &str = "Cancellations";
pub const REMINDERS_SENT: &str = "RemindersSent";
pub const LOGINS_FAILED: &str = "LoginsFailed";
pub const EMAILS_SENT: &str = "EmailsSent";
pub const EMAILS_UNDELIVERABLE: &str = "EmailsUndeliverable";
pub const CHANGES_UNREADABLE: &str = "ChangesUnreadable";
pub const WEBHOOKS_DELIVERED: &str = "WebhooksDelivered";
pub const WEBHOOK_ATTEMPTS_FAILED: &str = "WebhookAttemptsFailed";
pub const WEBHOOKS_GIVEN_UP: &str = "WebhooksGivenUp";

/// A CloudWatch unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// Counters of one request or run.
pub type Counts = BTreeMap<&'static str, f64>;

tokio::task_local! {
    static CURRENT: Arc<Mutex<Counts>>;
}

/// Runs `work`, returning its output and what it counted.
pub async fn counting<F: Future>(work: F) -> (F::Output, Counts) {
    let counts = Arc::new(Mutex::new(Counts::new()));
    let output = CURRENT.scope(counts.clone(), work).await;
    let totals = counts.lock().unwrap_or_else(|p| p.into_inner()).clone();
    (output, totals)
}

/// Adds `n` to the counter `name` of the request or run under way (nothing outside one).
pub fn count(name: &'static str, n: usize) {
    let _ = CURRENT.try_with(|counts| {
        *counts.lock().unwrap_or_else(|p| p.into_inner()).entry(name).or_default() += n as f64;
    });
}

/// One Embedded Metric Format line: `metrics` (name, value, unit) under `dimensions`, at
/// `timestamp_ms`.
pub fn line(dimensions: &[(&str, &str)], metrics: &[(&str, f64, Unit)], timestamp_ms: i64) -> String {
    let names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    let definitions: Vec<Value> =
        metrics.iter().map(|(name, _, unit)| json!({"Name": name, "Unit": unit.as_str()})).collect();
    let mut object = Map::new();
    object.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [names], "Metrics": definitions}],
        }),
    );
    for (name, value) in dimensions {
        object.insert((*name).into(), json!(value));
    }
    for (name, value, _) in metrics {
        object.insert((*name).into(), json!(value));
    }
    Value::Object(object).to_string()
}

/// The `Function` dimension: the Lambda function's name, or `local` off Lambda.
pub fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".to_owned())
}

/// Writes `line` to the log as a line of its own.
pub fn emit(line: &str) {
    tracing::info!(target: TARGET, emf = line);
}

/// The layer that writes metric lines whole, each on a line of its own: to standard output (what
/// Lambda sends to CloudWatch Logs) unless given another writer.
pub struct RawLines<W = fn() -> std::io::Stdout> {
    writer: W,
}

impl RawLines {
    pub fn stdout() -> Self {
        RawLines { writer: std::io::stdout }
    }
}

impl<W, S> tracing_subscriber::Layer<S> for RawLines<W>
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + 'static,
    S: tracing::Subscriber,
{
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        struct Line(Option<String>);
        impl tracing::field::Visit for Line {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "emf" {
                    self.0 = Some(value.to_owned());
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut line = Line(None);
        event.record(&mut line);
        if let Some(line) = line.0 {
            use std::io::Write;
            let _ = writeln!(self.writer.make_writer(), "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_its_metrics_and_dimensions_and_carries_the_values() {
        let text = line(
            &[("Function", "register"), ("Route", "/events/{id}/registrations")],
            &[(REGISTRATIONS_CONFIRMED, 1.0, Unit::Count), ("LatencyMs", 12.5, Unit::Milliseconds)],
            1_800_000_000_000,
        );
        let value: Value = serde_json::from_str(&text).unwrap();
        let directive = &value["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(value["_aws"]["Timestamp"], 1_800_000_000_000i64);
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["Function", "Route"]]));
        assert_eq!(directive["Metrics"][1], json!({"Name": "LatencyMs", "Unit": "Milliseconds"}));
        assert_eq!(value["Route"], "/events/{id}/registrations");
        assert_eq!(value[REGISTRATIONS_CONFIRMED], 1.0);
        assert_eq!(value["LatencyMs"], 12.5);
    }

    #[test]
    fn metric_lines_are_written_whole_and_other_events_not_at_all() {
        use std::sync::{Arc, Mutex};
        use tracing_subscriber::layer::SubscriberExt;
        let written = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = written.clone();
        let layer = RawLines { writer: move || Sink(sink.clone()) };
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("not a metric");
            emit(&line(&[("Function", "f")], &[(PROMOTIONS, 1.0, Unit::Count)], 0));
        });
        let text = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let value: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(value[PROMOTIONS], 1.0);
    }

    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn counts_belong_to_the_request_that_made_them() {
        let ((), counts) = counting(async {
            count(PROMOTIONS, 2);
            count(PROMOTIONS, 1);
            count(CANCELLATIONS, 1);
        })
        .await;
        assert_eq!(counts.get(PROMOTIONS), Some(&3.0));
        assert_eq!(counts.get(CANCELLATIONS), Some(&1.0));
        count(PROMOTIONS, 5); // outside any request: nothing to count into, and no panic
    }
}
