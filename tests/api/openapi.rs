//! The served OpenAPI document: it describes exactly the routes the functions serve, it is
//! internally consistent, its schemas match real responses, and the reference page loads only
//! its own assets.

use std::collections::{BTreeMap, BTreeSet};

use api_tests::{TestApp, event_body, spawn_app};
use serde_json::{Value, json};

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "options", "head", "trace"];

async fn document(app: &TestApp) -> Value {
    let reply = app.get("/openapi.json", None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    serde_json::from_str(&reply.text).expect("the document is JSON")
}

/// Every operation as (path, method, operation).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(*method) {
                all.push((path.clone(), method.to_uppercase(), operation));
            }
        }
    }
    all
}

/// Follows a local `$ref` (`#/components/...`), once.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("non-local $ref {reference}"));
            doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}"))
        }
        None => value,
    }
}

#[tokio::test]
async fn the_document_describes_exactly_the_routes_served() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    let documented: BTreeSet<(String, String)> =
        operations(&doc).into_iter().map(|(path, method, _)| (path, method)).collect();
    let mut served = BTreeSet::new();
    for (_, routes) in local::FUNCTIONS {
        for (path, methods) in *routes {
            for method in methods.iter().filter(|m| **m != "HEAD") {
                served.insert(((*path).to_owned(), (*method).to_owned()));
            }
        }
    }
    assert_eq!(documented, served);
    // Relative, so the reference page's "Try it out" calls whichever origin served it.
    let servers = doc["servers"].as_array().expect("servers");
    assert_eq!((servers.len(), &servers[0]["url"]), (1, &json!("/")));
}

/// What the server refuses, the document refuses too: an empty `cursor=` is a 400 on every list,
/// so every `cursor` parameter says it is never empty.
#[tokio::test]
async fn an_empty_cursor_is_refused_by_the_document_as_by_the_server() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut lists = 0;
    for (path, method, operation) in operations(&doc) {
        let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
        let Some(cursor) = parameters.iter().map(|p| resolve(&doc, p)).find(|p| p["name"] == "cursor") else {
            continue;
        };
        lists += 1;
        assert_eq!(cursor["schema"]["minLength"], json!(1), "{method} {path}: {cursor}");
        if method == "GET" && path == "/events/upcoming" {
            let reply = app.get("/events/upcoming?cursor=", None).await;
            assert_eq!(reply.status, 400, "{}", reply.text);
        }
    }
    assert!(lists >= 3, "the lists of events, feedback and series take a cursor ({lists} found)");
}

/// The text patterns say what the server accepts: a title the pattern allows is created, and one
/// it refuses is a 400 (control characters, blank).
#[tokio::test]
async fn text_patterns_agree_with_the_server() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let doc = document(&app).await;
    let pattern = doc["components"]["schemas"]["NewEvent"]["properties"]["title"]["pattern"]
        .as_str()
        .expect("the title has a pattern");
    let pattern = regex::Regex::new(pattern).expect("the pattern compiles");
    let samples = [
        "a",
        " a ",
        "\u{a0}x",
        "x\ny",
        "x\ty",
        "\u{3000}y\u{3000}",
        "\u{feff}",
        "caf\u{e9}",
        " ",
        "\t\n",
        "a\u{7}",
        "a\u{85}b",
        "a\u{1b}[31m",
        "\u{9f}",
        "a\u{202e}b",
        "x\u{200b}",
        "\u{1f468}\u{200d}\u{1f469}",
    ];
    let mut refused = 0;
    for title in samples {
        let reply = app.post("/events", Some(&alice.token), event_body(json!({"title": title}))).await;
        if pattern.is_match(title) {
            assert_eq!(reply.status, 201, "{title:?} matches the pattern: {}", reply.text);
        } else {
            refused += 1;
            assert_eq!(reply.status, 400, "{title:?} does not match the pattern: {}", reply.text);
        }
    }
    assert_eq!(refused, 9, "the blanks, the control characters, a bidi override and zero-width spaces");
}

/// The bounds of `from` and `to` allow only the years the server takes, whatever the offset.
#[tokio::test]
async fn date_bound_patterns_agree_with_the_server() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let bound = &doc["components"]["schemas"]["DateBound"]["oneOf"];
    let patterns: Vec<regex::Regex> = bound
        .as_array()
        .expect("a date or a date-time")
        .iter()
        .map(|schema| regex::Regex::new(schema["pattern"].as_str().expect("a pattern")).expect("it compiles"))
        .collect();
    for (value, allowed) in [
        ("1969-12-31", false),
        ("1970-01-01T00:30:00+01:00", false),
        ("0001-01-01", false),
        ("9999-12-31T23:30:00-01:00", false),
        ("1971-01-01", true),
        ("2027-03-01T18:00:00+01:00", true),
        ("9998-12-31", true),
    ] {
        assert_eq!(patterns.iter().all(|p| p.is_match(value)), allowed, "{value}");
        let reply = app.get(&format!("/events/upcoming?from={}", value.replace('+', "%2B")), None).await;
        if allowed {
            assert_eq!(reply.status, 200, "{value}: {}", reply.text);
        }
    }
}

