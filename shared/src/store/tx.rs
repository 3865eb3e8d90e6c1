//! One way to describe a conditional write, run alone or inside a transaction, and the transaction
//! runner that retries only what is safe to retry (cancellations caused purely by a conflicting
//! concurrent transaction; a failed condition is an answer, never retried here).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use serde::Serialize;

use super::Store;
use super::conditions::Condition;
use super::deadline;
use super::error::{Cancelled, StoreError, classify};
use super::keys::Key;

pub type Item = HashMap<String, AttributeValue>;

/// A string attribute value.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute value.
pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Serialises a record (with its keys) into an item.
/// The put of `record` under `key`, with its `type` and no index keys: the records of work still
/// to finish (under `CLEANUPS#<shard>`), each written in the transaction of the change that owes it.
pub(crate) fn put_record<T: Serialize>(
    key: &Key,
    kind: &'static str,
    record: &T,
) -> Result<Write, StoreError> {
    let item = to_item(&super::items::Stored {
        pk: &key.pk,
        sk: &key.sk,
        kind,
        index: &super::items::IndexKeys::default(),
        record,
    })?;
    Ok(Write::put(item))
}

pub fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Internal(format!("serialising an item: {e}")))
}

/// Reads a record from an item.
pub fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Internal(format!("reading an item: {e}")))
}

/// The primary key of a stored item, if it has one.
pub fn key_of(item: &Item) -> Option<Key> {
    let part = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Some(Key { pk: part("pk")?, sk: part("sk")? })
}

pub fn key_item(key: &Key) -> Item {
    HashMap::from([("pk".to_owned(), s(&key.pk)), ("sk".to_owned(), s(&key.sk))])
}

#[derive(Clone)]
enum Action {
    Put(Item),
    Update { key: Key, expression: String },
    Delete(Key),
    Check(Key),
}

/// One write (or condition check) with its condition and expression attributes.
#[derive(Clone)]
pub struct Write {
    action: Action,
    condition: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    return_old: bool,
    /// An update run alone answers with the item as it was, not as it became.
    answer_old: bool,
}

impl Write {
    fn new(action: Action) -> Self {
        Write {
            action,
            condition: None,
            names: HashMap::new(),
            values: HashMap::new(),
            return_old: false,
            answer_old: false,
        }
    }

    pub fn put(item: Item) -> Self {
        Self::new(Action::Put(item))
    }

    pub fn update(key: Key, expression: impl Into<String>) -> Self {
        Self::new(Action::Update { key, expression: expression.into() })
    }

    /// An update that sets and removes whole attributes. Every name goes through a placeholder,
    /// so reserved words (`capacity`, `location`, `status`, ...) need no care.
    pub fn set_fields(key: Key, set: Vec<(&str, AttributeValue)>, remove: Vec<&str>) -> Self {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut assignments = Vec::new();
        for (i, (attribute, value)) in set.into_iter().enumerate() {
            names.insert(format!("#s{i}"), attribute.to_owned());
            values.insert(format!(":s{i}"), value);
            assignments.push(format!("#s{i} = :s{i}"));
        }
        let mut expression = format!("SET {}", assignments.join(", "));
        if !remove.is_empty() {
            let removed: Vec<String> = remove
                .into_iter()
                .enumerate()
                .map(|(i, attribute)| {
                    names.insert(format!("#r{i}"), attribute.to_owned());
                    format!("#r{i}")
                })
                .collect();
            expression.push_str(&format!(" REMOVE {}", removed.join(", ")));
        }
        let mut write = Self::update(key, expression);
        write.names = names;
        write.values = values;
        write
    }

    pub fn delete(key: Key) -> Self {
        Self::new(Action::Delete(key))
    }

    /// A check in a transaction: nothing is written, but the transaction is made only if it holds.
    pub fn check(key: Key, condition: Condition) -> Self {
        Self::new(Action::Check(key)).when(condition)
    }

