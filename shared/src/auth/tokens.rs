//! Access tokens: short-lived JWTs signed with Ed25519 (JWS `EdDSA`), each naming its key
//! (`kid`; see [`super::keys`]). The algorithm is pinned (no `alg: none`, no HMAC or RSA
//! confusion), `exp`, `iat`, `sub` and `iss` are required, and there is no leeway on expiry.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::jwks::Jwks;
use super::keys::{AccessSigningKey, KeyError, KeyRing};
use crate::config::Config;
use crate::domain::ticket::{TicketCode, TicketNonce};
use crate::domain::{Id, Instant, Role};
use crate::records::UserRecord;
use crate::signing::SigningKey;
use crate::store::secrets::Secrets;

const ISSUER: &str = "events-api";

/// Who an access token speaks for.
#[derive(Clone, Copy, Debug)]
pub struct Holder<'a> {
    pub id: Id,
    pub username: &'a str,
    pub role: Role,
    /// The user's session version: raising it revokes every token issued before.
    pub session_version: u32,
}

impl<'a> From<&'a UserRecord> for Holder<'a> {
    fn from(user: &'a UserRecord) -> Self {
        Holder {
            id: user.id,
            username: &user.username,
            role: user.role,
            session_version: user.session_version,
        }
    }
}

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
    keys: KeyRing,
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
    /// Derives tickets' codes from their nonces.
    pub ticket_key: SigningKey,
    /// Signs the one-click unsubscribe links in emails.
    unsubscribe_key: SigningKey,
}

impl Tokens {
    pub fn new(config: &Config) -> Self {
        let (secret, previous) = (&config.jwt_secret, config.previous_jwt_secret.as_deref());
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        validation.set_issuer(&[ISSUER]);
        Tokens {
            keys: KeyRing::new(
                config.access_signing.as_ref(),
                &config.access_public_keys,
                config.signing_key_reread,
                || Secrets::new(config.secrets_manager_endpoint.clone(), config.dynamodb_timeout),
            ),
            validation,
            access_ttl: config.access_token_ttl,
            refresh_ttl: config.refresh_token_ttl,
            session_lifetime: config.session_lifetime,
            refresh_key: SigningKey::derive_rotating(secret, previous, "refresh-successor"),
            idempotency_key: SigningKey::derive_rotating(secret, previous, "idempotency"),
            cursor_key: SigningKey::derive_rotating(secret, previous, "cursor"),
            calendar_key: SigningKey::derive_rotating(secret, previous, "calendar-feed"),
            ticket_key: SigningKey::derive_rotating(secret, previous, "ticket"),
            unsubscribe_key: SigningKey::derive_rotating(secret, previous, "unsubscribe"),
        }
    }

    /// The key to sign access tokens with now: `None` in a process that may not sign (only the
    /// users function may). Read before anything is stored, so a request that cannot sign
    /// changes nothing.
    pub async fn signing_key(&self) -> Result<Option<AccessSigningKey>, KeyError> {
        self.keys.signing().await
    }

