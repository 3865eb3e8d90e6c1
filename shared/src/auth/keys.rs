//! The key ring of access tokens: Ed25519 (JWS `EdDSA`, RFC 8037) key pairs named by a key id.
//!
//! Only the function that logs people in holds a private key, which it reads from Secrets Manager
//! when it first issues a token (`ACCESS_TOKEN_SIGNING_KEY_SECRET`; see [`Signer`]); every
//! function holds the public keys that may verify (`ACCESS_TOKEN_PUBLIC_KEYS`), and the users
//! function publishes them as a JWK Set, so a function that is not meant to mint tokens cannot,
//! and other services can verify without any secret. Each token names its key (`kid`), so
//! several keys verify at once and a key can be replaced without signing anyone out: add the new
//! public key, switch signing to the new private key, and retire the old public key once the
//! tokens it signed have expired (see the README).

use jsonwebtoken::{DecodingKey, EncodingKey};

use std::time::Duration;

use super::jwks::{Jwk, Jwks};
pub use crate::config::NamedKey;
use crate::config::SigningKeySource;
use crate::store::error::StoreError;
use crate::store::secrets::Secrets;

/// The DER prefix of an Ed25519 private key in PKCS#8 v1 (RFC 8410 section 7), before its
/// 32-byte seed.
const PKCS8_ED25519_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// A new key pair named `kid`: the private key, then its public key.
pub fn generate(kid: &str) -> (NamedKey, NamedKey) {
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    let private = NamedKey { kid: kid.to_owned(), bytes: seed };
    let public = private.public();
    (private, public)
}

/// A private key ready to sign, with its key id.
#[derive(Clone)]
pub struct AccessSigningKey {
    pub kid: String,
    pub key: EncodingKey,
}

impl AccessSigningKey {
    fn new(private: &NamedKey) -> Self {
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&private.bytes);
        AccessSigningKey { kid: private.kid.clone(), key: EncodingKey::from_ed_der(&der) }
    }
}

/// Why no token can be signed now.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Secrets Manager could not be read (unreachable, throttled, failing): worth retrying.
    #[error("the signing key could not be read: {0}")]
    Unavailable(StoreError),
    /// The key read cannot be used: not a key, refused to this function, or a key whose public
    /// key no function verifies with (its tokens would be refused everywhere). A deployment error.
    #[error("the signing key cannot be used: {0}")]
    Unusable(String),
}

/// Where this process's signing key is.
enum Signer {
    /// Given in the environment.
    Held(AccessSigningKey),
    /// In a Secrets Manager secret: read on first use, and again once the key read is `reread`
    /// old (`SIGNING_KEY_REREAD_SECONDS`). AWS's own caching clients keep a value for an hour;
    /// five minutes by default keeps a rotation short, at one read per warm instance per five
    /// minutes.
    InSecret {
        secrets: Secrets,
        id: String,
        reread: Duration,
        current: tokio::sync::Mutex<Option<(AccessSigningKey, std::time::Instant)>>,
    },
}

/// The keys a process signs and verifies access tokens with.
pub struct KeyRing {
    signer: Option<Signer>,
    verifying: Vec<(NamedKey, DecodingKey)>,
}

impl KeyRing {
    /// Signs with the key `source` gives (when this process may mint tokens) and verifies with
    /// `public`. A key given in the environment always verifies its own tokens, and stands for
    /// its key id: a listed public key under the same id (a mistake in the settings) could only
    /// refuse every new token. A key in a secret must be among `public`, checked when it is read.
    pub fn new(
        source: Option<&SigningKeySource>,
        public: &[NamedKey],
        reread: Duration,
        secrets: impl FnOnce() -> Secrets,
    ) -> Self {
        let held = match source {
            Some(SigningKeySource::Given(private)) => Some(private),
            _ => None,
        };
        let own = held.map(NamedKey::public);
        let own_kid = own.as_ref().map(|own| own.kid.clone());
        let listed = public.iter().filter(|key| own_kid.as_ref() != Some(&key.kid)).cloned();
        let verifying = listed
            .chain(own)
            .map(|key| {
                let decoding = DecodingKey::from_ed_der(&key.bytes);
                (key, decoding)
            })
            .collect();
        let signer = match source {
            None => None,
            Some(SigningKeySource::Given(private)) => Some(Signer::Held(AccessSigningKey::new(private))),
            Some(SigningKeySource::Secret(id)) => Some(Signer::InSecret {
                secrets: secrets(),
                id: id.clone(),
                reread,
                current: tokio::sync::Mutex::new(None),
            }),
        };
        KeyRing { signer, verifying }
    }

