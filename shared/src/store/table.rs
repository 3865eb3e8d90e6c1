//! The one table's definition. Local set-up and the tests create the table from it; a test checks
//! that `template.yaml` declares the same keys, indexes, TTL and stream.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};

use super::error::{StoreError, classify};
use super::keys;

/// A global secondary index: name, partition key attribute, sort key attribute.
pub struct IndexSpec {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

/// Every index projects all attributes, so list endpoints answer from the index alone.
pub const INDEXES: &[IndexSpec] = &[
    IndexSpec { name: keys::GSI1, pk: "gsi1pk", sk: "gsi1sk" },
    IndexSpec { name: keys::GSI2, pk: "gsi2pk", sk: "gsi2sk" },
    IndexSpec { name: keys::GSI3, pk: "gsi3pk", sk: "gsi3sk" },
    IndexSpec { name: keys::GSI4, pk: "gsi4pk", sk: "gsi4sk" },
];

/// The attribute DynamoDB deletes expired items by (refresh tokens, notifications).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// What the table's stream carries: each change's item before and after, so the dispatch function
/// can tell what changed (a status moved, a start time changed) without reading the table.
pub const STREAM_VIEW: StreamViewType = StreamViewType::NewAndOldImages;

fn stream() -> StreamSpecification {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(STREAM_VIEW)
        .build()
        .expect("enabled and view type are set")
}

/// The partition and sort key attributes of `index`, or of the table itself when `None`.
pub fn key_names(index: Option<&str>) -> (&'static str, &'static str) {
    match index.and_then(|name| INDEXES.iter().find(|spec| spec.name == name)) {
        Some(spec) => (spec.pk, spec.sk),
        None => {
            debug_assert!(index.is_none(), "no index named {index:?}");
            (keys::PK, keys::SK)
        }
    }
}

/// Every key attribute, all strings.
pub fn key_attributes() -> Vec<&'static str> {
    let mut names = vec![keys::PK, keys::SK];
    for index in INDEXES {
        names.push(index.pk);
        names.push(index.sk);
    }
    names
}

fn schema(pk: &str, sk: &str) -> Result<Vec<KeySchemaElement>, StoreError> {
    let element = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| StoreError::Internal(e.to_string()))
    };
    Ok(vec![element(pk, KeyType::Hash)?, element(sk, KeyType::Range)?])
}

/// Whether a table is made with its stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    On,
    /// For a test that never reads the stream: DynamoDB Local slows down markedly with many
    /// streams at once, and nothing a request does depends on one.
    Off,
}

/// Creates the table (on-demand, with its indexes, TTL and, when asked, stream) unless it exists
/// already; an existing table asked to have a stream gets one.
pub async fn create_table(client: &Client, name: &str, with: Stream) -> Result<(), StoreError> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_stream_specification((with == Stream::On).then(stream))
        .set_key_schema(Some(schema(keys::PK, keys::SK)?));
    for attribute in key_attributes() {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Internal(e.to_string()))?,
        );
    }
    for index in INDEXES {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .set_key_schema(Some(schema(index.pk, index.sk)?))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(|e| StoreError::Internal(e.to_string()))?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {
            return match with {
                Stream::On => add_stream_if_missing(client, name).await,
                Stream::Off => Ok(()),
            };
        }
        Err(e) => return Err(classify(e)),
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(|e| StoreError::Internal(e.to_string()))?,
        )
        .send()
        .await
        .map_err(classify)?;
    Ok(())
}

async fn add_stream_if_missing(client: &Client, name: &str) -> Result<(), StoreError> {
    let described = client.describe_table().table_name(name).send().await.map_err(classify)?;
    let streaming = described
        .table
        .and_then(|table| table.stream_specification)
        .is_some_and(|stream| stream.stream_enabled);
    if !streaming {
        client
            .update_table()
            .table_name(name)
            .stream_specification(stream())
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(())
}
