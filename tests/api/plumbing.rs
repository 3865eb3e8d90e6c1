//! The shared HTTP behaviour: problem+json, 404/405/413/415, strict bodies, CORS.

use api_tests::{raw, read, spawn_app};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn unknown_routes_are_problem_404s() {
    let app = spawn_app().await;
    for path in ["/nope", "/events/x/y/z", "/", "/users/me/secret"] {
        app.get(path, None).await.problem(404);
    }
}

#[tokio::test]
async fn undecodable_path_segments_are_unknown_resources() {
    let app = spawn_app().await;
    for path in ["/events/%FF", "/events/%FF/calendar.ics", "/calendar/%FF/feed.ics", "/series/%C0%AF"] {
        app.get(path, None).await.problem(404);
    }
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let app = spawn_app().await;
    let reply = app.call(Method::DELETE, "/categories", None, None).await;
    reply.problem(405);
    assert_eq!(reply.header("allow"), Some("GET,HEAD"));
    let reply = app.call(Method::GET, "/auth/token", None, None).await;
    reply.problem(405);
    assert_eq!(reply.header("allow"), Some("POST"));
    let reply =
        app.call(Method::POST, &format!("/events/{}", ulid::Ulid::new()), None, Some(json!({}))).await;
    reply.problem(405);
    let allow = reply.header("allow").unwrap();
    for method in ["GET", "PUT", "PATCH", "DELETE"] {
        assert!(allow.contains(method), "{allow}");
    }
}

#[tokio::test]
async fn bodies_must_be_json_objects() {
    let app = spawn_app().await;
    let send = |content_type: &'static str, body: &'static str| {
        raw(&app, Method::POST, "/users").header("content-type", content_type).body(body).send()
    };
    read(send("text/plain", r#"{"username":"a"}"#).await.unwrap()).await.problem(415);
    read(raw(&app, Method::POST, "/users").body("{}").send().await.unwrap()).await.problem(415);
    read(send("application/json", "{not json").await.unwrap()).await.problem(400);
    read(send("application/json", "[1, 2]").await.unwrap()).await.problem(400);
    read(send("application/json", "").await.unwrap()).await.problem(400);
    read(send("application/json; charset=utf-8", "null").await.unwrap()).await.problem(400);
}

#[tokio::test]
async fn operations_without_a_body_take_nothing_or_an_empty_object() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let ann = app.user("ann").await;
    let event = app.event(&organizer, json!({})).await;
    let path = format!("/events/{}/registrations", event["id"].as_str().unwrap());
    let send = |content_type: &'static str, body: &'static str| {
        raw(&app, Method::POST, &path)
            .bearer_auth(&ann.token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    // A field would look like a choice the server honours: refused, and nothing registered.
    let refused = read(send("application/json", r#"{"status": "confirmed"}"#).await.unwrap()).await;
    assert!(refused.problem(400)["errors"]["status"].is_array());
    read(send("application/json", "{not json").await.unwrap()).await.problem(400);
    read(send("text/plain", "hello").await.unwrap()).await.problem(415);
    let mine = format!("{path}/me");
    app.get(&mine, Some(&ann.token)).await.problem(404);
    // Nothing at all, or an empty object, is fine.
    assert_eq!(
        read(raw(&app, Method::POST, &path).bearer_auth(&ann.token).send().await.unwrap()).await.status,
        201
    );
    assert_eq!(read(send("application/json", "{}").await.unwrap()).await.status, 200);
    let rotate = app.post("/users/me/calendar/rotate", Some(&ann.token), json!({"token": "mine"})).await;
    assert!(rotate.problem(400)["errors"]["token"].is_array());
    app.post("/users/me/calendar/rotate", Some(&ann.token), json!({})).await.ok(200);
}

#[tokio::test]
async fn huge_and_deeply_nested_bodies_are_refused() {
    let app = spawn_app().await;
    let huge = format!(r#"{{"username": "{}"}}"#, "a".repeat(2 * 1024 * 1024));
    let reply = read(
        raw(&app, Method::POST, "/users")
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.problem(413);
    let deep = format!(r#"{{"username": {}{}}}"#, "[".repeat(50_000), "]".repeat(50_000));
    let reply = read(
        raw(&app, Method::POST, "/users")
            .header("content-type", "application/json")
            .body(deep)
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.problem(400);
}

#[tokio::test]
async fn injection_looking_input_is_just_data() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let title = r#"'; DROP TABLE events; -- <script>alert(1)</script> ${jndi:ldap://x} #pk = :v"#;
    let event = app.event(&alice, json!({"title": title, "location": "\" OR 1=1 --"})).await;
    let read = app.get(&format!("/events/{}", event["id"].as_str().unwrap()), None).await;
    assert_eq!(read.ok(200)["title"], title);
    app.log_in("alice' OR '1'='1", "x' OR '1'='1").await.problem(401);
}

#[tokio::test]
async fn cors_preflight_is_answered() {
    let app = spawn_app().await;
    let reply = raw(&app, Method::OPTIONS, "/events")
        .header("origin", "https://calendar.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success());
    assert_eq!(reply.headers()["access-control-allow-origin"], "*");
}
