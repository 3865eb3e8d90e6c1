//! Reading event bodies: every writable field with its rule, for create, full replace and patch.

use serde_json::{Map, Value};
use shared::domain::recurrence::Recurrence;
use shared::domain::{
    Capacity, Category, Description, EventDraft, EventPatch, Instant, Location, Timezone, Title, Visibility,
};
use shared::http::fields::{boolean, checked, instant, integer, text};
use shared::http::{ApiError, Fields};

const WRITABLE: &[&str] = &[
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
];

/// The body of `POST /events`: the writable fields and, for a series, its recurrence.
pub fn new_event(
    mut body: Map<String, Value>,
    now: Instant,
) -> Result<(EventDraft, Option<Recurrence>), ApiError> {
    let recurrence = body.remove("recurrence");
    let parsed = match &recurrence {
        None | Some(Value::Null) => Ok(None),
        Some(value) => recurrence_of(value).map(Some),
    };
    let draft = draft(body, now, None);
    match (draft, parsed) {
        (Ok(draft), Ok(recurrence)) => Ok((draft, recurrence)),
        (Err(ApiError::Validation(mut errors)), Err(message)) => {
            errors.insert("recurrence".into(), vec![message]);
            Err(ApiError::Validation(errors))
        }
        (Err(e), _) => Err(e),
        (Ok(_), Err(message)) => Err(ApiError::validation("recurrence", message)),
    }
}

fn recurrence_of(value: &Value) -> Result<Recurrence, String> {
    let object = value
        .as_object()
        .ok_or_else(|| "must be an object such as {\"rrule\": \"FREQ=WEEKLY;COUNT=10\"}".to_owned())?;
    if let Some(unknown) = object.keys().find(|k| *k != "rrule") {
        return Err(format!("{unknown} is not a known field of recurrence"));
    }
    match object.get("rrule") {
        Some(Value::String(rule)) => Recurrence::parse(rule),
        _ => Err("rrule is required and must be a string".to_owned()),
    }
}

/// A complete set of writable fields (POST, PUT). Optional fields left out take their defaults.
/// `current_start` is the stored start when replacing an existing event.
pub fn draft(
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
    let draft = EventDraft {
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
    };
    Ok(draft)
}

/// A partial update applied to `current` (PATCH).
pub fn patched(body: Map<String, Value>, current: &EventDraft, now: Instant) -> Result<EventDraft, ApiError> {
    let mut f = Fields::new(body, WRITABLE);
    let patch = EventPatch {
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
    Ok(current.apply(patch))
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

/// The stored event as a draft, for patching.
pub fn stored_draft(event: &shared::records::EventRecord) -> Result<EventDraft, ApiError> {
    let corrupt =
        |field: &str| ApiError::Internal(format!("stored event {} has an invalid {field}", event.id));
    Ok(EventDraft {
        title: Title::parse(&event.title).map_err(|_| corrupt("title"))?,
        description: event
            .description
            .as_deref()
            .map(Description::parse)
            .transpose()
            .map_err(|_| corrupt("description"))?,
        starts_at: event.starts_at,
        ends_at: event.ends_at,
        timezone: Timezone::parse(&event.timezone).map_err(|_| corrupt("timezone"))?,
        location: Location::parse(&event.location).map_err(|_| corrupt("location"))?,
        capacity: Capacity::new(i64::from(event.capacity)).map_err(|_| corrupt("capacity"))?,
        category: event
            .category
            .as_deref()
            .map(Category::parse)
            .transpose()
            .map_err(|_| corrupt("category"))?,
        waitlist_enabled: event.waitlist_enabled,
        visibility: event.visibility,
    })
}
