//! An event's team: the organizer adds co-hosts and door staff, each role may exactly what it
//! should, and a member taken off is refused at once.

use api_tests::{TestApp, TestUser, spawn_app};
use serde_json::json;

async fn join(app: &TestApp, event: &str, organizer: &TestUser, who: &TestUser, role: &str) {
    let path = format!("/events/{event}/team/{}", who.username);
    app.put(&path, Some(&organizer.token), json!({"role": role})).await.ok(201);
}

#[tokio::test]
async fn the_organizer_adds_changes_lists_and_removes_members() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let event = app.event(&organizer, json!({})).await["id"].as_str().unwrap().to_owned();
    let member = |name: &str| format!("/events/{event}/team/{name}");

    let added = app.put(member("Bob"), Some(&organizer.token), json!({"role": "cohost"})).await;
    let body = added.ok(201).clone();
    assert_eq!(added.header("location"), Some(member("bob").as_str()));
    assert_eq!(body["user"], json!({"id": bob.id, "username": "bob"}));
    assert_eq!(body["role"], "cohost");
    let changed = app.put(member("bob"), Some(&organizer.token), json!({"role": "door"})).await;
    assert_eq!(changed.ok(200)["role"], "door");
    assert_eq!(changed.body["added_at"], body["added_at"], "a new role keeps the member's start");
    join(&app, &event, &organizer, &carol, "cohost").await;

    let team = app.get(format!("/events/{event}/team"), Some(&organizer.token)).await;
    let results = team.ok(200)["results"].as_array().unwrap().clone();
    let mut roles: Vec<_> =
        results.iter().map(|m| (m["user"]["username"].clone(), m["role"].clone())).collect();
    roles.sort_by_key(|(name, _)| name.to_string());
    assert_eq!(roles, [(json!("bob"), json!("door")), (json!("carol"), json!("cohost"))]);
    assert_eq!(team.body["next_cursor"], serde_json::Value::Null);
    let page = app.get(format!("/events/{event}/team?limit=1"), Some(&organizer.token)).await;
    assert!(page.ok(200)["next_cursor"].is_string());

    app.delete(member("bob"), Some(&organizer.token)).await.ok(204);
    app.delete(member("bob"), Some(&organizer.token)).await.problem(404);
    app.delete(member("nobody"), Some(&organizer.token)).await.problem(404);
    let left = app.get(format!("/events/{event}/team"), Some(&organizer.token)).await;
    assert_eq!(left.ok(200)["results"].as_array().unwrap().len(), 1);

    // Refusals: an unknown user, a role that is not one, the organizer themselves, no event.
    app.put(member("nobody"), Some(&organizer.token), json!({"role": "door"})).await.problem(404);
    // A name no user can have (here longer than any key DynamoDB takes) is nobody, not an error.
    let long = "a".repeat(3000);
    app.put(member(&long), Some(&organizer.token), json!({"role": "door"})).await.problem(404);
    app.delete(member(&long), Some(&organizer.token)).await.problem(404);
    for bad in
        [json!({"role": "admin"}), json!({"role": "Cohost"}), json!({}), json!({"role": "door", "x": 1})]
    {
        let reply = app.put(member("bob"), Some(&organizer.token), bad).await;
        reply.problem(400);
    }
    let own = app.put(member("org"), Some(&organizer.token), json!({"role": "door"})).await;
    assert!(own.problem(409)["type"].as_str().unwrap().ends_with("/organizer-on-team"));
    app.put("/events/01JQ8Z4B2C3D4E5F6G7H8J9K0M/team/bob", Some(&organizer.token), json!({"role": "door"}))
        .await
        .problem(404);
    app.put(member("bob"), None, json!({"role": "door"})).await.problem(401);

    // Deleting the event takes its team with it.
    app.delete(format!("/events/{event}"), Some(&organizer.token)).await.ok(204);
    app.put(member("bob"), Some(&organizer.token), json!({"role": "door"})).await.problem(404);
    let stored = app
        .state
        .store
        .team_role(shared::domain::Id::parse(&event).unwrap(), shared::domain::Id::parse(&carol.id).unwrap())
        .await
        .unwrap();
    assert_eq!(stored, None);
}

