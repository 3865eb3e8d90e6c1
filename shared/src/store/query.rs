//! Queries of one partition, the shape nearly every read of the table takes: the table's own
//! partitions (`pk`/`sk`) or an index's (`gsiNpk`/`gsiNsk`), optionally narrowed to a sort-key
//! prefix, read either one page at a time or to the end.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use serde::de::DeserializeOwned;

use super::Store;
use super::cursor::StartKey;
use super::error::{StoreError, classify};
use super::keys;
use super::page::{Page, PageRequest};
use super::table;
use super::tx::{Item, from_item, s};

impl Store {
    /// A Query of partition `pk` of the table (`index` is `None`) or of a global secondary index,
    /// narrowed to sort keys beginning with `prefix` when one is given. Callers add filters,
    /// projections, order and consistency.
    pub(crate) fn partition(
        &self,
        index: Option<&str>,
        pk: impl Into<String>,
        prefix: Option<&str>,
    ) -> QueryFluentBuilder {
        let (pk_name, sk_name) = table::key_names(index);
        let query = self
            .client()
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .expression_attribute_values(":pk", s(pk));
        match prefix {
            Some(prefix) => query
                .key_condition_expression(format!("{pk_name} = :pk AND begins_with({sk_name}, :prefix)"))
                .expression_attribute_values(":prefix", s(prefix)),
            None => query.key_condition_expression(format!("{pk_name} = :pk")),
        }
    }
}

/// One page of records from `query`, continuing where `page`'s cursor left off.
///
/// One item more than the page holds is asked for, so that the last page says it is the last:
/// DynamoDB's `LastEvaluatedKey` is set whenever the limit is reached, even when nothing
/// follows. When a filter expression drops items, a page can come back short with a cursor.
pub(crate) async fn page<T: DeserializeOwned>(
    query: QueryFluentBuilder,
    page: &PageRequest,
) -> Result<Page<T>, StoreError> {
    let limit = page.limit.get();
    let index = query.get_index_name().clone();
    let out = query
        .limit(limit as i32 + 1)
        .set_exclusive_start_key(page.start.as_ref().map(StartKey::item_key))
        .send()
        .await
        .map_err(classify)?;
    let mut items = out.items.unwrap_or_default();
    let next = if items.len() > limit {
        items.truncate(limit);
        let position = items.last().and_then(|last| StartKey::of_item(last, index.as_deref()));
        Some(position.ok_or_else(|| StoreError::Internal("a listed item lacks a key attribute".into()))?)
    } else {
        out.last_evaluated_key.as_ref().and_then(StartKey::from_item_key)
    };
    let results = items.into_iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { results, next })
}

/// The cursor field of a merged page: the last sort key it placed.
const AFTER: &str = "_after";

impl Store {
    /// One page of several partitions of `index` merged in sort-key order (their sort keys never
    /// repeat across them), continuing after the last sort key `page`'s cursor placed. Each
    /// partition is read from there, a page and one item at most, all at once; an item is placed
    /// only when no partition left unread past it may hold one before it.
    pub(crate) async fn merged_page<T: DeserializeOwned>(
        &self,
        index: &str,
        partitions: Vec<String>,
        page: &PageRequest,
    ) -> Result<Page<T>, StoreError> {
        let limit = page.limit.get();
        let after = page.start.as_ref().and_then(|start| start.get(AFTER)).map(str::to_owned);
        let (pk_name, sk_name) = table::key_names(Some(index));
        let reads = partitions.into_iter().map(|pk| {
            let mut query = self.partition(Some(index), pk, None).limit(limit as i32 + 1);
            if let Some(after) = &after {
                query = query
                    .key_condition_expression(format!("{pk_name} = :pk AND {sk_name} > :after"))
                    .expression_attribute_values(":after", s(after));
            }
            query.send()
        });
        let mut merged: Vec<(String, Item)> = Vec::new();
        // Sort keys up to which every partition has been read.
        let mut bound: Option<String> = None;
        for out in futures::future::join_all(reads).await {
            let out = out.map_err(classify)?;
            let items = out.items.unwrap_or_default();
            let cut = items.len() > limit || out.last_evaluated_key.is_some();
            let sort_key = |item: &Item| item.get(sk_name).and_then(|v| v.as_s().ok()).cloned();
            if cut && let Some(last) = items.last().and_then(sort_key) {
                bound = Some(bound.map_or(last.clone(), |b| b.min(last)));
            }
            for item in items {
                let sk = sort_key(&item)
                    .ok_or_else(|| StoreError::Internal("a listed item lacks its sort key".into()))?;
                merged.push((sk, item));
            }
        }
        merged.sort_by(|a, b| a.0.cmp(&b.0));
        let mut more = false;
        if let Some(bound) = &bound {
            more = true;
            merged.retain(|(sk, _)| sk <= bound);
        }
        if merged.len() > limit {
            merged.truncate(limit);
            more = true;
        }
        let next = match merged.last() {
            Some((sk, _)) if more => Some(StartKey::default().with(AFTER, sk.clone())),
            _ => None,
        };
        let results = merged.into_iter().map(|(_, item)| from_item(item)).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { results, next })
    }
}

/// Every item `query` matches, following DynamoDB's pages to the end.
pub(crate) async fn all(query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
    query.into_paginator().items().send().try_collect().await.map_err(classify)
}

impl Store {
    /// Every record of unfinished work whose sort key begins with `prefix`, from every partition
    /// of it ([`keys::cleanup_partitions`]), read consistently: a record is written in the same
    /// transaction as the change it follows up.
    pub(crate) async fn unfinished(&self, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let reads = keys::cleanup_partitions()
            .map(|pk| all(self.partition(None, pk, Some(prefix)).consistent_read(true)));
        let partitions = futures::future::try_join_all(reads).await?;
        Ok(partitions.into_iter().flatten().collect())
    }
}
