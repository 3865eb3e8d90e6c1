//! The stored event as the draft a patch applies to.

use shared::domain::{Capacity, Category, Description, EventDraft, Location, Timezone, Title};
use shared::http::ApiError;

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
