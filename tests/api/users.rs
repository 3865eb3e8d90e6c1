//! `/users`: sign-up, profiles, the admin list, edits and deletion.

use std::time::Duration;

use api_tests::{PASSWORD, spawn_app};
use serde_json::{Value, json};
use shared::domain::{Id, Instant, Role};
use shared::store::INDEX_SETTLE_SECONDS;
use shared::store::users::{UpdateRefused, UserChanges};

#[tokio::test]
async fn sign_up_returns_the_user_without_secrets() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/users",
            None,
            json!({"username": "Alice", "email": "Alice@Example.com", "password": PASSWORD}),
        )
        .await;
    let body = reply.ok(201);
    let id = body["id"].as_str().unwrap();
    assert_eq!(reply.header("location"), Some(format!("/users/{id}").as_str()));
    assert_eq!(body["username"], "Alice");
    assert_eq!(body["email"], "Alice@Example.com");
    assert_eq!(body["role"], "user");
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(!reply.text.contains(PASSWORD));
    assert!(!reply.text.contains("argon2"));
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
}

#[tokio::test]
async fn username_and_email_are_unique_ignoring_case() {
    let app = spawn_app().await;
    app.user("alice").await;
    let same_name = app
        .post(
            "/users",
            None,
            json!({"username": "ALICE", "email": "other@example.com", "password": PASSWORD}),
        )
        .await;
    assert!(same_name.problem(409)["detail"].as_str().unwrap().contains("username"));
    let same_email = app
        .post("/users", None, json!({"username": "bob", "email": "ALICE@example.COM", "password": PASSWORD}))
        .await;
    assert!(same_email.problem(409)["detail"].as_str().unwrap().contains("email"));
    // The refused sign-ups left nothing behind: the free name and address are still free.
    let bob = app
        .post("/users", None, json!({"username": "bob", "email": "other@example.com", "password": PASSWORD}))
        .await;
    bob.ok(201);
}

#[tokio::test]
async fn concurrent_sign_ups_for_one_name_create_one_user() {
    let app = spawn_app().await;
    let attempts = (0..12).map(|i| {
        app.post(
            "/users",
            None,
            json!({"username": if i % 2 == 0 { "carol" } else { "CAROL" }, "email": format!("carol{i}@example.com"), "password": PASSWORD}),
        )
    });
    let replies = futures::future::join_all(attempts).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!((created, conflicts), (1, 11));
}

#[tokio::test]
async fn sign_up_validates_every_field() {
    let app = spawn_app().await;
    let reply = app
        .post("/users", None, json!({"username": "ab", "email": "not-an-email", "password": "short"}))
        .await;
    let errors = &reply.problem(400)["errors"];
    for field in ["username", "email", "password"] {
        assert!(errors[field].is_array(), "{field} should be reported: {errors}");
    }
    let reply = app.post("/users", None, json!({})).await;
    let errors = &reply.problem(400)["errors"];
    assert_eq!(errors["username"][0], "is required");
    for bad_name in ["has space", "émile", &"x".repeat(31)] {
        let reply = app
            .post(
                "/users",
                None,
                json!({"username": bad_name, "email": "x@example.com", "password": PASSWORD}),
            )
            .await;
        assert!(reply.problem(400)["errors"]["username"].is_array());
    }
}

#[tokio::test]
async fn nobody_can_sign_up_as_admin() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/users",
            None,
            json!({"username": "mallory", "email": "m@example.com", "password": PASSWORD, "role": "admin"}),
        )
        .await;
    assert_eq!(reply.problem(400)["errors"]["role"][0], "is not a known field");
    let reply = app.post("/auth/token", None, json!({"username": "mallory", "password": PASSWORD})).await;
    reply.problem(401);
}

#[tokio::test]
async fn me_shows_the_caller() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let reply = app.get("/users/me", Some(&alice.token)).await;
    let body = reply.ok(200);
    assert_eq!(body["id"], alice.id.as_str());
    assert_eq!(body["email"], "alice@example.com");
    app.get("/users/me", None).await.problem(401);
}

#[tokio::test]
async fn email_is_shown_only_to_self_and_admins() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let admin = app.admin("root").await;
    let path = format!("/users/{}", alice.id);
    let as_bob = app.get(&path, Some(&bob.token)).await;
    assert_eq!(as_bob.ok(200)["username"], "alice");
    assert!(as_bob.body.get("email").is_none());
    assert_eq!(app.get(&path, Some(&alice.token)).await.ok(200)["email"], "alice@example.com");
    assert_eq!(app.get(&path, Some(&admin.token)).await.ok(200)["email"], "alice@example.com");
    app.get(&path, None).await.problem(401);
}

