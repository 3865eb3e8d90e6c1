//! A counting TCP proxy in front of DynamoDB Local: every request the SDK sends carries an
//! `X-Amz-Target: DynamoDB_20120810.<Operation>` header line, so counting those lines counts round
//! trips, by operation. The answers are read too, for the error types DynamoDB returns
//! (`"__type": "…#TransactionCanceledException"`) and the cancellation reasons of a transaction
//! (`"Code": "TransactionConflict"`). Bytes are forwarded unchanged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

/// What passed through the proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests by operation (`GetItem`, `Query`, `TransactWriteItems`, ...).
    pub operations: BTreeMap<String, u64>,
    /// Error answers by type (`TransactionCanceledException`, ...).
    pub errors: BTreeMap<String, u64>,
    /// Reasons in transaction cancellations other than `None` (`ConditionalCheckFailed`,
    /// `TransactionConflict`).
    pub reasons: BTreeMap<String, u64>,
}

fn minus(a: &BTreeMap<String, u64>, b: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    a.iter().map(|(k, v)| (k.clone(), v - b.get(k).copied().unwrap_or(0))).filter(|(_, v)| *v > 0).collect()
}

impl Counts {
    pub fn requests(&self) -> u64 {
        self.operations.values().sum()
    }

    /// What happened after `before` was taken.
    pub fn since(&self, before: &Counts) -> Counts {
        Counts {
            operations: minus(&self.operations, &before.operations),
            errors: minus(&self.errors, &before.errors),
            reasons: minus(&self.reasons, &before.reasons),
        }
    }

    /// `GetItem 1.00 + Query 2.00` per `per` requests.
    pub fn per(&self, per: u64) -> String {
        per_line(&self.operations, per)
    }
}

/// Counts of a map divided by `per`, as `Name 1.00 + Other 0.50`.
pub fn per_line(map: &BTreeMap<String, u64>, per: u64) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(name, n)| {
            let v = *n as f64 / per.max(1) as f64;
            if v < 0.01 { format!("{name} {v:.4}") } else { format!("{name} {v:.2}") }
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

pub struct CountingProxy {
    pub endpoint: String,
    counts: Arc<Mutex<Counts>>,
}

impl CountingProxy {
    /// Listens on a free loopback port and forwards to `target` (`http://host:port`).
    pub async fn start(target: &str) -> std::io::Result<CountingProxy> {
        let target = target.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let counts: Arc<Mutex<Counts>> = Arc::default();
        let shared = counts.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let _ = inbound.set_nodelay(true);
                let (target, counts) = (target.clone(), shared.clone());
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(&target).await else { return };
                    let _ = outbound.set_nodelay(true);
                    let (client_read, client_write) = inbound.into_split();
                    let (server_read, server_write) = outbound.into_split();
                    let up = pump(client_read, server_write, Direction::Request, counts.clone());
                    let down = pump(server_read, client_write, Direction::Response, counts);
                    let _ = tokio::join!(up, down);
                });
            }
        });
        Ok(CountingProxy { endpoint, counts })
    }

    pub fn counts(&self) -> Counts {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Request,
    Response,
}

async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    direction: Direction,
    counts: Arc<Mutex<Counts>>,
) -> std::io::Result<()> {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut scanner = Scanner::default();
    loop {
        let n = from.read(&mut buffer).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        // Counted before forwarding: by the time an answer arrives, its request is counted.
        let found = scanner.feed(&buffer[..n], patterns(direction));
        if !found.is_empty() {
            let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
            for (pattern, value) in found {
                let (map, name) = match (direction, pattern) {
                    (Direction::Request, _) => {
                        (&mut counts.operations, value.rsplit('.').next().unwrap_or(&value).to_owned())
                    }
                    (Direction::Response, 0) => {
                        (&mut counts.errors, value.rsplit('#').next().unwrap_or(&value).to_owned())
                    }
                    (Direction::Response, _) if value == "None" => continue,
                    (Direction::Response, _) => (&mut counts.reasons, value),
                };
                *map.entry(name).or_default() += 1;
            }
        }
        to.write_all(&buffer[..n]).await?;
    }
}

