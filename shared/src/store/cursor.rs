//! Pagination cursors: the position a list stopped at (a DynamoDB key, plus any position of our
//! own), sealed with an HMAC over the list's scope. A client cannot read meaning into a cursor,
//! forge one into another partition, or replay one against a different list: all are a 400.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{keys, table};
use crate::signing::SigningKey;

/// Where the next page starts: string attributes only, as every key attribute of the table is a
/// string. Names starting with `_` are positions of our own, not key attributes.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StartKey(pub BTreeMap<String, String>);

/// Tags are truncated to 128 bits: plenty against forgery, and short cursors.
const TAG_BYTES: usize = 16;
/// Anything longer than this is not a cursor we made.
const MAX_CURSOR_CHARS: usize = 2048;

impl StartKey {
    /// Builds the start key from DynamoDB's `LastEvaluatedKey`.
    pub fn from_item_key(key: &HashMap<String, AttributeValue>) -> Option<Self> {
        let mut map = BTreeMap::new();
        for (name, value) in key {
            map.insert(name.clone(), value.as_s().ok()?.clone());
        }
        Some(StartKey(map))
    }

    /// The position of `item` as read through `index` (the table itself when `None`): its key
    /// attributes and the index's, what DynamoDB would give as `LastEvaluatedKey` had it stopped
    /// there. `None` if the item lacks one of them.
    pub fn of_item(item: &HashMap<String, AttributeValue>, index: Option<&str>) -> Option<Self> {
        let mut names = vec![keys::PK, keys::SK];
        if index.is_some() {
            let (pk, sk) = table::key_names(index);
            names.extend([pk, sk]);
        }
        let mut map = BTreeMap::new();
        for name in names {
            let value = item.get(name)?.as_s().ok()?.clone();
            map.insert(name.to_owned(), value);
        }
        Some(StartKey(map))
    }

    /// The key to pass as `ExclusiveStartKey` (our own positions left out).
    pub fn item_key(&self) -> HashMap<String, AttributeValue> {
        self.0
            .iter()
            .filter(|(name, _)| !name.starts_with('_'))
            .map(|(name, value)| (name.clone(), AttributeValue::S(value.clone())))
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.insert(name.to_owned(), value.into());
        self
    }
}

fn signed_message(scope: &str, payload: &str) -> Vec<u8> {
    let mut message = Vec::with_capacity(scope.len() + payload.len() + 1);
    message.extend_from_slice(scope.as_bytes());
    message.push(0);
    message.extend_from_slice(payload.as_bytes());
    message
}

/// Seals a start key for the list named by `scope`.
pub fn encode(start: &StartKey, scope: &str, key: &SigningKey) -> String {
    let json = serde_json::to_vec(start).expect("a map of strings always serialises");
    let payload = URL_SAFE_NO_PAD.encode(json);
    let tag = key.sign(&signed_message(scope, &payload));
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES]))
}

/// Opens a cursor sealed for `scope`; `None` when it was altered, made for another list, or is not
/// a cursor at all.
pub fn decode(raw: &str, scope: &str, key: &SigningKey) -> Option<StartKey> {
    if raw.len() > MAX_CURSOR_CHARS {
        return None;
    }
    let (payload, tag) = raw.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    if tag.len() != TAG_BYTES {
        return None;
    }
    let expected = key.sign(&signed_message(scope, payload));
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..TAG_BYTES], &tag[..])) {
        return None;
    }
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::derive(b"0123456789abcdef0123456789abcdef", "cursor")
    }

    fn start() -> StartKey {
        StartKey::default().with("pk", "USER#01").with("sk", "PROFILE").with("_bucket", "2027-01")
    }

    #[test]
    fn round_trips_within_its_scope() {
        let c = encode(&start(), "users", &key());
        assert_eq!(decode(&c, "users", &key()), Some(start()));
        assert!(!start().item_key().contains_key("_bucket"));
        assert_eq!(start().item_key().len(), 2);
    }

    #[test]
    fn refuses_foreign_tampered_and_garbage_cursors() {
        let c = encode(&start(), "users", &key());
        assert_eq!(decode(&c, "event-registrations/X", &key()), None);
        let other_key = SigningKey::derive(b"another-secret-another-secret-xx", "cursor");
        assert_eq!(decode(&c, "users", &other_key), None);
        let (payload, tag) = c.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"pk":"USER#02","sk":"PROFILE"}"#);
        assert_eq!(decode(&format!("{forged}.{tag}"), "users", &key()), None);
        let mut flipped = payload.to_owned();
        flipped.replace_range(0..1, if &payload[0..1] == "e" { "f" } else { "e" });
        assert_eq!(decode(&format!("{flipped}.{tag}"), "users", &key()), None);
        for garbage in ["", ".", "abc", "abc.def", "%%%.%%%", &"a".repeat(5000)] {
            assert_eq!(decode(garbage, "users", &key()), None, "{garbage}");
        }
    }
}
