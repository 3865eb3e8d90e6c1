//! Keys derived from `JWT_SECRET`, one per purpose, so that a value signed for one use (a cursor,
//! a calendar feed) can never pass as another (an access token).

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// An HMAC-SHA256 key dedicated to one purpose.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    /// Derives the key for `purpose` from the master secret.
    pub fn derive(secret: &[u8], purpose: &str) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
        mac.update(b"events-api/");
        mac.update(purpose.as_bytes());
        SigningKey(mac.finalize().into_bytes().to_vec())
    }

    /// The tag of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// Checks a tag in constant time.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(message);
        mac.verify_slice(tag).is_ok()
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
}