#[tokio::test]
async fn each_role_may_exactly_what_it_allows() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let cohost = app.user("cohost").await;
    let door = app.user("door").await;
    let stranger = app.user("stranger").await;
    let admin = app.admin("boss").await;
    let event = app.event(&organizer, json!({})).await["id"].as_str().unwrap().to_owned();
    join(&app, &event, &organizer, &cohost, "cohost").await;
    join(&app, &event, &organizer, &door, "door").await;
    let event_path = format!("/events/{event}");
    let team_path = format!("/events/{event}/team");
    let registrations = format!("/events/{event}/registrations");

    // The attendee list: the whole team and admins, nobody else.
    for who in [&organizer, &cohost, &door, &admin] {
        app.get(&registrations, Some(&who.token)).await.ok(200);
    }
    app.get(&registrations, Some(&stranger.token)).await.problem(403);

    // Editing: organizer, co-host and admin.
    for (who, title) in [(&organizer, "By org"), (&cohost, "By cohost"), (&admin, "By admin")] {
        let reply = app.patch(&event_path, Some(&who.token), json!({"title": title})).await;
        assert_eq!(reply.ok(200)["title"], title);
    }
    for who in [&door, &stranger] {
        app.patch(&event_path, Some(&who.token), json!({"title": "No"})).await.problem(403);
        app.put(&event_path, Some(&who.token), api_tests::event_body(json!({}))).await.problem(403);
    }

    // The team: organizer and admin only.
    app.get(&team_path, Some(&admin.token)).await.ok(200);
    for who in [&cohost, &door, &stranger] {
        app.get(&team_path, Some(&who.token)).await.problem(403);
        let path = format!("{team_path}/stranger");
        app.put(&path, Some(&who.token), json!({"role": "door"})).await.problem(403);
        app.delete(format!("{team_path}/door"), Some(&who.token)).await.problem(403);
    }

    // Deleting: organizer and admin only.
    for who in [&cohost, &door, &stranger] {
        app.delete(&event_path, Some(&who.token)).await.problem(403);
    }
    app.delete(&event_path, Some(&admin.token)).await.ok(204);
}

#[tokio::test]
async fn a_member_taken_off_the_team_is_refused_at_once() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let cohost = app.user("cohost").await;
    let event = app.event(&organizer, json!({})).await["id"].as_str().unwrap().to_owned();
    join(&app, &event, &organizer, &cohost, "cohost").await;
    let event_path = format!("/events/{event}");
    app.patch(&event_path, Some(&cohost.token), json!({"title": "Mine too"})).await.ok(200);
    app.get(format!("{event_path}/registrations"), Some(&cohost.token)).await.ok(200);

    app.delete(format!("{event_path}/team/cohost"), Some(&organizer.token)).await.ok(204);
    app.patch(&event_path, Some(&cohost.token), json!({"title": "Not any more"})).await.problem(403);
    app.get(format!("{event_path}/registrations"), Some(&cohost.token)).await.problem(403);

    // Demoted to the door: no more editing, still the list.
    join(&app, &event, &organizer, &cohost, "door").await;
    app.patch(&event_path, Some(&cohost.token), json!({"title": "No"})).await.problem(403);
    app.get(format!("{event_path}/registrations"), Some(&cohost.token)).await.ok(200);
}

#[tokio::test]
async fn a_deleted_account_leaves_every_team_it_was_on() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let helper = app.user("helper").await;
    let mut events = Vec::new();
    for role in ["cohost", "door"] {
        let event = app.event(&organizer, json!({})).await["id"].as_str().unwrap().to_owned();
        join(&app, &event, &organizer, &helper, role).await;
        events.push(event);
    }
    app.delete(format!("/users/{}", helper.id), Some(&helper.token)).await.ok(204);
    let helper_id = shared::domain::Id::parse(&helper.id).unwrap();
    for event in &events {
        let id = shared::domain::Id::parse(event).unwrap();
        assert_eq!(app.state.store.team_role(id, helper_id).await.unwrap(), None, "{event}");
        let team = app.get(format!("/events/{event}/team"), Some(&organizer.token)).await;
        assert!(team.ok(200)["results"].as_array().unwrap().is_empty());
    }
}
