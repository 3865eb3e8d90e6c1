//! Samples, percentiles and how figures are printed.

use std::time::{Duration, Instant};

/// How many samples to take, and for how long at most: every measuring loop stops at whichever
/// comes first.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    pub count: usize,
    pub time: Duration,
}

impl Bound {
    pub fn new(count: usize, seconds: u64) -> Self {
        Bound { count, time: Duration::from_secs(seconds) }
    }

    /// Iterates over sample numbers until the count is reached or the time is up.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        let started = Instant::now();
        (0..self.count).take_while(move |_| started.elapsed() < self.time)
    }
}

/// The distribution of a set of durations.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub count: usize,
    pub min: Duration,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    /// Nearest-rank percentiles; `None` without samples.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let at = |p: f64| {
            let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
            sorted[rank.clamp(1, sorted.len()) - 1]
        };
        Some(Summary {
            count: sorted.len(),
            min: sorted[0],
            p50: at(50.0),
            p90: at(90.0),
            p99: at(99.0),
            max: sorted[sorted.len() - 1],
        })
    }

    /// `1.23 ms (p99 4.56 ms)`: the median, with the tail beside it.
    pub fn median_and_tail(&self) -> String {
        format!("{} (p99 {})", ms(self.p50), ms(self.p99))
    }

    /// `p50 1.23 ms  p90 …  p99 …  min …  max …  (n=…)`
    pub fn line(&self) -> String {
        format!(
            "p50 {:>9}  p90 {:>9}  p99 {:>9}  min {:>9}  max {:>9}  (n={})",
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.min),
            ms(self.max),
            self.count
        )
    }
}

/// `1 round trip`, `2 round trips`.
pub fn round_trips(n: usize) -> String {
    if n == 1 { "1 round trip".to_owned() } else { format!("{n} round trips") }
}

/// A duration in milliseconds, with precision that suits its size.
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

/// `a / b` as `1.23×`.
pub fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        return "n/a".into();
    }
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
}

pub fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Decimal megabytes, as Lambda's deployment package limits are stated.
pub fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// Times one future.
pub async fn timed<T>(future: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let out = future.await;
    (out, started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = Summary::of(&samples).unwrap();
        assert_eq!(s.p50, Duration::from_millis(50));
        assert_eq!(s.p90, Duration::from_millis(90));
        assert_eq!(s.p99, Duration::from_millis(99));
        assert_eq!((s.min, s.max, s.count), (Duration::from_millis(1), Duration::from_millis(100), 100));
        let one = Summary::of(&[Duration::from_millis(7)]).unwrap();
        assert_eq!((one.p50, one.p99), (Duration::from_millis(7), Duration::from_millis(7)));
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn bound_stops_at_the_count() {
        assert_eq!(Bound::new(5, 60).iter().count(), 5);
        assert_eq!(Bound::new(5, 0).iter().count(), 0);
    }
}
