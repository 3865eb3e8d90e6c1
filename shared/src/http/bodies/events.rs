//! The bodies that write an event: `POST /events` (with a series' recurrence), `PUT` and `PATCH
//! /events/{id}`. POST and PUT take every writable field with the same rules; PATCH takes any.

use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::values::{self, CategorySlug, EndsAt, TimezoneName};
use crate::domain::recurrence::Recurrence as Rule;
use crate::domain::{
    Capacity, Category, Description, EventDraft, EventPatch, Instant, Location, Timezone, Title, Visibility,
};
use crate::http::fields::{Fields, boolean, checked, instant, integer, text};
use crate::http::problem::ApiError;

/// The fields of `POST /events`: every writable field of an event, then a series' `recurrence`.
const NEW_EVENT_FIELDS: &[&str] = &[
    "title",
    "description",
    "starts_at",
    "ends_at",
    "location",
    "capacity",
    "category",
    "timezone",
    "waitlist_enabled",
    "visibility",
    "recurrence",
];

/// The writable fields of an event, which every event body may carry.
const WRITABLE: &[&str] = NEW_EVENT_FIELDS.split_at(NEW_EVENT_FIELDS.len() - 1).0;

/// `recurrence` of `POST /events`: an RFC 5545 RRULE with FREQ DAILY, WEEKLY or MONTHLY, and
/// optionally INTERVAL, BYDAY, and COUNT or UNTIL; at most 100 occurrences within 2 years.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"rrule": "FREQ=WEEKLY;COUNT=10"})))]
pub struct Recurrence {
    #[schema(value_type = String, examples("FREQ=WEEKLY;COUNT=10", "FREQ=MONTHLY;BYDAY=1TU;UNTIL=20280101T000000Z"))]
    pub rrule: Rule,
}

impl Recurrence {
    pub const FIELDS: &[&str] = &["rrule"];

    fn read(value: &Value) -> Result<Recurrence, String> {
        let object = value
            .as_object()
            .ok_or_else(|| "must be an object such as {\"rrule\": \"FREQ=WEEKLY;COUNT=10\"}".to_owned())?;
        if let Some(unknown) = object.keys().find(|k| !Self::FIELDS.contains(&k.as_str())) {
            return Err(format!("{unknown} is not a known field of recurrence"));
        }
        match object.get("rrule") {
            Some(Value::String(rule)) => Rule::parse(rule).map(|rrule| Recurrence { rrule }),
            _ => Err("rrule is required and must be a string".to_owned()),
        }
    }
}

