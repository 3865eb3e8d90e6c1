//! Configuration, read once from the environment at start-up. A missing or unusable setting stops
//! the process with a message that names the variable and what it expects.

use std::time::Duration;

/// `REQUEST_DEADLINE_MS`'s default: how long one request may take in all, every retry included
/// (see `store::deadline`), well under API Gateway's 30 s.
pub const DEFAULT_REQUEST_BUDGET: Duration = Duration::from_millis(10_000);

/// An Ed25519 key named by a key id, written `<kid>.<32 bytes in base64url>`: the seed of a
/// private key, or a public key (see `auth::keys`).
#[derive(Clone, PartialEq, Eq)]
pub struct NamedKey {
    pub kid: String,
    pub bytes: [u8; 32],
}

impl NamedKey {
    /// Parses `<kid>.<base64url>`; a key id is 1 to 64 of `A-Z a-z 0-9 _ -`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        use base64::Engine;
        let (kid, key) = raw.trim().split_once('.').ok_or("must be <key id>.<base64url key>")?;
        let kid_ok = (1..=64).contains(&kid.len())
            && kid.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !kid_ok {
            return Err("a key id is 1 to 64 letters, digits, '_' or '-'".into());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(key)
            .map_err(|_| "the key is not base64url without padding")?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| "an Ed25519 key is 32 bytes")?;
        Ok(NamedKey { kid: kid.to_owned(), bytes })
    }

    /// The public key of this private key (its seed), under the same key id.
    pub fn public(&self) -> NamedKey {
        let signing = ed25519_dalek::SigningKey::from_bytes(&self.bytes);
        NamedKey { kid: self.kid.clone(), bytes: signing.verifying_key().to_bytes() }
    }

    /// The key written as [`NamedKey::parse`] reads it.
    pub fn expose(&self) -> String {
        use base64::Engine;
        format!("{}.{}", self.kid, base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.bytes))
    }
}

impl std::fmt::Debug for NamedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NamedKey({}, <key>)", self.kid)
    }
}

/// Where the private key that signs access tokens comes from: only the users function has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigningKeySource {
    /// `ACCESS_TOKEN_SIGNING_KEY`: the key itself, for tests and tools; locally, with neither
    /// setting, the development key derived from `JWT_SECRET`.
    Given(NamedKey),
    /// `ACCESS_TOKEN_SIGNING_KEY_SECRET`: the name or ARN of the Secrets Manager secret that
    /// holds it (as `<kid>.<seed>`), read when a token is first issued, never at Init.
    Secret(String),
}

/// Which targets webhooks may have (`WEBHOOK_TARGETS`; see `domain::webhook`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetPolicy {
    /// `https://` to public addresses only: the only policy on AWS.
    #[default]
    PublicHttps,
    /// Any `http(s)://` target, loopback and private addresses included: local runs and tests.
    Any,
}

/// Every setting the functions and the local server use.
#[derive(Clone)]
pub struct Config {
    /// `TABLE_NAME`: the single DynamoDB table.
    pub table_name: String,
    /// `DYNAMODB_ENDPOINT`: set only locally (DynamoDB Local); unset on AWS.
    pub dynamodb_endpoint: Option<String>,
    /// `JWT_SECRET`: at least 32 bytes; derives the HMAC keys of cursors, calendar-feed tokens,
    /// refresh-token successors and idempotency fingerprints.
    pub jwt_secret: Vec<u8>,
    /// `JWT_SECRET_PREVIOUS`: the secret before the last rotation, whose cursors and feed URLs
    /// still verify (nothing new is signed with it).
    pub previous_jwt_secret: Option<Vec<u8>>,
    /// The private key that signs access tokens, for the users function only (see
    /// [`SigningKeySource`]).
    pub access_signing: Option<SigningKeySource>,
    /// `ACCESS_TOKEN_PUBLIC_KEYS`: comma-separated public keys that verify access tokens. Locally,
    /// when unset, the development key's.
    pub access_public_keys: Vec<NamedKey>,
    /// `SECRETS_MANAGER_ENDPOINT`: set only locally (the Secrets Manager stand-in).
    pub secrets_manager_endpoint: Option<String>,
    /// `SIGNING_KEY_REREAD_SECONDS` (default 300): how long a signing key read from Secrets
    /// Manager is used before the secret is read again, which is how soon a key put in the secret
    /// starts signing. 0 reads it for every token.
    pub signing_key_reread: Duration,
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
    /// `CHECKIN_OPENS_BEFORE_SECONDS` (default 7200, 2 hours): how long before an event starts
    /// its door opens for check-in. It closes at the event's end, or 12 hours after its start.
    pub checkin_opens_before: Duration,
    /// What the dispatch function needs to send email (see [`EmailSettings`]); `None` when
    /// `EMAIL_FROM` is unset, and then no email is sent.
    pub email: Option<EmailSettings>,
    /// `WEBHOOK_TARGETS`: `public` (the default, and the only value allowed on AWS) lets
    /// webhooks reach only `https://` targets on public addresses; `any`, allowed only with
    /// `DYNAMODB_ENDPOINT` set (a local run), any `http(s)://` target (see
    /// `domain::webhook`).
    pub webhook_targets: TargetPolicy,
}

