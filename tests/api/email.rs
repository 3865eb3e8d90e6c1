//! Email through the dispatch function: the table's stream read as the event source mapping reads
//! it, SES played by `aws-ses-v2-local`, and what it received read back. Exactly one email per
//! cause, whatever the retries; none for whoever turned email off.

use std::time::Duration;

use api_tests::{AppOptions, TestApp, spawn_app_with};
use base64::Engine;
use ical::parser::ical::component::IcalCalendar;
use serde_json::{Value, json};

async fn app() -> TestApp {
    spawn_app_with(AppOptions { dispatch: true, ..AppOptions::default() }).await
}

fn address(username: &str) -> String {
    format!("{}@example.com", username.to_lowercase())
}

/// The `.ics` attached to `email`, read by an independent parser.
fn attached_calendar(email: &Value) -> IcalCalendar {
    let attachments = email["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 1, "{email}");
    let attachment = &attachments[0];
    assert_eq!(attachment["filename"], "event.ics");
    assert!(attachment["contentType"].as_str().unwrap().starts_with("text/calendar"), "{attachment}");
    let raw = attachment["content"].as_str().expect("content");
    let bytes = base64::engine::general_purpose::STANDARD.decode(raw).expect("base64 content");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let mut calendars = ical::IcalParser::new(text.as_bytes());
    let calendar = calendars.next().expect("one calendar").expect("a valid calendar");
    assert!(calendars.next().is_none());
    calendar
}

fn property(calendar: &IcalCalendar, name: &str) -> Option<String> {
    calendar.events[0].properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone())
}

fn header<'a>(email: &'a Value, name: &str) -> Option<&'a str> {
    email["headers"].as_array()?.iter().find(|h| h["name"] == name)?["value"].as_str()
}

