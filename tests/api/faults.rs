//! Storage faults: with DynamoDB unreachable or hanging, the API answers 503 with `Retry-After`
//! within its timeout, writes nothing partial, and works again once storage is back.

use std::time::{Duration, Instant};

use api_tests::proxy::Proxy;
use api_tests::{AppOptions, PASSWORD, dynamodb_local, spawn_app_with};
use serde_json::json;

#[tokio::test]
async fn unreachable_storage_is_a_503_and_recovery_is_automatic() {
    let proxy = Proxy::start(&dynamodb_local::endpoint()).await;
    let app = spawn_app_with(AppOptions {
        endpoint: proxy.endpoint.clone(),
        timeout_ms: 1500,
        ..AppOptions::default()
    })
    .await;
    let alice = app.user("alice").await;
    let event = app.event(&alice, json!({})).await;
    let event_path = format!("/events/{}", event["id"].as_str().unwrap());

    proxy.cut().await;
    let reply = app.get(&event_path, None).await;
    reply.problem(503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    app.post("/users", None, json!({"username": "bob", "email": "bob@example.com", "password": PASSWORD}))
        .await
        .problem(503);
    app.patch(&event_path, Some(&alice.token), json!({"title": "Changed while down"})).await.problem(503);
    app.log_in("alice", PASSWORD).await.problem(503);

    proxy.restore().await;
    // Nothing partial: bob was not half-created (his name is free), the event is unchanged.
    assert_eq!(app.get(&event_path, None).await.ok(200)["title"], event["title"]);
    app.user("bob").await;
}

#[tokio::test]
async fn hanging_storage_is_a_503_within_the_timeout() {
    let proxy = Proxy::start(&dynamodb_local::endpoint()).await;
    let app = spawn_app_with(AppOptions {
        endpoint: proxy.endpoint.clone(),
        timeout_ms: 800,
        ..AppOptions::default()
    })
    .await;
    let alice = app.user("alice").await;
    proxy.stall().await;
    let started = Instant::now();
    let reply = app.get("/users/me", Some(&alice.token)).await;
    let waited = started.elapsed();
    reply.problem(503);
    assert!(waited < Duration::from_secs(10), "a hanging storage held the request for {waited:?}");
    proxy.restore().await;
    app.get("/users/me", Some(&alice.token)).await.ok(200);
}
