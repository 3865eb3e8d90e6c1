//! The fidelity layer itself: what it adds to DynamoDB Local is what DynamoDB does (IAM,
//! transaction conflicts, no consistent reads on indexes), so the other tests can rely on it.

use std::time::Duration;

use api_tests::fidelity::Behaviours;
use api_tests::fidelity::iam::Policies;
use api_tests::{AppOptions, spawn_app_with};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde_json::json;

#[tokio::test]
async fn a_call_the_functions_policy_does_not_grant_is_refused_as_on_aws() {
    let policies = Policies::from_template().without("UsersFunction", "dynamodb:BatchGetItem");
    let app = spawn_app_with(AppOptions {
        fidelity: Behaviours { iam: Some(policies), ..Behaviours::default() },
        ..AppOptions::default()
    })
    .await;
    let alice = app.user("alice").await;
    let event = app.event(&alice, json!({})).await;
    let seat = format!("/events/{}/registrations", event["id"].as_str().unwrap());
    app.post(&seat, Some(&alice.token), json!({})).await.ok(201);
    let url =
        app.get("/users/me/calendar", Some(&alice.token)).await.ok(200)["url"].as_str().unwrap().to_owned();
    let feed = url.trim_start_matches(&format!("http://{}", app.address)).to_owned();

    // The feed reads the registered events with BatchGetItem, which this policy lacks.
    app.get(&feed, None).await.problem(500);
    assert_eq!(
        app.fidelity.take_denied(),
        ["UsersFunction may not dynamodb:BatchGetItem on table (BatchGetItem)"]
    );
}

/// Two updates of one item as one transaction each.
fn bump(table: &str, pk: &str) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S("COUNTER".into()))
        .update_expression("ADD n :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .build()
        .unwrap();
    TransactWriteItem::builder().update(update).build()
}

