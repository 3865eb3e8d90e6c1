//! Users, their username and email reservations, and the admin list.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::stream::{self, StreamExt, TryStreamExt};

use super::Store;
use super::batch::Consistency;
use super::conditions;
use super::cursor::StartKey;
use super::error::{StoreError, classify};
use super::idempotency::Remember;
use super::items::{IndexKeys, MarkerRecord, Stored, UserRecord};
use super::keys::{self, Key};
use super::page::{Page, PageRequest};
use super::query;
use super::tx::{Item, Write, from_item, s, to_item};
use crate::domain::user::email_key;
use crate::domain::{Id, Instant, Role};

/// Items given a user's new name at once.
/// The cursor field of the user list: the last id listed.
const LISTED_AFTER: &str = "_after";

const RENAME_CONCURRENCY: usize = 8;
/// Copies of a username before giving up on a user renamed again and again meanwhile.
const RENAME_ROUNDS: usize = 5;

/// Which unique values were already taken.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Taken {
    pub username: bool,
    pub email: bool,
}

/// A change to a user's own fields; `None` leaves a field alone.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub email_notifications: Option<bool>,
}

/// Why a user update did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum UpdateRefused {
    Taken(Taken),
    /// The user was changed or deleted by someone else meanwhile.
    Changed,
}

fn user_item(user: &UserRecord) -> Result<Item, StoreError> {
    let key = keys::user(user.id);
    let index = IndexKeys {
        gsi1pk: Some(keys::users_list(user.id)),
        gsi1sk: Some(user.id.to_string()),
        ..IndexKeys::default()
    };
    to_item(&Stored { pk: &key.pk, sk: &key.sk, kind: "user", index: &index, record: user })
}

fn marker_put(key: Key, kind: &'static str, user_id: Id) -> Result<Write, StoreError> {
    let item = to_item(&Stored {
        pk: &key.pk,
        sk: &key.sk,
        kind,
        index: &IndexKeys::default(),
        record: &MarkerRecord { user_id },
    })?;
    Ok(Write::put(item).when(conditions::absent()))
}

pub(super) fn marker_delete(key: Key, user_id: Id) -> Write {
    Write::delete(key).when(conditions::owned_by(&user_id.to_string()))
}

impl Store {
    /// Creates a user with its username and email reservations in one transaction, so two
    /// sign-ups can never both take a name.
    pub async fn create_user(
        &self,
        user: &UserRecord,
        remember: Option<Remember>,
    ) -> Result<Result<(), Taken>, StoreError> {
        let writes = vec![
            Write::put(user_item(user)?).when(conditions::absent()),
            marker_put(keys::username(&user.username.to_ascii_lowercase()), "username", user.id)?,
            marker_put(keys::email(&email_key(&user.email)), "email", user.id)?,
        ];
        match self.transact_remembering(writes, remember).await? {
            Ok(()) => Ok(Ok(())),
            Err(cancelled) => {
                let taken =
                    Taken { username: cancelled.condition_failed(1), email: cancelled.condition_failed(2) };
                if taken == Taken::default() {
                    return Err(StoreError::Internal(format!(
                        "user creation cancelled: {:?}",
                        cancelled.reasons
                    )));
                }
                Ok(Err(taken))
            }
        }
    }

    /// A user by id, read consistently (a deleted user must stop working at once).
    pub async fn find_user(&self, id: Id) -> Result<Option<UserRecord>, StoreError> {
        self.get_record(keys::user(id)).await
    }