#[tokio::test]
async fn unknown_and_malformed_user_ids_are_404() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.get(&format!("/users/{}", ulid::Ulid::new()), Some(&alice.token)).await.problem(404);
    app.get("/users/not-an-id", Some(&alice.token)).await.problem(404);
    app.get("/users/%27%20OR%201=1", Some(&alice.token)).await.problem(404);
}

#[tokio::test]
async fn only_admins_list_users_page_by_page() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let mut expected = vec![admin.id.clone()];
    for i in 0..4 {
        expected.push(app.user(&format!("user{i}")).await.id);
    }
    let alice = app.user("alice").await;
    expected.push(alice.id.clone());
    app.get("/users", Some(&alice.token)).await.problem(403);
    app.get("/users", None).await.problem(401);

    let mut seen = Vec::new();
    let mut path = "/users?limit=2".to_owned();
    loop {
        let reply = app.get(&path, Some(&admin.token)).await;
        let body = reply.ok(200);
        let results = body["results"].as_array().unwrap();
        assert!(results.len() <= 2);
        seen.extend(results.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        assert!(results.iter().all(|u| u["email"].is_string()));
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/users?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    app.get("/users?limit=0", Some(&admin.token)).await.problem(400);
    app.get("/users?limit=101", Some(&admin.token)).await.problem(400);
    app.get("/users?cursor=garbage", Some(&admin.token)).await.problem(400);
}

#[tokio::test]
async fn users_change_their_own_name_and_email() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let path = format!("/users/{}", alice.id);
    let reply = app.patch(&path, Some(&alice.token), json!({"username": "alicia"})).await;
    assert_eq!(reply.ok(200)["username"], "alicia");
    // The old name is free again and the new one is taken.
    app.log_in("alicia", api_tests::PASSWORD).await.ok(200);
    app.log_in("alice", api_tests::PASSWORD).await.problem(401);
    app.patch(&path, Some(&alice.token), json!({"username": "BOB"})).await.problem(409);
    app.patch(&path, Some(&alice.token), json!({"email": "Bob@example.com"})).await.problem(409);

    let reply =
        app.put(&path, Some(&alice.token), json!({"username": "alice", "email": "new@example.com"})).await;
    assert_eq!(reply.ok(200)["email"], "new@example.com");
    app.put(&path, Some(&alice.token), json!({"username": "alice"})).await.problem(400);
    app.patch(&path, Some(&bob.token), json!({"username": "stolen"})).await.problem(403);
    app.patch(&path, Some(&alice.token), json!({"role": "admin"})).await.problem(400);
    assert_eq!(app.get("/users/me", Some(&alice.token)).await.ok(200)["role"], "user");
}

#[tokio::test]
async fn a_rename_shows_on_organised_events() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let event = app.event(&alice, json!({})).await;
    app.patch(&format!("/users/{}", alice.id), Some(&alice.token), json!({"username": "alicia"}))
        .await
        .ok(200);
    let reply = app.get(&format!("/events/{}", event["id"].as_str().unwrap()), None).await;
    assert_eq!(reply.ok(200)["organizer"]["username"], "alicia");
}

#[tokio::test]
async fn concurrent_renames_leave_the_final_name_on_every_event() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut events = Vec::new();
    for _ in 0..12 {
        events.push(app.event(&alice, json!({})).await["id"].as_str().unwrap().to_owned());
    }
    let path = format!("/users/{}", alice.id);
    let renames = (0..6).map(|i| {
        let (app, path, token) = (&app, &path, &alice.token);
        async move { app.patch(path, Some(token), json!({"username": format!("alice{i}")})).await }
    });
    for reply in futures::future::join_all(renames).await {
        assert!(matches!(reply.status.as_u16(), 200 | 409), "{}: {}", reply.status, reply.body);
    }
    let name = app.get("/users/me", Some(&alice.token)).await.ok(200)["username"].clone();
    for id in &events {
        let event = app.get(&format!("/events/{id}"), None).await;
        assert_eq!(event.ok(200)["organizer"]["username"], name, "event {id}");
    }
}

#[tokio::test]
async fn a_slow_copy_of_an_older_rename_does_not_leave_its_name_behind() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let events: Vec<String> = futures::future::join_all((0..5).map(|_| app.event(&alice, json!({}))))
        .await
        .iter()
        .map(|event| event["id"].as_str().unwrap().to_owned())
        .collect();
    let store = &app.state.store;
    let rename = |name: &str| UserChanges { username: Some(name.to_owned()), ..UserChanges::default() };
    let first = store.find_user(Id::parse(&alice.id).unwrap()).await.unwrap().unwrap();
    let older = store.update_user(&first, rename("alicia"), Instant::now()).await.unwrap().unwrap();
    let newer = store.update_user(&older, rename("ally"), Instant::now()).await.unwrap().unwrap();
    // The newer rename's copy finishes first; the older one's, slower, ends last.
    store.propagate_username(&newer).await.unwrap();
    store.propagate_username(&older).await.unwrap();
    for id in &events {
        let event = app.get(&format!("/events/{id}"), None).await;
        assert_eq!(event.ok(200)["organizer"]["username"], "ally", "event {id}");
    }
}