/// A body that sets every writable field of an event: `POST /events` and `PUT /events/{id}` take
/// the same fields with the same rules. Each body documents `starts_at` and `capacity` its own
/// way, and may add fields.
macro_rules! event_body {
    (
        $(#[$meta:meta])*
        $name:ident {
            $(#[$starts_at:meta])* starts_at,
            $(#[$capacity:meta])* capacity,
            $($(#[$more_meta:meta])* $more:ident: $more_type:ty,)*
        }
    ) => {
        #[derive(ToSchema)]
        #[serde(deny_unknown_fields)]
        $(#[$meta])*
        pub struct $name {
            #[schema(schema_with = values::one_line)]
            pub title: Title,
            #[schema(schema_with = values::description)]
            pub description: Option<Description>,
            $(#[$starts_at])*
            pub starts_at: Instant,
            /// RFC 3339 with an offset; after `starts_at`.
            #[schema(value_type = Option<EndsAt>)]
            pub ends_at: Option<Instant>,
            #[schema(schema_with = values::one_line)]
            pub location: Location,
            $(#[$capacity])*
            #[schema(value_type = i64, minimum = 1, maximum = 100000)]
            pub capacity: Capacity,
            #[schema(value_type = Option<CategorySlug>)]
            pub category: Option<Category>,
            /// Defaults to `UTC`.
            #[schema(value_type = Option<TimezoneName>, default = "UTC")]
            pub timezone: Timezone,
            /// When full, further registrations wait in line (or are refused when false).
            #[schema(value_type = Option<bool>, nullable = false, default = true)]
            pub waitlist_enabled: bool,
            /// `unlisted`: in no public list (`GET /events/upcoming`); anyone with the id may read
            /// it and register.
            #[schema(value_type = Option<Visibility>, default = "public")]
            pub visibility: Visibility,
            $($(#[$more_meta])* pub $more: $more_type,)*
        }

        impl $name {
            /// The body holding `draft`'s fields and the others given.
            fn assemble(draft: EventDraft, $($more: $more_type),*) -> Self {
                let EventDraft {
                    title, description, starts_at, ends_at, timezone, location, capacity, category,
                    waitlist_enabled, visibility,
                } = draft;
                $name {
                    title, description, starts_at, ends_at, location, capacity, category, timezone,
                    waitlist_enabled, visibility, $($more),*
                }
            }

            /// The event's fields as a draft, and the others.
            fn disassemble(self) -> (EventDraft, ($($more_type,)*)) {
                let $name {
                    title, description, starts_at, ends_at, location, capacity, category, timezone,
                    waitlist_enabled, visibility, $($more),*
                } = self;
                let draft = EventDraft {
                    title, description, starts_at, ends_at, timezone, location, capacity, category,
                    waitlist_enabled, visibility,
                };
                (draft, ($($more,)*))
            }
        }
    };
}

event_body!(
    /// Body of `POST /events`. With `recurrence`, one event is created per occurrence (sharing a
    /// `series_id`) and the first is returned.
    #[schema(examples(json!({
        "title": "Rust Lisbon",
        "description": "Talks and pastéis de nata",
        "starts_at": "2027-03-01T18:00:00+01:00",
        "ends_at": "2027-03-01T21:00:00+01:00",
        "location": "Lisbon",
        "capacity": 50,
        "category": "meetup",
        "timezone": "Europe/Lisbon"
    })))]
    NewEvent {
        /// RFC 3339 with an offset; must be in the future.
        starts_at,
        /// Seats for confirmed attendees.
        capacity,
        /// Makes the event a series.
        recurrence: Option<Recurrence>,
    }
);

event_body!(
    /// Body of `PUT /events/{id}`: every writable field; those left out take their defaults. An
    /// unchanged `starts_at` may lie in the past; a new one must be in the future.
    #[schema(examples(json!({
        "title": "Rust Lisbon",
        "starts_at": "2027-03-01T18:00:00+01:00",
        "location": "Lisbon",
        "capacity": 60
    })))]
    ReplaceEvent {
        starts_at,
        /// Below the confirmed count is a 409; raising it promotes from the waitlist.
        capacity,
    }
);

impl NewEvent {
    pub const FIELDS: &[&str] = NEW_EVENT_FIELDS;

    /// Reads the body as of `now` (the start must be in the future).
    pub fn read(mut body: Map<String, Value>, now: Instant) -> Result<NewEvent, ApiError> {
        let recurrence = match body.remove("recurrence") {
            None | Some(Value::Null) => Ok(None),
            Some(value) => Recurrence::read(&value).map(Some),
        };
        match (draft(body, now, None), recurrence) {
            (Ok(draft), Ok(recurrence)) => Ok(NewEvent::assemble(draft, recurrence)),
            (Err(ApiError::Validation(mut errors)), Err(message)) => {
                errors.insert("recurrence".into(), vec![message]);
                Err(ApiError::Validation(errors))
            }
            (Err(e), _) => Err(e),
            (Ok(_), Err(message)) => Err(ApiError::validation("recurrence", message)),
        }
    }

    /// The event to create and, for a series, its rule.
    pub fn into_parts(self) -> (EventDraft, Option<Rule>) {
        let (draft, (recurrence,)) = self.disassemble();
        (draft, recurrence.map(|r| r.rrule))
    }
}

impl ReplaceEvent {
    pub const FIELDS: &[&str] = WRITABLE;

    /// Reads the body as of `now`, replacing an event that starts at `current_start` (which
    /// may stay in the past).
    pub fn read(
        body: Map<String, Value>,
        now: Instant,
        current_start: Instant,
    ) -> Result<ReplaceEvent, ApiError> {
        draft(body, now, Some(current_start)).map(ReplaceEvent::assemble)
    }

    pub fn into_draft(self) -> EventDraft {
        self.disassemble().0
    }
}

