//! The pages of the lists: `{"results": [...], "next_cursor": ...}`, one named type per kind of
//! item. A generic page would have its schema named `Page_EventView` and the like; these keep the
//! document's component names (`EventPage`, ...) and are what the handlers answer with.

use serde::Serialize;
use utoipa::ToSchema;

use super::{DeliveryView, EventView, FeedbackView, RegistrationView, TeamMemberView, UserView, WebhookView};
use crate::records::Notification;

/// An item of a list, with the page type that carries it.
pub trait Listed: Sized {
    type Page: Serialize;

    /// A page of `results`; `next_cursor` is already sealed for its list.
    fn page(results: Vec<Self>, next_cursor: Option<String>) -> Self::Page;
}

/// One page type: `results` and `next_cursor`, with the fields given after the item type. A page
/// with no fields of its own is the page of its item ([`Listed`]).
macro_rules! page {
    ($(#[$doc:meta])* $name:ident of $item:ty) => {
        page!($(#[$doc])* $name of $item {});

        impl Listed for $item {
            type Page = $name;

            fn page(results: Vec<Self>, next_cursor: Option<String>) -> $name {
                $name { results, next_cursor }
            }
        }
    };
    ($(#[$doc:meta])* $name:ident of $item:ty { $($(#[$field_meta:meta])* $field:ident: $kind:ty,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            /// At most `limit` items.
            pub results: Vec<$item>,
            /// The `cursor` of the next page; `null` on the last one.
            #[schema(required = true)]
            pub next_cursor: Option<String>,
            $($(#[$field_meta])* pub $field: $kind,)*
        }
    };
}

page!(
    /// A page of users.
    UserPage of UserView
);
page!(
    /// A page of events.
    EventPage of EventView
);
page!(
    /// A page of registrations.
    RegistrationPage of RegistrationView
);
page!(
    /// A page of notifications, newest first.
    NotificationPage of Notification
);
page!(
    /// The caller's webhook endpoints, oldest first: all of them (at most ten), so `next_cursor`
    /// is always `null`.
    WebhookPage of WebhookView
);
page!(
    /// A page of an endpoint's deliveries, newest first.
    DeliveryPage of DeliveryView
);
page!(
    /// A page of an event's team.
    TeamPage of TeamMemberView
);
page!(
    /// A page of an event's feedback, with the rating over all of it.
    FeedbackPage of FeedbackView {
        /// The mean rating (not rounded); `null` before the first feedback.
        #[schema(required = true, minimum = 1, maximum = 5)]
        average_rating: Option<f64>,
        /// How many have given feedback.
        count: u64,
    }
);
