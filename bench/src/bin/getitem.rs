//! The yardstick for exec → first response of `GET /events/{id}`: a binary that only loads
//! aws-config and does the one GetItem, under `lambda_runtime` with the API Gateway payload read as
//! plain JSON, built with the same release profile as the functions.

use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let table = std::env::var("TABLE_NAME")?;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Ok(endpoint) = std::env::var("DYNAMODB_ENDPOINT") {
        loader = loader
            .endpoint_url(endpoint)
            .region(Region::from_static("us-east-1"))
            .credentials_provider(Credentials::new("local", "local", None, None, "static"));
    }
    let client = aws_sdk_dynamodb::Client::new(&loader.load().await);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            let id = event.payload["pathParameters"]["id"].as_str().unwrap_or_default().to_owned();
            let out = client
                .get_item()
                .table_name(table)
                .key("pk", AttributeValue::S(format!("EVENT#{id}")))
                .key("sk", AttributeValue::S("EVENT".into()))
                .consistent_read(true)
                .send()
                .await?;
            let found = out.item.is_some();
            Ok::<Value, Error>(json!({
                "statusCode": if found { 200 } else { 404 },
                "headers": { "content-type": "application/json" },
                "body": json!({ "id": id, "found": found }).to_string(),
                "isBase64Encoded": false
            }))
        }
    }))
    .await
}