#[tokio::test]
async fn a_retried_rename_finishes_the_copy_a_failed_request_left_undone() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let event = app.event(&alice, json!({})).await;
    let path = format!("/events/{}", event["id"].as_str().unwrap());
    // The rename is saved, then the request fails before copying the name (as on a storage error).
    let store = &app.state.store;
    let read = store.find_user(Id::parse(&alice.id).unwrap()).await.unwrap().unwrap();
    let changes = UserChanges { username: Some("alicia".into()), ..UserChanges::default() };
    store.update_user(&read, changes, Instant::now()).await.unwrap().unwrap();
    assert_eq!(app.get(&path, None).await.ok(200)["organizer"]["username"], "alice");

    // The client retries the same request: nothing to rename any more, yet the copy is finished.
    let retry =
        app.patch(format!("/users/{}", alice.id), Some(&alice.token), json!({"username": "alicia"})).await;
    retry.ok(200);
    assert_eq!(app.get(&path, None).await.ok(200)["organizer"]["username"], "alicia");
    assert!(!store.find_user(read.id).await.unwrap().unwrap().username_pending);
}

#[tokio::test]
async fn a_profile_edit_read_before_a_promotion_or_feed_rotation_cannot_undo_it() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let store = &app.state.store;
    let id = Id::parse(&alice.id).unwrap();
    let rename = || UserChanges { username: Some("alicia".into()), ..UserChanges::default() };

    let read = store.find_user(id).await.unwrap().unwrap();
    assert!(store.set_role(id, Role::Admin).await.unwrap());
    let edit = store.update_user(&read, rename(), Instant::now()).await.unwrap();
    assert!(matches!(edit, Err(UpdateRefused::Changed)));
    assert_eq!(app.get("/users/me", Some(&alice.token)).await.ok(200)["role"], "admin");

    let read = store.find_user(id).await.unwrap().unwrap();
    let version = store.rotate_calendar(id).await.unwrap();
    let edit = store.update_user(&read, rename(), Instant::now()).await.unwrap();
    assert!(matches!(edit, Err(UpdateRefused::Changed)));
    assert_eq!(store.find_user(id).await.unwrap().unwrap().calendar_version, version.unwrap());
}

#[tokio::test]
async fn changing_a_password_needs_the_current_one_unless_admin() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let admin = app.admin("root").await;
    let path = format!("/users/{}", alice.id);
    let reply = app.patch(&path, Some(&alice.token), json!({"password": "a-new-password"})).await;
    assert!(reply.problem(400)["errors"]["current_password"].is_array());
    let reply = app
        .patch(
            &path,
            Some(&alice.token),
            json!({"password": "a-new-password", "current_password": "wrong-password"}),
        )
        .await;
    reply.problem(403);
    app.log_in("alice", "a-new-password").await.problem(401);
    app.patch(&path, Some(&alice.token), json!({"password": "a-new-password", "current_password": PASSWORD}))
        .await
        .ok(200);
    app.log_in("alice", PASSWORD).await.problem(401);
    app.log_in("alice", "a-new-password").await.ok(200);
    app.patch(&path, Some(&admin.token), json!({"password": "set-by-admin"})).await.ok(200);
    // Each change ended the sessions begun before it, access tokens included.
    app.get("/users/me", Some(&alice.token)).await.problem(401);
    let token =
        app.log_in("alice", "set-by-admin").await.ok(200)["access_token"].as_str().unwrap().to_owned();
    app.patch(&path, Some(&token), json!({"password": "short", "current_password": "set-by-admin"}))
        .await
        .problem(400);
}

