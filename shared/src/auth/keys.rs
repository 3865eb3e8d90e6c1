//! The key ring of access tokens: Ed25519 (JWS `EdDSA`, RFC 8037) key pairs named by a key id.
//!
//! Only the function that logs people in holds a private key (`ACCESS_TOKEN_SIGNING_KEY`); every
//! function holds the public keys that may verify (`ACCESS_TOKEN_PUBLIC_KEYS`), and the users
//! function publishes them as a JWK Set, so a function that is not meant to mint tokens cannot,
//! and other services can verify without any secret. Each token names its key (`kid`), so
//! several keys verify at once and a key can be replaced without signing anyone out: add the new
//! public key, switch signing to the new private key, and retire the old public key once the
//! tokens it signed have expired (see the README).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde_json::{Value, json};

pub use crate::config::NamedKey;

/// The DER prefix of an Ed25519 private key in PKCS#8 v1 (RFC 8410 section 7), before its
/// 32-byte seed.
const PKCS8_ED25519_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// A new key pair named `kid`: the private key, then its public key.
pub fn generate(kid: &str) -> (NamedKey, NamedKey) {
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    let private = NamedKey { kid: kid.to_owned(), bytes: seed };
    let public = public_of(&private);
    (private, public)
}

/// The public key of a private key.
pub fn public_of(private: &NamedKey) -> NamedKey {
    let signing = ed25519_dalek::SigningKey::from_bytes(&private.bytes);
    NamedKey { kid: private.kid.clone(), bytes: signing.verifying_key().to_bytes() }
}

/// The keys a process signs and verifies access tokens with.
pub struct KeyRing {
    signing: Option<(String, EncodingKey)>,
    verifying: Vec<(NamedKey, DecodingKey)>,
}

impl KeyRing {
    /// Signs with `private` (when this process may mint tokens) and verifies with `public`. The
    /// signing key's own public key always verifies, and stands for its key id: a listed public
    /// key under the same id (a mistake in the settings) could only refuse every new token.
    pub fn new(private: Option<&NamedKey>, public: &[NamedKey]) -> Self {
        let own = private.map(public_of);
        let own_kid = own.as_ref().map(|own| own.kid.clone());
        let listed = public.iter().filter(|key| own_kid.as_ref() != Some(&key.kid)).cloned();
        let verifying: Vec<NamedKey> = listed.chain(own).collect();
        let signing = private.map(|key| {
            let mut der = PKCS8_ED25519_PREFIX.to_vec();
            der.extend_from_slice(&key.bytes);
            (key.kid.clone(), EncodingKey::from_ed_der(&der))
        });
        let verifying = verifying
            .into_iter()
            .map(|key| {
                let decoding = DecodingKey::from_ed_der(&key.bytes);
                (key, decoding)
            })
            .collect();
        KeyRing { signing, verifying }
    }

    /// The key id and key to sign with, if this process holds one.
    pub fn signing(&self) -> Option<(&str, &EncodingKey)> {
        self.signing.as_ref().map(|(kid, key)| (kid.as_str(), key))
    }

    /// The key that verifies tokens of `kid`.
    pub fn verifying(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.iter().find(|(key, _)| key.kid == kid).map(|(_, decoding)| decoding)
    }

    /// The public keys as a JWK Set (RFC 7517 section 5; OKP keys, RFC 8037).
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .verifying
            .iter()
            .map(|(key, _)| {
                json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": URL_SAFE_NO_PAD.encode(key.bytes),
                    "kid": key.kid,
                    "alg": "EdDSA",
                    "use": "sig",
                })
            })
            .collect();
        json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_keys_round_trip_and_refuse_malformed_ones() {
        let (private, public) = generate("2026-12");
        assert_eq!(NamedKey::parse(&private.expose()), Ok(private.clone()));
        assert_eq!(public_of(&private), public);
        assert_ne!(private.bytes, public.bytes);
        let too_long = format!("{}x", private.expose());
        for bad in ["", "no-dot", ".AAAA", "kid.not base64", "kid.AAAA", "bad kid.AAAA", &too_long] {
            assert!(NamedKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_ring_publishes_its_public_keys_only() {
        let (private, _) = generate("new");
        let (_, old_public) = generate("old");
        let ring = KeyRing::new(Some(&private), std::slice::from_ref(&old_public));
        let jwks = ring.jwks();
        let kids: Vec<&str> =
            jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
        assert_eq!(kids, ["old", "new"]);
        assert!(!jwks.to_string().contains(&URL_SAFE_NO_PAD.encode(private.bytes)));
        assert!(ring.verifying("old").is_some() && ring.verifying("gone").is_none());
        assert!(KeyRing::new(None, &[old_public]).signing().is_none());
        // A listed key under the signing key's id gives way to the signing key's own.
        let (_, impostor) = generate("new");
        let ring = KeyRing::new(Some(&private), std::slice::from_ref(&impostor));
        assert_eq!(ring.jwks()["keys"].as_array().unwrap().len(), 1);
        assert_ne!(ring.jwks()["keys"][0]["x"], URL_SAFE_NO_PAD.encode(impostor.bytes));
    }
}