/// Email through Amazon SES (API v2), for the dispatch function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailSettings {
    /// `EMAIL_FROM`: the sender, an address of an identity verified in SES.
    pub from: String,
    /// `PUBLIC_API_URL`: the API's address as people reach it, for the links in an email.
    pub public_api_url: String,
    /// `SES_ENDPOINT`: set only locally (the SES stand-in).
    pub ses_endpoint: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("table_name", &self.table_name)
            .field("dynamodb_endpoint", &self.dynamodb_endpoint)
            .field("jwt_secret", &"<redacted>")
            .field("access_signing", &self.access_signing)
            .field("access_public_keys", &self.access_public_keys)
            .field("secrets_manager_endpoint", &self.secrets_manager_endpoint)
            .field("signing_key_reread", &self.signing_key_reread)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("session_lifetime", &self.session_lifetime)
            .field("dynamodb_timeout", &self.dynamodb_timeout)
            .field("request_deadline", &self.request_deadline)
            .field("checkin_opens_before", &self.checkin_opens_before)
            .field("email", &self.email)
            .field("webhook_targets", &self.webhook_targets)
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

    /// Reads the process environment, or stops the process with the reason (exit status 2): a
    /// process must not start on settings it cannot use.
    pub fn from_env_or_exit() -> Self {
        Self::from_env().unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2);
        })
    }

    /// Reads settings through `lookup`, so tests can supply their own.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table_name = lookup("TABLE_NAME")
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ConfigError("TABLE_NAME must name the DynamoDB table".into()))?;
        let (jwt_secret, previous_jwt_secret) = jwt_secrets(&lookup)?;
        let dynamodb_timeout =
            millis(&lookup, "DYNAMODB_TIMEOUT_MS", 50)?.unwrap_or(Duration::from_millis(3000));
        let request_deadline = millis(&lookup, "REQUEST_DEADLINE_MS", 100)?
            .unwrap_or_else(|| dynamodb_timeout.max(DEFAULT_REQUEST_BUDGET));
        let dynamodb_endpoint = lookup("DYNAMODB_ENDPOINT").filter(|v| !v.trim().is_empty());
        let local = dynamodb_endpoint.is_some();
        let (access_signing, access_public_keys) = access_token_keys(&lookup, local, &jwt_secret)?;
        let seconds = |name: &str, default: u64| positive_seconds(&lookup, name, default);
        Ok(Config {
            table_name,
            dynamodb_endpoint,
            jwt_secret,
            previous_jwt_secret,
            access_signing,
            access_public_keys,
            secrets_manager_endpoint: lookup("SECRETS_MANAGER_ENDPOINT").filter(|v| !v.trim().is_empty()),
            signing_key_reread: match lookup("SIGNING_KEY_REREAD_SECONDS") {
                None => Duration::from_secs(300),
                Some(raw) => raw.parse::<u64>().map(Duration::from_secs).map_err(|_| {
                    ConfigError("SIGNING_KEY_REREAD_SECONDS must be a whole number of seconds".into())
                })?,
            },
            access_token_ttl: seconds("ACCESS_TOKEN_TTL_SECONDS", 900)?,
            refresh_token_ttl: seconds("REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600)?,
            session_lifetime: seconds("SESSION_LIFETIME_SECONDS", 90 * 24 * 3600)?,
            dynamodb_timeout,
            request_deadline,
            checkin_opens_before: seconds("CHECKIN_OPENS_BEFORE_SECONDS", 2 * 3600)?,
            email: email_settings(&lookup)?,
            webhook_targets: webhook_targets(&lookup, local)?,
        })
    }
}

