//! Refresh tokens: issue, rotate (spend one, issue its successor atomically), detect reuse.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

use super::Store;
use super::error::StoreError;
use super::items::{IndexKeys, RefreshRecord, Stored};
use super::keys;
use super::query;
use super::tx::{Write, from_item, s, to_item};
use crate::auth::RefreshToken;
use crate::domain::{Id, Instant};

/// The outcome of presenting a refresh token.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Spent; its successor is stored.
    Rotated,
    /// Unknown, expired, already spent or revoked.
    Refused,
}

fn refresh_write(token: &RefreshToken, family: Id, expires_at: i64) -> Result<Write, StoreError> {
    let key = keys::refresh_token(token.user_id, token.token_id);
    let record = RefreshRecord {
        user_id: token.user_id,
        token_id: token.token_id,
        family,
        secret_hash: token.secret_hash(),
        expires_at,
        used_at: None,
    };
    let item = to_item(&Stored {
        pk: &key.pk,
        sk: &key.sk,
        kind: "refresh_token",
        index: &IndexKeys::default(),
        record: &record,
    })?;
    Ok(Write::put(item).condition("attribute_not_exists(pk)"))
}

impl Store {
    /// Stores the first token of a new login.
    pub async fn store_refresh_token(
        &self,
        token: &RefreshToken,
        expires_at: Instant,
    ) -> Result<(), StoreError> {
        let write = refresh_write(token, token.token_id, expires_at.unix())?;
        self.write(write)
            .await?
            .map(|_| ())
            .map_err(|_| StoreError::Internal("refresh token id collision".into()))
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
                .condition("attribute_exists(pk) AND attribute_not_exists(used_at) AND secret_hash = :h")
                .value(":now", s(now.to_string()))
                .value(":h", s(presented.secret_hash()));
        let user_exists = Write::check(keys::user(presented.user_id), "attribute_exists(pk)");
        let writes = vec![spend, refresh_write(next, current.family, expires_at.unix())?, user_exists];
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
        let tokens = self
            .partition(None, keys::user_pk(user_id), Some(keys::REFRESH_PREFIX))
            .filter_expression("#family = :family")
            .expression_attribute_names("#family", "family")
            .expression_attribute_values(":family", s(family.to_string()));
        self.revoke(user_id, tokens).await
    }

    /// Deletes every refresh token of a user: after a password change, no session begun with
    /// the old password may go on. (Access tokens already issued live out their short lifetime.)
    pub async fn revoke_sessions(&self, user_id: Id) -> Result<(), StoreError> {
        self.revoke(user_id, self.partition(None, keys::user_pk(user_id), Some(keys::REFRESH_PREFIX))).await
    }

    /// Deletes the refresh tokens a query of the user's partition finds.
    async fn revoke(&self, user_id: Id, tokens: QueryFluentBuilder) -> Result<(), StoreError> {
        let out = query::all(tokens.consistent_read(true)).await?;
        for item in out {
            let record: RefreshRecord = from_item(item)?;
            // A token already gone is as good as revoked.
            let _ = self.write(Write::delete(keys::refresh_token(user_id, record.token_id))).await?;
        }
        Ok(())
    }
}
