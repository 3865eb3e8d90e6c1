//! Webhooks for organizers: endpoints made and listed through the API, each kind of change
//! delivered once through the table's stream with a signature the Standard Webhooks library
//! accepts, failed attempts retried on their schedule (its hours passed by running the retries as
//! at a later time, not by waiting), and targets refused on AWS where they would reach a private
//! network, before and after DNS.

use std::net::IpAddr;

use api_tests::receiver::Receiver;
use api_tests::{AppOptions, TestApp, TestUser, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use shared::store::unix_millis_now;

async fn app() -> TestApp {
    spawn_app_with(AppOptions { dispatch: true, ..AppOptions::default() }).await
}

/// An endpoint of `owner` for `events` at `receiver`, whose secret the receiver keeps.
async fn subscribe(app: &TestApp, owner: &TestUser, receiver: &Receiver, events: &[&str]) -> Value {
    let created = app
        .post("/users/me/webhooks", Some(&owner.token), json!({"url": receiver.url, "events": events}))
        .await;
    let body = created.ok(201).clone();
    receiver.set_secret(body["secret"].as_str().expect("the secret, shown once"));
    body
}

const EVERY_EVENT: &[&str] = &[
    "registration.created",
    "registration.cancelled",
    "registration.promoted",
    "event.changed",
    "event.cancelled",
    "feedback.posted",
];

#[tokio::test]
async fn an_endpoint_is_made_listed_read_and_deleted_and_its_secret_shown_once() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let created = app
        .post(
            "/users/me/webhooks",
            Some(&alice.token),
            json!({"url": "https://hooks.example.com/in", "events": ["feedback.posted", "registration.created"]}),
        )
        .await;
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let body = created.ok(201);
    let id = body["id"].as_str().unwrap();
    assert_eq!(created.header("location"), Some(format!("/users/me/webhooks/{id}").as_str()));
    assert_eq!(body["events"], json!(["registration.created", "feedback.posted"]));
    assert_eq!(body["status"], "active");
    assert!(body["failing_since"].is_null());
    let secret = body["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");

    let listed = app.get("/users/me/webhooks", Some(&alice.token)).await;
    let listed = listed.ok(200);
    assert_eq!(listed["results"].as_array().unwrap().len(), 1);
    assert_eq!(listed["results"][0]["id"], id);
    assert!(listed["results"][0].get("secret").is_none(), "the secret is not shown again");
    let read = app.get(format!("/users/me/webhooks/{id}"), Some(&alice.token)).await;
    assert_eq!(read.ok(200)["url"], "https://hooks.example.com/in");
    assert!(read.ok(200).get("secret").is_none());

    // Another user sees none of it.
    let bob = app.user("bob").await;
    app.get(format!("/users/me/webhooks/{id}"), Some(&bob.token)).await.problem(404);
    app.delete(format!("/users/me/webhooks/{id}"), Some(&bob.token)).await.problem(404);
    app.get(format!("/users/me/webhooks/{id}/deliveries"), Some(&bob.token)).await.problem(404);
    assert_eq!(app.get("/users/me/webhooks", Some(&bob.token)).await.ok(200)["results"], json!([]));
    app.get("/users/me/webhooks", None).await.problem(401);

    app.delete(format!("/users/me/webhooks/{id}"), Some(&alice.token)).await.ok(204);
    app.get(format!("/users/me/webhooks/{id}"), Some(&alice.token)).await.problem(404);
    app.delete(format!("/users/me/webhooks/{id}"), Some(&alice.token)).await.problem(404);
    app.get("/users/me/webhooks/not-an-id", Some(&alice.token)).await.problem(404);
}

