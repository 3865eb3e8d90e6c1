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
use super::tx::{Write, from_item, key_item, n, s, to_item};
use crate::domain::refresh_token::RefreshToken;
use crate::domain::{Id, Instant};

/// How long after a refresh the same refresh may be sent again and get the same new token:
/// long enough for a client on a flaky network to retry, short enough that a stolen token
/// replayed later still revokes the family.
pub const RESEND_GRACE_SECONDS: i64 = 30;

/// The outcome of presenting a refresh token.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Spent (now, or by the same refresh sent moments ago); this successor is stored and valid.
    Rotated(RefreshToken),
    /// Unknown, expired, already spent or revoked, or its session has ended.
    Refused,
}

/// When a session ends, and how long its tokens last: `ttl` from now, never past the end.
#[derive(Clone, Copy, Debug)]
pub struct SessionTimes {
    pub expires_at: Instant,
    pub session_expires_at: Instant,
}

fn refresh_write(
    token: &RefreshToken,
    family: Id,
    session_version: u32,
    times: SessionTimes,
) -> Result<Write, StoreError> {
    let key = keys::refresh_token(token.user_id, token.token_id);
    let session_end = times.session_expires_at.unix();
    let record = RefreshRecord {
        user_id: token.user_id,
        token_id: token.token_id,
        family,
        secret_hash: token.secret_hash(),
        expires_at: times.expires_at.unix().min(session_end),
        used_at: None,
        session_version,
        next_token_id: None,
        resend_key: None,
        session_expires_at: Some(session_end),
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

/// The mark of a family ended by a logout or by reuse (see `Store::revoke_family`).
#[derive(serde::Serialize, serde::Deserialize)]
struct RevokedFamily {
    /// Unix seconds; the table's TTL attribute.
    expires_at: i64,
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
        times: SessionTimes,
    ) -> Result<bool, StoreError> {
        let writes = vec![
            refresh_write(token, token.token_id, session_version, times)?,
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

    /// The stored record of `presented`, if its secret matches and it has not expired.
    async fn presented(
        &self,
        presented: &RefreshToken,
        now: Instant,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        let Some(current) = self
            .get_record::<RefreshRecord>(keys::refresh_token(presented.user_id, presented.token_id))
            .await?
        else {
            return Ok(None);
        };
        let secret_matches =
            subtle::ConstantTimeEq::ct_eq(current.secret_hash.as_bytes(), presented.secret_hash().as_bytes());
        Ok((bool::from(secret_matches) && current.expires_at > now.unix()).then_some(current))
    }

    /// Spends `presented` and stores `next`, its successor (see `RefreshToken::successor`), in
    /// one transaction. Only an unspent, unexpired token whose secret matches can be spent, so
    /// two concurrent refreshes with the same token cannot store two successors. A spent token
    /// presented again within [`RESEND_GRACE_SECONDS`], with the same `resend_key` (the
    /// request's `Idempotency-Key`) as the refresh that spent it and while its successor is
    /// unspent, is that refresh resent: it is answered with the same successor. Presented any
    /// other way it is reuse, and revokes every token of its family: one of the two holders is
    /// not the rightful one. `ttl_end` is when the successor expires unused.
    pub async fn rotate_refresh_token(
        &self,
        presented: &RefreshToken,
        successors: &[RefreshToken],
        resend_key: Option<&str>,
        now: Instant,
        ttl_end: Instant,
    ) -> Result<Rotation, StoreError> {
        let Some(current) = self.presented(presented, now).await? else {
            return Ok(Rotation::Refused);
        };
        let resend_key = resend_key.map(fingerprint);
        if current.used_at.is_some() {
            return self.resent(presented, &current, (successors, resend_key.as_deref()), now).await;
        }
        let Some(next) = successors.first() else {
            return Err(StoreError::Internal("a rotation needs a successor".into()));
        };
        let session_end = current.session_expires_at.unwrap_or(current.expires_at);
        if session_end <= now.unix() {
            return Ok(Rotation::Refused);
        }
        let spend = Write::update(
            keys::refresh_token(presented.user_id, presented.token_id),
            "SET used_at = :now, next_token_id = :next, resend_key = :resend",
        )
        .when(conditions::unused_refresh_token(&presented.secret_hash()))
        .value(":now", s(now.to_string()))
        .value(":next", s(next.token_id.to_string()))
        // A refresh sent without a key can never be resent: no key's fingerprint is empty.
        .value(":resend", s(resend_key.clone().unwrap_or_default()));
        let times = SessionTimes {
            expires_at: ttl_end,
            session_expires_at: Instant::from_unix(session_end).unwrap_or(now),
        };
        let writes = vec![
            spend,
            refresh_write(next, current.family, current.session_version, times)?,
            same_sessions(presented.user_id, current.session_version),
            Write::check(keys::revoked_family(presented.user_id, current.family), conditions::absent()),
        ];
        match self.transact(writes).await? {
            Ok(()) => Ok(Rotation::Rotated(next.clone())),
            Err(cancelled) if cancelled.condition_failed(0) => {
                // Spent a moment ago: by the same refresh resent, or by someone else.
                match self.presented(presented, now).await? {
                    Some(spent) => {
                        self.resent(presented, &spent, (successors, resend_key.as_deref()), now).await
                    }
                    None => Ok(Rotation::Refused),
                }
            }
            Err(_) => Ok(Rotation::Refused),
        }
    }

    /// `presented` was spent already (`spent` is its record): the same refresh resent (the same
    /// key, within the grace period), answered with the same successor, or reuse, which revokes
    /// the family.
    async fn resent(
        &self,
        presented: &RefreshToken,
        spent: &RefreshRecord,
        (successors, resend_key): (&[RefreshToken], Option<&str>),
        now: Instant,
    ) -> Result<Rotation, StoreError> {
        let within_grace = spent
            .used_at
            .is_some_and(|used_at| now.unix().saturating_sub(used_at.unix()) <= RESEND_GRACE_SECONDS);
        let same_refresh = resend_key.is_some_and(|key| spent.resend_key.as_deref() == Some(key));
        let next = successors.iter().find(|next| spent.next_token_id == Some(next.token_id));
        if let Some(next) = next.filter(|_| within_grace && same_refresh) {
            let revoked =
                self.get_record::<RevokedFamily>(keys::revoked_family(presented.user_id, spent.family));
            let (successor, revoked) = tokio::join!(self.presented(next, now), revoked);
            let successor = successor?;
            if revoked?.is_some() {
                return Ok(Rotation::Refused);
            }
            let sessions_continue = self
                .find_user(presented.user_id)
                .await?
                .is_some_and(|user| user.session_version == spent.session_version);
            if successor.is_some_and(|s| s.used_at.is_none()) && sessions_continue {
                return Ok(Rotation::Rotated(next.clone()));
            }
        }
        self.revoke_family(presented.user_id, spent).await?;
        Ok(Rotation::Refused)
    }

    /// Ends the session `presented` belongs to (every token of its family), if it is one of
    /// ours and unexpired. `false` when there was nothing to end.
    pub async fn end_session(&self, presented: &RefreshToken, now: Instant) -> Result<bool, StoreError> {
        match self.presented(presented, now).await? {
            Some(current) => {
                self.revoke_family(presented.user_id, &current).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Ends every session of `user`: its refresh tokens are refused from now on (they check the
    /// session version in the transaction that would use them) and so are its access tokens
    /// (they carry the version they were issued with). `false` when the user is gone.
    pub async fn end_all_sessions(&self, user: Id) -> Result<bool, StoreError> {
        let bump = Write::update(
            keys::user(user),
            "SET session_version = if_not_exists(session_version, :zero) + :one",
        )
        .when(conditions::exists())
        .value(":zero", n(0))
        .value(":one", n(1));
        Ok(self.write(bump).await?.is_ok())
    }

    /// Ends one family: first a mark that every later rotation checks for in its transaction,
    /// so a rotation racing this one cannot store a successor that the deletes below miss; then
    /// every token of the family is deleted. The mark lasts as long as the family's session could.
    async fn revoke_family(&self, user_id: Id, record: &RefreshRecord) -> Result<(), StoreError> {
        let family = record.family;
        let until = record.session_expires_at.unwrap_or(record.expires_at);
        let mark = to_item(&Stored {
            pk: &keys::user_pk(user_id),
            sk: &keys::revoked_family(user_id, family).sk,
            kind: "revoked_family",
            index: &IndexKeys::default(),
            record: &RevokedFamily { expires_at: until },
        })?;
        let _ = self.write(Write::put(mark)).await?;
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

/// What is stored of a client's resend key: a SHA-256, so the table holds nothing a client sent.
fn fingerprint(key: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(key.as_bytes()))
}