/// `JWT_SECRET` and, while secrets rotate, `JWT_SECRET_PREVIOUS`: each at least
/// [`Config::MIN_SECRET_BYTES`].
fn jwt_secrets(lookup: &impl Fn(&str) -> Option<String>) -> Result<(Vec<u8>, Option<Vec<u8>>), ConfigError> {
    let jwt_secret = lookup("JWT_SECRET").unwrap_or_default().into_bytes();
    if jwt_secret.len() < Config::MIN_SECRET_BYTES {
        return Err(ConfigError(format!(
            "JWT_SECRET must be set to at least {} bytes of secret",
            Config::MIN_SECRET_BYTES
        )));
    }
    let previous = lookup("JWT_SECRET_PREVIOUS").filter(|v| !v.is_empty()).map(String::into_bytes);
    if previous.as_ref().is_some_and(|p| p.len() < Config::MIN_SECRET_BYTES) {
        return Err(ConfigError(format!(
            "JWT_SECRET_PREVIOUS must be at least {} bytes",
            Config::MIN_SECRET_BYTES
        )));
    }
    Ok((jwt_secret, previous))
}

/// A duration in whole seconds, more than zero; `default` when unset.
fn positive_seconds(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
) -> Result<Duration, ConfigError> {
    match lookup(name) {
        None => Ok(Duration::from_secs(default)),
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Duration::from_secs)
            .ok_or_else(|| ConfigError(format!("{name} must be a positive whole number of seconds"))),
    }
}

/// A duration in whole milliseconds, at least `min`; `None` when unset.
fn millis(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    min: u64,
) -> Result<Option<Duration>, ConfigError> {
    lookup(name)
        .map(|raw| {
            raw.parse::<u64>().ok().filter(|n| *n >= min).map(Duration::from_millis).ok_or_else(|| {
                ConfigError(format!("{name} must be a whole number of milliseconds, at least {min}"))
            })
        })
        .transpose()
}

/// Where the access-token signing key comes from (given, in a secret, or locally the development
/// key) and the public keys tokens are verified with, each key id named once.
fn access_token_keys(
    lookup: &impl Fn(&str) -> Option<String>,
    local: bool,
    jwt_secret: &[u8],
) -> Result<(Option<SigningKeySource>, Vec<NamedKey>), ConfigError> {
    let key = |name: &str, raw: &str| NamedKey::parse(raw).map_err(|e| ConfigError(format!("{name}: {e}")));
    let given = lookup("ACCESS_TOKEN_SIGNING_KEY").filter(|v| !v.trim().is_empty());
    let secret = lookup("ACCESS_TOKEN_SIGNING_KEY_SECRET").filter(|v| !v.trim().is_empty());
    let access_signing = match (given, secret) {
        (Some(_), Some(_)) => {
            return Err(ConfigError(
                "set ACCESS_TOKEN_SIGNING_KEY or ACCESS_TOKEN_SIGNING_KEY_SECRET, not both".into(),
            ));
        }
        (Some(raw), None) => Some(SigningKeySource::Given(key("ACCESS_TOKEN_SIGNING_KEY", &raw)?)),
        (None, Some(id)) => Some(SigningKeySource::Secret(id.trim().to_owned())),
        (None, None) if local => Some(SigningKeySource::Given(development_key(jwt_secret))),
        (None, None) => None,
    };
    let mut public_keys = lookup("ACCESS_TOKEN_PUBLIC_KEYS")
        .unwrap_or_default()
        .split(',')
        .filter(|raw| !raw.trim().is_empty())
        .map(|raw| key("ACCESS_TOKEN_PUBLIC_KEYS", raw))
        .collect::<Result<Vec<_>, _>>()?;
    if local && public_keys.is_empty() {
        public_keys.push(development_key(jwt_secret).public());
    }
    let mut kids: Vec<&str> = public_keys.iter().map(|k| k.kid.as_str()).collect();
    kids.sort_unstable();
    if let Some(twice) = kids.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(ConfigError(format!("ACCESS_TOKEN_PUBLIC_KEYS names the key id {:?} twice", twice[0])));
    }
    Ok((access_signing, public_keys))
}

/// Which webhook URLs are accepted: public HTTPS ones, or locally any (`WEBHOOK_TARGETS=any`).
fn webhook_targets(
    lookup: &impl Fn(&str) -> Option<String>,
    local: bool,
) -> Result<TargetPolicy, ConfigError> {
    match lookup("WEBHOOK_TARGETS").as_deref().map(str::trim) {
        None | Some("" | "public") => Ok(TargetPolicy::PublicHttps),
        Some("any") if local => Ok(TargetPolicy::Any),
        Some("any") => {
            Err(ConfigError("WEBHOOK_TARGETS=any is for local runs only (with DYNAMODB_ENDPOINT)".into()))
        }
        Some(_) => Err(ConfigError("WEBHOOK_TARGETS must be public or any".into())),
    }
}