    /// Makes the write only if `condition` holds (see [`super::conditions`]). Its placeholders
    /// join the write's own; one both use must carry the same value.
    pub fn when(mut self, condition: Condition) -> Self {
        debug_assert!(self.condition.is_none(), "one condition per write: combine them with `and`");
        self.condition = Some(condition.bind_into(&mut self.names, &mut self.values));
        self
    }

    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names.insert(placeholder.to_owned(), attribute.to_owned());
        self
    }

    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    /// Asks for the item as it was when the condition fails.
    pub fn return_old_on_failure(mut self) -> Self {
        self.return_old = true;
        self
    }

    /// Run alone ([`Store::write`]), an update answers with the item as it was before it.
    pub fn answering_old(mut self) -> Self {
        self.answer_old = true;
        self
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    fn on_failure(&self) -> Option<ReturnValuesOnConditionCheckFailure> {
        self.return_old.then_some(ReturnValuesOnConditionCheckFailure::AllOld)
    }

    /// This write as one item of a transaction.
    pub fn into_transact(self, table: &str) -> Result<TransactWriteItem, StoreError> {
        // Four distinct SDK builder types with the same condition parameters, hence a macro.
        macro_rules! conditioned {
            ($builder:expr) => {
                $builder
                    .table_name(table)
                    .set_expression_attribute_names(self.names())
                    .set_expression_attribute_values(self.values())
                    .set_return_values_on_condition_check_failure(self.on_failure())
                    .build()
                    .map_err(build_error)?
            };
        }
        let condition = self.condition.clone();
        let built = match &self.action {
            Action::Put(item) => TransactWriteItem::builder().put(conditioned!(
                Put::builder().set_item(Some(item.clone())).set_condition_expression(condition)
            )),
            Action::Update { key, expression } => TransactWriteItem::builder().update(conditioned!(
                Update::builder()
                    .set_key(Some(key_item(key)))
                    .update_expression(expression)
                    .set_condition_expression(condition)
            )),
            Action::Delete(key) => TransactWriteItem::builder().delete(conditioned!(
                Delete::builder().set_key(Some(key_item(key))).set_condition_expression(condition)
            )),
            Action::Check(key) => TransactWriteItem::builder().condition_check(conditioned!(
                ConditionCheck::builder()
                    .set_key(Some(key_item(key)))
                    .condition_expression(condition.unwrap_or_default())
            )),
        };
        Ok(built.build())
    }
}

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Internal(format!("building a request: {e}"))
}

/// A single write whose condition failed, with the item as it was when asked for.
#[derive(Debug)]
pub struct ConditionFailed {
    pub old: Option<Item>,
}

