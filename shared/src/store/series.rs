//! Series of recurring events: every occurrence is a normal event carrying `series_id`, indexed
//! by series and start (gsi4).

use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};

use super::Store;
use super::cursor::StartKey;
use super::error::{StoreError, classify};
use super::items::EventRecord;
use super::keys;
use super::tx::{Write, from_item, s};
use crate::domain::Id;
use crate::http::pagination::{Page, PageRequest};

/// Occurrences written per transaction (with the organizer check and the month directory).
const OCCURRENCES_PER_TRANSACTION: usize = 30;

impl Store {
    /// Writes every occurrence of a new series. Each batch is one transaction that also checks the
    /// organizer exists; if a later batch fails, the earlier ones are deleted again, so the client
    /// sees the whole series or none of it. `false` when the organizer is gone.
    pub async fn create_series(&self, occurrences: &[EventRecord]) -> Result<bool, StoreError> {
        let mut written: Vec<&EventRecord> = Vec::new();
        for batch in occurrences.chunks(OCCURRENCES_PER_TRANSACTION) {
            let Some(first) = batch.first() else { continue };
            let mut writes = vec![Write::check(keys::user(first.organizer_id), "attribute_exists(pk)")];
            let mut directory = std::collections::BTreeSet::new();
            for event in batch {
                writes.push(
                    Write::put(super::events::event_item(event)?).condition("attribute_not_exists(pk)"),
                );
                directory.extend(super::events::bucket_keys(event).into_iter().map(|k| (k.pk, k.sk)));
            }
            for (pk, sk) in directory {
                let mut item = super::tx::key_item(&keys::Key { pk, sk });
                item.insert("type".into(), s("time_bucket"));
                writes.push(Write::put(item));
            }
            let outcome = self.transact(writes).await;
            match outcome {
                Ok(Ok(())) => written.extend(batch),
                Ok(Err(_)) | Err(_) => {
                    self.remove_events(&written).await?;
                    return match outcome {
                        Ok(_) => Ok(false),
                        Err(e) => Err(e),
                    };
                }
            }
        }
        Ok(true)
    }

    /// Deletes freshly written events that nothing can refer to yet.
    async fn remove_events(&self, events: &[&EventRecord]) -> Result<(), StoreError> {
        for chunk in events.chunks(25) {
            let requests = chunk
                .iter()
                .map(|event| {
                    DeleteRequest::builder()
                        .set_key(Some(super::tx::key_item(&keys::event(event.id))))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                        .map_err(|e| StoreError::Internal(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.batch_write(requests).await?;
        }
        Ok(())
    }

    /// A page of a series' occurrences, in start order.
    pub async fn series_events(
        &self,
        series: Id,
        page: &PageRequest,
    ) -> Result<Page<EventRecord>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI4)
            .key_condition_expression("gsi4pk = :pk")
            .filter_expression("attribute_not_exists(deleting)")
            .expression_attribute_values(":pk", s(keys::series_pk(series)))
            .limit(page.limit.get() as i32)
            .set_exclusive_start_key(page.start.as_ref().map(StartKey::item_key))
            .send()
            .await
            .map_err(classify)?;
        super::page_of(out.items, out.last_evaluated_key)
    }

    /// Every occurrence of a series.
    pub async fn all_series_events(&self, series: Id) -> Result<Vec<EventRecord>, StoreError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI4)
            .key_condition_expression("gsi4pk = :pk")
            .filter_expression("attribute_not_exists(deleting)")
            .expression_attribute_values(":pk", s(keys::series_pk(series)))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(classify)?;
        items.into_iter().map(from_item).collect()
    }
}