    /// The key to sign with now: `None` in a process that may not sign. A key in a secret is read
    /// on first use and again once it is old (see [`Signer`]); if that later read fails, the key
    /// already read goes on signing, and the read is tried again after as long.
    pub async fn signing(&self) -> Result<Option<AccessSigningKey>, KeyError> {
        let (secrets, id, reread, current) = match &self.signer {
            None => return Ok(None),
            Some(Signer::Held(key)) => return Ok(Some(key.clone())),
            Some(Signer::InSecret { secrets, id, reread, current }) => (secrets, id, *reread, current),
        };
        let mut current = current.lock().await;
        if let Some((key, read_at)) = current.as_ref()
            && read_at.elapsed() < reread
        {
            return Ok(Some(key.clone()));
        }
        match self.read_secret(secrets, id).await {
            Ok(key) => {
                *current = Some((key.clone(), std::time::Instant::now()));
                Ok(Some(key))
            }
            Err(e) => match current.as_mut() {
                Some((key, read_at)) => {
                    tracing::warn!(error = %e, "signing with the key read before");
                    *read_at = std::time::Instant::now();
                    Ok(Some(key.clone()))
                }
                None => Err(e),
            },
        }
    }

    async fn read_secret(&self, secrets: &Secrets, id: &str) -> Result<AccessSigningKey, KeyError> {
        let text = secrets.read(id).await.map_err(|e| match e {
            StoreError::Unavailable(_) => KeyError::Unavailable(e),
            other => KeyError::Unusable(other.to_string()),
        })?;
        let private = NamedKey::parse(&text).map_err(|e| KeyError::Unusable(format!("secret {id}: {e}")))?;
        let public = private.public();
        if !self.verifying.iter().any(|(listed, _)| *listed == public) {
            return Err(KeyError::Unusable(format!(
                "the public key of {:?} is not in ACCESS_TOKEN_PUBLIC_KEYS, so no function would accept its tokens",
                private.kid
            )));
        }
        Ok(AccessSigningKey::new(&private))
    }

    /// The key that verifies tokens of `kid`.
    pub fn verifying(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.iter().find(|(key, _)| key.kid == kid).map(|(_, decoding)| decoding)
    }

    /// The public keys as a JWK Set.
    pub fn jwks(&self) -> Jwks {
        Jwks { keys: self.verifying.iter().map(|(key, _)| Jwk::public(key)).collect() }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn given(private: &NamedKey) -> SigningKeySource {
        SigningKeySource::Given(private.clone())
    }

    fn unused() -> Secrets {
        unreachable!("a ring with a key given reads no secret")
    }

    #[test]
    fn named_keys_round_trip_and_refuse_malformed_ones() {
        let (private, public) = generate("2026-12");
        assert_eq!(NamedKey::parse(&private.expose()), Ok(private.clone()));
        assert_eq!(private.public(), public);
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
        let ring =
            KeyRing::new(Some(&given(&private)), std::slice::from_ref(&old_public), Duration::ZERO, unused);
        let jwks = ring.jwks();
        let kids: Vec<&str> = jwks.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["old", "new"]);
        assert!(!serde_json::to_string(&jwks).unwrap().contains(&URL_SAFE_NO_PAD.encode(private.bytes)));
        assert!(ring.verifying("old").is_some() && ring.verifying("gone").is_none());
        assert!(KeyRing::new(None, &[old_public], Duration::ZERO, unused).signer.is_none());
        // A listed key under the signing key's id gives way to the signing key's own.
        let (_, impostor) = generate("new");
        let ring =
            KeyRing::new(Some(&given(&private)), std::slice::from_ref(&impostor), Duration::ZERO, unused);
        assert_eq!(ring.jwks().keys.len(), 1);
        assert_ne!(ring.jwks().keys[0].x, URL_SAFE_NO_PAD.encode(impostor.bytes));
    }
}
