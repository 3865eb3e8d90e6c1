//! In-app notifications: written beside the change that causes them, listed newest first, and
//! expired by the table's TTL after [`RETENTION_DAYS`].

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::Store;
use super::cursor::StartKey;
use super::error::{StoreError, classify};
use super::items::{IndexKeys, NotificationKind, NotificationRecord, Stored};
use super::keys;
use super::tx::{Item, Write, s, to_item};
use crate::domain::{Id, Instant};
use crate::http::pagination::{Page, PageRequest};

/// How long a notification is kept.
pub const RETENTION_DAYS: i64 = 90;

/// A notification for `user`, ready to write.
pub fn notification(kind: NotificationKind, event: Id, message: String, now: Instant) -> NotificationRecord {
    NotificationRecord {
        id: Id::new(),
        kind,
        event_id: event,
        message,
        created_at: now,
        read: false,
        expires_at: now.plus_seconds(RETENTION_DAYS * 86_400).unix(),
    }
}

pub(crate) fn notification_item(user: Id, record: &NotificationRecord) -> Result<Item, StoreError> {
    let key = keys::notification(user, record.id);
    to_item(&Stored { pk: &key.pk, sk: &key.sk, kind: "notification", index: &IndexKeys::default(), record })
}

/// The write that delivers a notification inside a transaction.
pub(crate) fn notification_write(user: Id, record: &NotificationRecord) -> Result<Write, StoreError> {
    Ok(Write::put(notification_item(user, record)?).condition("attribute_not_exists(pk)"))
}

impl Store {
    /// Delivers one notification to each user, in batches.
    pub async fn notify(
        &self,
        users: &[Id],
        kind: NotificationKind,
        event: Id,
        message: &str,
        now: Instant,
    ) -> Result<(), StoreError> {
        let requests = users
            .iter()
            .map(|user| {
                let item = notification_item(*user, &notification(kind, event, message.to_owned(), now))?;
                PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map(|p| WriteRequest::builder().put_request(p).build())
                    .map_err(|e| StoreError::Internal(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let batches: Vec<Vec<WriteRequest>> = requests.chunks(25).map(<[WriteRequest]>::to_vec).collect();
        stream::iter(batches)
            .map(|batch| self.batch_write(batch))
            .buffer_unordered(4)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// A user's notifications, newest first.
    pub async fn notifications(
        &self,
        user: Id,
        page: &PageRequest,
    ) -> Result<Page<NotificationRecord>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::user_pk(user)))
            .expression_attribute_values(":prefix", s(keys::NOTIFICATION_PREFIX))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(page.limit.get() as i32)
            .set_exclusive_start_key(page.start.as_ref().map(StartKey::item_key))
            .send()
            .await
            .map_err(classify)?;
        super::page_of(out.items, out.last_evaluated_key)
    }

    /// Marks a notification read; `false` if the user has no such notification.
    pub async fn mark_notification_read(&self, user: Id, id: Id) -> Result<bool, StoreError> {
        let write = Write::set_fields(
            keys::notification(user, id),
            vec![("read", AttributeValue::Bool(true))],
            vec![],
        )
        .condition("attribute_exists(pk)");
        Ok(self.write(write).await?.is_ok())
    }
}