#[tokio::test]
async fn bad_endpoints_are_refused_with_field_errors_and_nothing_is_made() {
    let app = spawn_app_with(AppOptions {
        settings: vec![("WEBHOOK_TARGETS", "public".to_owned())],
        ..AppOptions::default()
    })
    .await;
    let alice = app.user("alice").await;
    let refused = |body: Value| {
        let app = &app;
        let token = alice.token.clone();
        async move { app.post("/users/me/webhooks", Some(&token), body).await.problem(400).clone() }
    };
    let events = json!(["registration.created"]);
    for url in [
        "http://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://[::1]/in",
        "https://10.0.0.8/in",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:192.168.0.1]/in",
        "https://localhost:8443/in",
        "https://user:pw@hooks.example.com/in",
        "not a url",
    ] {
        let problem = refused(json!({"url": url, "events": events})).await;
        assert!(problem["errors"]["url"].is_array(), "{url}: {problem}");
    }
    for bad_events in [json!([]), json!(["registration.deleted"]), json!("feedback.posted"), json!([1])] {
        let problem = refused(json!({"url": "https://hooks.example.com/in", "events": bad_events})).await;
        assert!(problem["errors"]["events"].is_array(), "{bad_events}: {problem}");
    }
    let twice =
        json!({"url": "https://hooks.example.com/in", "events": ["feedback.posted", "feedback.posted"]});
    assert!(refused(twice).await["errors"]["events"].is_array());
    let unknown = json!({"url": "https://hooks.example.com/in", "events": events, "secret": "mine"});
    assert!(refused(unknown).await["errors"]["secret"].is_array());
    assert_eq!(app.get("/users/me/webhooks", Some(&alice.token)).await.ok(200)["results"], json!([]));
}

#[tokio::test]
async fn a_user_has_at_most_ten_endpoints_even_when_asking_at_once() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let body = json!({"url": "https://hooks.example.com/in", "events": ["event.changed"]});
    let attempts = futures::future::join_all(
        (0..14).map(|_| app.post("/users/me/webhooks", Some(&alice.token), body.clone())),
    )
    .await;
    let statuses: Vec<u16> = attempts.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 4, "{statuses:?}");
    let conflict = attempts.iter().find(|r| r.status.as_u16() == 409).unwrap();
    assert!(conflict.problem(409)["type"].as_str().unwrap().ends_with("/too-many-webhooks"));
    let listed = app.get("/users/me/webhooks", Some(&alice.token)).await;
    let listed = listed.ok(200)["results"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 10);

    // A deletion makes room for one more.
    let first = listed[0]["id"].as_str().unwrap();
    app.delete(format!("/users/me/webhooks/{first}"), Some(&alice.token)).await.ok(204);
    app.post("/users/me/webhooks", Some(&alice.token), body.clone()).await.ok(201);
    app.post("/users/me/webhooks", Some(&alice.token), body).await.problem(409);
}

#[tokio::test]
async fn a_create_sent_again_with_its_idempotency_key_makes_one_endpoint() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let body = json!({"url": "https://hooks.example.com/in", "events": ["event.changed"]});
    let first = app.post_with_key("/users/me/webhooks", Some(&alice.token), "hook-1", body.clone()).await;
    let again = app.post_with_key("/users/me/webhooks", Some(&alice.token), "hook-1", body).await;
    assert_eq!(first.ok(201), again.ok(201), "the same endpoint and secret");
    assert_eq!(
        app.get("/users/me/webhooks", Some(&alice.token)).await.ok(200)["results"].as_array().unwrap().len(),
        1
    );
}

/// The organizer's event with one seat and a waitlist, and two people who register for it.
async fn busy_event(app: &TestApp, organizer: &TestUser) -> (String, TestUser, TestUser) {
    let event =
        app.event(organizer, json!({"title": "Hooked", "capacity": 1, "waitlist_enabled": true})).await;
    let id = event["id"].as_str().unwrap().to_owned();
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    for person in [&alice, &bob] {
        app.post(format!("/events/{id}/registrations"), Some(&person.token), json!({})).await.ok(201);
    }
    (id, alice, bob)
}

