//! Series of recurring events: every occurrence is a normal event carrying `series_id`, indexed
//! by series and start (gsi4).

use super::Store;
use super::batch;
use super::conditions;
use super::error::StoreError;
use super::idempotency::Remember;
use super::items::EventRecord;
use super::keys;
use super::page::{Page, PageRequest};
use super::query;
use super::tx::{Write, from_item};
use crate::domain::Id;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

/// How many occurrences one transaction writes: each is its event and seat shards, with up to two
/// month-directory entries, and the transaction checks the organizer and may remember the answer
/// too, within DynamoDB's 100.
fn occurrences_per_transaction(occurrences: &[EventRecord]) -> usize {
    let shards = occurrences.first().map_or(1, |event| usize::from(event.seat_shards));
    (98 / (shards + 3)).max(1)
}

impl Store {
    /// Writes every occurrence of a new series. Each batch is one transaction that also checks the
    /// organizer exists; if a later batch fails, the earlier ones are deleted again, so the client
    /// sees the whole series or none of it. The last batch remembers the answer, when there is
    /// one to remember: only a whole series is answered again. `false` when the organizer is gone.
    pub async fn create_series(
        &self,
        occurrences: &[EventRecord],
        mut remember: Option<Remember>,
    ) -> Result<bool, StoreError> {
        let mut written: Vec<&EventRecord> = Vec::new();
        let mut batches = occurrences.chunks(occurrences_per_transaction(occurrences)).peekable();
        while let Some(batch) = batches.next() {
            let Some(first) = batch.first() else { continue };
            let mut writes = vec![Write::check(keys::user(first.organizer_id), conditions::exists())];
            for event in batch {
                writes.extend(super::events::new_event_writes(event)?);
            }
            let entries = self.directory_entries(&batch.iter().collect::<Vec<_>>());
            let last = batches.peek().is_none();
            let outcome = self
                .transact_with_directory(writes, entries, if last { remember.take() } else { None })
                .await;
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
        let deletes = events
            .iter()
            .flat_map(|event| super::events::event_keys(event))
            .map(|key| batch::delete(super::tx::key_item(&key)))
            .collect::<Result<Vec<_>, _>>()?;
        self.write_batches(deletes, 4).await
    }

    /// A page of a series' occurrences, in start order.
    pub async fn series_events(
        &self,
        series: Id,
        page: &PageRequest,
    ) -> Result<Page<EventRecord>, StoreError> {
        // A public list: unlisted occurrences stay out of it.
        let listed =
            conditions::listed().filtering(self.partition(Some(keys::GSI4), keys::series_pk(series), None));
        let page: Page<EventRecord> = query::page(listed, page).await?;
        Ok(Page { results: self.with_counters(page.results).await?, next: page.next })
    }

    /// Every occurrence of a series.
    pub async fn all_series_events(&self, series: Id) -> Result<Vec<EventRecord>, StoreError> {
        let items = query::all(self.occurrences(series)).await?;
        items.into_iter().map(from_item).collect()
    }

    /// The Query of a series' occurrences, leaving out those being deleted.
    fn occurrences(&self, series: Id) -> QueryFluentBuilder {
        conditions::not_being_deleted().filtering(self.partition(
            Some(keys::GSI4),
            keys::series_pk(series),
            None,
        ))
    }
}
