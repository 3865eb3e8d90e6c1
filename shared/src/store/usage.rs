//! What a request costs DynamoDB: round trips (attempts on the wire, retries included) and
//! consumed capacity units, gathered by an SDK interceptor into the request's own scope, so the
//! request log can report them without any store method keeping count.

use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};

/// DynamoDB usage of one request.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    pub round_trips: u32,
    pub capacity_units: f64,
}

tokio::task_local! {
    static CURRENT: Arc<Mutex<Usage>>;
}

/// Runs `work`, returning its output and the DynamoDB usage it caused.
pub async fn measure<F: Future>(work: F) -> (F::Output, Usage) {
    let usage = Arc::new(Mutex::new(Usage::default()));
    let output = CURRENT.scope(usage.clone(), work).await;
    let totals = *usage.lock().unwrap_or_else(|p| p.into_inner());
    (output, totals)
}

fn record(change: impl FnOnce(&mut Usage)) {
    let _ = CURRENT.try_with(|usage| change(&mut usage.lock().unwrap_or_else(|p| p.into_inner())));
}

fn units(capacity: Option<&ConsumedCapacity>) -> f64 {
    capacity.and_then(|c| c.capacity_units).unwrap_or(0.0)
}

fn units_of(all: &[ConsumedCapacity]) -> f64 {
    all.iter().map(|c| c.capacity_units.unwrap_or(0.0)).sum()
}

/// Asks every data-plane call for its consumed capacity, and counts what comes back.
#[derive(Debug)]
pub(crate) struct UsageInterceptor;

macro_rules! ask_capacity {
    ($input:expr, $($kind:ty),+) => {
        $(if let Some(input) = $input.downcast_mut::<$kind>() {
            input.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
        })+
    };
}

impl Intercept for UsageInterceptor {
    fn name(&self) -> &'static str {
        "DynamoDbUsage"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input_mut();
        ask_capacity!(
            input,
            GetItemInput,
            PutItemInput,
            UpdateItemInput,
            DeleteItemInput,
            QueryInput,
            TransactWriteItemsInput,
            BatchWriteItemInput,
            BatchGetItemInput
        );
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        record(|usage| usage.round_trips += 1);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let consumed = if let Some(o) = output.downcast_ref::<GetItemOutput>() {
            units(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<QueryOutput>() {
            units(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<PutItemOutput>() {
            units(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<UpdateItemOutput>() {
            units(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<DeleteItemOutput>() {
            units(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<TransactWriteItemsOutput>() {
            units_of(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<BatchWriteItemOutput>() {
            units_of(o.consumed_capacity())
        } else if let Some(o) = output.downcast_ref::<BatchGetItemOutput>() {
            units_of(o.consumed_capacity())
        } else {
            0.0
        };
        record(|usage| usage.capacity_units += consumed);
        Ok(())
    }
}
