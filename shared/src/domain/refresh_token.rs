//! Refresh tokens: `<user id>.<token id>.<secret>`. The ids locate the stored record with one
//! GetItem-shaped key; only a SHA-256 of the secret is stored, so a leaked table does not leak
//! usable tokens. Each refresh spends the token and issues a new one of the same family; a spent
//! token presented again revokes the whole family (theft detection, RFC 9700 §4.14), unless it
//! is a resend of the same refresh within a short grace period: each token's successor is
//! derived from its secret under a server key ([`RefreshToken::successor`]), so a client that lost
//! the answer and asks again gets the same new token back rather than losing its session.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::Id;
use crate::signing::SigningKey;

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

    /// The token that replaces this one when it is spent: the same for every refresh that
    /// presents this token, and unpredictable without `key` (HMAC-SHA-256 of the secret).
    pub fn successor(&self, key: &SigningKey) -> Self {
        self.successors(key).swap_remove(0)
    }

    /// [`RefreshToken::successor`] under the current key, then under the previous one while
    /// the secret is rotated: a resend must find the successor its first refresh made.
    pub fn successors(&self, key: &SigningKey) -> Vec<Self> {
        let ids = key.tags(format!("id.{}", self.secret).as_bytes());
        let secrets = key.tags(format!("secret.{}", self.secret).as_bytes());
        ids.iter()
            .zip(&secrets)
            .map(|(id_tag, secret_tag)| {
                let mut id = [0u8; 16];
                id.copy_from_slice(&id_tag[..16]);
                RefreshToken {
                    user_id: self.user_id,
                    token_id: Id::from_bytes(id),
                    secret: URL_SAFE_NO_PAD.encode(secret_tag),
                }
            })
            .collect()
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
    fn a_successor_is_the_same_for_the_same_token_and_key_only() {
        let key = SigningKey::derive(b"0123456789abcdef0123456789abcdef", "refresh-successor");
        let other_key = SigningKey::derive(b"0123456789abcdef0123456789abcdef", "elsewhere");
        let t = RefreshToken::generate(Id::new());
        let next = t.successor(&key);
        assert_eq!(next, t.successor(&key));
        assert_eq!(RefreshToken::parse(&next.expose()), Some(next.clone()));
        assert_eq!(next.user_id, t.user_id);
        assert_ne!((next.token_id, next.secret_hash()), (t.token_id, t.secret_hash()));
        assert_ne!(next, t.successor(&other_key));
        assert_ne!(next, RefreshToken::generate(t.user_id).successor(&key));
        let rotating = SigningKey::derive_rotating(
            b"a-new-secret-a-new-secret-a-new-",
            Some(b"0123456789abcdef0123456789abcdef"),
            "refresh-successor",
        );
        let both = t.successors(&rotating);
        assert_eq!(both.len(), 2);
        assert_eq!(both[1], next, "the successor made before the rotation is still found");
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
