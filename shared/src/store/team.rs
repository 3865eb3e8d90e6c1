//! An event's team: co-hosts and door staff, each an item in the event's partition (so that
//! deleting the event takes them), read on every request that needs the caller's role there.

use super::Store;
use super::conditions;
use super::error::StoreError;
use super::items::{IndexKeys, Stored, TeamMemberRecord};
use super::keys;
use super::page::{Page, PageRequest};
use super::query;
use super::tx::{Item, Write, s, to_item};
use crate::domain::Id;
use crate::domain::access::TeamRole;

/// What putting someone on a team did.
#[derive(Debug, PartialEq, Eq)]
pub enum TeamChange {
    Added,
    /// They were on it already; their role is the one given now.
    RoleSet,
    /// The event is gone or being deleted.
    NoEvent,
}

/// A membership as stored: in the event's partition, and under its user in gsi1 (so that deleting
/// the user finds it).
fn member_item(member: &TeamMemberRecord) -> Result<Item, StoreError> {
    let key = keys::team_member(member.event_id, member.user_id);
    let index = IndexKeys {
        gsi1pk: Some(keys::user_pk(member.user_id)),
        gsi1sk: Some(keys::membership_sk(member.event_id)),
        ..IndexKeys::default()
    };
    to_item(&Stored { pk: &key.pk, sk: &key.sk, kind: "team_member", index: &index, record: member })
}

impl Store {
    /// The role `user` holds on `event`'s team, if any: read consistently, so a member just
    /// removed is refused at once.
    pub async fn team_role(&self, event: Id, user: Id) -> Result<Option<TeamRole>, StoreError> {
        Ok(self.team_member(event, user).await?.map(|member| member.role))
    }

    /// `user`'s membership of `event`'s team, if any.
    pub async fn team_member(&self, event: Id, user: Id) -> Result<Option<TeamMemberRecord>, StoreError> {
        self.get_record(keys::team_member(event, user)).await
    }

    /// Puts `member` on the team, or gives them the role if they are on it already, while the
    /// event is live (checked in the same transaction).
    pub async fn put_team_member(&self, member: &TeamMemberRecord) -> Result<TeamChange, StoreError> {
        let event_live = || Write::check(keys::event(member.event_id), conditions::live());
        let added = self
            .transact(vec![event_live(), Write::put(member_item(member)?).when(conditions::absent())])
            .await?;
        let cancelled = match added {
            Ok(()) => return Ok(TeamChange::Added),
            Err(cancelled) if cancelled.condition_failed(0) => return Ok(TeamChange::NoEvent),
            Err(cancelled) => cancelled,
        };
        if !cancelled.condition_failed(1) {
            return Err(StoreError::Internal(format!("adding a team member: {:?}", cancelled.reasons)));
        }
        let role = Write::update(keys::team_member(member.event_id, member.user_id), "SET #role = :role")
            .when(conditions::exists())
            .name("#role", "role")
            .value(":role", s(member.role.as_str()));
        match self.transact(vec![event_live(), role]).await? {
            Ok(()) => Ok(TeamChange::RoleSet),
            Err(cancelled) if cancelled.condition_failed(0) => Ok(TeamChange::NoEvent),
            // Removed meanwhile: add them again.
            Err(_) => Box::pin(self.put_team_member(member)).await,
        }
    }

    /// Takes `user` off `event`'s team; `false` when they were not on it.
    pub async fn remove_team_member(&self, event: Id, user: Id) -> Result<bool, StoreError> {
        let removed =
            self.write(Write::delete(keys::team_member(event, user)).when(conditions::exists())).await?;
        Ok(removed.is_ok())
    }

    /// Takes a deleted user off every team they were on.
    pub(crate) async fn leave_teams(&self, user: Id) -> Result<(), StoreError> {
        let memberships = self.owned_by(user, keys::MEMBERSHIP_PREFIX).await?;
        for membership in memberships {
            let event = membership.get("event_id").and_then(|v| v.as_s().ok()).and_then(|raw| Id::parse(raw));
            if let Some(event) = event {
                self.remove_team_member(event, user).await?;
            }
        }
        Ok(())
    }

    /// One page of `event`'s team, in the order members' ids sort (read consistently), each
    /// with their username as it is now. Members whose account is gone are left out.
    pub async fn team(
        &self,
        event: Id,
        page: &PageRequest,
    ) -> Result<Page<(TeamMemberRecord, String)>, StoreError> {
        let request =
            self.partition(None, keys::event_pk(event), Some(keys::TEAM_PREFIX)).consistent_read(true);
        let members: Page<TeamMemberRecord> = query::page(request, page).await?;
        let ids: Vec<Id> = members.results.iter().map(|member| member.user_id).collect();
        let mut users = self.profiles(&ids).await?;
        let results = members
            .results
            .into_iter()
            .filter_map(|member| users.remove(&member.user_id).map(|user| (member, user.username)))
            .collect();
        Ok(Page { results, next: members.next })
    }
}
