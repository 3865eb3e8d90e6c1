//! `/events` and `/categories`: create, read, replace, patch, delete, and every rule.

use api_tests::{days_from_now, event_body, spawn_app};
use serde_json::json;

#[tokio::test]
async fn create_returns_the_event_with_its_counters() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let starts = "2031-03-01T18:00:00+01:00";
    let reply = app
        .post(
            "/events",
            Some(&alice.token),
            event_body(json!({"starts_at": starts, "ends_at": "2031-03-01T20:30:00+01:00", "timezone": "Europe/Lisbon", "capacity": 25})),
        )
        .await;
    let event = reply.ok(201);
    let id = event["id"].as_str().unwrap();
    assert_eq!(reply.header("location"), Some(format!("/events/{id}").as_str()));
    assert_eq!(event["starts_at"], "2031-03-01T17:00:00Z");
    assert_eq!(event["ends_at"], "2031-03-01T19:30:00Z");
    assert_eq!(event["timezone"], "Europe/Lisbon");
    assert_eq!(event["capacity"], 25);
    assert_eq!(event["confirmed_count"], 0);
    assert_eq!(event["waitlist_count"], 0);
    assert_eq!(event["seats_left"], 25);
    assert_eq!(event["waitlist_enabled"], true);
    assert_eq!(event["category"], "meetup");
    assert_eq!(event["organizer"], json!({"id": alice.id, "username": "alice"}));
    assert_eq!(event["series_id"], serde_json::Value::Null);
    assert_eq!(event["created_at"], event["updated_at"]);

    let read = app.get(&format!("/events/{id}"), None).await;
    assert_eq!(read.ok(200), event);
}

#[tokio::test]
async fn defaults_apply_to_optional_fields() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let body = json!({"title": "Minimal", "starts_at": days_from_now(3), "location": "Porto", "capacity": 1});
    let event = app.post("/events", Some(&alice.token), body).await.ok(201).clone();
    assert_eq!(event["timezone"], "UTC");
    assert_eq!(event["waitlist_enabled"], true);
    assert_eq!(event["category"], serde_json::Value::Null);
    assert_eq!(event["description"], serde_json::Value::Null);
    assert_eq!(event["ends_at"], serde_json::Value::Null);
}

#[tokio::test]
async fn create_needs_a_token() {
    let app = spawn_app().await;
    app.post("/events", None, event_body(json!({}))).await.problem(401);
}

