//! Access tokens: short-lived HS256 JWTs. The algorithm is pinned (no `alg: none`, no RS/HS
//! confusion), `exp`, `iat`, `sub` and `iss` are required, and there is no leeway on expiry.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::domain::{Id, Instant, Role};
use crate::signing::SigningKey;

const ISSUER: &str = "events-api";

/// The claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: String,
    /// The username when the token was issued; see [`crate::auth::Claims`] for how a rename
    /// since then is caught.
    pub name: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    /// The user's session version when the token was issued: a password change or a sign-out
    /// everywhere bumps it, and from then on the token is refused. Tokens issued before the
    /// claim existed carry none, which is version 0.
    #[serde(default)]
    pub sv: u32,
}

impl AccessClaims {
    /// The caller's id; tokens are only ever issued with a valid one.
    pub fn user_id(&self) -> Option<Id> {
        Id::parse(&self.sub)
    }
}

/// Everything that signs or checks a token, a cursor or a feed URL.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// The longest a session lasts from its login.
    pub session_lifetime: Duration,
    /// Derives each refresh token's successor (see `RefreshToken::successor`).
    pub refresh_key: SigningKey,
    /// Keys the fingerprints of requests sent with an idempotency key.
    pub idempotency_key: SigningKey,
    /// Authenticates pagination cursors.
    pub cursor_key: SigningKey,
    /// Authenticates calendar-feed tokens.
    pub calendar_key: SigningKey,
}

impl Tokens {
    pub fn new(config: &Config) -> Self {
        let secret = &config.jwt_secret;
        let jwt_key = SigningKey::derive(secret, "access-token").sign(b"key");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        validation.set_issuer(&[ISSUER]);
        Tokens {
            encoding: EncodingKey::from_secret(&jwt_key),
            decoding: DecodingKey::from_secret(&jwt_key),
            validation,
            access_ttl: config.access_token_ttl,
            refresh_ttl: config.refresh_token_ttl,
            session_lifetime: config.session_lifetime,
            refresh_key: SigningKey::derive(secret, "refresh-successor"),
            idempotency_key: SigningKey::derive(secret, "idempotency"),
            cursor_key: SigningKey::derive(secret, "cursor"),
            calendar_key: SigningKey::derive(secret, "calendar-feed"),
        }
    }

    /// Signs an access token for a user whose sessions are at `session_version`.
    pub fn issue_access(
        &self,
        user_id: Id,
        username: &str,
        role: Role,
        session_version: u32,
        now: Instant,
    ) -> String {
        let claims = AccessClaims {
            sv: session_version,
            sub: user_id.to_string(),
            name: username.to_owned(),
            role,
            iat: now.unix(),
            exp: now.unix() + self.access_ttl.as_secs() as i64,
            iss: ISSUER.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// Verifies signature, algorithm, issuer and expiry.
    pub fn verify_access(&self, token: &str) -> Option<AccessClaims> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).ok()?;
        data.claims.user_id()?;
        Some(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn tokens(secret: &str) -> Tokens {
        let config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".into()),
            "JWT_SECRET" => Some(secret.into()),
            _ => None,
        })
        .unwrap();
        Tokens::new(&config)
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn issues_and_verifies() {
        let t = tokens(SECRET);
        let id = Id::new();
        let jwt = t.issue_access(id, "alice", Role::Admin, 0, Instant::now());
        let claims = t.verify_access(&jwt).unwrap();
        assert_eq!(claims.user_id(), Some(id));
        assert_eq!(claims.role, Role::Admin);
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn refuses_expired_foreign_and_tampered_tokens() {
        let t = tokens(SECRET);
        let old = Instant::now().plus_seconds(-901);
        assert!(t.verify_access(&t.issue_access(Id::new(), "alice", Role::User, 0, old)).is_none());

        let other = tokens("another-secret-another-secret-xx");
        assert!(
            t.verify_access(&other.issue_access(Id::new(), "alice", Role::User, 0, Instant::now())).is_none()
        );

        let jwt = t.issue_access(Id::new(), "alice", Role::User, 0, Instant::now());
        let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["role"] = "admin".into();
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert!(t.verify_access(&parts.join(".")).is_none());
    }

    #[test]
    fn refuses_alg_none() {
        let t = tokens(SECRET);
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let now = Instant::now().unix();
        let body = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"sub": Id::new().to_string(), "name": "alice", "role": "admin", "iat": now, "exp": now + 60, "iss": "events-api"})
                .to_string(),
        );
        assert!(t.verify_access(&format!("{header}.{body}.")).is_none());
        assert!(t.verify_access(&format!("{header}.{body}")).is_none());
    }
}
