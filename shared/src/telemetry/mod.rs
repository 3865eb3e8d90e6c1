//! Logging set-up: one JSON object per line, which CloudWatch Logs Insights reads as fields; and
//! metrics in CloudWatch's Embedded Metric Format ([`metrics`]), written to the same log.

pub mod metrics;

use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber. `RUST_LOG` picks the level (default `info`). Metric lines go
/// to standard output as they are, since CloudWatch reads an Embedded Metric Format object only
/// as a whole log line.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_target(false)
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| meta.target() != metrics::TARGET));
    let _ =
        tracing_subscriber::registry().with(filter).with(logs).with(metrics::RawLines::stdout()).try_init();
}