#[tokio::test]
async fn every_rule_is_a_400_naming_its_field() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let cases = [
        (json!({"title": ""}), "title"),
        (json!({"title": "t".repeat(201)}), "title"),
        (json!({"title": 5}), "title"),
        (json!({"description": "d".repeat(5001)}), "description"),
        (json!({"starts_at": "2031-03-01T18:00:00"}), "starts_at"),
        (json!({"starts_at": "next tuesday"}), "starts_at"),
        (json!({"starts_at": "2020-01-01T00:00:00Z"}), "starts_at"),
        (json!({"ends_at": "2020-01-01T00:00:00Z"}), "ends_at"),
        (json!({"location": "   "}), "location"),
        (json!({"location": "l".repeat(201)}), "location"),
        (json!({"capacity": 0}), "capacity"),
        (json!({"capacity": 100001}), "capacity"),
        (json!({"capacity": 2.5}), "capacity"),
        (json!({"capacity": "10"}), "capacity"),
        (json!({"category": "knitting"}), "category"),
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (json!({"waitlist_enabled": "yes"}), "waitlist_enabled"),
        (json!({"organizer": {"id": "x"}}), "organizer"),
        (json!({"confirmed_count": 5}), "confirmed_count"),
        (json!({"id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}), "id"),
    ];
    for (overrides, field) in cases {
        let reply = app.post("/events", Some(&alice.token), event_body(overrides.clone())).await;
        let errors = &reply.problem(400)["errors"];
        assert!(errors[field].is_array(), "{overrides} should fail on {field}: {errors}");
    }
    for missing in ["title", "starts_at", "location", "capacity"] {
        let mut body = event_body(json!({}));
        body.as_object_mut().unwrap().remove(missing);
        let reply = app.post("/events", Some(&alice.token), body).await;
        assert_eq!(reply.problem(400)["errors"][missing][0], "is required");
    }
    // Every offending field is named at once, the rules on times included.
    let body = event_body(json!({"title": "", "starts_at": "2020-01-01T00:00:00Z", "capacity": 0}));
    let errors = app.post("/events", Some(&alice.token), body).await.problem(400)["errors"].clone();
    assert_eq!(errors.as_object().unwrap().len(), 3, "{errors}");
    let body = event_body(
        json!({"location": "", "starts_at": "2031-03-01T18:00:00Z", "ends_at": "2031-03-01T17:00:00Z"}),
    );
    let errors = app.post("/events", Some(&alice.token), body).await.problem(400)["errors"].clone();
    assert!(errors["location"].is_array() && errors["ends_at"].is_array(), "{errors}");
    // Nothing was created by any of those.
    let scan = app.state.store.client().scan().table_name(&app.table).send().await.unwrap();
    assert!(scan.items().iter().all(|i| i["type"].as_s().unwrap() != "event"));
}

#[tokio::test]
async fn capacity_edges_are_accepted() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    for capacity in [1, 100_000] {
        app.post("/events", Some(&alice.token), event_body(json!({"capacity": capacity}))).await.ok(201);
    }
    // JSON Schema's `integer`, which the document declares, includes a whole number written with
    // a zero fraction.
    let reply = app.post("/events", Some(&alice.token), event_body(json!({"capacity": 50.0}))).await;
    assert_eq!(reply.ok(201)["capacity"], 50);
}

#[tokio::test]
async fn unknown_and_malformed_event_ids_are_404() {
    let app = spawn_app().await;
    app.get(&format!("/events/{}", ulid::Ulid::new()), None).await.problem(404);
    app.get("/events/nope", None).await.problem(404);
}

#[tokio::test]
async fn put_replaces_every_writable_field() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let event = app
        .event(&alice, json!({"description": "old", "timezone": "Europe/Lisbon", "waitlist_enabled": false}))
        .await;
    let path = format!("/events/{}", event["id"].as_str().unwrap());
    let starts = days_from_now(20);
    let replacement = json!({"title": "Renamed", "starts_at": starts, "location": "Faro", "capacity": 40});
    let reply = app.put(&path, Some(&alice.token), replacement).await;
    let updated = reply.ok(200);
    assert_eq!(updated["title"], "Renamed");
    assert_eq!(updated["location"], "Faro");
    assert_eq!(updated["capacity"], 40);
    assert_eq!(updated["starts_at"], starts);
    // Fields left out of a full replace take their defaults again.
    assert_eq!(updated["description"], serde_json::Value::Null);
    assert_eq!(updated["category"], serde_json::Value::Null);
    assert_eq!(updated["timezone"], "UTC");
    assert_eq!(updated["waitlist_enabled"], true);
    assert_eq!(updated["created_at"], event["created_at"]);
    assert_eq!(app.get(&path, None).await.ok(200), updated);
    app.put(&path, Some(&alice.token), json!({"title": "Only a title"})).await.problem(400);
}

#[tokio::test]
async fn patch_changes_only_what_it_names() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let event = app.event(&alice, json!({"ends_at": days_from_now(8)})).await;
    let path = format!("/events/{}", event["id"].as_str().unwrap());
    let reply = app
        .patch(&path, Some(&alice.token), json!({"capacity": 99, "category": null, "ends_at": null}))
        .await;
    let updated = reply.ok(200);
    assert_eq!(updated["capacity"], 99);
    assert_eq!(updated["category"], serde_json::Value::Null);
    assert_eq!(updated["ends_at"], serde_json::Value::Null);
    assert_eq!(updated["title"], event["title"]);
    assert_eq!(updated["starts_at"], event["starts_at"]);
    // A patch is checked against the stored fields: an end before the stored start is refused.
    let reply = app.patch(&path, Some(&alice.token), json!({"ends_at": "2020-01-01T00:00:00Z"})).await;
    assert!(reply.problem(400)["errors"]["ends_at"].is_array());
    // A refused new start is the only complaint: the end is not judged against the old start.
    let body = json!({"starts_at": "soon", "ends_at": "2020-01-01T00:00:00Z", "title": ""});
    let errors = app.patch(&path, Some(&alice.token), body).await.problem(400)["errors"].clone();
    assert_eq!(errors.as_object().unwrap().keys().collect::<Vec<_>>(), ["starts_at", "title"], "{errors}");
    app.patch(&path, Some(&alice.token), json!({"title": null})).await.problem(400);
    app.patch(&path, Some(&alice.token), json!({"starts_at": "2001-01-01T00:00:00Z"})).await.problem(400);
    app.patch(&path, Some(&alice.token), json!({"confirmed_count": 0})).await.problem(400);
    assert_eq!(app.get(&path, None).await.ok(200)["capacity"], 99);
}

