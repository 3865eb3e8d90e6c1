//! Every list pages the same way: full pages until the last, and the last one, full or not,
//! says it is the last (`next_cursor: null`) rather than leading to an empty page.

use api_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

/// Walks `path` (which already has a query string) `limit` items at a time and returns the
/// size of each page, checking that only the last has no cursor.
async fn page_sizes(app: &TestApp, path: &str, token: Option<&str>, limit: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut next = format!("{path}&limit={limit}");
    for _ in 0..100 {
        let reply = app.get(&next, token).await;
        let body = reply.ok(200);
        sizes.push(body["results"].as_array().expect("results").len());
        match body["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}&limit={limit}&cursor={cursor}"),
            None => return sizes,
        }
    }
    panic!("{path}: pagination did not end");
}

/// `total` items in pages of `limit`: as many full pages as fit, then the rest, if any.
fn expected_sizes(total: usize, limit: usize) -> Vec<usize> {
    let mut sizes = vec![limit; total / limit];
    if !total.is_multiple_of(limit) || total == 0 {
        sizes.push(total % limit);
    }
    sizes
}

#[tokio::test]
async fn a_full_last_page_is_the_last() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let organizer = app.user("org").await;
    let crowd = app.crowd("fan", 3).await;
    let event = app.event(&organizer, json!({"capacity": 2})).await;
    let id = event["id"].as_str().unwrap();
    for fan in &crowd {
        app.post(format!("/events/{id}/registrations"), Some(&fan.token), json!({})).await;
    }
    // Three notices for the first fan: a change, then the other two events' cancellations.
    let series = app
        .post(
            "/events",
            Some(&organizer.token),
            api_tests::event_body(json!({"recurrence": {"rrule": "FREQ=DAILY;COUNT=4"}})),
        )
        .await;
    let series_id = series.ok(201)["series_id"].as_str().unwrap().to_owned();
    let mut others: Vec<Value> = Vec::new();
    for _ in 0..2 {
        let other = app.event(&organizer, json!({})).await;
        app.post(
            format!("/events/{}/registrations", other["id"].as_str().unwrap()),
            Some(&crowd[0].token),
            json!({}),
        )
        .await;
        others.push(other);
    }
    app.patch(format!("/events/{id}"), Some(&organizer.token), json!({"location": "Porto"})).await.ok(200);
    for other in &others {
        app.delete(format!("/events/{}", other["id"].as_str().unwrap()), Some(&organizer.token)).await;
    }

    let lists: Vec<(String, Option<&str>, usize)> = vec![
        ("/users?x=1".into(), Some(&admin.token), 5),
        (format!("/events/{id}/registrations?x=1"), Some(&organizer.token), 3),
        ("/users/me/registrations?x=1".into(), Some(&crowd[0].token), 1),
        ("/users/me/notifications?x=1".into(), Some(&crowd[0].token), 3),
        (format!("/series/{series_id}?x=1"), None, 4),
        ("/events/upcoming?x=1".into(), None, 5),
    ];
    for (path, token, total) in lists {
        for limit in [1, 2, 3, total] {
            assert_eq!(
                page_sizes(&app, &path, token, limit).await,
                expected_sizes(total, limit),
                "{path} in pages of {limit}"
            );
        }
    }
}
