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

#[tokio::test]
async fn request_logs_name_routes_and_usage_but_no_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_writer(move || writer.clone())
        .finish();
    // The server runs on this test's single-threaded runtime, so a thread-local subscriber sees it.
    let _guard = tracing::subscriber::set_default(subscriber);

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
    let lines: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
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
