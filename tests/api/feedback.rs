//! Feedback: confirmed attendees only, once the event has started, once each; aggregates.

use api_tests::spawn_app;
use serde_json::{Value, json};

#[tokio::test]
async fn attendees_rate_started_events_once_and_the_average_follows() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 4).await;
    let event = app.event(&organizer, json!({"capacity": 3})).await;
    let id = event["id"].as_str().unwrap();
    for person in &people {
        app.post(format!("/events/{id}/registrations"), Some(&person.token), json!({})).await;
    }
    let path = format!("/events/{id}/feedback");
    // Not started yet.
    let early = app.post(&path, Some(&people[0].token), json!({"rating": 5})).await;
    assert!(early.problem(409)["detail"].as_str().unwrap().contains("started"));
    app.move_start(id, "2020-01-01T00:00:00Z").await;

    let reply =
        app.post(&path, Some(&people[0].token), json!({"rating": 5, "comment": "  Great talks  "})).await;
    let given = reply.ok(201).clone();
    assert_eq!(given["rating"], 5);
    assert_eq!(given["comment"], "Great talks");
    assert_eq!(given["user"], json!({"id": people[0].id, "username": people[0].username}));
    assert!(given["id"].is_string() && given["created_at"].is_string());
    app.post(&path, Some(&people[0].token), json!({"rating": 1})).await.problem(409);
    app.post(&path, Some(&people[1].token), json!({"rating": 2})).await.ok(201);
    // Waitlisted (p3), not registered (organizer), anonymous.
    app.post(&path, Some(&people[3].token), json!({"rating": 4})).await.problem(403);
    app.post(&path, Some(&organizer.token), json!({"rating": 4})).await.problem(403);
    app.post(&path, None, json!({"rating": 4})).await.problem(401);

    let list = app.get(&path, None).await;
    let body = list.ok(200);
    assert_eq!(body["count"], 2);
    assert_eq!(body["average_rating"], 3.5);
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["rating"], 2, "newest first");
    assert_eq!(results[1]["comment"], "Great talks");
    let first = app.get(format!("{path}?limit=1"), None).await;
    assert_eq!(first.ok(200)["results"].as_array().unwrap().len(), 1);
    assert!(first.body["next_cursor"].is_string());

    // The average is the exact mean, not a rounded one.
    app.post(&path, Some(&people[2].token), json!({"rating": 4})).await.ok(201);
    let three = app.get(&path, None).await;
    assert_eq!(three.ok(200)["count"], 3);
    assert_eq!(three.body["average_rating"].as_f64(), Some(11.0 / 3.0));

    // A deleted attendee's feedback leaves the average.
    app.delete(format!("/users/{}", people[0].id), Some(&people[0].token)).await;
    let after = app.get(&path, None).await;
    assert_eq!((after.body["count"].clone(), after.body["average_rating"].clone()), (json!(2), json!(3.0)));
}

#[tokio::test]
async fn feedback_validation_and_unknown_events() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let alice = app.user("alice").await;
    let event = app.event(&organizer, json!({})).await;
    let id = event["id"].as_str().unwrap();
    app.post(format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await.ok(201);
    app.move_start(id, "2020-01-01T00:00:00Z").await;
    let path = format!("/events/{id}/feedback");
    for bad in [
        json!({}),
        json!({"rating": 0}),
        json!({"rating": 6}),
        json!({"rating": 4.5}),
        json!({"rating": "5"}),
        json!({"rating": 5, "comment": "x".repeat(2001)}),
        json!({"rating": 5, "user_id": "x"}),
    ] {
        app.post(&path, Some(&alice.token), bad.clone()).await.problem(400);
    }
    let empty = app.get(&path, None).await;
    assert_eq!(empty.ok(200)["average_rating"], Value::Null);
    assert_eq!(empty.body["count"], 0);
    let missing = ulid::Ulid::new();
    app.get(format!("/events/{missing}/feedback"), None).await.problem(404);
    app.post(format!("/events/{missing}/feedback"), Some(&alice.token), json!({"rating": 3}))
        .await
        .problem(404);
}
