//! Events: the writable fields, their rules, and how a partial update applies.

use std::collections::BTreeMap;

use super::category::Category;
use super::text;
use super::time::Instant;

/// Per-field messages of a failed validation, keyed by the field's JSON name.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, String> {
                text::bounded(raw, $min, $max).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

bounded_text!(
    /// 1..=200 characters, trimmed.
    Title, 1, 200
);
bounded_text!(
    /// 1..=200 characters, trimmed.
    Location, 1, 200
);
bounded_text!(
    /// Up to 5000 characters; an empty description is stored as none.
    Description, 0, 5000
);

/// Seats for confirmed attendees: 1..=100000.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Capacity(u32);

impl Capacity {
    pub const MAX: u32 = 100_000;

    pub fn new(n: i64) -> Result<Self, String> {
        if (1..=i64::from(Self::MAX)).contains(&n) {
            Ok(Capacity(n as u32))
        } else {
            Err(format!("must be a whole number from 1 to {}", Self::MAX))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// An IANA time zone name such as `Europe/Lisbon`; `UTC` by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timezone(chrono_tz::Tz);

impl Timezone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.parse::<chrono_tz::Tz>()
            .map(Timezone)
            .map_err(|_| "must be an IANA time zone name such as Europe/Lisbon".to_owned())
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl Default for Timezone {
    fn default() -> Self {
        Timezone(chrono_tz::UTC)
    }
}

/// Who finds an event: anyone browsing (`public`), or only those given its id (`unlisted`). An
/// unlisted event is never in a public list, and is read and registered for as any other.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Public,
    Unlisted,
}

impl Visibility {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "public" => Ok(Visibility::Public),
            "unlisted" => Ok(Visibility::Unlisted),
            _ => Err("must be \"public\" or \"unlisted\"".to_owned()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
        }
    }
}

/// The writable state of an event, every field already valid on its own.
#[derive(Clone, Debug, PartialEq)]
pub struct EventDraft {
    pub title: Title,
    pub description: Option<Description>,
    pub starts_at: Instant,
    pub ends_at: Option<Instant>,
    pub timezone: Timezone,
    pub location: Location,
    pub capacity: Capacity,
    pub category: Option<Category>,
    pub waitlist_enabled: bool,
    pub visibility: Visibility,
}

/// A partial update: `None` leaves a field alone; `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default)]
pub struct EventPatch {
    pub title: Option<Title>,
    pub description: Option<Option<Description>>,
    pub starts_at: Option<Instant>,
    pub ends_at: Option<Option<Instant>>,
    pub timezone: Option<Timezone>,
    pub location: Option<Location>,
    pub capacity: Option<Capacity>,
    pub category: Option<Option<Category>>,
    pub waitlist_enabled: Option<bool>,
    pub visibility: Option<Visibility>,
}

impl EventDraft {
    /// The rules that span fields or depend on the clock, on the times alone, so that a request
    /// with other bad fields hears of these problems too. `current_start` is the stored start of
    /// an event being updated: keeping it unchanged is allowed even once it is in the past.
    pub fn check_times(
        starts_at: Instant,
        ends_at: Option<Instant>,
        now: Instant,
        current_start: Option<Instant>,
    ) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if current_start != Some(starts_at) && starts_at <= now {
            errors.entry("starts_at".into()).or_default().push("must be in the future".into());
        }
        if ends_at.is_some_and(|ends_at| ends_at <= starts_at) {
            errors.entry("ends_at".into()).or_default().push("must be after starts_at".into());
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// The draft after a partial update.
    pub fn apply(&self, patch: EventPatch) -> EventDraft {
        EventDraft {
            title: patch.title.unwrap_or_else(|| self.title.clone()),
            description: patch.description.unwrap_or_else(|| self.description.clone()),
            starts_at: patch.starts_at.unwrap_or(self.starts_at),
            ends_at: patch.ends_at.unwrap_or(self.ends_at),
            timezone: patch.timezone.unwrap_or(self.timezone),
            location: patch.location.unwrap_or_else(|| self.location.clone()),
            capacity: patch.capacity.unwrap_or(self.capacity),
            category: patch.category.unwrap_or(self.category),
            waitlist_enabled: patch.waitlist_enabled.unwrap_or(self.waitlist_enabled),
            visibility: patch.visibility.unwrap_or(self.visibility),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        Instant::parse(s).unwrap()
    }

    fn draft() -> EventDraft {
        EventDraft {
            title: Title::parse("Rust meetup").unwrap(),
            description: None,
            starts_at: at("2030-01-01T18:00:00Z"),
            ends_at: Some(at("2030-01-01T20:00:00Z")),
            timezone: Timezone::default(),
            location: Location::parse("Lisbon").unwrap(),
            capacity: Capacity::new(10).unwrap(),
            category: None,
            waitlist_enabled: true,
            visibility: Visibility::Public,
        }
    }

    #[test]
    fn text_bounds() {
        assert!(Title::parse("").is_err());
        assert!(Title::parse(&"t".repeat(200)).is_ok());
        assert!(Title::parse(&"t".repeat(201)).is_err());
        assert!(Location::parse(" ").is_err());
        assert!(Description::parse("").is_ok());
        assert!(Description::parse(&"d".repeat(5000)).is_ok());
        assert!(Description::parse(&"d".repeat(5001)).is_err());
    }

    #[test]
    fn capacity_bounds() {
        assert!(Capacity::new(0).is_err());
        assert!(Capacity::new(-5).is_err());
        assert_eq!(Capacity::new(1).map(Capacity::get), Ok(1));
        assert_eq!(Capacity::new(100_000).map(Capacity::get), Ok(100_000));
        assert!(Capacity::new(100_001).is_err());
    }

    #[test]
    fn timezones_are_iana_names() {
        assert_eq!(Timezone::parse("Europe/Lisbon").map(Timezone::name), Ok("Europe/Lisbon"));
        assert!(Timezone::parse("Mars/Olympus").is_err());
        assert!(Timezone::parse("").is_err());
        assert_eq!(Timezone::default().name(), "UTC");
    }

    #[test]
    fn start_must_be_future_unless_unchanged() {
        let d = draft();
        assert!(EventDraft::check_times(d.starts_at, d.ends_at, at("2029-12-31T00:00:00Z"), None).is_ok());
        let errors =
            EventDraft::check_times(d.starts_at, d.ends_at, at("2030-01-01T18:00:00Z"), None).unwrap_err();
        assert_eq!(errors["starts_at"], vec!["must be in the future"]);
        assert!(
            EventDraft::check_times(d.starts_at, d.ends_at, at("2031-01-01T00:00:00Z"), Some(d.starts_at))
                .is_ok()
        );
    }

    #[test]
    fn end_must_follow_start() {
        let mut d = draft();
        d.ends_at = Some(d.starts_at);
        let errors =
            EventDraft::check_times(d.starts_at, d.ends_at, at("2029-01-01T00:00:00Z"), None).unwrap_err();
        assert!(errors.contains_key("ends_at"));
    }

    #[test]
    fn patch_replaces_only_what_it_names() {
        let d = draft();
        let patched = d.apply(EventPatch {
            title: Some(Title::parse("New").unwrap()),
            ends_at: Some(None),
            ..EventPatch::default()
        });
        assert_eq!(patched.title.as_str(), "New");
        assert_eq!(patched.ends_at, None);
        assert_eq!(patched.location, d.location);
        assert_eq!(patched.capacity, d.capacity);
    }
}
