//! The `Idempotency-Key` request header: a client's name for one operation, so that the same
//! request sent again after a lost answer is recognised as the same operation
//! (<https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/>).

use axum::extract::OptionalFromRequestParts;
use axum::http::request::Parts;

use crate::http::ApiError;

pub const HEADER: &str = "idempotency-key";

/// A well-formed key: 1 to 255 visible ASCII characters (a UUID is the usual choice).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let visible = raw.bytes().all(|b| b.is_ascii_graphic());
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !visible {
            return Err(format!("must be 1 to {} visible ASCII characters", Self::MAX_LEN));
        }
        Ok(IdempotencyKey(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn from_parts(parts: &Parts) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = parts.headers.get(HEADER) else {
        return Ok(None);
    };
    let refused = |why: String| ApiError::BadRequest(format!("the Idempotency-Key header {why}"));
    let raw = value.to_str().map_err(|_| refused("must be visible ASCII".into()))?;
    IdempotencyKey::parse(raw).map(Some).map_err(refused)
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        from_parts(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(IdempotencyKey::parse("8e0c4a9e-5b4f-4f4e-9a51-0d1b6c1f2a3b").is_ok());
        assert_eq!(IdempotencyKey::parse(" k1 ").unwrap().as_str(), "k1");
        for bad in ["", "   ", "has space", "tab\there", "é", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
