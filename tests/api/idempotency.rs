//! `Idempotency-Key` on creates: the same request sent again gets the first answer and creates
//! nothing more; the key used for another request is a 422; keys belong to their caller and are
//! kept a day.

use api_tests::{PASSWORD, TestApp, days_from_now, event_body, spawn_app};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shared::domain::{Id, Instant};

async fn events_of(app: &TestApp, user_id: &str) -> usize {
    let id = Id::parse(user_id).unwrap();
    app.state.store.events_organized_by(id).await.unwrap().len()
}

#[tokio::test]
async fn a_create_sent_again_with_its_key_gets_the_first_answer_and_creates_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let body = event_body(json!({"title": "Once only"}));
    let first = app.post_with_key("/events", Some(&alice.token), "k-1", body.clone()).await;
    first.ok(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = app.post_with_key("/events", Some(&alice.token), "k-1", body.clone()).await;
    again.ok(201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("content-type"), Some("application/json"));
    // The same fields in another order are the same request.
    let reordered: Value = serde_json::from_str(&reorder(&body)).unwrap();
    assert_eq!(
        app.post_with_key("/events", Some(&alice.token), "k-1", reordered).await.ok(201)["id"],
        first.body["id"]
    );
    assert_eq!(events_of(&app, &alice.id).await, 1);
    // Without a key, each request is its own.
    app.post("/events", Some(&alice.token), body.clone()).await.ok(201);
    assert_eq!(events_of(&app, &alice.id).await, 2);
}

/// `body` serialized with its fields in reverse order.
fn reorder(body: &Value) -> String {
    let fields: Vec<String> = body
        .as_object()
        .unwrap()
        .iter()
        .rev()
        .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), v))
        .collect();
    format!("{{{}}}", fields.join(","))
}

#[tokio::test]
async fn a_key_used_for_another_request_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.post_with_key("/events", Some(&alice.token), "k-1", event_body(json!({"title": "First"})))
        .await
        .ok(201);
    let other =
        app.post_with_key("/events", Some(&alice.token), "k-1", event_body(json!({"title": "Second"}))).await;
    let problem = other.problem(422);
    assert_eq!(problem["type"], "https://events-api.example.com/problems/idempotency-key-reused");
    assert_eq!(events_of(&app, &alice.id).await, 1);
    // A malformed key is refused before anything.
    let reply = app.post_with_key("/events", Some(&alice.token), "two words", event_body(json!({}))).await;
    reply.problem(400);
    assert_eq!(events_of(&app, &alice.id).await, 1);
}

#[tokio::test]
async fn keys_belong_to_their_caller_and_are_kept_a_day() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let body = event_body(json!({}));
    let hers = app.post_with_key("/events", Some(&alice.token), "k-1", body.clone()).await;
    let his = app.post_with_key("/events", Some(&bob.token), "k-1", body.clone()).await;
    assert_ne!(hers.ok(201)["id"], his.ok(201)["id"]);
    assert_eq!(his.header("idempotent-replayed"), None);
    // A day later the key is forgotten (even before DynamoDB's TTL deletes the answer).
    let expired = AttributeValue::N(Instant::now().plus_seconds(-1).unix().to_string());
    app.update_remembered_answer(
        &format!("user:{}", alice.id),
        "k-1",
        "SET expires_at = :at",
        [(":at", expired)],
    )
    .await;
    let later = app.post_with_key("/events", Some(&alice.token), "k-1", body).await;
    assert_ne!(later.ok(201)["id"], hers.body["id"]);
    assert_eq!(events_of(&app, &alice.id).await, 2);
}

#[tokio::test]
async fn concurrent_creates_with_one_key_make_one_event() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let body = event_body(json!({}));
    let sends = (0..8).map(|_| app.post_with_key("/events", Some(&alice.token), "k-1", body.clone()));
    let replies = futures::future::join_all(sends).await;
    let ids: std::collections::BTreeSet<String> =
        replies.iter().map(|r| r.ok(201)["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(events_of(&app, &alice.id).await, 1);
}

#[tokio::test]
async fn a_series_sent_again_with_its_key_is_one_series() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let body =
        event_body(json!({"starts_at": days_from_now(3), "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=5"}}));
    let first = app.post_with_key("/events", Some(&alice.token), "series-1", body.clone()).await;
    let again = app.post_with_key("/events", Some(&alice.token), "series-1", body).await;
    assert_eq!(again.ok(201), first.ok(201));
    assert!(first.header("link").unwrap().contains("rel=\"series\""));
    assert_eq!(again.header("link"), first.header("link"));
    assert_eq!(events_of(&app, &alice.id).await, 5);
}

#[tokio::test]
async fn a_sign_up_sent_again_with_its_key_gets_the_same_user() {
    let app = spawn_app().await;
    let body = json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD});
    let first = app.post_with_key("/users", None, "k-1", body.clone()).await;
    let again = app.post_with_key("/users", None, "k-1", body.clone()).await;
    assert_eq!(again.ok(201), first.ok(201));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // A retry from another network is the same request too; without the key it is a new one.
    let elsewhere = std::net::Ipv4Addr::new(127, 0, 0, 2);
    let moved = app.post_with_key_from(elsewhere, "/users", "k-1", body.clone()).await;
    assert_eq!(moved.ok(201), &first.body);
    let reply = app.post_from(elsewhere, "/users", body.clone()).await;
    assert_eq!(reply.problem(409)["type"], "https://events-api.example.com/problems/already-taken");
    // Another password under the same key is another request.
    let mut changed = body;
    changed["password"] = json!("another-long-passphrase");
    app.post_with_key("/users", None, "k-1", changed).await.problem(422);
}

#[tokio::test]
async fn feedback_sent_again_with_its_key_gets_the_first_answer() {
    let app = spawn_app().await;
    let organizer = app.user("olga").await;
    let alice = app.user("alice").await;
    let event = app.event(&organizer, json!({})).await;
    let id = event["id"].as_str().unwrap();
    app.post(&format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await.ok(201);
    app.move_start(id, "2020-01-01T00:00:00Z").await;
    let path = format!("/events/{id}/feedback");
    let first = app.post_with_key(&path, Some(&alice.token), "k-1", json!({"rating": 5})).await;
    let again = app.post_with_key(&path, Some(&alice.token), "k-1", json!({"rating": 5})).await;
    assert_eq!(again.ok(201), first.ok(201));
    // Without the key, a second feedback is refused as before.
    app.post(&path, Some(&alice.token), json!({"rating": 5})).await.problem(409);
}

/// A create whose handler takes no `Caller` still keys its requests by the caller: without an
/// access token it is refused, not taken as anonymous.
#[tokio::test]
async fn a_signed_in_create_verifies_its_caller_by_itself() {
    use axum::routing::post;
    use shared::http::idempotency::Create;
    use tower::ServiceExt;

    async fn created(Create { body, .. }: Create) -> String {
        body.len().to_string()
    }
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let router = axum::Router::new().route("/things", post(created)).with_state(app.state.clone());
    let request = |token: Option<&str>| {
        let mut request = http::Request::post("/things")
            .header("content-type", "application/json")
            .header("idempotency-key", "k-1");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.body(axum::body::Body::from(r#"{"a": 1}"#)).unwrap()
    };
    let anonymous = router.clone().oneshot(request(None)).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let signed_in = router.oneshot(request(Some(&alice.token))).await.unwrap();
    assert_eq!(signed_in.status(), 200);
}
