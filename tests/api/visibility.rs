//! Unlisted events: in no public list, yet read and registered for by anyone with the id, and
//! switched either way.

use api_tests::{TestApp, spawn_app};
use serde_json::{Value, json};

/// The ids every page of `query` on `/events/upcoming` lists, followed to the last page.
async fn upcoming_ids(app: &TestApp, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = format!("/events/upcoming?limit=2{query}");
    loop {
        let page = app.get(&path, None).await.ok(200).clone();
        ids.extend(page["results"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/events/upcoming?limit=2{query}&cursor={cursor}"),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn unlisted_events_are_in_no_upcoming_page_but_open_to_anyone_with_the_id() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let guest = app.user("guest").await;
    let listed = app.event(&organizer, json!({"title": "Open day"})).await;
    let hidden = app.event(&organizer, json!({"title": "Open secret", "visibility": "unlisted"})).await;
    assert_eq!(
        (listed["visibility"].clone(), hidden["visibility"].clone()),
        (json!("public"), json!("unlisted"))
    );
    let (listed_id, hidden_id) = (listed["id"].as_str().unwrap(), hidden["id"].as_str().unwrap());
    let queries = ["", "&category=meetup", "&title=open", "&location=lisbon"];
    for query in queries {
        let ids = upcoming_ids(&app, query).await;
        assert!(ids.contains(&listed_id.to_owned()), "{query}: {ids:?}");
        assert!(!ids.contains(&hidden_id.to_owned()), "{query}: {ids:?}");
    }
    // Anyone with the id reads it and registers.
    assert_eq!(app.get(format!("/events/{hidden_id}"), None).await.ok(200)["title"], "Open secret");
    let registered =
        app.post(format!("/events/{hidden_id}/registrations"), Some(&guest.token), json!({})).await;
    assert_eq!(registered.ok(201)["status"], "confirmed");

    // Listed, then unlisted again.
    let path = format!("/events/{hidden_id}");
    let public = app.patch(&path, Some(&organizer.token), json!({"visibility": "public"})).await;
    assert_eq!(public.ok(200)["visibility"], "public");
    for query in queries {
        assert!(upcoming_ids(&app, query).await.contains(&hidden_id.to_owned()), "{query}");
    }
    app.patch(&path, Some(&organizer.token), json!({"visibility": "unlisted"})).await.ok(200);
    for query in queries {
        assert!(!upcoming_ids(&app, query).await.contains(&hidden_id.to_owned()), "{query}");
    }
    // `null` is the default, public; anything else is refused.
    let reset = app.patch(&path, Some(&organizer.token), json!({"visibility": null})).await;
    assert_eq!(reset.ok(200)["visibility"], "public");
    for bad in [json!("private"), json!("Unlisted"), json!(true)] {
        let reply = app.patch(&path, Some(&organizer.token), json!({"visibility": bad})).await;
        assert!(reply.problem(400)["errors"]["visibility"].is_array());
    }
    let replaced = app
        .put(&path, Some(&organizer.token), api_tests::event_body(json!({"visibility": "unlisted"})))
        .await;
    assert_eq!(replaced.ok(200)["visibility"], "unlisted");
    let defaulted = app.put(&path, Some(&organizer.token), api_tests::event_body(json!({}))).await;
    assert_eq!(defaulted.ok(200)["visibility"], Value::from("public"), "a full replace without it is public");
}

#[tokio::test]
async fn a_series_lists_only_its_public_occurrences() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let first = app.event(&organizer, json!({"recurrence": {"rrule": "FREQ=WEEKLY;COUNT=3"}})).await;
    let series = first["series_id"].as_str().unwrap().to_owned();
    let ids = |page: &Value| -> Vec<String> {
        page["results"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
    };
    let listed = app.get(format!("/series/{series}"), None).await.ok(200).clone();
    assert_eq!(ids(&listed).len(), 3);
    let hidden = ids(&listed)[1].clone();
    app.patch(format!("/events/{hidden}"), Some(&organizer.token), json!({"visibility": "unlisted"}))
        .await
        .ok(200);
    let after = app.get(format!("/series/{series}"), None).await.ok(200).clone();
    assert_eq!(ids(&after).len(), 2);
    assert!(!ids(&after).contains(&hidden));
    // Still there for anyone with its id.
    app.get(format!("/events/{hidden}"), None).await.ok(200);
}
