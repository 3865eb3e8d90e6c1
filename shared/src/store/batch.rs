//! BatchWriteItem: many unconditional puts and deletes in calls of 25, the most DynamoDB takes
//! at once, for bulk work where no condition is needed (series occurrences, purges, fan-out
//! notifications). BatchGetItem: many items by key in calls of 100.

use std::future::Future;

use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::Store;
use super::deadline;
use super::error::{StoreError, classify};
use super::keys::Key;
use super::tx::{Item, key_item};

/// The most requests one BatchWriteItem call takes.
const BATCH_SIZE: usize = 25;
/// The most keys one BatchGetItem call takes.
const GET_BATCH_SIZE: usize = 100;

/// A request that puts `item`.
pub(crate) fn put(item: Item) -> Result<WriteRequest, StoreError> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

/// A request that deletes the item whose key attributes are `key`.
pub(crate) fn delete(key: Item) -> Result<WriteRequest, StoreError> {
    let delete = DeleteRequest::builder()
        .set_key(Some(key))
        .build()
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

/// How BatchGetItem reads: strongly consistent reads cost twice the units of eventual ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Consistency {
    Strong,
    Eventual,
}

impl Store {
    /// Sends `requests` in batches, `parallel` batches at a time.
    pub(crate) async fn write_batches(
        &self,
        requests: Vec<WriteRequest>,
        parallel: usize,
    ) -> Result<(), StoreError> {
        let batches: Vec<Vec<WriteRequest>> = requests.chunks(BATCH_SIZE).map(<[_]>::to_vec).collect();
        stream::iter(batches)
            .map(|batch| self.batch_write(batch))
            .buffer_unordered(parallel)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    /// The items stored under `keys` (100 keys per call), in no particular order; keys with no
    /// item are left out, and a key given twice is read once (DynamoDB refuses a call that names
    /// a key twice). `projection` limits the attributes read.
    pub(crate) async fn batch_get(
        &self,
        keys: &[Key],
        projection: Option<&str>,
        consistency: Consistency,
    ) -> Result<Vec<Item>, StoreError> {
        let mut seen = std::collections::HashSet::new();
        let keys: Vec<&Key> = keys.iter().filter(|key| seen.insert((&key.pk, &key.sk))).collect();
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(GET_BATCH_SIZE) {
            let items = until_processed(
                chunk.iter().map(|key| key_item(key)).collect(),
                "reads",
                |pending| async move {
                    let request = KeysAndAttributes::builder()
                        .set_keys(Some(pending))
                        .set_projection_expression(projection.map(str::to_owned))
                        .consistent_read(consistency == Consistency::Strong)
                        .build()
                        .map_err(|e| StoreError::Internal(e.to_string()))?;
                    let call = self.client().batch_get_item().request_items(&self.table, request).send();
                    let out = deadline::bounded("a batch read", call).await?.map_err(classify)?;
                    let items = out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default();
                    let unprocessed =
                        out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|k| k.keys);
                    Ok((items, unprocessed.unwrap_or_default()))
                },
            )
            .await?;
            found.extend(items);
        }
        Ok(found)
    }

    /// One BatchWriteItem, sending again what DynamoDB hands back unprocessed.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        until_processed(requests, "writes", |pending| async move {
            let call = self.client().batch_write_item().request_items(&self.table, pending).send();
            let out = deadline::started("a batch write", call).await?.map_err(classify)?;
            Ok((
                Vec::new(),
                out.unprocessed_items.and_then(|mut m| m.remove(&self.table)).unwrap_or_default(),
            ))
        })
        .await
        .map(|_: Vec<()>| ())
    }
}

/// Sends `pending` through `send`, which answers with what it read and what DynamoDB handed back
/// unprocessed (when short of capacity); sends that again after a backoff until nothing is left,
/// for as long as the deadline allows (see [`deadline::pause`]). Returns everything read.
async fn until_processed<T, Read, Sent>(
    mut pending: Vec<T>,
    what: &str,
    mut send: impl FnMut(Vec<T>) -> Sent,
) -> Result<Vec<Read>, StoreError>
where
    Sent: Future<Output = Result<(Vec<Read>, Vec<T>), StoreError>>,
{
    let mut read = Vec::new();
    let mut attempt = 0;
    while !pending.is_empty() {
        if attempt > 0 {
            deadline::pause(attempt, &format!("batch {what} coming back unprocessed")).await?;
        }
        attempt += 1;
        let (answered, unprocessed) = send(pending).await?;
        read.extend(answered);
        pending = unprocessed;
    }
    Ok(read)
}