#[tokio::test]
async fn only_the_organizer_or_an_admin_changes_an_event() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let admin = app.admin("root").await;
    let event = app.event(&alice, json!({})).await;
    let path = format!("/events/{}", event["id"].as_str().unwrap());
    app.patch(&path, Some(&bob.token), json!({"title": "Mine now"})).await.problem(403);
    app.put(&path, Some(&bob.token), event_body(json!({}))).await.problem(403);
    app.delete(&path, Some(&bob.token)).await.problem(403);
    app.patch(&path, None, json!({"title": "Anonymous"})).await.problem(401);
    assert_eq!(app.get(&path, None).await.ok(200)["title"], event["title"]);
    app.patch(&path, Some(&admin.token), json!({"title": "Moderated"})).await.ok(200);
    assert_eq!(app.delete(&path, Some(&admin.token)).await.status, 204);
    app.get(&path, None).await.problem(404);
    app.delete(&path, Some(&alice.token)).await.problem(404);
    app.patch(&path, Some(&alice.token), json!({"title": "Ghost"})).await.problem(404);
}

#[tokio::test]
async fn concurrent_patches_each_apply_once() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let event = app.event(&alice, json!({})).await;
    let path = format!("/events/{}", event["id"].as_str().unwrap());
    let patches = [
        json!({"title": "A"}),
        json!({"location": "B"}),
        json!({"capacity": 33}),
        json!({"description": "D"}),
    ];
    let replies =
        futures::future::join_all(patches.iter().map(|p| app.patch(&path, Some(&alice.token), p.clone())))
            .await;
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 409));
    let stored = app.get(&path, None).await.ok(200).clone();
    for (patch, reply) in patches.iter().zip(&replies) {
        if reply.status == 200 {
            let (field, value) = patch.as_object().unwrap().iter().next().unwrap();
            assert_eq!(&stored[field], value, "a successful patch of {field} was lost");
        }
    }
}

#[tokio::test]
async fn categories_are_listed_and_enforced() {
    let app = spawn_app().await;
    let reply = app.get("/categories", None).await;
    let categories = reply.ok(200).as_array().unwrap().clone();
    assert!(categories.iter().any(|c| c == &json!({"slug": "workshop", "name": "Workshop"})));
    let alice = app.user("alice").await;
    for c in &categories {
        let slug = c["slug"].as_str().unwrap();
        let created = app.post("/events", Some(&alice.token), event_body(json!({"category": slug}))).await;
        assert_eq!(created.ok(201)["category"], slug);
    }
}

/// A deletion cut short right after it was committed (the process gone before any clean-up):
/// what `begin_event_deletion` alone leaves.
async fn half_deleted(
    app: &api_tests::TestApp,
    organizer: &api_tests::TestUser,
) -> (String, Vec<api_tests::TestUser>) {
    let event = app.event(organizer, json!({"capacity": 2, "waitlist_enabled": true})).await;
    let id = event["id"].as_str().unwrap().to_owned();
    let people = app.crowd(&format!("p{}", &id[20..]), 3).await;
    for person in &people {
        app.post(format!("/events/{id}/registrations"), Some(&person.token), json!({})).await.ok(201);
    }
    let stored = shared::domain::Id::parse(&id).unwrap();
    let begun = app.state.store.begin_event_deletion(stored).await.unwrap().expect("the event");
    assert!(begun.deleting);
    (id, people)
}