/// A complete set of writable fields (POST, PUT). Optional fields left out take their defaults.
/// `current_start` is the stored start when replacing an existing event.
fn draft(
    body: Map<String, Value>,
    now: Instant,
    current_start: Option<Instant>,
) -> Result<EventDraft, ApiError> {
    let mut f = Fields::new(body, WRITABLE);
    let title = f.required("title", text(Title::parse));
    let description = f.optional("description", text(Description::parse)).value();
    let starts_at = f.required("starts_at", instant);
    let ends_at = f.optional("ends_at", instant).value();
    let location = f.required("location", text(Location::parse));
    let capacity = f.required("capacity", integer(Capacity::new));
    let category = f.optional("category", text(Category::parse)).value();
    let timezone = f.optional("timezone", text(Timezone::parse)).value().unwrap_or_default();
    let waitlist_enabled = f.present("waitlist_enabled", boolean).unwrap_or(true);
    let visibility = f.optional("visibility", text(Visibility::parse)).value().unwrap_or_default();
    if let Some(starts_at) = starts_at {
        times(&mut f, starts_at, ends_at, now, current_start);
    }
    f.finish()?;
    Ok(EventDraft {
        title: checked(title)?,
        description,
        starts_at: checked(starts_at)?,
        ends_at,
        timezone,
        location: checked(location)?,
        capacity: checked(capacity)?,
        category,
        waitlist_enabled,
        visibility,
    })
}

/// Body of `PATCH /events/{id}`: only the fields given change; `null` clears `description`,
/// `ends_at` and `category`, and resets `timezone` to `UTC`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"capacity": 80, "description": null})))]
pub struct PatchEvent {
    #[schema(schema_with = values::one_line)]
    pub title: Option<Title>,
    #[schema(schema_with = values::description)]
    pub description: Option<Option<Description>>,
    /// A new start must be in the future.
    #[schema(nullable = false)]
    pub starts_at: Option<Instant>,
    /// After `starts_at` (the new one, or the event's).
    #[schema(value_type = Option<EndsAt>)]
    pub ends_at: Option<Option<Instant>>,
    #[schema(schema_with = values::one_line)]
    pub location: Option<Location>,
    /// Below the confirmed count is a 409; raising it promotes from the waitlist.
    #[schema(value_type = Option<i64>, nullable = false, minimum = 1, maximum = 100000)]
    pub capacity: Option<Capacity>,
    #[schema(value_type = Option<CategorySlug>)]
    pub category: Option<Option<Category>>,
    #[schema(value_type = Option<TimezoneName>)]
    pub timezone: Option<Timezone>,
    #[schema(nullable = false)]
    pub waitlist_enabled: Option<bool>,
    /// `null` makes the event public again.
    pub visibility: Option<Visibility>,
}

impl PatchEvent {
    pub const FIELDS: &[&str] = WRITABLE;

    /// Reads the body as a change to `current`, as of `now`: the times are checked as they
    /// would be after it.
    pub fn read(
        body: Map<String, Value>,
        current: &EventDraft,
        now: Instant,
    ) -> Result<PatchEvent, ApiError> {
        let mut f = Fields::new(body, WRITABLE);
        let patch = PatchEvent {
            title: f.present("title", text(Title::parse)),
            description: f.optional("description", text(Description::parse)).change(),
            starts_at: f.present("starts_at", instant),
            ends_at: f.optional("ends_at", instant).change(),
            location: f.present("location", text(Location::parse)),
            capacity: f.present("capacity", integer(Capacity::new)),
            category: f.optional("category", text(Category::parse)).change(),
            timezone: f.optional("timezone", text(Timezone::parse)).change_or_default(),
            waitlist_enabled: f.present("waitlist_enabled", boolean),
            visibility: f.optional("visibility", text(Visibility::parse)).change_or_default(),
        };
        // Against a refused new start, the stored one would give a misleading answer.
        if f.is_valid_field("starts_at") && f.is_valid_field("ends_at") {
            let starts_at = patch.starts_at.unwrap_or(current.starts_at);
            let ends_at = patch.ends_at.unwrap_or(current.ends_at);
            times(&mut f, starts_at, ends_at, now, Some(current.starts_at));
        }
        f.finish()?;
        Ok(patch)
    }
}

impl From<PatchEvent> for EventPatch {
    fn from(body: PatchEvent) -> EventPatch {
        let PatchEvent {
            title,
            description,
            starts_at,
            ends_at,
            location,
            capacity,
            category,
            timezone,
            waitlist_enabled,
            visibility,
        } = body;
        EventPatch {
            title,
            description,
            starts_at,
            ends_at,
            timezone,
            location,
            capacity,
            category,
            waitlist_enabled,
            visibility,
        }
    }
}

/// The rules on the times, added for each field that passed its own check (a field already
/// refused keeps its first problem).
fn times(
    f: &mut Fields,
    starts_at: Instant,
    ends_at: Option<Instant>,
    now: Instant,
    current: Option<Instant>,
) {
    if let Err(errors) = EventDraft::check_times(starts_at, ends_at, now, current) {
        f.merge(errors.into_iter().filter(|(field, _)| f.is_valid_field(field)).collect());
    }
}
