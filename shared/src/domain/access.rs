//! Who may do what: the one place that knows the roles. Every authorization decision of the API
//! is a call to [`Standing::may`] (on an event) or to one of the account rules below; handlers
//! never compare ids or roles themselves.
//!
//! On an event, the organizer may do everything; a co-host everything but deleting the event
//! and managing its team; door staff only check people in and read the attendee list. An admin
//! may do everything on every event.

use serde::{Deserialize, Serialize};

use super::Id;

/// A role someone holds on an event's team, given by its organizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TeamRole {
    /// Runs the event with the organizer.
    Cohost,
    /// Checks people in at the door.
    Door,
}

impl TeamRole {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "cohost" => Ok(TeamRole::Cohost),
            "door" => Ok(TeamRole::Door),
            _ => Err("must be \"cohost\" or \"door\"".to_owned()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Cohost => "cohost",
            TeamRole::Door => "door",
        }
    }
}

/// What one may do to an event beyond reading it (reading and registering are open to all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventAction {
    /// Change the event's fields.
    Edit,
    /// Delete the event (or its series).
    Delete,
    /// Add, list and remove team members.
    ManageTeam,
    /// Read the registrations: the JSON list and the CSV export.
    ReadAttendees,
    /// Check tickets in at the door, and undo a check-in.
    CheckIn,
    /// Read the event's counters.
    ReadStats,
}

impl EventAction {
    /// Who may, for the 403 that refuses the others.
    pub fn who_may(self) -> &'static str {
        match self {
            EventAction::Delete | EventAction::ManageTeam => "only the organizer or an admin may",
            EventAction::Edit | EventAction::ReadStats => "only the organizer, a co-host or an admin may",
            EventAction::ReadAttendees | EventAction::CheckIn => {
                "only the organizer, a co-host, door staff or an admin may"
            }
        }
    }
}

/// What the caller is to one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventRole {
    Organizer,
    Team(TeamRole),
    /// Neither organizer nor on the team.
    Outsider,
}

/// The caller's standing on an event: their role there, and whether they are an admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub role: EventRole,
    pub admin: bool,
}

impl Standing {
    /// Whether this standing allows `action`.
    pub fn may(self, action: EventAction) -> bool {
        if self.admin {
            return true;
        }
        match self.role {
            EventRole::Organizer => true,
            EventRole::Team(TeamRole::Cohost) => {
                !matches!(action, EventAction::Delete | EventAction::ManageTeam)
            }
            EventRole::Team(TeamRole::Door) => {
                matches!(action, EventAction::CheckIn | EventAction::ReadAttendees)
            }
            EventRole::Outsider => false,
        }
    }
}

/// Whether `caller` (an admin or not) may act on the account of `owner`: read its email, change
/// or delete it.
pub fn may_act_on_account(caller: Id, admin: bool, owner: Id) -> bool {
    admin || caller == owner
}

/// Whether someone may list every user: admins only.
pub fn may_list_users(admin: bool) -> bool {
    admin
}

/// Whether a new password must come with the current one: always, except from an admin setting
/// someone's password (who does not know it).
pub fn password_change_needs_current(admin: bool) -> bool {
    !admin
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY_ACTION: [EventAction; 6] = [
        EventAction::Edit,
        EventAction::Delete,
        EventAction::ManageTeam,
        EventAction::ReadAttendees,
        EventAction::CheckIn,
        EventAction::ReadStats,
    ];

    fn allowed(role: EventRole, admin: bool) -> Vec<EventAction> {
        EVERY_ACTION.into_iter().filter(|a| Standing { role, admin }.may(*a)).collect()
    }

    #[test]
    fn each_role_may_exactly_its_actions() {
        assert_eq!(allowed(EventRole::Organizer, false), EVERY_ACTION);
        assert_eq!(allowed(EventRole::Outsider, true), EVERY_ACTION, "an admin may everything");
        assert_eq!(
            allowed(EventRole::Team(TeamRole::Cohost), false),
            [EventAction::Edit, EventAction::ReadAttendees, EventAction::CheckIn, EventAction::ReadStats]
        );
        assert_eq!(
            allowed(EventRole::Team(TeamRole::Door), false),
            [EventAction::ReadAttendees, EventAction::CheckIn]
        );
        assert!(allowed(EventRole::Outsider, false).is_empty());
    }

    #[test]
    fn team_roles_parse_only_their_names() {
        assert_eq!(TeamRole::parse("cohost"), Ok(TeamRole::Cohost));
        assert_eq!(TeamRole::parse("door"), Ok(TeamRole::Door));
        for bad in ["Cohost", "organizer", "admin", ""] {
            assert!(TeamRole::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_account_is_acted_on_by_its_owner_or_an_admin() {
        let (me, other) = (Id::new(), Id::new());
        assert!(may_act_on_account(me, false, me));
        assert!(!may_act_on_account(me, false, other));
        assert!(may_act_on_account(me, true, other));
        assert!(may_list_users(true) && !may_list_users(false));
        assert!(password_change_needs_current(false) && !password_change_needs_current(true));
    }
}