#[tokio::test]
async fn every_kind_of_change_reaches_the_organizers_endpoint_once_signed() {
    let app = app().await;
    let receiver = Receiver::start().await;
    let organizer = app.user("org").await;
    subscribe(&app, &organizer, &receiver, EVERY_EVENT).await;
    let (id, alice, bob) = busy_event(&app, &organizer).await;
    app.dispatch().await;
    // Alice gives her seat up: Bob is promoted.
    app.delete(format!("/events/{id}/registrations/me"), Some(&alice.token)).await.ok(204);
    app.patch(format!("/events/{id}"), Some(&organizer.token), json!({"location": "Porto"})).await.ok(200);
    app.dispatch().await;
    app.move_start(&id, "2020-01-01T00:00:00Z").await;
    let feedback = app
        .post(format!("/events/{id}/feedback"), Some(&bob.token), json!({"rating": 5, "comment": "Great"}))
        .await;
    feedback.ok(201);
    app.dispatch().await;
    app.delete(format!("/events/{id}"), Some(&organizer.token)).await.ok(204);
    app.dispatch().await;
    // Every record handed again from the start (a redelivery) delivers nothing more.
    app.replay_stream().await;

    let received = receiver.received();
    assert!(received.iter().all(|r| r.signature_valid), "{received:?}");
    let types: Vec<&str> = received.iter().map(|r| r.body["type"].as_str().unwrap()).collect();
    let count = |kind: &str| types.iter().filter(|t| **t == kind).count();
    assert_eq!(count("registration.created"), 2, "{types:?}");
    assert_eq!(count("registration.cancelled"), 1, "{types:?}");
    assert_eq!(count("registration.promoted"), 1, "{types:?}");
    assert_eq!(count("event.changed"), 1, "{types:?}");
    assert_eq!(count("feedback.posted"), 1, "{types:?}");
    assert_eq!(count("event.cancelled"), 1, "{types:?}");
    assert_eq!(received.len(), 7, "nothing else, and nothing twice: {types:?}");
    let mut ids: Vec<&str> = received.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 7, "each message has its own id");

    let body_of = |kind: &str| receiver.of_type(kind)[0].body.clone();
    let cancelled = body_of("registration.cancelled");
    assert_eq!(cancelled["data"]["event"]["id"], id.as_str());
    assert_eq!(cancelled["data"]["registration"]["user"]["username"], "alice");
    let promoted = body_of("registration.promoted");
    assert_eq!(promoted["data"]["registration"]["user"]["id"], bob.id.as_str());
    assert_eq!(promoted["data"]["registration"]["status"], "confirmed");
    assert_eq!(body_of("event.changed")["data"]["event"]["location"], "Porto");
    let posted = body_of("feedback.posted");
    assert_eq!(
        (posted["data"]["feedback"]["rating"].as_u64(), posted["data"]["feedback"]["comment"].as_str()),
        (Some(5), Some("Great"))
    );
    let gone = body_of("event.cancelled");
    assert_eq!(
        (gone["data"]["event"]["id"].as_str(), gone["data"]["event"]["title"].as_str()),
        (Some(id.as_str()), Some("Hooked"))
    );
    assert!(chrono::DateTime::parse_from_rfc3339(gone["timestamp"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn an_endpoint_hears_only_what_it_subscribed_to_about_its_owners_events() {
    let app = app().await;
    let (mine, theirs) = (Receiver::start().await, Receiver::start().await);
    let organizer = app.user("org").await;
    let other = app.user("other").await;
    subscribe(&app, &organizer, &mine, &["feedback.posted", "event.changed"]).await;
    subscribe(&app, &other, &theirs, EVERY_EVENT).await;
    let (id, _, _) = busy_event(&app, &organizer).await;
    app.patch(format!("/events/{id}"), Some(&organizer.token), json!({"title": "Renamed"})).await.ok(200);
    app.dispatch().await;
    let types: Vec<Value> = mine.received().iter().map(|r| r.body["type"].clone()).collect();
    assert_eq!(types, vec![json!("event.changed")]);
    assert!(theirs.received().is_empty(), "another organizer's endpoint hears nothing of it");
}

#[tokio::test]
async fn a_failed_attempt_is_retried_on_schedule_and_logged_per_attempt() {
    let app = app().await;
    let receiver = Receiver::start().await;
    let organizer = app.user("org").await;
    let hook = subscribe(&app, &organizer, &receiver, &["registration.created"]).await;
    let hook = hook["id"].as_str().unwrap();
    receiver.fail_next(1, 500);
    let event = app.event(&organizer, json!({"capacity": 5})).await;
    let alice = app.user("alice").await;
    let event_id = event["id"].as_str().unwrap();
    app.post(format!("/events/{event_id}/registrations"), Some(&alice.token), json!({})).await.ok(201);
    app.dispatch().await;

    let log = app.get(format!("/users/me/webhooks/{hook}/deliveries"), Some(&organizer.token)).await;
    let delivery = log.ok(200)["results"][0].clone();
    assert_eq!(delivery["status"], "pending");
    assert_eq!(delivery["type"], "registration.created");
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(delivery["attempts"][0]["status_code"], 500);
    let first_at =
        chrono::DateTime::parse_from_rfc3339(delivery["attempts"][0]["at"].as_str().unwrap()).unwrap();
    let next_at =
        chrono::DateTime::parse_from_rfc3339(delivery["next_attempt_at"].as_str().unwrap()).unwrap();
    assert!((4..=6).contains(&(next_at - first_at).num_seconds()), "{delivery}");

    // Not due yet: nothing is tried.
    let first_ms = first_at.timestamp_millis() as u64;
    assert_eq!(app.retry_webhooks_at(first_ms + 1_000).await.attempted, 0);
    // Once due, it is sent again, with the same id, and delivered.
    let run = app.retry_webhooks_at(first_ms + 6_000).await;
    assert_eq!((run.attempted, run.delivered), (1, 1));
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].id, received[1].id);
    assert!(received.iter().all(|r| r.signature_valid));
    let log = app.get(format!("/users/me/webhooks/{hook}/deliveries"), Some(&organizer.token)).await;
    let delivery = &log.ok(200)["results"][0];
    assert_eq!(delivery["status"], "delivered");
    assert!(delivery["next_attempt_at"].is_null());
    let codes: Vec<Value> =
        delivery["attempts"].as_array().unwrap().iter().map(|a| a["status_code"].clone()).collect();
    assert_eq!(codes, vec![json!(500), json!(204)]);
    assert_eq!(delivery["payload"]["data"]["registration"]["user"]["username"], "alice");
    // Nothing is left to do.
    assert_eq!(app.retry_webhooks_at(unix_millis_now() + 86_400_000).await.attempted, 0);
}

#[tokio::test]
async fn a_receiver_down_for_over_a_day_marks_its_endpoint_failing_until_one_gets_through() {
    let app = app().await;
    let receiver = Receiver::start().await;
    let organizer = app.user("org").await;
    let hook = subscribe(&app, &organizer, &receiver, &["event.changed"]).await;
    let hook = hook["id"].as_str().unwrap();
    let event = app.event(&organizer, json!({"capacity": 5})).await;
    let event_id = event["id"].as_str().unwrap();
    receiver.fail_next(usize::MAX, 503);
    app.patch(format!("/events/{event_id}"), Some(&organizer.token), json!({"title": "One"})).await.ok(200);
    app.dispatch().await;

    // The retries' schedule, run through as time passes: each attempt when it is due.
    let mut now = unix_millis_now();
    let mut attempts = 1;
    for _ in 0..20 {
        let log = app.get(format!("/users/me/webhooks/{hook}/deliveries"), Some(&organizer.token)).await;
        let delivery = log.ok(200)["results"][0].clone();
        let Some(next) = delivery["next_attempt_at"].as_str() else { break };
        now = now.max(chrono::DateTime::parse_from_rfc3339(next).unwrap().timestamp_millis() as u64 + 1_000);
        attempts += app.retry_webhooks_at(now).await.attempted;
    }
    let log = app.get(format!("/users/me/webhooks/{hook}/deliveries"), Some(&organizer.token)).await;
    let delivery = log.ok(200)["results"][0].clone();
    assert_eq!(delivery["status"], "failed");
    let tried = delivery["attempts"].as_array().unwrap();
    assert_eq!((tried.len(), attempts), (8, 8), "{delivery}");
    let at = |i: usize| chrono::DateTime::parse_from_rfc3339(tried[i]["at"].as_str().unwrap()).unwrap();
    assert!((at(7) - at(0)).num_hours() >= 24, "retried for at least a day: {delivery}");
    assert!(tried.iter().all(|a| a["status_code"] == 503));
    assert_eq!(receiver.received().len(), 8);
    let endpoint = app.get(format!("/users/me/webhooks/{hook}"), Some(&organizer.token)).await;
    assert_eq!(endpoint.ok(200)["status"], "failing");
    assert!(endpoint.ok(200)["failing_since"].is_string());

    // The receiver is back: the next change gets through, and the endpoint is active again.
    receiver.fail_next(0, 503);
    app.patch(format!("/events/{event_id}"), Some(&organizer.token), json!({"title": "Two"})).await.ok(200);
    app.dispatch().await;
    let endpoint = app.get(format!("/users/me/webhooks/{hook}"), Some(&organizer.token)).await;
    assert_eq!(endpoint.ok(200)["status"], "active");
    assert!(endpoint.ok(200)["failing_since"].is_null());
    let log = app.get(format!("/users/me/webhooks/{hook}/deliveries"), Some(&organizer.token)).await;
    let statuses: Vec<Value> =
        log.ok(200)["results"].as_array().unwrap().iter().map(|d| d["status"].clone()).collect();
    assert_eq!(statuses, vec![json!("delivered"), json!("failed")], "newest first");
}

/// An app whose organizer has an endpoint for `event.changed`, and an edit whose first attempt
/// the receiver failed (answering 500): the delivery waits for its retry.
async fn one_failed_change() -> (TestApp, Receiver, TestUser, String) {
    let app = app().await;
    let receiver = Receiver::start().await;
    let organizer = app.user("org").await;
    let hook = subscribe(&app, &organizer, &receiver, &["event.changed"]).await;
    let hook = hook["id"].as_str().unwrap().to_owned();
    let event = app.event(&organizer, json!({"capacity": 5})).await;
    receiver.fail_next(1, 500);
    let path = format!("/events/{}", event["id"].as_str().unwrap());
    app.patch(&path, Some(&organizer.token), json!({"title": "X"})).await.ok(200);
    app.dispatch().await;
    (app, receiver, organizer, hook)
}

#[tokio::test]
async fn a_deleted_endpoint_gets_no_more_attempts() {
    let (app, receiver, organizer, hook) = one_failed_change().await;
    app.delete(format!("/users/me/webhooks/{hook}"), Some(&organizer.token)).await.ok(204);
    let run = app.retry_webhooks_at(unix_millis_now() + 60_000).await;
    assert_eq!(run.delivered, 0);
    assert_eq!(receiver.received().len(), 1, "only the attempt before the deletion");
    assert_eq!(
        app.retry_webhooks_at(unix_millis_now() + 86_400_000).await.attempted,
        0,
        "nothing is due any more"
    );
}

#[tokio::test]
async fn on_aws_a_name_that_resolves_to_a_private_address_is_refused_at_delivery() {
    let receiver = Receiver::start().await;
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    let app = spawn_app_with(AppOptions {
        dispatch: true,
        settings: vec![("WEBHOOK_TARGETS", "public".to_owned())],
        // A public-looking name that (today) resolves to loopback, as DNS rebinding would do.
        webhook_names: [("hooks.rebound.example".to_owned(), vec![loopback])].into(),
        ..AppOptions::default()
    })
    .await;
    let organizer = app.user("org").await;
    let port = receiver.url.split(':').nth(2).unwrap().split('/').next().unwrap().to_owned();
    let url = format!("https://hooks.rebound.example:{port}/hooks");
    let created = app
        .post("/users/me/webhooks", Some(&organizer.token), json!({"url": url, "events": ["event.changed"]}))
        .await;
    let hook = created.ok(201)["id"].as_str().unwrap().to_owned();
    let event = app.event(&organizer, json!({"capacity": 5})).await;
    app.patch(
        format!("/events/{}", event["id"].as_str().unwrap()),
        Some(&organizer.token),
        json!({"title": "X"}),
    )
    .await
    .ok(200);
    app.dispatch().await;
    let log = app.get(format!("/users/me/webhooks/{hook}/deliveries"), Some(&organizer.token)).await;
    let attempt = log.ok(200)["results"][0]["attempts"][0].clone();
    assert!(attempt["status_code"].is_null());
    let error = attempt["error"].as_str().unwrap();
    // (The receiver speaks plain HTTP, so that it got nothing would prove nothing: the refusal
    // is what the log says, before any connection.)
    assert!(error.contains("private, loopback or link-local"), "{error}");
}

#[tokio::test]
async fn two_retry_runs_at_once_post_a_message_once() {
    let app = app().await;
    let receiver = Receiver::start().await;
    let organizer = app.user("org").await;
    subscribe(&app, &organizer, &receiver, &["event.changed"]).await;
    let event = app.event(&organizer, json!({"capacity": 5})).await;
    let path = format!("/events/{}", event["id"].as_str().unwrap());
    receiver.fail_next(3, 500);
    for title in ["A", "B", "C"] {
        app.patch(&path, Some(&organizer.token), json!({"title": title})).await.ok(200);
    }
    app.dispatch().await;
    assert_eq!(receiver.received().len(), 3, "three first attempts, failed");
    let later = unix_millis_now() + 60_000;
    let (one, two) = tokio::join!(app.retry_webhooks_at(later), app.retry_webhooks_at(later));
    assert_eq!(one.attempted + two.attempted, 3, "{one:?} {two:?}");
    let received = receiver.received();
    assert_eq!(received.len(), 6);
    for message in &received[..3] {
        assert_eq!(received.iter().filter(|r| r.id == message.id).count(), 2, "once failed, once retried");
    }
}

#[tokio::test]
async fn an_attempt_whose_sender_stopped_is_logged_counted_and_made_again() {
    let (app, receiver, organizer, hook) = one_failed_change().await;
    let hook_id = shared::domain::Id::parse(&hook).unwrap();
    let log = app.get(format!("/users/me/webhooks/{hook_id}/deliveries"), Some(&organizer.token)).await;
    let message = log.ok(200)["results"][0]["id"].as_str().unwrap().to_owned();

    // A sender claims the retry, then stops before it says how it went.
    let due = unix_millis_now() + 10_000;
    let store = &app.state.store;
    let claimed = store.claim_webhook_delivery(hook_id, &message, due, due).await.unwrap();
    assert!(claimed.is_some(), "claimed");
    assert!(store.claim_webhook_delivery(hook_id, &message, due, due).await.unwrap().is_none(), "held");
    assert_eq!(app.retry_webhooks_at(due + 30_000).await.attempted, 0, "the claim stands for a minute");

    let run = app.retry_webhooks_at(due + 61_000).await;
    assert_eq!((run.attempted, run.delivered), (1, 1));
    let log = app.get(format!("/users/me/webhooks/{hook_id}/deliveries"), Some(&organizer.token)).await;
    let delivery = &log.ok(200)["results"][0];
    assert_eq!(delivery["status"], "delivered");
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{delivery}");
    assert_eq!(attempts[0]["status_code"], 500);
    assert!(attempts[1]["status_code"].is_null());
    assert!(attempts[1]["error"].as_str().unwrap().contains("cut short"), "{delivery}");
    assert_eq!(attempts[2]["status_code"], 204);
    let stored = store.webhook_deliveries(hook_id, &page_of(5)).await.unwrap();
    assert_eq!(stored.results[0].tries, 3, "the stopped attempt counts towards the limit");
    assert_eq!(receiver.received().len(), 2, "the stopped sender posted nothing here");
}

fn page_of(limit: usize) -> shared::store::page::PageRequest {
    shared::store::page::PageRequest {
        limit: shared::domain::Limit::parse(&limit.to_string()).unwrap(),
        start: None,
    }
}

#[tokio::test]
async fn deleting_the_account_takes_its_endpoints() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let body = json!({"url": "https://hooks.example.com/in", "events": ["event.changed"]});
    app.post("/users/me/webhooks", Some(&alice.token), body).await.ok(201);
    app.delete(format!("/users/{}", alice.id), Some(&alice.token)).await.ok(204);
    let user = shared::domain::Id::parse(&alice.id).unwrap();
    assert!(app.state.store.webhooks_of(user).await.unwrap().is_empty());
}
