//! Schemas of values with rules of their own, which the bodies' fields and some query
//! parameters refer to.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::Instant;
use crate::domain::event::{Description, Title};
use crate::domain::text;

/// An IANA time zone name, such as `Europe/Lisbon`.
pub struct TimezoneName;

impl PartialSchema for TimezoneName {
    fn schema() -> RefOr<Schema> {
        let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
        let identifiers: Vec<String> = names.iter().map(|name| enum_identifier(name)).collect();
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some(
                "An IANA time zone name: recurrence and calendar output follow its local time.",
            ))
            .enum_values(Some(names))
            .examples(["Europe/Lisbon"])
            .extensions(Some(ExtensionsBuilder::new().add("x-enum-varnames", identifiers).build()))
            .into()
    }
}

impl ToSchema for TimezoneName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Timezone")
    }
}

/// The identifier a client generator gives a time zone name in its enum (`x-enum-varnames`).
/// Generators drop `+` and `-`, which makes `GMT+0`, `GMT-0` and `GMT0` (and `Etc/GMT+5` and
/// `Etc/GMT-5`) one identifier, and refuse the document; a sign before a digit is spelled out.
fn enum_identifier(name: &str) -> String {
    let mut identifier = String::with_capacity(name.len() + 8);
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        let before_digit = chars.peek().is_some_and(char::is_ascii_digit);
        match c {
            '+' if before_digit => identifier.push_str("_PLUS_"),
            '-' if before_digit => identifier.push_str("_MINUS_"),
            c if c.is_ascii_alphanumeric() => identifier.push(c.to_ascii_uppercase()),
            _ => identifier.push('_'),
        }
    }
    identifier
}

/// An event's end: an [`Instant`] after its start, with an example that is (a generator that
/// combines the examples of a body's properties then builds a body the server accepts).
pub struct EndsAt;

impl PartialSchema for EndsAt {
    fn schema() -> RefOr<Schema> {
        let mut schema = <Instant as PartialSchema>::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.examples = vec![serde_json::Value::from("2027-03-01T21:00:00Z")];
            object.description = object.description.take().map(|d| format!("{d} After the event's start."));
        }
        schema
    }
}

impl ToSchema for EndsAt {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EndsAt")
    }
}

/// A category slug, one of those `GET /categories` lists.
pub struct CategorySlug;

impl PartialSchema for CategorySlug {
    fn schema() -> RefOr<Schema> {
        let slugs: Vec<&str> = crate::domain::category::ALL.iter().map(|c| c.slug).collect();
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some("A category slug, as listed by `GET /categories`."))
            .enum_values(Some(slugs))
            .examples(["meetup"])
            .into()
    }
}

impl ToSchema for CategorySlug {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CategorySlug")
    }
}

/// An event's title or place (`schema_with` of a body's field).
pub fn one_line() -> Object {
    text::schema(1, Title::MAX_CHARS)
        .description(Some("1 to 200 characters once surrounding whitespace is trimmed."))
        .build()
}

/// An event's description (`schema_with` of a body's field).
pub fn description() -> Object {
    nullable_text(Description::MAX_CHARS, "Up to 5000 characters; empty or `null` means none.")
}

/// Free text of up to `max` characters that `null` or an empty string leaves out.
pub fn nullable_text(max: usize, description: &str) -> Object {
    text::schema(0, max)
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(description))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_zone_has_its_own_enum_identifier() {
        let mut seen = std::collections::HashMap::new();
        for tz in chrono_tz::TZ_VARIANTS {
            let identifier = enum_identifier(tz.name());
            assert!(identifier.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
            if let Some(other) = seen.insert(identifier.clone(), tz.name()) {
                panic!("{} and {other} are both {identifier}", tz.name());
            }
        }
        assert_eq!(enum_identifier("Etc/GMT+5"), "ETC_GMT_PLUS_5");
        assert_eq!(enum_identifier("Etc/GMT-5"), "ETC_GMT_MINUS_5");
        assert_eq!(enum_identifier("America/Port-au-Prince"), "AMERICA_PORT_AU_PRINCE");
    }
}
