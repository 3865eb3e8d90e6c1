//! Configuration, read once from the environment at start-up. A missing or unusable setting stops
//! the process with a message that names the variable and what it expects.

use std::time::Duration;

/// `REQUEST_DEADLINE_MS`'s default: how long one request may take in all, every retry included
/// (see `store::deadline`), well under API Gateway's 30 s.
pub const DEFAULT_REQUEST_BUDGET: Duration = Duration::from_millis(10_000);

/// Every setting the functions and the local server use.
#[derive(Clone)]
pub struct Config {
    /// `TABLE_NAME`: the single DynamoDB table.
    pub table_name: String,
    /// `DYNAMODB_ENDPOINT`: set only locally (DynamoDB Local); unset on AWS.
    pub dynamodb_endpoint: Option<String>,
    /// `JWT_SECRET`: at least 32 bytes; signs access tokens and, through a derived key, cursors
    /// and calendar-feed tokens.
    pub jwt_secret: Vec<u8>,
    /// `ACCESS_TOKEN_TTL_SECONDS` (default 900).
    pub access_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL_SECONDS` (default 2592000, 30 days): how long a session lasts unused.
    pub refresh_token_ttl: Duration,
    /// `SESSION_LIFETIME_SECONDS` (default 7776000, 90 days): how long a session lasts from its
    /// login however often it is refreshed; then its user logs in again.
    pub session_lifetime: Duration,
    /// `DYNAMODB_TIMEOUT_MS` (default 3000): the most one DynamoDB call may take, retries
    /// included, before the request answers 503.
    pub dynamodb_timeout: Duration,
    /// `REQUEST_DEADLINE_MS` (at least 100): how long one HTTP request may spend retrying
    /// contended writes, and waiting on DynamoDB at all, before it answers 503 with
    /// `Retry-After`. One deadline for the whole request, so nested retries cannot add up past
    /// it. The default is 10000, well inside the functions' 29 s timeout, or
    /// `DYNAMODB_TIMEOUT_MS` when that is longer: a request may always wait out one call that
    /// the storage timeout allows, so raising that timeout (for a slow emulator) is not undone.
    pub request_deadline: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("table_name", &self.table_name)
            .field("dynamodb_endpoint", &self.dynamodb_endpoint)
            .field("jwt_secret", &"<redacted>")
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("session_lifetime", &self.session_lifetime)
            .field("dynamodb_timeout", &self.dynamodb_timeout)
            .field("request_deadline", &self.request_deadline)
            .finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    pub const MIN_SECRET_BYTES: usize = 32;

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table_name = lookup("TABLE_NAME")
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ConfigError("TABLE_NAME must name the DynamoDB table".into()))?;
        let jwt_secret = lookup("JWT_SECRET").unwrap_or_default().into_bytes();
        if jwt_secret.len() < Self::MIN_SECRET_BYTES {
            return Err(ConfigError(format!(
                "JWT_SECRET must be set to at least {} bytes of secret",
                Self::MIN_SECRET_BYTES
            )));
        }
        let seconds = |name: &str, default: u64| -> Result<Duration, ConfigError> {
            match lookup(name) {
                None => Ok(Duration::from_secs(default)),
                Some(raw) => {
                    raw.parse::<u64>().ok().filter(|n| *n > 0).map(Duration::from_secs).ok_or_else(|| {
                        ConfigError(format!("{name} must be a positive whole number of seconds"))
                    })
                }
            }
        };
        let dynamodb_timeout = match lookup("DYNAMODB_TIMEOUT_MS") {
            None => Duration::from_millis(3000),
            Some(raw) => {
                raw.parse::<u64>().ok().filter(|n| *n >= 50).map(Duration::from_millis).ok_or_else(|| {
                    ConfigError(
                        "DYNAMODB_TIMEOUT_MS must be a whole number of milliseconds, at least 50".into(),
                    )
                })?
            }
        };
        let request_deadline = match lookup("REQUEST_DEADLINE_MS") {
            None => dynamodb_timeout.max(DEFAULT_REQUEST_BUDGET),
            Some(raw) => {
                raw.parse::<u64>().ok().filter(|n| *n >= 100).map(Duration::from_millis).ok_or_else(|| {
                    ConfigError(
                        "REQUEST_DEADLINE_MS must be a whole number of milliseconds, at least 100".into(),
                    )
                })?
            }
        };
        Ok(Config {
            table_name,
            dynamodb_endpoint: lookup("DYNAMODB_ENDPOINT").filter(|v| !v.trim().is_empty()),
            jwt_secret,
            access_token_ttl: seconds("ACCESS_TOKEN_TTL_SECONDS", 900)?,
            refresh_token_ttl: seconds("REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600)?,
            session_lifetime: seconds("SESSION_LIFETIME_SECONDS", 90 * 24 * 3600)?,
            dynamodb_timeout,
            request_deadline,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn reads_defaults() {
        let c = Config::from_lookup(env(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET)])).unwrap();
        assert_eq!(c.table_name, "t");
        assert_eq!(c.dynamodb_endpoint, None);
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        assert_eq!(c.request_deadline, Duration::from_secs(10));
        assert!(!format!("{c:?}").contains(SECRET));
    }

    #[test]
    fn fails_fast_with_the_variable_name() {
        let e = Config::from_lookup(env(&[("JWT_SECRET", SECRET)])).unwrap_err();
        assert!(e.to_string().contains("TABLE_NAME"));
        let e = Config::from_lookup(env(&[("TABLE_NAME", "t"), ("JWT_SECRET", "short")])).unwrap_err();
        assert!(e.to_string().contains("JWT_SECRET"));
        let e = Config::from_lookup(env(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("ACCESS_TOKEN_TTL_SECONDS", "soon"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("ACCESS_TOKEN_TTL_SECONDS"));
    }

    #[test]
    fn reads_the_request_deadline_and_refuses_a_tiny_one() {
        let c = Config::from_lookup(env(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("REQUEST_DEADLINE_MS", "2500"),
        ]))
        .unwrap();
        assert_eq!(c.request_deadline, Duration::from_millis(2500));
        let patient = Config::from_lookup(env(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("DYNAMODB_TIMEOUT_MS", "60000"),
        ]))
        .unwrap();
        assert_eq!(
            patient.request_deadline,
            Duration::from_secs(60),
            "never shorter than one call's timeout"
        );
        for tiny in ["99", "0", "soon"] {
            let e = Config::from_lookup(|name| match name {
                "TABLE_NAME" => Some("t".into()),
                "JWT_SECRET" => Some(SECRET.into()),
                "REQUEST_DEADLINE_MS" => Some(tiny.into()),
                _ => None,
            })
            .unwrap_err();
            assert!(e.to_string().contains("REQUEST_DEADLINE_MS"), "{e}");
        }
    }
}