#[tokio::test]
async fn a_deletion_cut_short_is_finished_by_deleting_again_or_by_the_scheduled_run() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let stranger = app.user("stranger").await;

    // Committed: the event is gone for everyone, and nobody can register any more.
    let (first, people) = half_deleted(&app, &organizer).await;
    app.get(format!("/events/{first}"), None).await.problem(404);
    let late = app.crowd("late", 1).await;
    app.post(format!("/events/{first}/registrations"), Some(&late[0].token), json!({})).await.problem(404);
    assert!(app.stored(&first).await.items > 0, "the clean-up has not run");

    // Only the organizer (or an admin) may finish it; doing so removes everything, and tells
    // each registrant once.
    app.delete(format!("/events/{first}"), Some(&stranger.token)).await.problem(403);
    app.delete(format!("/events/{first}"), Some(&organizer.token)).await.ok(204);
    assert_eq!(app.stored(&first).await.items, 0);
    app.delete(format!("/events/{first}"), Some(&organizer.token)).await.problem(404);
    for person in &people {
        let notices = app.notifications(person).await;
        let cancelled =
            notices.iter().filter(|n| n["kind"] == "event_deleted" && n["event_id"] == first.as_str());
        assert_eq!(cancelled.count(), 1, "{notices:?}");
    }

    // Left alone, the scheduled run finishes it.
    let (second, people) = half_deleted(&app, &organizer).await;
    let pending = app.state.store.pending_event_deletions().await.unwrap();
    assert_eq!(pending.len(), 1);
    let summary =
        reminders::run(&app.state.store, shared::domain::Instant::now(), std::time::Duration::from_secs(30))
            .await
            .unwrap();
    assert!(summary.cleanups_finished >= 1, "{summary:?}");
    assert_eq!(app.stored(&second).await.items, 0);
    assert!(app.state.store.pending_event_deletions().await.unwrap().is_empty());
    for person in &people {
        let notices = app.notifications(person).await;
        assert_eq!(notices.iter().filter(|n| n["event_id"] == second.as_str()).count(), 1, "{notices:?}");
    }
}

#[tokio::test]
async fn an_edit_whose_follow_up_was_cut_short_is_finished_by_the_scheduled_run() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let event = app.event(&organizer, json!({"capacity": 1, "waitlist_enabled": true})).await;
    let id = event["id"].as_str().unwrap().to_owned();
    let people = app.crowd("p", 3).await;
    for person in &people {
        app.post(format!("/events/{id}/registrations"), Some(&person.token), json!({})).await.ok(201);
    }
    // The edit saved (two more seats), and the process gone before its follow-up.
    let store = &app.state.store;
    let current = store.find_event(shared::domain::Id::parse(&id).unwrap()).await.unwrap().unwrap();
    let mut next = current.clone();
    next.capacity = 3;
    next.version += 1;
    let pending = store.save_event_edit(&current, &next).await.unwrap().expect("saved");
    assert_eq!(store.pending_edits().await.unwrap(), std::slice::from_ref(&pending));
    let waiting = app.get(format!("/events/{id}/registrations/me"), Some(&people[2].token)).await;
    assert_eq!(waiting.ok(200)["status"], "waitlisted", "not promoted yet");
    assert!(app.notifications(&people[0]).await.is_empty());

    let summary = reminders::run(store, shared::domain::Instant::now(), std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert!(summary.cleanups_finished >= 1, "{summary:?}");
    assert!(store.pending_edits().await.unwrap().is_empty());
    for person in &people[1..] {
        let mine = app.get(format!("/events/{id}/registrations/me"), Some(&person.token)).await;
        assert_eq!(mine.ok(200)["status"], "confirmed", "promoted into the seats added");
    }
    app.assert_invariants(&id).await;
    // Finishing it again (a second run, or the request and the run both) tells nobody twice.
    store.finish_edit(&pending).await.unwrap();
    for person in &people {
        let changed =
            app.notifications(person).await.into_iter().filter(|n| n["kind"] == "event_changed").count();
        assert_eq!(changed, 1, "{}", person.username);
    }
}