impl Store {
    /// Runs one write alone (one round trip, unless a transaction holds the item). `Ok(Err(_))`
    /// when its condition failed.
    ///
    /// A plain write to an item that an in-flight transaction holds is refused with
    /// `TransactionConflictException`, which the SDK does not retry. Nothing was written, and the
    /// transaction is done within milliseconds, so the write is tried again with backoff until
    /// the request's deadline (see [`deadline::pause`]) rather than failing the request at once.
    pub async fn write(&self, write: Write) -> Result<Result<Option<Item>, ConditionFailed>, StoreError> {
        use aws_sdk_dynamodb::types::ReturnValue;
        let names = write.names();
        let values = write.values();
        let on_failure = write.on_failure();
        let updated = if write.answer_old { ReturnValue::AllOld } else { ReturnValue::AllNew };
        let condition = write.condition.clone();
        // The three single-item operations share their condition parameters and error shape but
        // are distinct SDK types, hence a macro rather than a function. Each attempt sends a
        // clone of the one request built.
        macro_rules! conditional {
            ($request:expr, $error:ident) => {{
                let request = $request
                    .table_name(&self.table)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .set_return_values_on_condition_check_failure(on_failure);
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match deadline::started("a write", request.clone().send()).await? {
                        Ok(out) => return Ok(Ok(out.attributes)),
                        Err(e) => match e.as_service_error() {
                            Some($error::ConditionalCheckFailedException(c)) => {
                                return Ok(Err(ConditionFailed { old: c.item.clone() }));
                            }
                            Some($error::TransactionConflictException(_)) => {
                                deadline::pause(attempt, "a write held by a concurrent transaction").await?
                            }
                            _ => return Err(classify(e)),
                        },
                    }
                }
            }};
        }
        use aws_sdk_dynamodb::operation::{
            delete_item::DeleteItemError, put_item::PutItemError, update_item::UpdateItemError,
        };
        match write.action {
            Action::Put(item) => conditional!(self.client().put_item().set_item(Some(item)), PutItemError),
            Action::Update { key, expression } => conditional!(
                self.client()
                    .update_item()
                    .set_key(Some(key_item(&key)))
                    .update_expression(expression)
                    .return_values(updated),
                UpdateItemError
            ),
            Action::Delete(key) => conditional!(
                self.client().delete_item().set_key(Some(key_item(&key))).return_values(ReturnValue::AllOld),
                DeleteItemError
            ),
            Action::Check(_) => {
                Err(StoreError::Internal("a condition check only runs inside a transaction".into()))
            }
        }
    }

    /// Runs writes as one transaction (one round trip). `Ok(Err(_))` when a condition failed; the
    /// reasons are in the order of `writes`. A cancellation caused only by concurrent transactions
    /// is retried with jittered backoff, since nothing was written, until the request's deadline
    /// (shared with any loop this runs in, so nested retries do not multiply); if it keeps
    /// happening until then, the storage is too contended to answer now (503).
    pub async fn transact(&self, writes: Vec<Write>) -> Result<Result<(), Cancelled>, StoreError> {
        let request = self.transaction(writes)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::send_transaction(request.clone()).await? {
                Err(cancelled) if cancelled.is_conflict() => {
                    deadline::pause(attempt, "a transaction conflicting with concurrent writes").await?
                }
                outcome => return Ok(outcome),
            }
        }
    }

    /// Sends `writes` as one transaction, once: a conflict with a concurrent transaction comes
    /// back as a cancellation (see [`Cancelled::is_conflict`]) for the caller to act on, when it
    /// has a better next move than sending the same again (another shard, say).
    pub async fn transact_once(&self, writes: Vec<Write>) -> Result<Result<(), Cancelled>, StoreError> {
        Self::send_transaction(self.transaction(writes)?).await
    }

    fn transaction(&self, writes: Vec<Write>) -> Result<TransactWriteItemsFluentBuilder, StoreError> {
        let items =
            writes.into_iter().map(|w| w.into_transact(&self.table)).collect::<Result<Vec<_>, _>>()?;
        Ok(self.client().transact_write_items().set_transact_items(Some(items)))
    }

    async fn send_transaction(
        request: TransactWriteItemsFluentBuilder,
    ) -> Result<Result<(), Cancelled>, StoreError> {
        match deadline::started("a transaction", request.send()).await? {
            Ok(_) => Ok(Ok(())),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    Ok(Err(Cancelled { reasons: c.cancellation_reasons().to_vec() }))
                }
                _ => Err(classify(e)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_runtime_api::client::http::{
        HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_types::body::SdkBody;

    use super::*;
    use crate::store::conditions;

    const CONFLICT: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled","CancellationReasons":[{"Code":"None"},{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}]}"#;
    const CONDITION: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled","CancellationReasons":[{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"},{"Code":"TransactionConflict"}]}"#;
    const WRITE_CONFLICT: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionConflictException","message":"Transaction is ongoing for the item"}"#;
    const THROTTLED: &str =
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}"#;

    /// A store whose DynamoDB answers with `answers` in turn (the last one repeating), and the
    /// number of requests it received. DynamoDB Local never reports transaction conflicts, so
    /// this is how their handling is tested.
    fn store_answering(answers: Vec<(u16, &'static str)>) -> (Store, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let connector = SharedHttpConnector::new(Scripted { answers, calls: calls.clone() });
        let http = http_client_fn(move |_settings, _components| connector.clone());
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::from_static("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "static"))
            .endpoint_url("http://127.0.0.1:9")
            .http_client(http)
            .retry_config(
                RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(1)),
            )
            .build();
        let store = Store::over(aws_sdk_dynamodb::Client::from_conf(config), "t".into());
        (store, calls)
    }

    /// An HTTP connector that answers every request with the next scripted (status, body).
    #[derive(Debug)]
    struct Scripted {
        answers: Vec<(u16, &'static str)>,
        calls: Arc<AtomicUsize>,
    }

    impl HttpConnector for Scripted {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            let i = self.calls.fetch_add(1, Ordering::SeqCst).min(self.answers.len() - 1);
            let (status, body) = self.answers[i];
            let response =
                http::Response::builder().status(status).body(SdkBody::from(body)).expect("a valid response");
            HttpConnectorFuture::ready(Ok(HttpResponse::try_from(response).expect("an HTTP/1 response")))
        }
    }

    fn writes() -> Vec<Write> {
        let key = Key { pk: "A".into(), sk: "B".into() };
        vec![Write::check(key.clone(), conditions::exists()), Write::delete(key)]
    }

    #[tokio::test]
    async fn a_conflict_is_retried_until_the_transaction_commits() {
        let (store, calls) = store_answering(vec![(400, CONFLICT), (400, CONFLICT), (200, "{}")]);
        assert!(matches!(store.transact(writes()).await, Ok(Ok(()))));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_failed_condition_is_an_answer_not_retried() {
        let (store, calls) = store_answering(vec![(400, CONDITION), (200, "{}")]);
        let Ok(Err(cancelled)) = store.transact(writes()).await else { panic!("expected a cancellation") };
        assert!(cancelled.condition_failed(0));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn endless_conflicts_end_as_unavailable_within_the_deadline() {
        let (store, calls) = store_answering(vec![(400, CONFLICT)]);
        let started = Instant::now();
        let outcome = deadline::within(Duration::from_millis(300), store.transact(writes())).await;
        assert!(matches!(outcome, Err(StoreError::Unavailable(_))));
        assert!(started.elapsed() <= Duration::from_millis(300), "took {:?}", started.elapsed());
        assert!(calls.load(Ordering::SeqCst) > 2, "retried while time was left");
    }

    fn update() -> Write {
        Write::update(Key { pk: "A".into(), sk: "B".into() }, "SET n = :n").value(":n", n(1))
    }

    #[tokio::test]
    async fn a_write_held_by_a_transaction_is_retried() {
        let (store, calls) = store_answering(vec![(400, WRITE_CONFLICT), (200, "{}")]);
        let outcome = deadline::within(Duration::from_millis(300), store.write(update())).await;
        assert!(matches!(outcome, Ok(Ok(None))), "{outcome:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_write_held_until_the_deadline_is_unavailable() {
        let (store, calls) = store_answering(vec![(400, WRITE_CONFLICT)]);
        let started = Instant::now();
        let outcome = deadline::within(Duration::from_millis(300), store.write(update())).await;
        assert!(matches!(outcome, Err(StoreError::Unavailable(_))), "{outcome:?}");
        assert!(started.elapsed() <= Duration::from_millis(300), "took {:?}", started.elapsed());
        assert!(calls.load(Ordering::SeqCst) > 2, "retried while time was left");
    }

    #[tokio::test]
    async fn nothing_is_sent_once_the_deadline_has_passed() {
        let (store, calls) = store_answering(vec![(200, "{}")]);
        let started = Instant::now();
        let (write, transaction) = deadline::within(Duration::from_millis(5), async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            (store.write(update()).await, store.transact(writes()).await)
        })
        .await;
        assert!(matches!(write, Err(StoreError::Unavailable(_))), "{write:?}");
        assert!(matches!(transaction, Err(StoreError::Unavailable(_))), "{transaction:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert!(started.elapsed() < Duration::from_millis(100), "took {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn throttling_is_retried_by_the_sdk_then_unavailable() {
        let (store, calls) = store_answering(vec![(400, THROTTLED)]);
        assert!(matches!(store.transact(writes()).await, Err(StoreError::Unavailable(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 3, "the SDK's three attempts");
        let (store, _) = store_answering(vec![(400, THROTTLED), (200, "{}")]);
        assert!(matches!(store.transact(writes()).await, Ok(Ok(()))));
    }

    #[test]
    fn builds_transaction_items() {
        let key = Key { pk: "A".into(), sk: "B".into() };
        let item = Write::check(key.clone(), conditions::exists()).into_transact("t").unwrap();
        assert_eq!(item.condition_check().unwrap().condition_expression(), "attribute_exists(pk)");
        let item = Write::update(key, "SET #n = :v")
            .name("#n", "name")
            .value(":v", s("x"))
            .when(conditions::exists())
            .into_transact("t")
            .unwrap();
        assert_eq!(item.update().unwrap().update_expression(), "SET #n = :v");
    }
}