fn email_settings(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<EmailSettings>, ConfigError> {
    let Some(from) = lookup("EMAIL_FROM").filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    if !email_address::EmailAddress::is_valid(from.trim()) {
        return Err(ConfigError("EMAIL_FROM must be an email address".into()));
    }
    let public_api_url = lookup("PUBLIC_API_URL")
        .map(|url| url.trim().trim_end_matches('/').to_owned())
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
        .ok_or_else(|| {
            ConfigError("PUBLIC_API_URL must be the API's http(s) address when EMAIL_FROM is set".into())
        })?;
    Ok(Some(EmailSettings {
        from: from.trim().to_owned(),
        public_api_url,
        ses_endpoint: lookup("SES_ENDPOINT").filter(|v| !v.trim().is_empty()),
    }))
}

/// The access-token key of a local run (see [`development_key`]), as `make run` puts it in the
/// Secrets Manager stand-in.
pub fn local_signing_key(config: &Config) -> NamedKey {
    development_key(&config.jwt_secret)
}

/// The access-token key of a local run: derived from the secret, so every local process signs and
/// verifies with the same pair without a key to keep. Never used on AWS, where
/// `DYNAMODB_ENDPOINT` is unset.
fn development_key(secret: &[u8]) -> NamedKey {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(b"events-api/local-access-token-key");
    NamedKey { kid: "local".to_owned(), bytes: mac.finalize().into_bytes().into() }
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
    fn only_a_process_given_the_private_key_holds_one_except_locally() {
        const PUBLIC: &str = "k1.Cxlrc6qTXmo-ZxwXKGwD7CJ2nx98gAP2ai0dBD_cB_g";
        let on_aws =
            env(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET), ("ACCESS_TOKEN_PUBLIC_KEYS", PUBLIC)]);
        let c = Config::from_lookup(on_aws).unwrap();
        assert!(c.access_signing.is_none());
        assert_eq!(c.access_public_keys.len(), 1);
        let local = env(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("DYNAMODB_ENDPOINT", "http://127.0.0.1:8000"),
        ]);
        let c = Config::from_lookup(local).unwrap();
        let development = local_signing_key(&c);
        assert_eq!(c.access_signing, Some(SigningKeySource::Given(development.clone())));
        assert_eq!(c.access_public_keys, [development.public()], "the development key verifies locally");
        assert!(!format!("{c:?}").contains(&development.expose()[6..]));
        let given = env(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET), ("ACCESS_TOKEN_SIGNING_KEY", PUBLIC)]);
        let given = Config::from_lookup(given).unwrap().access_signing;
        assert!(matches!(given, Some(SigningKeySource::Given(key)) if key.kid == "k1"));
        let in_secret = env(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("ACCESS_TOKEN_SIGNING_KEY_SECRET", "arn:aws:secretsmanager:eu-west-1:1:secret:key"),
        ]);
        assert_eq!(
            Config::from_lookup(in_secret).unwrap().access_signing,
            Some(SigningKeySource::Secret("arn:aws:secretsmanager:eu-west-1:1:secret:key".into()))
        );
        let both = env(&[
            ("TABLE_NAME", "t"),
            ("JWT_SECRET", SECRET),
            ("ACCESS_TOKEN_SIGNING_KEY", PUBLIC),
            ("ACCESS_TOKEN_SIGNING_KEY_SECRET", "key"),
        ]);
        assert!(Config::from_lookup(both).unwrap_err().to_string().contains("not both"));
        let bad =
            env(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET), ("ACCESS_TOKEN_PUBLIC_KEYS", "k1.short")]);
        assert!(Config::from_lookup(bad).unwrap_err().to_string().contains("ACCESS_TOKEN_PUBLIC_KEYS"));
        const TWICE: &str =
            "k1.Cxlrc6qTXmo-ZxwXKGwD7CJ2nx98gAP2ai0dBD_cB_g,k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let twice = env(&[("TABLE_NAME", "t"), ("JWT_SECRET", SECRET), ("ACCESS_TOKEN_PUBLIC_KEYS", TWICE)]);
        assert!(Config::from_lookup(twice).unwrap_err().to_string().contains("twice"));
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
