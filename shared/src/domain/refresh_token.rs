//! Refresh tokens: `<user id>.<token id>.<secret>`. The ids locate the stored record with one
//! GetItem-shaped key; only a SHA-256 of the secret is stored, so a leaked table does not leak
//! usable tokens. Each refresh spends the token and issues a new one of the same family; a spent
//! token presented again revokes the whole family (theft detection, RFC 9700 §4.14).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::Id;

/// A refresh token as a client holds it, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshToken {
    pub user_id: Id,
    pub token_id: Id,
    secret: String,
}

impl RefreshToken {
    /// A fresh token for `user_id`.
    pub fn generate(user_id: Id) -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        RefreshToken { user_id, token_id: Id::new(), secret: URL_SAFE_NO_PAD.encode(bytes) }
    }

    /// Parses what a client sent; `None` for anything not shaped like a token of ours.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.split('.');
        let user_id = Id::parse(parts.next()?)?;
        let token_id = Id::parse(parts.next()?)?;
        let secret = parts.next()?;
        if parts.next().is_some() || secret.len() != 43 {
            return None;
        }
        URL_SAFE_NO_PAD.decode(secret).ok()?;
        Some(RefreshToken { user_id, token_id, secret: secret.to_owned() })
    }

    /// The stored fingerprint of the secret.
    pub fn secret_hash(&self) -> String {
        let digest = Sha256::digest(self.secret.as_bytes());
        URL_SAFE_NO_PAD.encode(digest)
    }

    /// What the client receives.
    pub fn expose(&self) -> String {
        format!("{}.{}.{}", self.user_id, self.token_id, self.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_hashes() {
        let t = RefreshToken::generate(Id::new());
        let parsed = RefreshToken::parse(&t.expose()).unwrap();
        assert_eq!(parsed, t);
        assert_eq!(parsed.secret_hash(), t.secret_hash());
        assert!(!t.secret_hash().contains(&t.secret));
        assert_ne!(RefreshToken::generate(t.user_id).secret_hash(), t.secret_hash());
    }

    #[test]
    fn rejects_malformed_tokens() {
        let t = RefreshToken::generate(Id::new()).expose();
        for bad in [
            String::new(),
            "a.b.c".to_owned(),
            format!("{t}.extra"),
            t[..t.len() - 1].to_owned(),
            t.replacen('.', "", 1),
        ] {
            assert_eq!(RefreshToken::parse(&bad), None, "{bad}");
        }
    }
}