    /// Signs an access token with `key` for `holder`.
    pub fn sign_access(&self, key: &AccessSigningKey, holder: Holder<'_>, now: Instant) -> Option<String> {
        let claims = AccessClaims {
            sv: holder.session_version,
            sub: holder.id.to_string(),
            name: holder.username.to_owned(),
            role: holder.role,
            iat: now.unix(),
            exp: now.unix() + self.access_ttl.as_secs() as i64,
            iss: ISSUER.to_owned(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, &claims, &key.key).ok()
    }

    /// [`Tokens::signing_key`] then [`Tokens::sign_access`]: `None` when no key can sign now.
    pub async fn issue_access(&self, holder: Holder<'_>, now: Instant) -> Option<String> {
        let key = self.signing_key().await.ok()??;
        self.sign_access(&key, holder, now)
    }

    /// Verifies the key (by `kid`, among the public keys held), signature, algorithm, issuer and
    /// expiry.
    pub fn verify_access(&self, token: &str) -> Option<AccessClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA {
            return None;
        }
        let key = self.keys.verifying(header.kid.as_deref()?)?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation).ok()?;
        data.claims.user_id()?;
        Some(data.claims)
    }

    /// The code of the ticket made from `nonce`, as it was made: its hash is stored as
    /// `lookup`, and while the secret is rotated the code may be the previous key's.
    pub fn ticket_code(&self, nonce: &TicketNonce, lookup: &str) -> Option<TicketCode> {
        let codes = self.ticket_key.tags(&nonce.message()).into_iter().map(|tag| TicketCode::from_tag(&tag));
        codes.into_iter().find(|code| code.lookup() == lookup)
    }

    /// The code a new ticket made from `nonce` gets.
    pub fn new_ticket_code(&self, nonce: &TicketNonce) -> TicketCode {
        TicketCode::from_tag(&self.ticket_key.sign(&nonce.message()))
    }

    /// The token of `user`'s one-click unsubscribe link (RFC 8058): their id and a signature of
    /// it, so the link works without signing in, for as long as the secret (or, during a rotation,
    /// the previous one) signs it.
    pub fn unsubscribe_token(&self, user: Id) -> String {
        use base64::Engine;
        let tag = self.unsubscribe_key.sign(user.to_string().as_bytes());
        format!("{user}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag))
    }

    /// The user an unsubscribe token was made for, if it is genuine.
    pub fn unsubscribed_user(&self, token: &str) -> Option<Id> {
        use base64::Engine;
        let (user, tag) = token.split_once('.')?;
        let user = Id::parse(user)?;
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.unsubscribe_key.verify(user.to_string().as_bytes(), &tag).then_some(user)
    }

    /// The public keys that verify access tokens, as a JWK Set.
    pub fn jwks(&self) -> Jwks {
        self.keys.jwks()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(id: Id, username: &str, role: Role, session_version: u32) -> Holder<'_> {
        Holder { id, username, role, session_version }
    }
    use crate::auth::keys::{NamedKey, generate};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    /// The tokens of a process that signs with `private` (if any) and verifies with `public`.
    fn tokens(private: Option<&NamedKey>, public: &[&NamedKey]) -> Tokens {
        let private = private.map(NamedKey::expose);
        let public = public.iter().map(|key| key.expose()).collect::<Vec<_>>().join(",");
        let config = Config::from_lookup(|name| match name {
            "TABLE_NAME" => Some("t".into()),
            "JWT_SECRET" => Some(SECRET.into()),
            "ACCESS_TOKEN_SIGNING_KEY" => private.clone(),
            "ACCESS_TOKEN_PUBLIC_KEYS" => Some(public.clone()),
            _ => None,
        })
        .unwrap();
        Tokens::new(&config)
    }

    fn header(jwt: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn unsubscribe_tokens_name_their_user_and_refuse_forgeries() {
        let (private, _) = generate("k1");
        let t = tokens(Some(&private), &[]);
        let user = Id::new();
        let token = t.unsubscribe_token(user);
        assert_eq!(t.unsubscribed_user(&token), Some(user));
        let other = Id::new();
        let forged = format!("{other}.{}", token.split_once('.').unwrap().1);
        for bad in [forged.as_str(), "", "x.y", &token[..token.len() - 2], &format!("{token}A")] {
            assert_eq!(t.unsubscribed_user(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn issues_and_verifies_naming_its_key() {
        let (private, _) = generate("k1");
        let t = tokens(Some(&private), &[]);
        let id = Id::new();
        let jwt = t.issue_access(holder(id, "alice", Role::Admin, 3), Instant::now()).await.unwrap();
        assert_eq!(header(&jwt)["alg"], "EdDSA");
        assert_eq!(header(&jwt)["kid"], "k1");
        let claims = t.verify_access(&jwt).unwrap();
        assert_eq!((claims.user_id(), claims.role, claims.sv), (Some(id), Role::Admin, 3));
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[tokio::test]
    async fn a_process_without_the_private_key_verifies_but_cannot_mint() {
        let (private, public) = generate("k1");
        let minted = tokens(Some(&private), &[])
            .issue_access(holder(Id::new(), "alice", Role::Admin, 0), Instant::now())
            .await;
        let verifier = tokens(None, &[&public]);
        assert!(
            verifier
                .issue_access(holder(Id::new(), "mallory", Role::Admin, 0), Instant::now())
                .await
                .is_none()
        );
        assert!(verifier.verify_access(&minted.unwrap()).is_some());
    }

    #[tokio::test]
    async fn a_key_rotates_without_signing_anyone_out() {
        let (old_private, old_public) = generate("2026-11");
        let (new_private, new_public) = generate("2026-12");
        let before = tokens(Some(&old_private), &[])
            .issue_access(holder(Id::new(), "a", Role::User, 0), Instant::now())
            .await;
        let before = before.unwrap();
        // Step 1: every function learns the new public key. Step 2: the users function signs with
        // the new private key. Tokens of either key verify meanwhile.
        let during = tokens(Some(&new_private), &[&old_public, &new_public]);
        let after_switch =
            during.issue_access(holder(Id::new(), "b", Role::User, 0), Instant::now()).await.unwrap();
        assert_eq!(header(&after_switch)["kid"], "2026-12");
        assert!(during.verify_access(&before).is_some());
        assert!(during.verify_access(&after_switch).is_some());
        // Step 3, once the old key's tokens have expired: the old public key is retired.
        let retired = tokens(Some(&new_private), &[&new_public]);
        assert!(retired.verify_access(&before).is_none());
        assert!(retired.verify_access(&after_switch).is_some());
    }

    #[tokio::test]
    async fn refuses_expired_foreign_tampered_and_unknown_key_tokens() {
        let (private, _) = generate("k1");
        let t = tokens(Some(&private), &[]);
        let old = Instant::now().plus_seconds(-901);
        assert!(
            t.verify_access(&t.issue_access(holder(Id::new(), "alice", Role::User, 0), old).await.unwrap())
                .is_none()
        );

        // Another key pair under the same key id.
        let (impostor, _) = generate("k1");
        let foreign = tokens(Some(&impostor), &[])
            .issue_access(holder(Id::new(), "alice", Role::User, 0), Instant::now())
            .await;
        assert!(t.verify_access(&foreign.unwrap()).is_none());

        let jwt = t.issue_access(holder(Id::new(), "alice", Role::User, 0), Instant::now()).await.unwrap();
        let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["role"] = "admin".into();
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert!(t.verify_access(&parts.join(".")).is_none());
        let mut renamed = header(&jwt);
        renamed["kid"] = "unknown".into();
        let renamed = format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(renamed.to_string()), parts[1], parts[2]);
        assert!(t.verify_access(&renamed).is_none());
    }

    #[test]
    fn refuses_alg_none_and_hmac_tokens() {
        let (private, _) = generate("k1");
        let t = tokens(Some(&private), &[]);
        let now = Instant::now().unix();
        let claims = serde_json::json!({"sub": Id::new().to_string(), "name": "alice", "role": "admin", "iat": now, "exp": now + 60, "iss": "events-api"});
        let body = URL_SAFE_NO_PAD.encode(claims.to_string());
        let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        assert!(t.verify_access(&format!("{none}.{body}.")).is_none());
        assert!(t.verify_access(&format!("{none}.{body}")).is_none());
        // An HS256 token whose secret is the public key (the classic algorithm confusion).
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some("k1".into());
        let public = private.public();
        let key = jsonwebtoken::EncodingKey::from_secret(&public.bytes);
        assert!(t.verify_access(&jsonwebtoken::encode(&hs, &claims, &key).unwrap()).is_none());
    }
}
