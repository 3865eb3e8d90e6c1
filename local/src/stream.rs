//! The local stand-in for the dispatch function's event source mapping: reads the table's stream
//! from DynamoDB Local (which keeps one, as DynamoDB does) and hands its records, in batches, to
//! the same handler the Lambda binary runs, with the same contract (see
//! <https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html>):
//! a record reported as failed is handed again, with every record after it in its shard, after a
//! pause that doubles up to [`MAX_RETRY_PAUSE`]; records before it are done.
//!
//! Like the event source mapping, it reads as a service, not as the function: its own calls carry
//! no function's name (see `shared::store::role`), while the handler's calls are made as
//! `DispatchFunction`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::config::{Credentials, Region};
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use serde_json::{Value, json};
use shared::store::role;

/// Records handed to the handler at once (the template's `BatchSize`).
pub const BATCH_SIZE: i32 = 25;
/// The longest pause before a failed record is handed again.
pub const MAX_RETRY_PAUSE: Duration = Duration::from_secs(5);

/// Where one shard is read from next.
#[derive(Default)]
struct Cursor {
    /// The last record handled, or none yet (read from the shard's start).
    done_through: Option<String>,
    /// A record that failed: read again from it, after `pause`.
    retry_at: Option<String>,
    pause: Duration,
    waiting_until: Option<tokio::time::Instant>,
    iterator: Option<String>,
    /// The shard is closed and read to its end.
    finished: bool,
}

/// Reads the stream of `table` at `endpoint` (DynamoDB Local) and feeds `dispatcher`.
pub struct StreamReader {
    client: Client,
    table: String,
    cursors: HashMap<String, Cursor>,
}