#[tokio::test]
async fn registering_sends_one_confirmation_with_the_event_attached() {
    let app = app().await;
    let organizer = app.user("org").await;
    let event = app.event(&organizer, json!({"title": "Rust <Lisbon> & friends", "capacity": 1})).await;
    let id = event["id"].as_str().unwrap();
    let alice = app.user("alice").await;
    app.post(format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await.ok(201);
    app.dispatch().await;
    // Every record handed again from the start (a redelivery) sends nothing more.
    app.replay_stream().await;

    let emails = app.emails_to(&address("alice")).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    let email = &emails[0];
    assert_eq!(email["from"], "events@example.com");
    assert_eq!(email["subject"], "You're registered: Rust <Lisbon> & friends");
    let text = email["body"]["text"].as_str().unwrap();
    assert!(text.contains("Hello alice,") && text.contains("Rust <Lisbon> & friends"), "{text}");
    let html = email["body"]["html"].as_str().unwrap();
    assert!(
        html.contains("Rust &#60;Lisbon&#62; &#38; friends")
            || html.contains("Rust &lt;Lisbon&gt; &amp; friends"),
        "{html}"
    );
    assert!(!html.contains("<Lisbon>"), "HTML escapes what people wrote");
    let calendar = attached_calendar(email);
    assert_eq!(property(&calendar, "UID").as_deref(), Some(format!("{id}@events-api").as_str()));
    assert_eq!(property(&calendar, "SUMMARY").as_deref(), Some("Rust <Lisbon> & friends"));
    assert_eq!(property(&calendar, "STATUS").as_deref(), Some("CONFIRMED"));

    // One-click unsubscribe (RFC 8058), with a link that works.
    assert_eq!(header(email, "List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    let link = header(email, "List-Unsubscribe").unwrap().trim_matches(['<', '>']).to_owned();
    assert!(link.starts_with(&format!("{}/email/unsubscribe/", app.url(""))), "{link}");
    assert!(app.emails_to(&address("org")).await.is_empty(), "the organizer did not register");
}

#[tokio::test]
async fn the_waitlist_and_a_promotion_each_send_one_email() {
    let app = app().await;
    let organizer = app.user("org").await;
    let event = app.event(&organizer, json!({"capacity": 1, "waitlist_enabled": true})).await;
    let id = event["id"].as_str().unwrap();
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let path = format!("/events/{id}/registrations");
    app.post(&path, Some(&alice.token), json!({})).await.ok(201);
    app.post(&path, Some(&bob.token), json!({})).await.ok(201);
    app.dispatch().await;
    let waiting = app.emails_to(&address("bob")).await;
    assert_eq!(waiting.len(), 1);
    assert!(waiting[0]["subject"].as_str().unwrap().starts_with("You're on the waitlist"), "{}", waiting[0]);

    app.delete(format!("{path}/me"), Some(&alice.token)).await;
    app.dispatch().await;
    app.dispatch().await;
    let bob_emails = app.emails_to(&address("bob")).await;
    assert_eq!(bob_emails.len(), 2, "{bob_emails:?}");
    let promoted = &bob_emails[1];
    assert!(promoted["subject"].as_str().unwrap().starts_with("A seat came free"), "{promoted}");
    assert_eq!(property(&attached_calendar(promoted), "STATUS").as_deref(), Some("CONFIRMED"));
    assert_eq!(app.emails_to(&address("alice")).await.len(), 1, "only her confirmation");
}

#[tokio::test]
async fn a_change_and_a_cancellation_reach_every_registrant_once() {
    let app = app().await;
    let organizer = app.user("org").await;
    let event = app.event(&organizer, json!({"capacity": 5})).await;
    let id = event["id"].as_str().unwrap();
    let people = [app.user("alice").await, app.user("bob").await];
    for person in &people {
        app.post(format!("/events/{id}/registrations"), Some(&person.token), json!({})).await.ok(201);
    }
    app.patch(format!("/events/{id}"), Some(&organizer.token), json!({"location": "Porto"})).await.ok(200);
    app.dispatch().await;
    app.delete(format!("/events/{id}"), Some(&organizer.token)).await;
    app.dispatch().await;
    for person in &people {
        let emails = app.emails_to(&address(&person.username)).await;
        let subjects: Vec<&str> = emails.iter().map(|e| e["subject"].as_str().unwrap()).collect();
        assert_eq!(subjects.len(), 3, "{subjects:?}");
        assert!(subjects[0].starts_with("You're registered"));
        assert!(subjects[1].starts_with("Changed: "), "{subjects:?}");
        assert_eq!(property(&attached_calendar(&emails[1]), "LOCATION").as_deref(), Some("Porto"));
        assert_eq!(subjects[2], "An event you registered for is cancelled");
        assert!(
            emails[2]["attachments"].as_array().is_none_or(Vec::is_empty),
            "a cancelled event has no calendar entry"
        );
    }
}

#[tokio::test]
async fn turning_email_off_stops_it_by_profile_or_by_the_one_click_link() {
    let app = app().await;
    let organizer = app.user("org").await;
    let event = app.event(&organizer, json!({"capacity": 5})).await;
    let id = event["id"].as_str().unwrap();
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    let me = app.get("/users/me", Some(&alice.token)).await;
    assert_eq!(me.ok(200)["email_notifications"], true);
    let off = app
        .patch(format!("/users/{}", alice.id), Some(&alice.token), json!({"email_notifications": false}))
        .await;
    assert_eq!(off.ok(200)["email_notifications"], false);
    let bad = app
        .patch(format!("/users/{}", alice.id), Some(&alice.token), json!({"email_notifications": "no"}))
        .await;
    bad.problem(400);
    let others_view = app.get(format!("/users/{}", alice.id), Some(&bob.token)).await;
    assert!(others_view.ok(200).get("email_notifications").is_none(), "only for oneself and admins");

    app.post(format!("/events/{id}/registrations"), Some(&bob.token), json!({})).await.ok(201);
    app.dispatch().await;
    let link = {
        let emails = app.emails_to(&address("bob")).await;
        assert_eq!(emails.len(), 1);
        header(&emails[0], "List-Unsubscribe").unwrap().trim_matches(['<', '>']).to_owned()
    };
    // Opening the link changes nothing (mail scanners fetch links); the one-click POST does.
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form method=\"post\">"));
    assert_eq!(app.get("/users/me", Some(&bob.token)).await.body["email_notifications"], true);
    let one_click = app
        .client
        .post(&link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), 200);
    assert_eq!(app.get("/users/me", Some(&bob.token)).await.body["email_notifications"], false);
    let forged = link.replace("/unsubscribe/", "/unsubscribe/x");
    assert_eq!(app.client.post(&forged).send().await.unwrap().status(), 404);

    app.post(format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await.ok(201);
    app.patch(format!("/events/{id}"), Some(&organizer.token), json!({"location": "Porto"})).await.ok(200);
    app.dispatch().await;
    assert!(app.emails_to(&address("alice")).await.is_empty());
    assert_eq!(app.emails_to(&address("bob")).await.len(), 1, "nothing after the unsubscribe");
}

#[tokio::test]
async fn an_email_that_fails_to_send_is_retried_and_sent_once() {
    let app = app().await;
    let organizer = app.user("org").await;
    let event = app.event(&organizer, json!({"capacity": 5})).await;
    let id = event["id"].as_str().unwrap();
    let alice = app.user("alice").await;
    app.post(format!("/events/{id}/registrations"), Some(&alice.token), json!({})).await.ok(201);

    // SES unreachable for a while: the record fails, is retried, and nothing is lost.
    let gate = &app.mail.as_ref().unwrap().ses_gate;
    gate.cut().await;
    assert!(app.dispatch_within(Duration::from_millis(800)).await.is_err());
    assert!(app.emails_to(&address("alice")).await.is_empty());
    gate.restore().await;
    app.dispatch().await;
    assert_eq!(app.emails_to(&address("alice")).await.len(), 1);
}

/// An edit and a deletion committed, and the requests gone before their follow-up (what the
/// store's first steps alone leave); then the dispatch function's storage cut: nothing is lost,
/// and all of it is done once storage returns.
#[tokio::test]
async fn an_edit_and_a_deletion_cut_short_are_finished_from_the_stream_once_storage_returns() {
    use api_tests::{dynamodb_local, proxy::Proxy};
    use shared::domain::Id;
    let storage = Proxy::start(&dynamodb_local::endpoint()).await;
    let app = spawn_app_with(AppOptions {
        dispatch: true,
        endpoint: storage.endpoint.clone(),
        ..AppOptions::default()
    })
    .await;
    let organizer = app.user("org").await;
    let edited =
        app.event(&organizer, json!({"title": "Grows", "capacity": 1, "waitlist_enabled": true})).await;
    let edited = edited["id"].as_str().unwrap().to_owned();
    let deleted = app.event(&organizer, json!({"title": "Goes", "capacity": 5})).await;
    let deleted = deleted["id"].as_str().unwrap().to_owned();
    let people = [app.user("alice").await, app.user("bob").await, app.user("carol").await];
    for person in &people {
        app.post(format!("/events/{edited}/registrations"), Some(&person.token), json!({})).await.ok(201);
        app.post(format!("/events/{deleted}/registrations"), Some(&person.token), json!({})).await.ok(201);
    }
    let store = &app.state.store;
    let current = store.find_event(Id::parse(&edited).unwrap()).await.unwrap().unwrap();
    let mut next = current.clone();
    next.capacity = 3;
    next.version += 1;
    store.save_event_edit(&current, &next).await.unwrap().expect("saved");
    store.begin_event_deletion(Id::parse(&deleted).unwrap()).await.unwrap().expect("marked");

    storage.cut().await;
    assert!(app.dispatch_within(Duration::from_secs(1)).await.is_err(), "nothing can be done meanwhile");
    storage.restore().await;
    app.dispatch().await;

    assert!(store.pending_edits().await.unwrap().is_empty());
    assert!(store.pending_event_deletions().await.unwrap().is_empty());
    assert_eq!(app.stored(&deleted).await.items, 0, "the deletion's clean-up ran");
    for person in &people {
        let mine = app.get(format!("/events/{edited}/registrations/me"), Some(&person.token)).await;
        assert_eq!(mine.ok(200)["status"], "confirmed", "the seats added were filled");
    }
    app.assert_invariants(&edited).await;
    for (i, person) in people.iter().enumerate() {
        let emails = app.emails_to(&address(&person.username)).await;
        let subjects: Vec<&str> = emails.iter().map(|e| e["subject"].as_str().unwrap()).collect();
        let count = |prefix: &str| subjects.iter().filter(|s| s.starts_with(prefix)).count();
        assert_eq!(count("Changed: Grows"), 1, "{subjects:?}");
        assert_eq!(count("An event you registered for is cancelled"), 1, "{subjects:?}");
        // The first took the one seat; the other two waited, then were promoted.
        let promoted = if i == 0 { 0 } else { 1 };
        assert_eq!(count("A seat came free"), promoted, "{subjects:?}");
    }
}

/// The template's event source mapping hands the function exactly the inserts that leave it
/// something to do.
#[test]
fn the_template_filters_the_stream_to_what_dispatch_acts_on() {
    let template: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(api_tests::fidelity::iam::template_path()).unwrap())
            .unwrap();
    let mapping =
        &template["Resources"]["DispatchFunction"]["Properties"]["Events"]["TableChanges"]["Properties"];
    assert_eq!(mapping["FunctionResponseTypes"][0], "ReportBatchItemFailures");
    assert_eq!(mapping["BatchSize"].as_i64(), Some(i64::from(local::stream::BATCH_SIZE)));
    let pattern: Value =
        serde_json::from_str(mapping["FilterCriteria"]["Filters"][0]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(pattern["eventName"], json!(["INSERT"]));
    assert_eq!(pattern["dynamodb"]["NewImage"]["type"]["S"], json!(shared::store::changes::DISPATCHED_TYPES));
    let removals: Value =
        serde_json::from_str(mapping["FilterCriteria"]["Filters"][1]["Pattern"].as_str().unwrap()).unwrap();
    assert_eq!(removals["eventName"], json!(["REMOVE"]));
    assert_eq!(
        removals["dynamodb"]["OldImage"]["type"]["S"],
        json!(shared::store::changes::DISPATCHED_REMOVALS)
    );
    assert_eq!(mapping["FilterCriteria"]["Filters"].as_sequence().map(Vec::len), Some(2));
    assert_eq!(
        template["Resources"]["Table"]["Properties"]["StreamSpecification"]["StreamViewType"],
        "NEW_AND_OLD_IMAGES"
    );
}

/// An SES that refuses every email to `refused` (as SES refuses an address in the sandbox, say)
/// and accepts the rest, recording to whom.
async fn picky_ses(refused: &'static str) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let accepted: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let seen = accepted.clone();
    let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
        let seen = seen.clone();
        async move {
            let request: Value = serde_json::from_slice(&body).unwrap_or_default();
            let to = request["Destination"]["ToAddresses"][0].as_str().unwrap_or_default().to_owned();
            if to == refused {
                let body = json!({"message": "Email address is not verified."}).to_string();
                return (StatusCode::BAD_REQUEST, [("x-amzn-errortype", "MessageRejected")], body)
                    .into_response();
            }
            seen.lock().unwrap().push(to);
            json!({"MessageId": ulid::Ulid::new().to_string()}).to_string().into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, accepted)
}

#[tokio::test]
async fn an_email_ses_refuses_is_set_aside_and_holds_up_nothing_behind_it() {
    let (ses, accepted) = picky_ses("alice@example.com").await;
    let app = spawn_app_with(AppOptions {
        dispatch: true,
        settings: vec![("SES_ENDPOINT", ses)],
        ..AppOptions::default()
    })
    .await;
    let organizer = app.user("org").await;
    let event = app.event(&organizer, json!({"capacity": 5})).await;
    let id = event["id"].as_str().unwrap();
    for name in ["alice", "bob"] {
        let person = app.user(name).await;
        app.post(format!("/events/{id}/registrations"), Some(&person.token), json!({})).await.ok(201);
    }
    app.dispatch().await;
    app.dispatch().await;
    assert_eq!(
        *accepted.lock().unwrap(),
        ["bob@example.com"],
        "bob's email went out, once; alice's was never retried"
    );
}

#[tokio::test]
async fn a_registration_cancelled_before_its_email_goes_out_gets_none() {
    let app = app().await;
    let organizer = app.user("org").await;
    let event = app.event(&organizer, json!({"capacity": 5})).await;
    let id = event["id"].as_str().unwrap();
    let alice = app.user("alice").await;
    let path = format!("/events/{id}/registrations");
    app.post(&path, Some(&alice.token), json!({})).await.ok(201);
    app.delete(format!("{path}/me"), Some(&alice.token)).await;
    app.dispatch().await;
    assert!(app.emails_to(&address("alice")).await.is_empty());
    // Registering again is a new registration, told of once.
    app.post(&path, Some(&alice.token), json!({})).await.ok(201);
    app.dispatch().await;
    assert_eq!(app.emails_to(&address("alice")).await.len(), 1);
}
