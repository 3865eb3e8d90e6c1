//! What a DynamoDB request (JSON protocol 1.0, `X-Amz-Target: DynamoDB_20120810.<Operation>`)
//! touches: the IAM actions it needs and the items it writes.

use serde_json::Value;

use super::iam::Need;

/// An item's identity: table, and the JSON of its `pk` and `sk` attribute values.
pub type ItemKey = (String, String, String);

/// One parsed request.
#[derive(Debug)]
pub struct Call {
    pub operation: String,
    pub body: Value,
}

/// How a request writes.
#[derive(Debug, PartialEq, Eq)]
pub enum Writes {
    /// Reads only, or an operation this model does not treat as a write.
    Nothing,
    /// One PutItem, UpdateItem or DeleteItem.
    Single(ItemKey),
    /// A TransactWriteItems: each member's item, in order.
    Transaction(Vec<ItemKey>),
}

impl Call {
    /// Reads the operation from the `X-Amz-Target` header and the body as JSON.
    pub fn parse(target: Option<&str>, body: &[u8]) -> Option<Call> {
        let operation = target?.strip_prefix("DynamoDB_20120810.")?.to_owned();
        let body = serde_json::from_slice(body).ok()?;
        Some(Call { operation, body })
    }

    /// What IAM must allow for this call (see `iam`).
    pub fn needs(&self) -> Vec<Need> {
        let body = &self.body;
        match self.operation.as_str() {
            "Query" | "Scan" => match body["IndexName"].as_str() {
                Some(index) => vec![Need::on_index(&self.operation, index)],
                None => vec![Need::on_table(&self.operation)],
            },
            "TransactWriteItems" => members(body)
                .map(|(kind, _)| {
                    Need::on_table(match kind {
                        "Put" => "PutItem",
                        "Update" => "UpdateItem",
                        "Delete" => "DeleteItem",
                        _ => "ConditionCheckItem",
                    })
                })
                .collect(),
            "TransactGetItems" => vec![Need::on_table("GetItem")],
            operation => vec![Need::on_table(operation)],
        }
    }

    /// The items this call writes, for the transaction-conflict model.
    pub fn writes(&self) -> Writes {
        let body = &self.body;
        match self.operation.as_str() {
            "PutItem" => {
                item_key(body["TableName"].as_str(), &body["Item"]).map_or(Writes::Nothing, Writes::Single)
            }
            "UpdateItem" | "DeleteItem" => {
                item_key(body["TableName"].as_str(), &body["Key"]).map_or(Writes::Nothing, Writes::Single)
            }
            "TransactWriteItems" => Writes::Transaction(
                members(body)
                    .filter_map(|(_, member)| {
                        let key = if member["Item"].is_object() { &member["Item"] } else { &member["Key"] };
                        item_key(member["TableName"].as_str(), key)
                    })
                    .collect(),
            ),
            _ => Writes::Nothing,
        }
    }