#[tokio::test]
async fn the_document_is_consistent() {
    let app = spawn_app().await;
    let doc = document(&app).await;

    // Every reference resolves.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all_refs = Vec::new();
    refs(&doc, &mut all_refs);
    for reference in all_refs {
        resolve(&doc, &json!({"$ref": reference}));
    }

    let mut ids = BTreeSet::new();
    for (path, method, operation) in operations(&doc) {
        let name = format!("{method} {path}");
        let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{name}: no operationId"));
        assert!(ids.insert(id.to_owned()), "{name}: operationId {id} is used twice");
        assert!(operation["summary"].is_string(), "{name}: no summary");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(responses.keys().any(|s| s.starts_with('2')), "{name}: no success response");
        if operation.get("security").is_some() {
            assert!(responses.contains_key("401"), "{name}: a token can be refused with 401");
        }
        if let Some(body) = operation.get("requestBody") {
            for status in ["400", "413", "415"] {
                assert!(responses.contains_key(status), "{name}: a body can be refused with {status}");
            }
            let schema = resolve(&doc, &body["content"]["application/json"]["schema"]);
            assert_eq!(schema["additionalProperties"], false, "{name}: unknown fields are refused");
        }
        for (status, response) in responses {
            let response = resolve(&doc, response);
            if status.starts_with('4') || status.starts_with('5') {
                let content = response["content"].as_object().expect("error content");
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/problem+json"],
                    "{name} {status}"
                );
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem",
                    "{name} {status}"
                );
            }
        }
        // Path parameters are declared for each `{name}` in the path.
        let declared: BTreeSet<&str> = operation["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        let templated: BTreeSet<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        assert_eq!(declared, templated, "{name}: path parameters");
    }
}

/// The properties a component schema declares.
fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    let schema = &doc["components"]["schemas"][schema];
    schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no properties in {schema}"))
        .keys()
        .cloned()
        .collect()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap_or_else(|| panic!("not an object: {value}")).keys().cloned().collect()
}

/// Real responses have exactly the fields their schemas declare, for every schema the responses
/// below use.
#[tokio::test]
async fn schemas_match_real_responses() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    let mut seen: BTreeMap<&str, Value> = BTreeMap::new();

    seen.insert("User", app.get("/users/me", Some(&alice.token)).await.ok(200).clone());
    seen.insert("UserPage", app.get("/users", Some(&admin.token)).await.ok(200).clone());
    seen.insert("TokenPair", app.log_in("alice", api_tests::PASSWORD).await.ok(200).clone());
    seen.insert("FeedUrl", app.get("/users/me/calendar", Some(&alice.token)).await.ok(200).clone());
    let event = app.event(&admin, json!({"ends_at": api_tests::days_from_now(8)})).await;
    let id = event["id"].as_str().unwrap().to_owned();
    seen.insert("Event", event);
    seen.insert("EventPage", app.get("/events/upcoming", None).await.ok(200).clone());
    let registration = app.post(format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await;
    seen.insert("Registration", registration.ok(201).clone());
    seen.insert(
        "RegistrationPage",
        app.get(format!("/events/{id}/registrations"), Some(&admin.token)).await.ok(200).clone(),
    );
    // A change to an event notifies its attendees.
    app.patch(format!("/events/{id}"), Some(&admin.token), json!({"capacity": 20})).await.ok(200);
    let notifications = app.get("/users/me/notifications", Some(&alice.token)).await.ok(200).clone();
    seen.insert("Notification", notifications["results"][0].clone());
    seen.insert("NotificationPage", notifications);
    app.move_start(&id, "2020-01-01T00:00:00Z").await;
    let feedback = app.post(format!("/events/{id}/feedback"), Some(&alice.token), json!({"rating": 4})).await;
    seen.insert("Feedback", feedback.ok(201).clone());
    seen.insert("FeedbackPage", app.get(format!("/events/{id}/feedback"), None).await.ok(200).clone());
    seen.insert("Category", app.get("/categories", None).await.ok(200)[0].clone());
    let invalid = app.post("/users", None, json!({"username": "x"})).await;
    seen.insert("Problem", invalid.problem(400).clone());

    for (schema, value) in &seen {
        assert_eq!(keys(value), properties(&doc, schema), "{schema}: {value}");
    }
    for (page, item) in [
        ("UserPage", "User"),
        ("EventPage", "Event"),
        ("RegistrationPage", "Registration"),
        ("NotificationPage", "Notification"),
        ("FeedbackPage", "Feedback"),
    ] {
        let first = &seen[page]["results"][0];
        assert_eq!(keys(first), properties(&doc, item), "{page}: {first}");
    }
    assert_eq!(keys(&seen["Event"]["organizer"]), properties(&doc, "UserRef"));
}

#[tokio::test]
async fn the_reference_page_loads_only_its_own_assets() {
    let app = spawn_app().await;
    let page = app.get("/docs", None).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    let policy = page.header("content-security-policy").expect("a content security policy");
    assert!(policy.starts_with("default-src 'none'; script-src 'self';"), "{policy}");

    let mut linked = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for piece in page.text.split(attribute).skip(1) {
            linked.push(piece.split('"').next().unwrap().to_owned());
        }
    }
    assert!(linked.len() >= 5, "{linked:?}");
    for target in linked {
        assert!(!target.contains("//") && !target.starts_with('/'), "{target} is not relative");
        // Relative to /docs.
        let reply = app.get(format!("/{target}"), None).await;
        assert_eq!(reply.status, 200, "{target}");
    }
    let asset = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(asset.header("content-type"), Some("text/javascript; charset=utf-8"));
    app.get("/docs/nope.js", None).await.problem(404);
    app.get("/docs/..%2FCargo.toml", None).await.problem(404);
}
