//! Refresh tokens: issue, rotate (spend one, issue its successor atomically), detect reuse.
//!
//! A token carries the user's `session_version` from when its family began, and both storing
//! and rotating one check, in the same transaction, that the user still has that version. A
//! password change bumps it in the write that changes the password, so every session begun with
//! the old password ends at that instant, including a login or refresh racing the change; the
//! tokens left behind expire through the table's TTL.

use super::Store;
use super::batch;
use super::conditions;
use super::error::StoreError;
use super::items::{IndexKeys, RefreshRecord, Stored};
use super::keys;
use super::query;
use super::tx::{Write, from_item, key_item, s, to_item};
use crate::domain::refresh_token::RefreshToken;
use crate::domain::{Id, Instant};

/// The outcome of presenting a refresh token.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Spent; its successor is stored.
    Rotated,
    /// Unknown, expired, already spent or revoked.
    Refused,
}

fn refresh_write(
    token: &RefreshToken,
    family: Id,
    session_version: u32,
    expires_at: i64,
) -> Result<Write, StoreError> {
    let key = keys::refresh_token(token.user_id, token.token_id);
    let record = RefreshRecord {
        user_id: token.user_id,
        token_id: token.token_id,
        family,
        secret_hash: token.secret_hash(),
        expires_at,
        used_at: None,
        session_version,
    };
    let item = to_item(&Stored {
        pk: &key.pk,
        sk: &key.sk,
        kind: "refresh_token",
        index: &IndexKeys::default(),
        record: &record,
    })?;
    Ok(Write::put(item).when(conditions::absent()))
}

/// The check that a user exists and still has `session_version`.
fn same_sessions(user: Id, session_version: u32) -> Write {
    Write::check(keys::user(user), conditions::same_sessions(session_version))
}

impl Store {
    /// Stores the first token of a new login, begun with the user at `session_version`. `false`
    /// when the password changed (or the user went) since it was checked.
    pub async fn store_refresh_token(
        &self,
        token: &RefreshToken,
        session_version: u32,
        expires_at: Instant,
    ) -> Result<bool, StoreError> {
        let writes = vec![
            refresh_write(token, token.token_id, session_version, expires_at.unix())?,
            same_sessions(token.user_id, session_version),
        ];
        match self.transact(writes).await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.condition_failed(0) => {
                Err(StoreError::Internal("refresh token id collision".into()))
            }
            Err(_) => Ok(false),
        }
    }

    /// Spends `presented` and stores `next` in one transaction. Only an unspent, unexpired token
    /// whose secret matches can be spent, so two concurrent refreshes with the same token cannot
    /// both succeed. A spent token presented again revokes every token of its family: one of the
    /// two holders is not the rightful one.
    pub async fn rotate_refresh_token(
        &self,
        presented: &RefreshToken,
        next: &RefreshToken,
        now: Instant,
        expires_at: Instant,
    ) -> Result<Rotation, StoreError> {
        let Some(current) = self
            .get_record::<RefreshRecord>(keys::refresh_token(presented.user_id, presented.token_id))
            .await?
        else {
            return Ok(Rotation::Refused);
        };
        let secret_matches =
            subtle::ConstantTimeEq::ct_eq(current.secret_hash.as_bytes(), presented.secret_hash().as_bytes());
        if !bool::from(secret_matches) || current.expires_at <= now.unix() {
            return Ok(Rotation::Refused);
        }
        if current.used_at.is_some() {
            self.revoke_family(presented.user_id, current.family).await?;
            return Ok(Rotation::Refused);
        }
        let spend =
            Write::update(keys::refresh_token(presented.user_id, presented.token_id), "SET used_at = :now")
                .when(conditions::unused_refresh_token(&presented.secret_hash()))
                .value(":now", s(now.to_string()));
        let writes = vec![
            spend,
            refresh_write(next, current.family, current.session_version, expires_at.unix())?,
            same_sessions(presented.user_id, current.session_version),
        ];
        match self.transact(writes).await? {
            Ok(()) => Ok(Rotation::Rotated),
            Err(cancelled) => {
                if cancelled.condition_failed(0) {
                    // Spent by a concurrent refresh a moment ago: that is reuse too.
                    self.revoke_family(presented.user_id, current.family).await?;
                }
                Ok(Rotation::Refused)
            }
        }
    }

    /// Deletes every refresh token of one family.
    async fn revoke_family(&self, user_id: Id, family: Id) -> Result<(), StoreError> {
        let out = query::all(
            self.partition(None, keys::user_pk(user_id), Some(keys::REFRESH_PREFIX))
                .filter_expression("#family = :family")
                .expression_attribute_names("#family", "family")
                .expression_attribute_values(":family", s(family.to_string()))
                .consistent_read(true),
        )
        .await?;
        // A family refreshed every few minutes holds thousands of spent tokens until their TTL:
        // delete them in batches.
        let deletes = out
            .into_iter()
            .map(|item| {
                let record: RefreshRecord = from_item(item)?;
                batch::delete(key_item(&keys::refresh_token(user_id, record.token_id)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.write_batches(deletes, 4).await
    }
}
