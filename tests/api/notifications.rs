//! Notifications: promotion, event changes and cancellations, reading them, and reminders that
//! go out exactly once however the schedule fires.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use api_tests::{TestApp, TestUser, spawn_app_with_index_lag};
use futures::future::join_all;
use serde_json::json;
use shared::domain::{Id, Instant};
use shared::records::NotificationKind;

#[tokio::test]
async fn promotion_change_and_deletion_are_notified() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let event = app.event(&organizer, json!({"capacity": 1, "title": "Rust night"})).await;
    let id = event["id"].as_str().unwrap();
    app.post(format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await.ok(201);
    app.post(format!("/events/{id}/registrations"), Some(&bob.token), json!({})).await.ok(201);
    app.delete(format!("/events/{id}/registrations/me"), Some(&alice.token)).await;

    let bobs = app.notifications(&bob).await;
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0]["kind"], "promoted");
    assert_eq!(bobs[0]["event_id"], id);
    assert_eq!(bobs[0]["read"], false);
    assert!(bobs[0]["message"].as_str().unwrap().contains("Rust night"));

    // An edit that changes nothing is no change to tell anyone about.
    let same = app.patch(format!("/events/{id}"), Some(&organizer.token), json!({"capacity": 1})).await;
    assert_eq!(same.ok(200)["updated_at"], event["updated_at"]);
    app.patch(format!("/events/{id}"), Some(&organizer.token), json!({})).await.ok(200);
    assert_eq!(app.notifications(&bob).await.len(), 1);

    app.patch(format!("/events/{id}"), Some(&organizer.token), json!({"location": "Porto"})).await.ok(200);
    let bobs = app.notifications(&bob).await;
    assert_eq!(bobs.len(), 2);
    assert_eq!(bobs[0]["kind"], "event_changed", "newest first");
    assert!(bobs[0]["message"].as_str().unwrap().contains("Porto"));

    app.delete(format!("/events/{id}"), Some(&organizer.token)).await;
    let bobs = app.notifications(&bob).await;
    assert_eq!(
        bobs.iter().map(|n| n["kind"].as_str().unwrap()).collect::<Vec<_>>(),
        ["event_deleted", "event_changed", "promoted"]
    );
    // Alice left before any of it.
    assert!(app.notifications(&alice).await.is_empty());
}

/// An organizer and Alice, registered for the organizer's event, which was then renamed: Alice
/// has one notification, of the change.
async fn alice_told_of_a_rename(app: &TestApp) -> (TestUser, TestUser) {
    let organizer = app.user("org").await;
    let alice = app.user("alice").await;
    let event = app.event(&organizer, json!({})).await;
    let id = event["id"].as_str().unwrap();
    app.post(format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await.ok(201);
    app.patch(format!("/events/{id}"), Some(&organizer.token), json!({"title": "Renamed"})).await.ok(200);
    (organizer, alice)
}

#[tokio::test]
async fn notifications_are_marked_read_by_their_owner_only() {
    let app = spawn_app_with_index_lag().await;
    let (organizer, alice) = alice_told_of_a_rename(&app).await;
    let notice = app.notifications(&alice).await[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/users/me/notifications/{notice}/read");
    app.post(&path, Some(&organizer.token), json!({})).await.problem(404);
    app.post(&path, None, json!({})).await.problem(401);
    let reply = app.post(&path, Some(&alice.token), json!({})).await;
    assert_eq!(reply.status, 204);
    assert_eq!(app.notifications(&alice).await[0]["read"], true);
    app.post("/users/me/notifications/nope/read", Some(&alice.token), json!({})).await.problem(404);
    app.get("/users/me/notifications?limit=0", Some(&alice.token)).await.problem(400);
}

#[tokio::test]
async fn a_notification_is_stored_with_its_expiry_and_served_without_it() {
    let app = spawn_app_with_index_lag().await;
    let (_, alice) = alice_told_of_a_rename(&app).await;
    let served = app.notifications(&alice).await.remove(0);
    let fields: Vec<&str> = served.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, ["created_at", "event_id", "id", "kind", "message", "read"]);

    let user = Id::parse(&alice.id).unwrap();
    let notice = Id::parse(served["id"].as_str().unwrap()).unwrap();
    let stored = app.item(shared::store::keys::notification(user, notice)).await.expect("stored");
    let created = Instant::parse(served["created_at"].as_str().unwrap()).unwrap();
    // Kept ninety days, then DynamoDB's TTL may delete it.
    let expiry = created.plus_seconds(90 * 86_400).unix();
    assert_eq!(stored[shared::store::table::TTL_ATTRIBUTE], AttributeValue::N(expiry.to_string()));
}

#[tokio::test]
async fn reminders_reach_each_confirmed_attendee_exactly_once() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 12).await;
    let soon = app.event(&organizer, json!({"capacity": 10, "title": "Soon"})).await;
    let later =
        app.event(&organizer, json!({"capacity": 10, "starts_at": api_tests::days_from_now(3)})).await;
    let soon_id = soon["id"].as_str().unwrap();
    for person in &people {
        app.post(format!("/events/{soon_id}/registrations"), Some(&person.token), json!({})).await;
        app.post(
            format!("/events/{}/registrations", later["id"].as_str().unwrap()),
            Some(&person.token),
            json!({}),
        )
        .await;
    }
    let in_two_hours =
        (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    app.move_start(soon_id, &in_two_hours).await;
    // The runs find events through the time index: once it has caught up with the move.
    app.fidelity.settle_indexes();

    // Five overlapping runs, then two more.
    let store = &app.state.store;
    let runs =
        join_all((0..5).map(|_| local::run_reminders(store, Instant::now(), Duration::from_secs(60)))).await;
    let mut reminded = 0;
    for run in runs {
        let summary = run.unwrap();
        assert_eq!(summary.events, 1, "only the event within 24 hours");
        reminded += summary.reminded;
    }
    for _ in 0..2 {
        assert_eq!(
            local::run_reminders(store, Instant::now(), Duration::from_secs(60)).await.unwrap().reminded,
            0
        );
    }
    assert_eq!(reminded, 10);
    for (i, person) in people.iter().enumerate() {
        let reminders: Vec<_> =
            app.notifications(person).await.into_iter().filter(|n| n["kind"] == "reminder").collect();
        let expected = if i < 10 { 1 } else { 0 };
        assert_eq!(reminders.len(), expected, "{} (waitlisted: {})", person.username, i >= 10);
        if let Some(reminder) = reminders.first() {
            assert_eq!(reminder["event_id"], soon_id);
            assert!(reminder["message"].as_str().unwrap().contains("Soon"));
        }
    }

    // Someone promoted later is reminded by the next run, once.
    app.delete(format!("/events/{soon_id}/registrations/me"), Some(&people[0].token)).await;
    assert_eq!(
        local::run_reminders(store, Instant::now(), Duration::from_secs(60)).await.unwrap().reminded,
        1
    );
    assert_eq!(
        local::run_reminders(store, Instant::now(), Duration::from_secs(60)).await.unwrap().reminded,
        0
    );
}

