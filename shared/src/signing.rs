//! Keys derived from `JWT_SECRET`, one per purpose, so that a value signed for one use (a cursor,
//! a calendar feed) can never pass as another. While the secret is rotated, the previous one
//! (`JWT_SECRET_PREVIOUS`) still verifies what it signed.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// An HMAC-SHA256 key dedicated to one purpose, with the key of the secret before the last
/// rotation, which still verifies.
#[derive(Clone)]
pub struct SigningKey {
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
}

fn derived(secret: &[u8], purpose: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(b"events-api/");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn tag_matches(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.verify_slice(tag).is_ok()
}

impl SigningKey {
    /// Derives the key for `purpose` from the master secret.
    pub fn derive(secret: &[u8], purpose: &str) -> Self {
        SigningKey { current: derived(secret, purpose), previous: None }
    }

    /// Derives the key for `purpose` from the master secret, and from the previous one when the
    /// secret is being rotated: values signed with either verify, new ones are signed with the
    /// current one only.
    pub fn derive_rotating(secret: &[u8], previous: Option<&[u8]>, purpose: &str) -> Self {
        SigningKey { current: derived(secret, purpose), previous: previous.map(|p| derived(p, purpose)) }
    }

    /// The tag of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.current).expect("HMAC takes keys of any length");
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// The tags of `message` under the current key and then the previous one: for values that
    /// are recomputed rather than checked (a refresh token's successor, a request's
    /// fingerprint), to find one made before the rotation.
    pub fn tags(&self, message: &[u8]) -> Vec<[u8; 32]> {
        let previous = self.previous.as_ref().map(|previous| {
            let mut mac = HmacSha256::new_from_slice(previous).expect("HMAC takes keys of any length");
            mac.update(message);
            mac.finalize().into_bytes().into()
        });
        std::iter::once(self.sign(message)).chain(previous).collect()
    }

    /// Checks a tag in constant time, against the current key and then the previous one.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        tag_matches(&self.current, message, tag)
            || self.previous.as_deref().is_some_and(|previous| tag_matches(previous, message, tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_get_different_keys() {
        let a = SigningKey::derive(b"secret", "cursor");
        let b = SigningKey::derive(b"secret", "calendar");
        assert_ne!(a.sign(b"x"), b.sign(b"x"));
        assert!(a.verify(b"x", &a.sign(b"x")));
        assert!(!b.verify(b"x", &a.sign(b"x")));
        assert!(!a.verify(b"y", &a.sign(b"x")));
        assert!(!a.verify(b"x", &[]));
    }

    #[test]
    fn a_rotated_secret_still_verifies_what_the_previous_one_signed() {
        let before = SigningKey::derive(b"old-secret", "cursor");
        let during = SigningKey::derive_rotating(b"new-secret", Some(b"old-secret"), "cursor");
        let after = SigningKey::derive(b"new-secret", "cursor");
        let old_tag = before.sign(b"x");
        assert!(during.verify(b"x", &old_tag));
        assert_eq!(during.sign(b"x"), after.sign(b"x"));
        assert!(!after.verify(b"x", &old_tag));
        assert_eq!(during.tags(b"x"), vec![after.sign(b"x"), old_tag]);
        assert_eq!(after.tags(b"x"), vec![after.sign(b"x")]);
    }
}
