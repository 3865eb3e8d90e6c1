//! Tickets and check-in: each one conditional write on the registration, so a ticket is given
//! once and a code is let in once, whatever runs concurrently (two doors scanning one ticket).

use serde::Deserialize;

use super::Store;
use super::conditions;
use super::deadline;
use super::error::{StoreError, classify};
use super::items::RegistrationRecord;
use super::keys;
use super::stats::{self, Counted};
use super::tx::{Write, from_item, s};
use crate::domain::ticket::{TicketCode, TicketNonce};
use crate::domain::{Id, Instant};

/// What scanning a ticket did.
#[derive(Debug)]
pub enum CheckIn {
    /// Let in now: the registration as it is after.
    Admitted(RegistrationRecord),
    /// Already let in: the registration says when and by whom.
    AlreadyIn(RegistrationRecord),
    /// No seat holds this code for this event (unknown, cancelled, of another event).
    Void,
}

impl Store {
    /// Gives a confirmed registration its ticket, derived from `nonce`, unless it has one (or,
    /// with `replacing`, in place of the one whose code hashes to that). Answers with the
    /// registration as stored afterwards (with whichever ticket won when two requests raced), or
    /// `None` when it is gone.
    pub async fn issue_ticket(
        &self,
        registration: &RegistrationRecord,
        (nonce, code): (&TicketNonce, &TicketCode),
        replacing: Option<&str>,
    ) -> Result<Option<RegistrationRecord>, StoreError> {
        let lookup = code.lookup();
        let write = Write::update(
            keys::registration(registration.event_id, registration.user_id),
            "SET ticket_nonce = :nonce, ticket_lookup = :lookup, gsi4pk = :ticket, gsi4sk = :ticket_sk",
        )
        .when(conditions::ticket_unissued(replacing))
        .value(":nonce", s(nonce.as_str()))
        .value(":lookup", s(&lookup))
        .value(":ticket", s(keys::ticket(&lookup)))
        .value(":ticket_sk", s(keys::TICKET_SK))
        .return_old_on_failure();
        let stored = match self.write(write).await? {
            Ok(new) => new,
            Err(refused) => refused.old,
        };
        stored.map(from_item).transpose()
    }

    /// The registration whose ticket has `code`, from gsi4: its event, user and seat shard. The
    /// index is updated within a moment of a ticket being given, so a ticket shown for the first
    /// time a split second ago may not be found yet; [`Store::check_in`] checks the registration
    /// itself.
    pub async fn ticket_holder(&self, code: &TicketCode) -> Result<Option<TicketHolder>, StoreError> {
        let out = self
            .partition(Some(keys::GSI4), keys::ticket(&code.lookup()), None)
            .projection_expression("event_id, user_id, #shard")
            .expression_attribute_names("#shard", "shard")
            .limit(1)
            .send()
            .await
            .map_err(classify)?;
        let Some(item) = out.items.unwrap_or_default().into_iter().next() else { return Ok(None) };
        Ok(Some(from_item(item)?))
    }

    /// Checks in the registration of `holder` if `code` is its ticket's, it holds a seat and
    /// nobody checked it in yet, and counts it for today: one transaction, so of two doors
    /// scanning one ticket at once exactly one lets it in.
    pub async fn check_in(
        &self,
        holder: &TicketHolder,
        code: &TicketCode,
        (by_id, by_name): (Id, &str),
        now: Instant,
    ) -> Result<CheckIn, StoreError> {
        let key = keys::registration(holder.event_id, holder.user_id);
        let admit = Write::update(
            key.clone(),
            "SET checked_in_at = :at, checked_in_by_id = :by_id, checked_in_by = :by",
        )
        .when(conditions::ticket_unused(&code.lookup(), holder.shard))
        .value(":at", s(now.to_string()))
        .value(":by_id", s(by_id.to_string()))
        .value(":by", s(by_name))
        .return_old_on_failure();
        let mut writes = vec![admit];
        writes.extend(stats::counts(holder.event_id, holder.shard, &[(now, Counted::CheckedIn)]));
        match self.transact(writes).await? {
            Ok(()) => match self.get_record(key).await? {
                Some(registration) => Ok(CheckIn::Admitted(registration)),
                None => Ok(CheckIn::Void),
            },
            Err(refused) => {
                let Some(old) = refused.old_item(0) else { return Ok(CheckIn::Void) };
                let old: RegistrationRecord = from_item(old.clone())?;
                let same_ticket = old.ticket.ticket_lookup.as_deref() == Some(code.lookup().as_str());
                Ok(match old.ticket.checked_in_at {
                    Some(_) if same_ticket => CheckIn::AlreadyIn(old),
                    _ => CheckIn::Void,
                })
            }
        }
    }

    /// Undoes the check-in of `user` for `event`, counting one fewer on the day it was made;
    /// `false` when they are not checked in.
    pub async fn undo_check_in(&self, event: Id, user: Id) -> Result<bool, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(registration) = self.find_registration(event, user).await? else { return Ok(false) };
            let Some(at) = registration.ticket.checked_in_at else { return Ok(false) };
            let undo = Write::update(
                keys::registration(event, user),
                "REMOVE checked_in_at, checked_in_by_id, checked_in_by",
            )
            .when(conditions::checked_in_at(at));
            let mut writes = vec![undo];
            writes.extend(stats::counts(event, registration.shard, &[(at, Counted::CheckInUndone)]));
            if self.transact(writes).await?.is_ok() {
                return Ok(true);
            }
            // Undone and checked in again meanwhile: undo the check-in there is now.
            deadline::pause(attempt, "undoing a check-in racing another").await?;
        }
    }
}

/// The registration a ticket belongs to, as gsi4 has it.
#[derive(Debug, Deserialize)]
pub struct TicketHolder {
    pub event_id: Id,
    pub user_id: Id,
    #[serde(default)]
    pub shard: u8,
}