#[tokio::test]
async fn deleting_a_user_removes_them_their_events_and_their_names() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let event = app.event(&alice, json!({})).await;
    let event_path = format!("/events/{}", event["id"].as_str().unwrap());
    let path = format!("/users/{}", alice.id);
    app.delete(&path, Some(&bob.token)).await.problem(403);
    app.delete(&path, None).await.problem(401);
    let reply = app.delete(&path, Some(&alice.token)).await;
    assert_eq!(reply.status, 204);
    assert!(reply.text.is_empty());
    app.get(&event_path, None).await.problem(404);
    app.get(&path, Some(&bob.token)).await.problem(404);
    // The deleted user's tokens stop working at once.
    app.get("/users/me", Some(&alice.token)).await.problem(401);
    app.post("/auth/refresh", None, json!({"refresh_token": alice.refresh_token})).await.problem(401);
    app.log_in("alice", PASSWORD).await.problem(401);
    // Their name and address are free again.
    app.user("alice").await;
    // Once the scheduled run has confirmed the cleanup, nothing in the table mentions them.
    let later = Instant::now().plus_seconds(INDEX_SETTLE_SECONDS);
    let summary = local::run_reminders(&app.state.store, later, Duration::from_secs(60)).await.unwrap();
    assert_eq!(summary.cleanups_finished, 1);
    let scan = app.state.store.client().scan().table_name(&app.table).send().await.unwrap();
    for item in scan.items() {
        let text = format!("{item:?}");
        assert!(!text.contains(&alice.id), "left behind: {text}");
    }
}

#[tokio::test]
async fn a_deletion_too_large_for_its_request_is_finished_by_the_scheduled_run() {
    let app = spawn_app().await;
    let store = &app.state.store;
    let (alice, carol, dave) = (app.user("alice").await, app.user("carol").await, app.user("dave").await);
    let organised = app.event(&alice, json!({})).await;
    let organised_seat = format!("/events/{}/registrations", organised["id"].as_str().unwrap());
    app.post(&organised_seat, Some(&carol.token), json!({})).await.ok(201);
    let full = app.event(&carol, json!({"capacity": 1})).await;
    let seat = format!("/events/{}/registrations", full["id"].as_str().unwrap());
    app.post(&seat, Some(&alice.token), json!({})).await.ok(201);
    assert_eq!(app.post(&seat, Some(&dave.token), json!({})).await.ok(201)["status"], "waitlisted");

    // A request with no time for the cleanup: the account is gone, the rest is left for later.
    let record = store.find_user(Id::parse(&alice.id).unwrap()).await.unwrap().unwrap();
    assert!(!store.delete_user(&record, Duration::ZERO).await.unwrap());
    app.get("/users/me", Some(&alice.token)).await.problem(401);
    app.log_in("alice", PASSWORD).await.problem(401);
    let pending = store.pending_cleanups().await.unwrap();
    assert_eq!(pending.iter().map(|p| p.user_id).collect::<Vec<_>>(), vec![record.id]);

    // A run right after the deletion does the work but keeps the record: the index it reads
    // may not show everything yet.
    let summary = local::run_reminders(store, Instant::now(), Duration::from_secs(60)).await.unwrap();
    assert_eq!((summary.cleanups_finished, summary.cleanups_pending), (0, 1));
    app.get(&format!("/events/{}", organised["id"].as_str().unwrap()), None).await.problem(404);
    // Its registrants are told, by the scheduled function.
    let told: Vec<Value> = app.notifications(&carol).await;
    assert_eq!(told.iter().filter(|n| n["kind"] == "event_deleted").count(), 1, "{told:?}");
    let mine = format!("{seat}/me");
    assert_eq!(app.get(&mine, Some(&dave.token)).await.ok(200)["status"], "confirmed");

    // A later run finds nothing left and forgets the cleanup.
    let later = pending[0].deleted_at.plus_seconds(INDEX_SETTLE_SECONDS);
    let summary = local::run_reminders(store, later, Duration::from_secs(60)).await.unwrap();
    assert_eq!((summary.cleanups_finished, summary.cleanups_pending, summary.cleanups_failed), (1, 0, 0));
    assert!(store.pending_cleanups().await.unwrap().is_empty());
    let scan = store.client().scan().table_name(&app.table).send().await.unwrap();
    for item in scan.items() {
        let text = format!("{item:?}");
        assert!(!text.contains(&alice.id), "left behind: {text}");
    }
}

#[tokio::test]
async fn admins_delete_any_user() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let admin = app.admin("root").await;
    assert_eq!(app.delete(&format!("/users/{}", alice.id), Some(&admin.token)).await.status, 204);
    app.delete(&format!("/users/{}", alice.id), Some(&admin.token)).await.problem(404);
}

#[tokio::test]
async fn an_email_is_one_address_however_its_letters_are_encoded() {
    let app = spawn_app().await;
    let sign_up = |name: &str, email: &str| json!({"username": name, "email": email, "password": PASSWORD});
    app.post("/users", None, sign_up("alice", "alice@b\u{fc}cher.example")).await.ok(201);
    for same in ["ALICE@BU\u{308}CHER.example", "alice@\u{ff42}\u{fc}cher.example"] {
        let reply = app.post("/users", None, sign_up("bob", same)).await;
        assert_eq!(
            reply.problem(409)["type"],
            "https://events-api.example.com/problems/already-taken",
            "{same:?}"
        );
    }
}
