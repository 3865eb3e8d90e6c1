//! The request log: one structured line per request, with the route template and DynamoDB usage,
//! and never a password, token, feed credential or secret.

use std::io::Write;
use std::sync::{Arc, Mutex};

use api_tests::{PASSWORD, TEST_SECRET, spawn_app};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures what this test's thread logs (the server runs on the test's single-threaded runtime,
/// so a thread-local subscriber sees it) until the guard is dropped.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// The metric lines (Embedded Metric Format) logged, parsed.
    fn metrics(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .filter_map(|l| l["fields"]["emf"].as_str())
            .map(|line| serde_json::from_str(line).expect("a metric line is JSON"))
            .collect()
    }
}

#[tokio::test]
async fn request_logs_name_routes_and_usage_but_no_secrets() {
    let (captured, _guard) = capture();

    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let refreshed = app.post("/auth/refresh", None, json!({"refresh_token": alice.refresh_token})).await;
    let new_refresh = refreshed.ok(200)["refresh_token"].as_str().unwrap().to_owned();
    app.log_in("alice", "not-the-password-at-all").await.problem(401);
    let event = app.event(&alice, json!({})).await;
    let id = event["id"].as_str().unwrap();
    let reply = app.post(format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await;
    assert!(reply.header("x-request-id").is_some());
    let feed =
        app.get("/users/me/calendar", Some(&alice.token)).await.ok(200)["url"].as_str().unwrap().to_owned();
    let feed_token = feed.split('/').rev().nth(1).unwrap().to_owned();
    app.get(feed.trim_start_matches(&format!("http://{}", app.address)), None).await;

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines = captured.lines();
    let requests: Vec<&Value> = lines.iter().filter(|l| l["fields"]["message"] == "request").collect();
    let routes: Vec<&str> = requests.iter().filter_map(|l| l["fields"]["route"].as_str()).collect();
    for route in [
        "/users",
        "/auth/token",
        "/auth/refresh",
        "/events",
        "/events/{id}/registrations",
        "/calendar/{token}/feed.ics",
    ] {
        assert!(routes.contains(&route), "{route} not logged: {routes:?}");
    }
    let registration =
        requests.iter().find(|l| l["fields"]["route"] == "/events/{id}/registrations").unwrap();
    assert_eq!(registration["fields"]["status"], 201);
    assert!(registration["fields"]["dynamodb_round_trips"].as_u64().unwrap() >= 1);
    assert!(registration["fields"]["latency_ms"].as_f64().is_some());
    assert!(registration["fields"]["request_id"].is_string());

    for secret in [
        PASSWORD,
        "not-the-password-at-all",
        &alice.token,
        &alice.refresh_token,
        &new_refresh,
        &feed_token,
        TEST_SECRET,
    ] {
        assert!(!text.contains(secret), "a secret reached the logs");
    }
    assert!(!text.contains(id), "raw paths are not logged, only route templates");
}

#[tokio::test]
async fn each_request_emits_its_metrics_by_function_and_route() {
    let (captured, _guard) = capture();
    let app = spawn_app().await;
    let organizer = app.user("olga").await;
    let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
    app.log_in("alice", "not-the-password-at-all").await.problem(401);
    let event = app.event(&organizer, json!({"capacity": 1})).await;
    let path = format!("/events/{}/registrations", event["id"].as_str().unwrap());
    app.post(&path, Some(&alice.token), json!({})).await.ok(201);
    app.post(&path, Some(&bob.token), json!({})).await.ok(201);
    app.delete(format!("{path}/me"), Some(&alice.token)).await;
    let full = app.event(&organizer, json!({"capacity": 1, "waitlist_enabled": false})).await;
    let full_path = format!("/events/{}/registrations", full["id"].as_str().unwrap());
    app.post(&full_path, Some(&bob.token), json!({})).await.ok(201);
    app.post(&full_path, Some(&carol.token), json!({})).await.problem(409);

    let metrics = captured.metrics();
    let total = |route: &str, name: &str| -> f64 {
        metrics.iter().filter(|m| m["Route"] == route).filter_map(|m| m[name].as_f64()).sum()
    };
    assert_eq!(total("/auth/token", "LoginsFailed"), 1.0);
    assert_eq!(total("/events/{id}/registrations", "RegistrationsConfirmed"), 2.0);
    assert_eq!(total("/events/{id}/registrations", "RegistrationsWaitlisted"), 1.0);
    assert_eq!(total("/events/{id}/registrations", "RegistrationsRefusedFull"), 1.0);
    assert_eq!(total("/events/{id}/registrations/me", "Cancellations"), 1.0);
    assert_eq!(total("/events/{id}/registrations/me", "Promotions"), 1.0);
    // Every line declares what it carries, under the namespace, by function and route.
    for line in &metrics {
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "EventsApi");
        assert_eq!(directive["Dimensions"], json!([["Function", "Route"]]));
        assert!(line["_aws"]["Timestamp"].as_i64().is_some());
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name} has no value in {line}");
        }
        assert!(line["DynamoDBRoundTrips"].is_number() && line["LatencyMs"].is_number());
    }
}

#[tokio::test]
async fn a_rush_counts_in_its_metrics_exactly_what_happened() {
    let (captured, _guard) = capture();
    let app = spawn_app().await;
    let organizer = app.user("olga").await;
    let people = app.crowd("r", 60).await;
    let event = app.event(&organizer, json!({"capacity": 20, "waitlist_enabled": true})).await;
    let id = event["id"].as_str().unwrap().to_owned();
    let path = format!("/events/{id}/registrations");
    let replies =
        futures::future::join_all(people.iter().map(|p| app.post(&path, Some(&p.token), json!({})))).await;
    let answered =
        |status: &str| replies.iter().filter(|r| r.status == 201 && r.body["status"] == status).count();
    // Then ten of the confirmed cancel at once, each seat passing to the head of the queue.
    let confirmed: Vec<_> =
        people.iter().zip(&replies).filter(|(_, r)| r.body["status"] == "confirmed").collect();
    let cancels = confirmed.iter().take(10).map(|(p, _)| app.delete(format!("{path}/me"), Some(&p.token)));
    let cancelled = futures::future::join_all(cancels).await.iter().filter(|r| r.status == 204).count();
    let stored = app.assert_invariants(&id).await;

    let metrics = captured.metrics();
    let total = |route: &str, name: &str| -> usize {
        metrics.iter().filter(|m| m["Route"] == route).filter_map(|m| m[name].as_f64()).sum::<f64>() as usize
    };
    let registrations = "/events/{id}/registrations";
    assert_eq!((answered("confirmed"), answered("waitlisted")), (20, 40));
    assert_eq!(total(registrations, "RegistrationsConfirmed"), 20);
    assert_eq!(total(registrations, "RegistrationsWaitlisted"), 40);
    assert_eq!(total("/events/{id}/registrations/me", "Cancellations"), cancelled);
    assert_eq!(
        total("/events/{id}/registrations/me", "Promotions"),
        cancelled,
        "each freed seat went to a waiter"
    );
    assert_eq!(stored.confirmed_count, 20);
    assert_eq!(stored.waitlist_count as usize, 40 - cancelled);
}
