//! The JSON representations of stored records, as API.md defines them.

use serde::Serialize;

use crate::domain::{Id, Instant, Role};
use crate::store::items::{EventRecord, RegistrationStatus, UserRecord};
use crate::store::registrations::Placed;

/// A user. `email` is shown only to the user and to admins.
#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: Id,
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub role: Role,
    pub created_at: Instant,
}

impl UserView {
    pub fn new(user: UserRecord, show_email: bool) -> Self {
        UserView {
            id: user.id,
            username: user.username,
            email: show_email.then_some(user.email),
            role: user.role,
            created_at: user.created_at,
        }
    }
}

/// `{id, username}`: how users appear inside other resources.
#[derive(Debug, Serialize)]
pub struct UserRef {
    pub id: Id,
    pub username: String,
}

/// An event with its live counters.
#[derive(Debug, Serialize)]
pub struct EventView {
    pub id: Id,
    pub title: String,
    pub description: Option<String>,
    pub starts_at: Instant,
    pub ends_at: Option<Instant>,
    pub timezone: String,
    pub location: String,
    pub category: Option<String>,
    pub capacity: u32,
    pub confirmed_count: u32,
    pub waitlist_count: u32,
    pub seats_left: u32,
    pub waitlist_enabled: bool,
    pub organizer: UserRef,
    pub series_id: Option<Id>,
    pub created_at: Instant,
    pub updated_at: Instant,
    /// Opens Google Calendar with the event filled in.
    pub google_calendar_url: String,
}

impl From<EventRecord> for EventView {
    fn from(e: EventRecord) -> Self {
        let seats_left = e.seats_left();
        let google_calendar_url = crate::calendar::google_calendar_url(&e);
        EventView {
            id: e.id,
            title: e.title,
            description: e.description,
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            timezone: e.timezone,
            location: e.location,
            category: e.category,
            capacity: e.capacity,
            confirmed_count: e.confirmed_count,
            waitlist_count: e.waitlist_count,
            seats_left,
            waitlist_enabled: e.waitlist_enabled,
            organizer: UserRef { id: e.organizer_id, username: e.organizer_username },
            series_id: e.series_id,
            created_at: e.created_at,
            updated_at: e.updated_at,
            google_calendar_url,
        }
    }
}

/// A registration, with its place on the waitlist.
#[derive(Debug, Serialize)]
pub struct RegistrationView {
    pub event_id: Id,
    pub user: UserRef,
    pub status: RegistrationStatus,
    pub waitlist_position: Option<u32>,
    pub created_at: Instant,
}

impl From<Placed> for RegistrationView {
    fn from(placed: Placed) -> Self {
        let r = placed.registration;
        RegistrationView {
            event_id: r.event_id,
            user: UserRef { id: r.user_id, username: r.username },
            status: r.status,
            waitlist_position: placed.waitlist_position,
            created_at: r.created_at,
        }
    }
}