#[tokio::test]
async fn the_local_schedule_sends_due_reminders_by_itself() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let alice = app.user("alice").await;
    let event = app.event(&organizer, json!({"title": "Soon"})).await;
    let id = event["id"].as_str().unwrap();
    app.post(format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await.ok(201);
    let in_two_hours =
        (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    app.move_start(id, &in_two_hours).await;

    let schedule = tokio::spawn(local::run_schedule(app.state.store.clone(), Duration::from_millis(50)));
    let mut reminders = Vec::new();
    for _ in 0..200 {
        reminders = app.notifications(&alice).await.into_iter().filter(|n| n["kind"] == "reminder").collect();
        if !reminders.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    schedule.abort();
    assert_eq!(reminders.len(), 1, "one reminder, sent without anyone invoking the function");
    assert_eq!(reminders[0]["event_id"], id);
}

#[tokio::test]
async fn a_repeated_event_deletion_tells_each_registrant_once() {
    let app = spawn_app_with_index_lag().await;
    let store = &app.state.store;
    let organizer = app.user("org").await;
    let ann = app.user("ann").await;
    let deleted =
        |notices: Vec<serde_json::Value>| notices.iter().filter(|n| n["kind"] == "event_deleted").count();

    // A deletion interrupted after it marked the event and told its registrants, then repeated.
    let event = app.event(&organizer, json!({})).await;
    let id = event["id"].as_str().unwrap();
    app.post(format!("/events/{id}/registrations"), Some(&ann.token), json!({})).await.ok(201);
    let began = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap() - 30_000;
    let values = [(":yes", AttributeValue::Bool(true)), (":began", AttributeValue::N(began.to_string()))];
    app.update_event(id, "SET deleting = :yes, deletion_began_ms = :began", values).await;
    let ann_id = Id::parse(&ann.id).unwrap();
    let event_id = Id::parse(id).unwrap();
    store.notify_once(&[ann_id], NotificationKind::EventDeleted, event_id, "cancelled", began).await.unwrap();
    // Ann reads it before the deletion is run again: it stays read.
    let notice = app.notifications(&ann).await[0]["id"].as_str().unwrap().to_owned();
    app.post(format!("/users/me/notifications/{notice}/read"), Some(&ann.token), json!({})).await;
    assert!(store.delete_event(event_id).await.unwrap().is_some());
    let notices = app.notifications(&ann).await;
    assert_eq!(deleted(notices.clone()), 1);
    assert_eq!(
        (notices[0]["id"].as_str(), notices[0]["read"].as_bool()),
        (Some(notice.as_str()), Some(true))
    );
    app.get(format!("/events/{id}"), None).await.problem(404);

    // Two deletions of one event at once.
    let event = app.event(&organizer, json!({})).await;
    let id = event["id"].as_str().unwrap();
    app.post(format!("/events/{id}/registrations"), Some(&ann.token), json!({})).await.ok(201);
    let event_id = Id::parse(id).unwrap();
    let (first, second) = tokio::join!(store.delete_event(event_id), store.delete_event(event_id));
    assert!(first.unwrap().is_some() || second.unwrap().is_some());
    assert_eq!(deleted(app.notifications(&ann).await), 2, "one more, for the second event");
}
