//! Validated values and business rules. Nothing here performs I/O: a value of a type in this
//! module is valid by construction ("parse, don't validate"), so the layers above never re-check.

pub mod access;
pub mod category;
pub mod event;
pub mod ids;
pub mod page;
pub mod recurrence;
pub mod refresh_token;
pub mod text;
pub mod throttle;
pub mod ticket;
pub mod time;
pub mod upcoming;
pub mod user;
pub mod webhook;

pub use category::Category;
pub use event::{Capacity, Description, EventDraft, EventPatch, Location, Timezone, Title, Visibility};
pub use ids::Id;
pub use page::Limit;
pub use time::Instant;
pub use user::{Email, Password, Role, Username};
