//! Identifiers: ULIDs, time-sortable and opaque to clients.

use std::fmt;
use std::str::FromStr;

use std::sync::Mutex;

use ulid::{Generator, Ulid};

/// The id of a user, event, series, registration, feedback or notification.
///
/// Any string that is not a canonical ULID is simply an unknown id: handlers answer 404 without
/// touching storage, and nothing a client puts in a path ever reaches a key unparsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(Ulid);

impl Id {
    /// A fresh id, ordered after every id made earlier in this process (even within one
    /// millisecond), so that lists ordered by id are in creation order.
    pub fn new() -> Self {
        static GENERATOR: Mutex<Generator> = Mutex::new(Generator::new());
        let mut generator = GENERATOR.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // The generator only fails when 2^80 ids are made in one millisecond.
        Id(generator.generate().unwrap_or_else(|_| Ulid::new()))
    }

    /// An id fixed by its inputs: a time in Unix milliseconds and a hash of `parts`. Repeating
    /// a write with the same inputs gives the same id, so the write replaces its earlier self
    /// instead of adding a second item. Ordered by that time among other ids.
    pub fn derived(unix_millis: u64, parts: &[&[u8]]) -> Self {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        let digest = hasher.finalize();
        let mut random = [0u8; 16];
        random.copy_from_slice(&digest[..16]);
        Id(Ulid::from_parts(unix_millis, u128::from_be_bytes(random)))
    }

    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_bytes()
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Id(Ulid::from_bytes(bytes))
    }

    /// Parses a path segment; `None` for anything that is not a ULID in canonical upper case.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() != 26 {
            return None;
        }
        let id = Ulid::from_str(raw).ok()?;
        (id.to_string() == raw).then_some(Id(id))
    }
}

impl Default for Id {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl serde::Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An opaque, time-sortable id: a ULID in its canonical 26-character form.
impl utoipa::PartialSchema for Id {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some("An opaque, time-sortable id (a ULID)."))
            .pattern(Some("^[0-7][0-9A-HJKMNP-TV-Z]{25}$"))
            .examples(["01JQ8Z4B2C3D4E5F6G7H8J9K0M"])
            .into()
    }
}

impl utoipa::ToSchema for Id {}

impl<'de> serde::Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Id::parse(&raw).ok_or_else(|| serde::de::Error::custom("not an id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_depend_on_every_input_and_sort_by_time() {
        let at = 1_803_996_000_000;
        let later = at + 1;
        let id = Id::derived(at, &[b"event", b"user"]);
        assert_eq!(id, Id::derived(at, &[b"event", b"user"]));
        assert_ne!(id, Id::derived(at, &[b"event", b"other"]));
        assert_ne!(id, Id::derived(at, &[b"eventuser"]), "parts are not merely concatenated");
        assert!(id < Id::derived(later, &[b"event", b"user"]));
        assert!(Id::derived(later, &[b"a"]) > Id::derived(at, &[b"z"]));
    }

    #[test]
    fn round_trips_canonical_ids() {
        let id = Id::new();
        assert_eq!(Id::parse(&id.to_string()), Some(id));
    }

    #[test]
    fn ids_made_in_sequence_are_ordered() {
        let ids: Vec<Id> = (0..1000).map(|_| Id::new()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn rejects_anything_else() {
        let id = Id::new().to_string();
        assert_eq!(Id::parse(&id.to_lowercase()), None);
        assert_eq!(Id::parse(""), None);
        assert_eq!(Id::parse("123"), None);
        assert_eq!(Id::parse(&format!("{id}X")), None);
        assert_eq!(Id::parse("ZZZZZZZZZZZZZZZZZZZZZZZZZZ"), None);
        assert_eq!(Id::parse("../../etc/passwd"), None);
    }
}
