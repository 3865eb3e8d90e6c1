//! The JWK Set the users function publishes (RFC 7517 section 5): the public keys that verify
//! access tokens, Ed25519 keys as OKP keys (RFC 8037).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::NamedKey;

/// A JWK Set: the public keys that verify access tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({"kty": "OKP", "crv": "Ed25519", "x": "Cxlrc6qTXmo-ZxwXKGwD7CJ2nx98gAP2ai0dBD_cB_g", "kid": "2026-12", "alg": "EdDSA", "use": "sig"})))]
pub struct Jwk {
    /// Always `OKP`.
    kty: &'static str,
    /// Always `Ed25519`.
    crv: &'static str,
    /// The public key, base64url without padding.
    pub x: String,
    /// The key id tokens name in their header.
    pub kid: String,
    /// Always `EdDSA`.
    alg: &'static str,
    /// Always `sig`.
    #[serde(rename = "use")]
    key_use: &'static str,
}

impl Jwk {
    /// The public half of a key pair, as published.
    pub fn public(key: &NamedKey) -> Self {
        Jwk {
            kty: "OKP",
            crv: "Ed25519",
            x: URL_SAFE_NO_PAD.encode(key.bytes),
            kid: key.kid.clone(),
            alg: "EdDSA",
            key_use: "sig",
        }
    }
}