fn patterns(direction: Direction) -> &'static [&'static [u8]] {
    match direction {
        Direction::Request => &[b"\nx-amz-target:"],
        Direction::Response => &[b"\"__type\"", b"\"Code\""],
    }
}

/// Finds `pattern` followed by a value (after any `:`, `"` and spaces, up to a quote, comma,
/// brace or line end) in a stream that arrives in pieces. The tail of each piece that may hold an
/// unfinished match is kept for the next; nothing is counted twice.
#[derive(Default)]
struct Scanner {
    carry: Vec<u8>,
}

/// Longer than any pattern with its value.
const CARRY: usize = 256;

impl Scanner {
    fn feed(&mut self, piece: &[u8], patterns: &[&[u8]]) -> Vec<(usize, String)> {
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(piece);
        let mut found = Vec::new();
        let mut consumed = 0;
        let mut i = 0;
        while i < window.len() {
            let hit = patterns.iter().position(|p| {
                window[i] == p[0]
                    && window.len() - i >= p.len()
                    && window[i..i + p.len()].eq_ignore_ascii_case(p)
            });
            let Some(which) = hit else {
                i += 1;
                continue;
            };
            let mut j = i + patterns[which].len();
            while j < window.len() && matches!(window[j], b':' | b'"' | b' ' | b'\t') {
                j += 1;
            }
            let start = j;
            while j < window.len() && !matches!(window[j], b'"' | b',' | b'}' | b'\r' | b'\n') {
                j += 1;
            }
            if j == window.len() {
                // The value is not complete yet: keep it for the next piece.
                break;
            }
            found.push((which, String::from_utf8_lossy(&window[start..j]).trim().to_owned()));
            consumed = j;
            i = j;
        }
        // Stopped early: keep the unfinished match. Otherwise keep a tail that may hold the start
        // of a pattern, but nothing already counted.
        let keep_from = if i < window.len() { i } else { consumed.max(window.len().saturating_sub(CARRY)) };
        self.carry = window[keep_from..].to_vec();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(pieces: &[&str], patterns: &[&[u8]]) -> Vec<(usize, String)> {
        let mut scanner = Scanner::default();
        pieces.iter().flat_map(|p| scanner.feed(p.as_bytes(), patterns)).collect()
    }

    #[test]
    fn counts_targets_split_anywhere() {
        let stream = "POST / HTTP/1.1\r\ncontent-type: application/x-amz-json-1.0\r\nx-amz-target: DynamoDB_20120810.GetItem\r\ncontent-length: 2\r\n\r\n{}POST / HTTP/1.1\r\nX-Amz-Target: DynamoDB_20120810.Query\r\n\r\n{}";
        let whole = scan(&[stream], &[b"\nx-amz-target:"]);
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0].1, "DynamoDB_20120810.GetItem");
        assert_eq!(whole[1].1, "DynamoDB_20120810.Query");
        for cut in 1..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(scan(&[a, b], &[b"\nx-amz-target:"]), whole, "cut at {cut}");
        }
    }

    #[test]
    fn reads_error_types_and_reasons() {
        let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","CancellationReasons":[{"Code":"None"},{"Code":"TransactionConflict","Message":"x"}]}"#;
        let found = scan(&[body], &[b"\"__type\"", b"\"Code\""]);
        let values: Vec<&str> = found.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            values,
            ["com.amazonaws.dynamodb.v20120810#TransactionCanceledException", "None", "TransactionConflict"]
        );
        for cut in 1..body.len() {
            let (a, b) = body.split_at(cut);
            assert_eq!(scan(&[a, b], &[b"\"__type\"", b"\"Code\""]), found, "cut at {cut}");
        }
    }
}