impl StreamReader {
    pub fn new(endpoint: &str, table: &str) -> Self {
        let config = aws_sdk_dynamodbstreams::Config::builder()
            .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
            .region(Region::from_static("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "static"))
            .endpoint_url(endpoint)
            .build();
        StreamReader { client: Client::from_conf(config), table: table.to_owned(), cursors: HashMap::new() }
    }

    /// Reads what is new in every shard once and hands it on; answers how many records were
    /// handled.
    pub async fn poll(&mut self, dispatcher: &dispatch::Dispatcher) -> Result<usize, String> {
        let Some(arn) = self.stream_arn().await? else { return Ok(0) };
        let mut shards = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let described = self
                .client
                .describe_stream()
                .stream_arn(&arn)
                .set_exclusive_start_shard_id(after.take())
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let Some(description) = described.stream_description else { break };
            shards.extend(description.shards.unwrap_or_default());
            match description.last_evaluated_shard_id {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        let mut handled = 0;
        for shard in shards {
            let Some(id) = shard.shard_id else { continue };
            handled += self.read_shard(&arn, &id, dispatcher).await?;
        }
        Ok(handled)
    }

    /// Whether a record that failed waits to be handed again.
    pub fn retry_pending(&self) -> bool {
        self.cursors.values().any(|cursor| cursor.retry_at.is_some())
    }

    /// Hands on everything the stream holds now, retries included, until nothing is left or
    /// `limit` has passed (then `Err` says what is still pending); answers how many records were
    /// handled.
    pub async fn drain(
        &mut self,
        dispatcher: &dispatch::Dispatcher,
        limit: Duration,
    ) -> Result<usize, String> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut total = 0;
        loop {
            let handled = self.poll(dispatcher).await?;
            total += handled;
            if handled == 0 && !self.retry_pending() {
                return Ok(total);
            }
            if tokio::time::Instant::now() > deadline {
                return Err("the stream still holds records that fail".into());
            }
            if handled == 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    async fn stream_arn(&self) -> Result<Option<String>, String> {
        let listed =
            self.client.list_streams().table_name(&self.table).send().await.map_err(|e| e.to_string())?;
        Ok(listed.streams.unwrap_or_default().into_iter().filter_map(|s| s.stream_arn).next_back())
    }

    async fn read_shard(
        &mut self,
        arn: &str,
        shard: &str,
        dispatcher: &dispatch::Dispatcher,
    ) -> Result<usize, String> {
        let cursor = self.cursors.entry(shard.to_owned()).or_default();
        if cursor.finished || cursor.waiting_until.is_some_and(|until| tokio::time::Instant::now() < until) {
            return Ok(0);
        }
        let iterator = match cursor.iterator.take() {
            Some(iterator) => iterator,
            None => {
                let request = self.client.get_shard_iterator().stream_arn(arn).shard_id(shard);
                let request = match (&cursor.retry_at, &cursor.done_through) {
                    (Some(at), _) => {
                        request.shard_iterator_type(ShardIteratorType::AtSequenceNumber).sequence_number(at)
                    }
                    (None, Some(after)) => request
                        .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                        .sequence_number(after),
                    (None, None) => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
                };
                match request.send().await.map_err(|e| e.to_string())?.shard_iterator {
                    Some(iterator) => iterator,
                    None => {
                        cursor.finished = true;
                        return Ok(0);
                    }
                }
            }
        };
        let got = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(BATCH_SIZE)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let records = got.records.unwrap_or_default();
        let cursor = self.cursors.get_mut(shard).expect("the cursor was made above");
        if records.is_empty() {
            match got.next_shard_iterator {
                Some(next) => cursor.iterator = Some(next),
                None => cursor.finished = true,
            }
            return Ok(0);
        }
        let sequence_numbers: Vec<String> =
            records.iter().filter_map(|r| r.dynamodb.as_ref()?.sequence_number.clone()).collect();
        let event = lambda_event(arn, &records)?;
        let answer = role::acting_as(dispatch::FUNCTION, dispatcher.handle(event)).await;
        let failed = answer.batch_item_failures.iter().filter_map(|f| f.item_identifier.clone()).next();
        match failed {
            None => {
                cursor.done_through = sequence_numbers.last().cloned();
                cursor.retry_at = None;
                cursor.pause = Duration::ZERO;
                cursor.waiting_until = None;
                match got.next_shard_iterator {
                    Some(next) => cursor.iterator = Some(next),
                    None => cursor.finished = true,
                }
                Ok(records.len())
            }
            Some(failed) => {
                let done = sequence_numbers.iter().take_while(|seq| **seq != failed).count();
                if done > 0 {
                    cursor.done_through = Some(sequence_numbers[done - 1].clone());
                }
                cursor.retry_at = Some(failed);
                cursor.pause = (cursor.pause * 2).clamp(Duration::from_millis(100), MAX_RETRY_PAUSE);
                cursor.waiting_until = Some(tokio::time::Instant::now() + cursor.pause);
                Ok(done)
            }
        }
    }
}

/// The records as the event source mapping hands them to the function: its JSON, read by the
/// same types.
fn lambda_event(arn: &str, records: &[Record]) -> Result<Event, String> {
    let image = |item: &Option<HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| match item {
        Some(item) => {
            let item: serde_dynamo::Item = item.clone().into();
            serde_json::to_value(item).map_err(|e| format!("a stream image as JSON: {e}"))
        }
        None => Ok(Value::Null),
    };
    let records: Vec<Value> = records
        .iter()
        .map(|record| {
            let change = record.dynamodb.as_ref();
            Ok(json!({
                "eventID": record.event_id,
                "eventName": record.event_name.as_ref().map(|n| n.as_str()),
                "eventVersion": record.event_version,
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "eventSourceARN": arn,
                "dynamodb": {
                    "ApproximateCreationDateTime": change.and_then(|c| c.approximate_creation_date_time).map(|t| t.secs()).unwrap_or_default(),
                    "Keys": image(&change.and_then(|c| c.keys.clone()))?,
                    "NewImage": image(&change.and_then(|c| c.new_image.clone()))?,
                    "OldImage": image(&change.and_then(|c| c.old_image.clone()))?,
                    "SequenceNumber": change.and_then(|c| c.sequence_number.clone()),
                    "SizeBytes": change.and_then(|c| c.size_bytes).unwrap_or_default(),
                    "StreamViewType": change.and_then(|c| c.stream_view_type.as_ref()).map(|v| v.as_str()),
                },
            }))
        })
        .collect::<Result<_, String>>()?;
    serde_json::from_value(json!({ "Records": records }))
        .map_err(|e| format!("a stream record as Lambda hands it: {e}"))
}

/// Reads the stream every `every` and feeds `dispatcher`, until the process ends. A failure to
/// read (DynamoDB Local restarting, say) is logged and tried again.
pub async fn run(endpoint: String, table: String, dispatcher: Arc<dispatch::Dispatcher>, every: Duration) {
    let mut reader = StreamReader::new(&endpoint, &table);
    loop {
        match reader.poll(&dispatcher).await {
            Ok(handled) if handled > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading the table's stream"),
        }
        tokio::time::sleep(every).await;
    }
}
