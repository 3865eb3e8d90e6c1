//! In-app notifications: written beside the change that causes them, listed newest first, and
//! expired by the table's TTL after [`RETENTION_DAYS`].

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use super::Store;
use super::batch;
use super::conditions;
use super::error::StoreError;
use super::items::{IndexKeys, Notification, NotificationKind, Stored};
use super::keys;
use super::page::{Page, PageRequest};
use super::query;
use super::tx::{Item, Write, to_item};
use crate::domain::{Id, Instant};

/// How long a notification is kept.
pub const RETENTION_DAYS: i64 = 90;

/// A notification for `user`, ready to write.
pub fn notification(kind: NotificationKind, event: Id, message: String, now: Instant) -> Notification {
    Notification { id: Id::new(), kind, event_id: event, message, created_at: now, read: false }
}

/// A notification as the table holds it: its fields, and when DynamoDB's TTL may delete it.
#[derive(Serialize)]
struct Expiring<'a> {
    #[serde(flatten)]
    notification: &'a Notification,
    /// Unix seconds, [`RETENTION_DAYS`] after the notification was made.
    expires_at: i64,
}

pub(crate) fn notification_item(user: Id, record: &Notification) -> Result<Item, StoreError> {
    let key = keys::notification(user, record.id);
    let expires_at = record.created_at.plus_seconds(RETENTION_DAYS * 86_400).unix();
    let record = &Expiring { notification: record, expires_at };
    to_item(&Stored { pk: &key.pk, sk: &key.sk, kind: "notification", index: &IndexKeys::default(), record })
}

/// The write that delivers a notification inside a transaction.
pub(crate) fn notification_write(user: Id, record: &Notification) -> Result<Write, StoreError> {
    Ok(Write::put(notification_item(user, record)?).when(conditions::absent()))
}

impl Store {
    /// Delivers one notification to each user, in batches, for something that happened once, at
    /// `unix_millis`, but whose delivery may be repeated (a deletion or an edit's follow-up run
    /// again after it was cut short): each user's notice has an id fixed by (that time, event,
    /// user, kind), and a notice already delivered is left as it is, read or not, rather than
    /// sent twice.
    pub async fn notify_once(
        &self,
        users: &[Id],
        kind: NotificationKind,
        event: Id,
        message: &str,
        unix_millis: u64,
    ) -> Result<(), StoreError> {
        // The kind's wire name, which never changes, rather than its Rust name.
        let kind_name = serde_json::to_string(&kind).map_err(|e| StoreError::Internal(e.to_string()))?;
        let at = Instant::from_unix_millis(unix_millis).unwrap_or_else(Instant::now);
        let id_for =
            |user: Id| Id::derived(unix_millis, &[&event.to_bytes(), &user.to_bytes(), kind_name.as_bytes()]);
        let keys: Vec<_> = users.iter().map(|user| keys::notification(*user, id_for(*user))).collect();
        let delivered: HashSet<String> = self
            .batch_get(&keys, Some("pk"), super::batch::Consistency::Strong)
            .await?
            .into_iter()
            .filter_map(|item| item.get(keys::PK).and_then(|v| v.as_s().ok()).cloned())
            .collect();
        let missing: Vec<Id> =
            users.iter().copied().filter(|user| !delivered.contains(&keys::user_pk(*user))).collect();
        self.deliver(&missing, |user| Notification {
            id: id_for(user),
            ..notification(kind, event, message.to_owned(), at)
        })
        .await
    }

    async fn deliver(&self, users: &[Id], notice_for: impl Fn(Id) -> Notification) -> Result<(), StoreError> {
        let requests = users
            .iter()
            .map(|user| batch::put(notification_item(*user, &notice_for(*user))?))
            .collect::<Result<Vec<_>, _>>()?;
        self.write_batches(requests, 4).await
    }

    /// A user's notifications, newest first.
    pub async fn notifications(
        &self,
        user: Id,
        page: &PageRequest,
    ) -> Result<Page<Notification>, StoreError> {
        let newest_first = self
            .partition(None, keys::user_pk(user), Some(keys::NOTIFICATION_PREFIX))
            .scan_index_forward(false)
            .consistent_read(true);
        query::page(newest_first, page).await
    }

    /// Marks a notification read; `false` if the user has no such notification.
    pub async fn mark_notification_read(&self, user: Id, id: Id) -> Result<bool, StoreError> {
        let write = Write::set_fields(
            keys::notification(user, id),
            vec![("read", AttributeValue::Bool(true))],
            vec![],
        )
        .when(conditions::exists());
        Ok(self.write(write).await?.is_ok())
    }
}
