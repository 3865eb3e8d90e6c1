//! Recurring events: validation, occurrences across DST, listing, and deleting what is ahead.

use api_tests::{event_body, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn a_weekly_series_keeps_local_time_across_dst() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let body = event_body(json!({
        "starts_at": "2031-03-18T18:00:00Z",
        "ends_at": "2031-03-18T20:00:00Z",
        "timezone": "Europe/Lisbon",
        "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=4"},
        "capacity": 5,
    }));
    let reply = app.post("/events", Some(&organizer.token), body).await;
    let first = reply.ok(201).clone();
    let series = first["series_id"].as_str().unwrap().to_owned();
    assert_eq!(reply.header("link"), Some(format!("</series/{series}>; rel=\"series\"").as_str()));
    let listed = app.get(format!("/series/{series}"), None).await;
    let occurrences = listed.ok(200)["results"].as_array().unwrap().clone();
    let starts: Vec<&str> = occurrences.iter().map(|o| o["starts_at"].as_str().unwrap()).collect();
    // Lisbon moves to summer time on the last Sunday of March 2031 (the 30th).
    assert_eq!(
        starts,
        ["2031-03-18T18:00:00Z", "2031-03-25T18:00:00Z", "2031-04-01T17:00:00Z", "2031-04-08T17:00:00Z"]
    );
    let ends: Vec<&str> = occurrences.iter().map(|o| o["ends_at"].as_str().unwrap()).collect();
    assert_eq!(ends[2], "2031-04-01T19:00:00Z");
    assert!(occurrences.iter().all(|o| o["series_id"] == series.as_str() && o["capacity"] == 5));
    assert_eq!(occurrences[0]["id"], first["id"]);

    // Each occurrence is its own event.
    let second = occurrences[1]["id"].as_str().unwrap();
    app.patch(format!("/events/{second}"), Some(&organizer.token), json!({"title": "Special"})).await.ok(200);
    let again = app.get(format!("/series/{series}?limit=2"), None).await;
    let titles: Vec<&str> =
        again.body["results"].as_array().unwrap().iter().map(|o| o["title"].as_str().unwrap()).collect();
    assert_eq!(titles, [first["title"].as_str().unwrap(), "Special"]);
    assert!(again.body["next_cursor"].is_string());
}

#[tokio::test]
async fn bad_rules_are_400s_and_create_nothing() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    for recurrence in [
        json!({"rrule": "FREQ=YEARLY;COUNT=3"}),
        json!({"rrule": "FREQ=DAILY"}),
        json!({"rrule": "FREQ=DAILY;COUNT=101"}),
        json!({"rrule": "FREQ=MONTHLY;COUNT=30"}),
        json!({"rrule": "FREQ=WEEKLY;COUNT=3;BYSETPOS=1"}),
        json!({"rrule": 5}),
        json!({"rule": "FREQ=DAILY;COUNT=2"}),
        json!("FREQ=DAILY;COUNT=2"),
    ] {
        let reply =
            app.post("/events", Some(&organizer.token), event_body(json!({"recurrence": recurrence}))).await;
        assert!(reply.problem(400)["errors"]["recurrence"].is_array(), "{recurrence}");
    }
    // Occurrences that would fall after 9999-12-31 cannot be stored as datetimes.
    let at_the_end = event_body(json!({
        "starts_at": "9999-12-30T10:00:00Z",
        "recurrence": {"rrule": "FREQ=DAILY;COUNT=3"},
    }));
    let reply = app.post("/events", Some(&organizer.token), at_the_end).await;
    assert!(reply.problem(400)["errors"]["recurrence"].is_array());
    // Nor occurrences that would end after it.
    let ending_after = event_body(json!({
        "starts_at": "9999-12-30T10:00:00Z",
        "ends_at": "9999-12-31T10:00:00Z",
        "recurrence": {"rrule": "FREQ=DAILY;COUNT=2"},
    }));
    let reply = app.post("/events", Some(&organizer.token), ending_after).await;
    assert!(reply.problem(400)["errors"]["recurrence"].is_array());
    let scan = app.state.store.client().scan().table_name(&app.table).send().await.unwrap();
    assert!(scan.items().iter().all(|i| i["type"].as_s().unwrap() != "event"));
    // A recurrence is only for creating.
    let event = app.event(&organizer, json!({})).await;
    let put = app
        .put(
            format!("/events/{}", event["id"].as_str().unwrap()),
            Some(&organizer.token),
            event_body(json!({"recurrence": {"rrule": "FREQ=DAILY;COUNT=2"}})),
        )
        .await;
    put.problem(400);
}

#[tokio::test]
async fn deleting_a_series_removes_only_what_has_not_started() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let other = app.user("other").await;
    let body = event_body(json!({"recurrence": {"rrule": "FREQ=DAILY;COUNT=5"}}));
    let first = app.post("/events", Some(&organizer.token), body).await.ok(201).clone();
    let series = first["series_id"].as_str().unwrap().to_owned();
    app.move_start(first["id"].as_str().unwrap(), "2020-01-01T00:00:00Z").await;
    app.delete(format!("/series/{series}"), Some(&other.token)).await.problem(403);
    app.delete(format!("/series/{series}"), None).await.problem(401);
    assert_eq!(app.delete(format!("/series/{series}"), Some(&organizer.token)).await.status, 204);
    let left = app.get(format!("/series/{series}"), None).await;
    let ids: Vec<Value> =
        left.ok(200)["results"].as_array().unwrap().iter().map(|o| o["id"].clone()).collect();
    assert_eq!(ids, vec![first["id"].clone()]);
    app.get(format!("/series/{}", ulid::Ulid::new()), None).await.problem(404);
    app.delete(format!("/series/{}", ulid::Ulid::new()), Some(&organizer.token)).await.problem(404);
}
