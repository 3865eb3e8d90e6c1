//! Queries of one partition, the shape nearly every read of the table takes: the table's own
//! partitions (`pk`/`sk`) or an index's (`gsiNpk`/`gsiNsk`), optionally narrowed to a sort-key
//! prefix, read either one page at a time or to the end.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use serde::de::DeserializeOwned;

use super::cursor::StartKey;
use super::error::{StoreError, classify};
use super::tx::{Item, s};
use super::{Store, page_of};
use crate::http::pagination::{Page, PageRequest};

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
        let (pk_name, sk_name) = match index {
            Some(index) => (format!("{index}pk"), format!("{index}sk")),
            None => ("pk".to_owned(), "sk".to_owned()),
        };
        let query = self
            .client
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
pub(crate) async fn page<T: DeserializeOwned>(
    query: QueryFluentBuilder,
    page: &PageRequest,
) -> Result<Page<T>, StoreError> {
    let out = query
        .limit(page.limit.get() as i32)
        .set_exclusive_start_key(page.start.as_ref().map(StartKey::item_key))
        .send()
        .await
        .map_err(classify)?;
    page_of(out.items, out.last_evaluated_key)
}

/// Every item `query` matches, following DynamoDB's pages to the end.
pub(crate) async fn all(query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
    query.into_paginator().items().send().try_collect().await.map_err(classify)
}