#[tokio::test]
async fn a_transaction_conflicts_with_one_in_flight_on_the_same_item() {
    // Long enough that a transaction is surely still in flight while the test acts.
    let service_time = Duration::from_secs(1);
    let app = spawn_app_with(AppOptions {
        fidelity: Behaviours { service_time, ..Behaviours::default() },
        ..AppOptions::default()
    })
    .await;
    let client = app.state.store.client().clone();
    let first = {
        let (client, table) = (client.clone(), app.table.clone());
        tokio::spawn(
            async move { client.transact_write_items().transact_items(bump(&table, "A")).send().await },
        )
    };
    app.fidelity.until_a_transaction_holds_items().await;

    // Another transaction on the same item is cancelled, naming the conflicting member, and a
    // plain write of that item is refused; both sent at once, while the first holds the item
    // (each refusal, like any answer, takes the service's time).
    let second = client
        .transact_write_items()
        .transact_items(bump(&app.table, "B"))
        .transact_items(bump(&app.table, "A"))
        .send();
    let single = client
        .update_item()
        .table_name(&app.table)
        .key("pk", AttributeValue::S("A".into()))
        .key("sk", AttributeValue::S("COUNTER".into()))
        .update_expression("ADD n :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send();
    let (second, single) = tokio::join!(second, single);
    let (second, single) = (second.expect_err("a conflict"), single.expect_err("a conflict"));
    let cancelled = second.as_service_error().and_then(|e| match e {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
        _ => None,
    });
    let codes: Vec<Option<&str>> = cancelled
        .expect("TransactionCanceledException")
        .cancellation_reasons()
        .iter()
        .map(|r| r.code())
        .collect();
    assert_eq!(codes, [Some("None"), Some("TransactionConflict")]);

    assert!(single.as_service_error().is_some_and(|e| e.is_transaction_conflict_exception()), "{single:?}");

    // The first commits; the item holds its one increment, and is free again.
    first.await.unwrap().expect("the first transaction commits");
    client.transact_write_items().transact_items(bump(&app.table, "A")).send().await.expect("free again");
    let stats = app.fidelity.stats();
    assert_eq!((stats.transactions_cancelled_by_conflict, stats.writes_refused_by_conflict), (1, 1));
}

#[tokio::test]
async fn a_transaction_waiting_for_dynamodb_locals_turn_holds_nothing() {
    // One call at a time reaches DynamoDB Local, each taking long enough that the second
    // transaction surely arrives while the first runs.
    let app = spawn_app_with(AppOptions {
        fidelity: Behaviours {
            service_time: Duration::from_millis(500),
            emulator_slots: Some(1),
            ..Behaviours::default()
        },
        ..AppOptions::default()
    })
    .await;
    let client = app.state.store.client().clone();
    let first = {
        let (client, table) = (client.clone(), app.table.clone());
        tokio::spawn(
            async move { client.transact_write_items().transact_items(bump(&table, "A")).send().await },
        )
    };
    app.fidelity.until_a_transaction_holds_items().await;

    // The second waits for its turn, holding nothing, and runs once the first has released the
    // item: neither conflicts.
    let second = client.transact_write_items().transact_items(bump(&app.table, "A")).send().await;
    first.await.unwrap().expect("the first transaction commits");
    second.expect("the second commits after it");
    let item = client
        .get_item()
        .table_name(&app.table)
        .key("pk", AttributeValue::S("A".into()))
        .key("sk", AttributeValue::S("COUNTER".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("read")
        .item
        .expect("the counter");
    assert_eq!(item["n"], AttributeValue::N("2".into()));
    assert_eq!(app.fidelity.stats().transactions_cancelled_by_conflict, 0);
}

#[tokio::test]
async fn an_index_refuses_consistent_reads() {
    let app = spawn_app_with(AppOptions {
        fidelity: Behaviours { service_time: Duration::ZERO, ..Behaviours::default() },
        ..AppOptions::default()
    })
    .await;
    let refused = app
        .state
        .store
        .client()
        .query()
        .table_name(&app.table)
        .index_name("gsi1")
        .key_condition_expression("gsi1pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(shared::store::keys::users_list_shard(0)))
        .consistent_read(true)
        .send()
        .await
        .expect_err("refused");
    assert!(format!("{refused:?}").contains("Consistent reads are not supported"), "{refused:?}");
}

#[tokio::test]
async fn an_index_shows_a_write_only_after_the_lag() {
    let app = spawn_app_with(AppOptions {
        fidelity: Behaviours { index_lag: Duration::from_secs(600), ..Behaviours::default() },
        ..AppOptions::default()
    })
    .await;
    let alice = app.user("alice").await;
    let event = app.event(&alice, json!({"title": "First title"})).await;
    // Readable by id at once (the table), absent from the time index until it catches up.
    app.get(&format!("/events/{}", event["id"].as_str().unwrap()), None).await.ok(200);
    assert_eq!(app.get("/events/upcoming", None).await.ok(200)["results"], json!([]));
    app.fidelity.settle_indexes();
    assert_eq!(app.get("/events/upcoming", None).await.ok(200)["results"][0]["title"], "First title");

    // An edit shows the earlier image until the index catches up.
    let path = format!("/events/{}", event["id"].as_str().unwrap());
    app.patch(&path, Some(&alice.token), json!({"title": "Second title"})).await.ok(200);
    assert_eq!(app.get("/events/upcoming", None).await.ok(200)["results"][0]["title"], "First title");
    app.fidelity.settle_indexes();
    assert_eq!(app.get("/events/upcoming", None).await.ok(200)["results"][0]["title"], "Second title");
}

#[tokio::test]
async fn a_partition_past_its_second_of_write_units_throttles_and_the_api_answers_503() {
    let app = spawn_app_with(AppOptions {
        fidelity: Behaviours { throttling: true, ..Behaviours::default() },
        ..AppOptions::default()
    })
    .await;
    let alice = app.user("alice").await;
    let event = app.event(&alice, json!({})).await;
    let id = event["id"].as_str().unwrap();

    // The event's partition is at its 1,000 write units a second (a sustained burst elsewhere).
    let partition = format!("EVENT#{id}");
    app.fidelity.saturate(&partition);
    let reply = app.post(&format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await;
    reply.problem(503);
    assert!(reply.header("retry-after").is_some());
    assert!(app.fidelity.stats().throttled >= 1);
    // Nothing was written: the event's counters are as they were.
    assert_eq!(app.get(&format!("/events/{id}"), None).await.ok(200)["confirmed_count"], 0);
    // Once the burst is over, the same registration goes through.
    app.fidelity.release(&partition);
    app.post(&format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await.ok(201);

    // Other partitions are unaffected.
    let other = app.event(&alice, json!({})).await;
    let path = format!("/events/{}/registrations", other["id"].as_str().unwrap());
    app.post(&path, Some(&alice.token), json!({})).await.ok(201);
}