    /// A user by username, ignoring case.
    pub async fn find_user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let Some(marker) =
            self.get_record::<MarkerRecord>(keys::username(&username.to_ascii_lowercase())).await?
        else {
            return Ok(None);
        };
        self.find_user(marker.user_id).await
    }

    /// The users of `ids` that still exist, by id, read consistently (100 per call).
    pub async fn profiles(&self, ids: &[Id]) -> Result<HashMap<Id, UserRecord>, StoreError> {
        let keys: Vec<Key> = ids.iter().map(|id| keys::user(*id)).collect();
        let mut found = HashMap::with_capacity(keys.len());
        for item in self.batch_get(&keys, None, Consistency::Strong).await? {
            let user: UserRecord = from_item(item)?;
            found.insert(user.id, user);
        }
        Ok(found)
    }

    /// One item by key, consistently read.
    pub(crate) async fn get_record<T: serde::de::DeserializeOwned>(
        &self,
        key: Key,
    ) -> Result<Option<T>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(&self.table)
            .set_key(Some(super::tx::key_item(&key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(from_item).transpose()
    }

    /// All users in creation order (admin): every shard of the list read at once from just after
    /// the cursor's id, merged in id order. The cursor is the last id listed.
    pub async fn list_users(&self, page: &PageRequest) -> Result<Page<UserRecord>, StoreError> {
        let limit = page.limit.get();
        let after = page.start.as_ref().and_then(|start| start.get(LISTED_AFTER));
        let shards = (0..keys::USERS_LIST_SHARDS).map(|shard| {
            let query = self.partition(Some(keys::GSI1), keys::users_list_shard(shard), None);
            let query = match after {
                // DynamoDB refuses an empty key value: the first page has no lower bound.
                None => query,
                Some(after) => query
                    .key_condition_expression("gsi1pk = :pk AND gsi1sk > :after")
                    .expression_attribute_values(":after", s(after)),
            };
            query.limit(limit as i32 + 1).send()
        });
        let mut users = Vec::new();
        for out in futures::future::join_all(shards).await {
            for item in out.map_err(classify)?.items.unwrap_or_default() {
                users.push(from_item::<UserRecord>(item)?);
            }
        }
        users.sort_by_key(|user| user.id);
        let next = (users.len() > limit)
            .then(|| StartKey::default().with(LISTED_AFTER, users[limit - 1].id.to_string()));
        users.truncate(limit);
        Ok(Page { results: users, next })
    }

    /// Applies changes to `current`, moving username and email reservations in the same
    /// transaction. The condition on the old values makes a concurrent change a refusal rather
    /// than a lost update.
    pub async fn update_user(
        &self,
        current: &UserRecord,
        changes: UserChanges,
        now: Instant,
    ) -> Result<Result<UserRecord, UpdateRefused>, StoreError> {
        let mut next = current.clone();
        let mut writes = Vec::new();
        let mut marker_slots = (None, None);
        if let Some(username) = changes.username.filter(|u| *u != current.username) {
            let (old, new) = (current.username.to_ascii_lowercase(), username.to_ascii_lowercase());
            if old != new {
                writes.push(marker_delete(keys::username(&old), current.id));
                marker_slots.0 = Some(writes.len());
                writes.push(marker_put(keys::username(&new), "username", current.id)?);
            }
            next.username = username;
            next.username_pending = true;
        }
        if let Some(email) = changes.email.filter(|e| *e != current.email) {
            let (old, new) = (email_key(&current.email), email_key(&email));
            if old != new {
                writes.push(marker_delete(keys::email(&old), current.id));
                marker_slots.1 = Some(writes.len());
                writes.push(marker_put(keys::email(&new), "email", current.id)?);
            }
            next.email = email;
        }
        if let Some(hash) = changes.password_hash {
            next.password_hash = hash;
            // Every session begun with the old password ends (see `store::sessions`).
            next.session_version = current.session_version + 1;
        }
        if let Some(on) = changes.email_notifications {
            next.email_notifications = on;
        }
        next.updated_at = now;
        // The whole profile is written back, so it must be the one read: the role (the operator's
        // command) and the calendar version (a feed rotation) change elsewhere, and overwriting
        // either with an older value would undo a promotion or revive a revoked feed URL.
        let role = serde_dynamo::to_attribute_value::<_, AttributeValue>(current.role)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        writes.push(Write::put(user_item(&next)?).when(conditions::profile_as_read(current, role)));
        match self.transact(writes).await? {
            Ok(()) => Ok(Ok(next)),
            Err(cancelled) => {
                let failed = |slot: Option<usize>| slot.is_some_and(|i| cancelled.condition_failed(i));
                let taken = Taken { username: failed(marker_slots.0), email: failed(marker_slots.1) };
                if taken != Taken::default() {
                    Ok(Err(UpdateRefused::Taken(taken)))
                } else {
                    Ok(Err(UpdateRefused::Changed))
                }
            }
        }
    }

    /// Turns the user's email off (an email's one-click unsubscribe link): one write that touches
    /// nothing else of the profile. `false` when there is no such user.
    pub async fn turn_emails_off(&self, id: Id) -> Result<bool, StoreError> {
        let write = Write::update(keys::user(id), "SET email_notifications = :off")
            .value(":off", AttributeValue::Bool(false))
            .when(conditions::exists());
        Ok(self.write(write).await?.is_ok())
    }

    /// Sets a user's role (the operator's promotion command).
    pub async fn set_role(&self, id: Id, role: Role) -> Result<bool, StoreError> {
        let role = serde_dynamo::to_attribute_value::<_, AttributeValue>(role)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let result = self
            .write(
                Write::update(keys::user(id), "SET #role = :role")
                    .when(conditions::exists())
                    .name("#role", "role")
                    .value(":role", role),
            )
            .await?;
        Ok(result.is_ok())
    }
}

impl Store {
    /// Copies a user's new username onto the items that show it: the events they organise now,
    /// and (as those features store them) their registrations and feedback.
    ///
    /// Two renames close together copy concurrently, and the slower copy could leave the older
    /// name behind on some items. So after copying, the user is read again, and the copy is redone
    /// with the name the user has until that is the name copied: whichever copy ends last writes
    /// the final name.
    pub async fn propagate_username(&self, user: &UserRecord) -> Result<(), StoreError> {
        let mut name = user.username.clone();
        for _ in 0..RENAME_ROUNDS {
            self.copy_username(user.id, &name).await?;
            match self.find_user(user.id).await? {
                Some(current) if current.username != name => name = current.username,
                Some(_) => {
                    // Done, unless yet another rename came in since the read above.
                    let done = Write::update(keys::user(user.id), "REMOVE username_pending")
                        .when(conditions::named(&name));
                    return self.write(done).await.map(|_| ());
                }
                None => return Ok(()),
            }
        }
        Err(StoreError::Unavailable("the username kept changing while it was being copied".into()))
    }

    /// Writes `name` onto every item under the user's gsi1 partition that shows their name.
    async fn copy_username(&self, user: Id, name: &str) -> Result<(), StoreError> {
        let items = query::all(
            self.partition(Some(keys::GSI1), keys::user_pk(user), None)
                .projection_expression("pk, sk, #type")
                .expression_attribute_names("#type", "type"),
        )
        .await?;
        let renames = items.into_iter().filter_map(|item| {
            let pk = item.get("pk").and_then(|v| v.as_s().ok())?.clone();
            let sk = item.get("sk").and_then(|v| v.as_s().ok())?.clone();
            let attribute = match item.get("type").and_then(|v| v.as_s().ok()).map(String::as_str) {
                Some("event") => "organizer_username",
                _ => "username",
            };
            // An item deleted meanwhile needs no new name.
            Some(
                Write::set_fields(Key { pk, sk }, vec![(attribute, s(name))], vec![])
                    .when(conditions::exists()),
            )
        });
        stream::iter(renames)
            .map(|rename| self.write(rename))
            .buffer_unordered(RENAME_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(())
    }
}
