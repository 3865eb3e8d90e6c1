//! Calendar-feed tokens: the secret part of a personal feed URL, which calendar apps fetch without
//! any header. A token names the user and the feed's version, sealed with an HMAC: unguessable,
//! checkable without a lookup table, and revoked by bumping the user's version ("rotate").

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::Id;
use crate::signing::SigningKey;

const TAG_BYTES: usize = 16;
const TOKEN_BYTES: usize = 16 + 4 + TAG_BYTES;

/// The token of `user`'s feed at `version`.
pub fn feed_token(key: &SigningKey, user: Id, version: u32) -> String {
    let mut bytes = Vec::with_capacity(TOKEN_BYTES);
    bytes.extend_from_slice(&user.to_bytes());
    bytes.extend_from_slice(&version.to_be_bytes());
    let tag = key.sign(&bytes);
    bytes.extend_from_slice(&tag[..TAG_BYTES]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The user and version a token was made for, if it is one of ours.
pub fn open_feed_token(key: &SigningKey, raw: &str) -> Option<(Id, u32)> {
    if raw.len() > 64 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    if bytes.len() != TOKEN_BYTES {
        return None;
    }
    let (body, tag) = bytes.split_at(16 + 4);
    let expected = key.sign(body);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..TAG_BYTES], tag)) {
        return None;
    }
    let user = Id::from_bytes(body[..16].try_into().ok()?);
    let version = u32::from_be_bytes(body[16..20].try_into().ok()?);
    Some((user, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_forgeries() {
        let key = SigningKey::derive(b"0123456789abcdef0123456789abcdef", "calendar-feed");
        let user = Id::new();
        let token = feed_token(&key, user, 3);
        assert_eq!(open_feed_token(&key, &token), Some((user, 3)));
        assert_ne!(feed_token(&key, user, 4), token);
        let other = SigningKey::derive(b"0123456789abcdef0123456789abcdef", "cursor");
        assert_eq!(open_feed_token(&other, &token), None);
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[17] ^= 1;
        assert_eq!(open_feed_token(&key, &URL_SAFE_NO_PAD.encode(bytes)), None);
        for garbage in ["", "x", &"A".repeat(48), "../../etc/passwd"] {
            assert_eq!(open_feed_token(&key, garbage), None);
        }
    }
}
