//! BatchWriteItem: many unconditional puts and deletes in calls of 25, the most DynamoDB takes
//! at once, for bulk work where no condition is needed (series occurrences, purges, fan-out
//! notifications).

use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::Store;
use super::error::{StoreError, classify};
use super::tx::Item;

/// The most requests one BatchWriteItem call takes.
const BATCH_SIZE: usize = 25;

/// How many times what DynamoDB hands back unprocessed is sent again before giving up.
const BATCH_ATTEMPTS: u32 = 8;

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

    /// One BatchWriteItem, sending again with backoff what DynamoDB hands back unprocessed.
    async fn batch_write(&self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for attempt in 1..=BATCH_ATTEMPTS {
            if requests.is_empty() {
                return Ok(());
            }
            let out = self
                .client()
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(classify)?;
            requests = out.unprocessed_items.and_then(|mut m| m.remove(&self.table)).unwrap_or_default();
            if !requests.is_empty() {
                tokio::time::sleep(super::tx::backoff(attempt)).await;
            }
        }
        Err(StoreError::Unavailable("batch writes kept coming back unprocessed".into()))
    }
}