    /// The items this call changes (a transaction's condition checks change nothing), for the
    /// index-lag model.
    pub fn changes(&self) -> Vec<ItemKey> {
        let body = &self.body;
        match self.operation.as_str() {
            "PutItem" | "UpdateItem" | "DeleteItem" | "TransactWriteItems" => match self.writes() {
                Writes::Single(key) => vec![key],
                Writes::Transaction(keys) => members(body)
                    .zip(keys)
                    .filter(|((kind, _), _)| *kind != "ConditionCheck")
                    .map(|(_, key)| key)
                    .collect(),
                Writes::Nothing => Vec::new(),
            },
            "BatchWriteItem" => body["RequestItems"]
                .as_object()
                .into_iter()
                .flatten()
                .flat_map(|(table, requests)| {
                    requests.as_array().into_iter().flatten().filter_map(move |request| {
                        let key = match (request.get("PutRequest"), request.get("DeleteRequest")) {
                            (Some(put), _) => &put["Item"],
                            (_, Some(delete)) => &delete["Key"],
                            _ => return None,
                        };
                        item_key(Some(table), key)
                    })
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The items this call puts whole (a PutItem, a transaction's Put members), with their keys.
    pub fn new_items(&self) -> Vec<(ItemKey, Value)> {
        let body = &self.body;
        let puts: Vec<(&Value, &Value)> = match self.operation.as_str() {
            "PutItem" => vec![(&body["TableName"], &body["Item"])],
            "TransactWriteItems" => members(body)
                .filter(|(kind, _)| *kind == "Put")
                .map(|(_, member)| (&member["TableName"], &member["Item"]))
                .collect(),
            _ => Vec::new(),
        };
        puts.into_iter()
            .filter_map(|(table, item)| Some((item_key(table.as_str(), item)?, item.clone())))
            .collect()
    }

    /// The index a Query reads, if it reads one.
    pub fn index(&self) -> Option<&str> {
        (self.operation == "Query").then(|| self.body["IndexName"].as_str()).flatten()
    }

    /// Whether this is a Query that asks an index for a consistent read, which DynamoDB refuses
    /// ("Consistent reads are not supported on global secondary indexes").
    pub fn consistent_read_on_index(&self) -> bool {
        self.operation == "Query" && self.body["IndexName"].is_string() && self.body["ConsistentRead"] == true
    }
}

/// The members of a TransactWriteItems: (`Put` | `Update` | `Delete` | `ConditionCheck`, body).
fn members(body: &Value) -> impl Iterator<Item = (&str, &Value)> {
    body["TransactItems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|member| member.as_object()?.iter().next().map(|(kind, inner)| (kind.as_str(), inner)))
}

/// The key of `item` (any item carrying `pk` and `sk`) in `table`.
pub fn item_key(table: Option<&str>, item: &Value) -> Option<ItemKey> {
    Some((table?.to_owned(), item.get("pk")?.to_string(), item.get("sk")?.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn call(operation: &str, body: Value) -> Call {
        let target = format!("DynamoDB_20120810.{operation}");
        Call::parse(Some(&target), body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_transaction_needs_each_members_action() {
        let c = call(
            "TransactWriteItems",
            json!({"TransactItems": [
                {"Update": {"TableName": "t", "Key": {"pk": {"S": "E"}, "sk": {"S": "E"}}}},
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "E"}, "sk": {"S": "R"}, "x": {"N": "1"}}}},
                {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "U"}, "sk": {"S": "P"}}}}
            ]}),
        );
        let needs: Vec<String> = c.needs().iter().map(ToString::to_string).collect();
        assert_eq!(
            needs,
            [
                "dynamodb:UpdateItem on table",
                "dynamodb:PutItem on table",
                "dynamodb:ConditionCheckItem on table"
            ]
        );
        let Writes::Transaction(keys) = c.writes() else { panic!("a transaction") };
        assert_eq!(keys.len(), 3);
        assert_eq!(c.changes(), keys[..2], "a condition check changes nothing");
        assert_eq!(keys[1], ("t".into(), r#"{"S":"E"}"#.into(), r#"{"S":"R"}"#.into()));
    }

    #[test]
    fn a_query_on_an_index_needs_the_index() {
        let c = call("Query", json!({"TableName": "t", "IndexName": "gsi2", "ConsistentRead": true}));
        assert_eq!(c.needs(), [Need::on_index("Query", "gsi2")]);
        assert!(c.consistent_read_on_index());
        assert_eq!(c.writes(), Writes::Nothing);
        let c = call("Query", json!({"TableName": "t", "ConsistentRead": true}));
        assert_eq!(c.needs(), [Need::on_table("Query")]);
        assert!(!c.consistent_read_on_index());
    }

    #[test]
    fn a_batch_write_changes_each_of_its_items() {
        let c = call(
            "BatchWriteItem",
            json!({"RequestItems": {"t": [
                {"PutRequest": {"Item": {"pk": {"S": "A"}, "sk": {"S": "1"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "B"}, "sk": {"S": "2"}}}}
            ]}}),
        );
        let changed: Vec<String> =
            c.changes().into_iter().map(|(t, pk, sk)| format!("{t} {pk} {sk}")).collect();
        assert_eq!(changed, [r#"t {"S":"A"} {"S":"1"}"#, r#"t {"S":"B"} {"S":"2"}"#]);
    }

    #[test]
    fn batches_are_actions_of_their_own() {
        assert_eq!(call("BatchGetItem", json!({})).needs(), [Need::on_table("BatchGetItem")]);
        assert_eq!(call("BatchWriteItem", json!({})).needs(), [Need::on_table("BatchWriteItem")]);
    }

    #[test]
    fn anything_else_is_not_a_dynamodb_call() {
        assert!(Call::parse(Some("Other.Op"), b"{}").is_none());
        assert!(Call::parse(None, b"{}").is_none());
        assert!(Call::parse(Some("DynamoDB_20120810.GetItem"), b"not json").is_none());
    }
}
