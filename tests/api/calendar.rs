//! iCalendar output, checked with an independent parser, and personal feeds with rotation.

use api_tests::{TestApp, spawn_app};
use ical::parser::ical::component::IcalCalendar;
use serde_json::json;

fn parse(text: &str) -> IcalCalendar {
    let mut calendars = ical::IcalParser::new(text.as_bytes());
    let calendar = calendars.next().expect("one calendar").expect("a valid calendar");
    assert!(calendars.next().is_none());
    calendar
}

fn property(calendar: &IcalCalendar, event: usize, name: &str) -> Option<String> {
    calendar.events[event].properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone())
}

async fn ics(app: &TestApp, path: &str) -> String {
    let reply = app.get(path, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("text/calendar; charset=utf-8"));
    reply.text
}

#[tokio::test]
async fn an_event_is_one_valid_vevent() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let description = format!("Line one; with, commas\nLine two \\ backslash — {}", "long text ".repeat(20));
    let event = app
        .event(
            &organizer,
            json!({"title": "Rust, Lisbon; édition spéciale", "description": description, "starts_at": "2031-05-01T18:00:00+01:00", "ends_at": "2031-05-01T20:00:00+01:00", "timezone": "Europe/Lisbon", "location": "Lisboa"}),
        )
        .await;
    let id = event["id"].as_str().unwrap();
    let text = ics(&app, &format!("/events/{id}/calendar.ics")).await;
    assert!(text.lines().all(|l| l.len() <= 76), "lines are folded at 75 octets");
    assert!(text.contains("\r\n"));
    let calendar = parse(&text);
    assert_eq!(calendar.events.len(), 1);
    assert_eq!(property(&calendar, 0, "UID").unwrap(), format!("{id}@events-api"));
    assert_eq!(property(&calendar, 0, "DTSTART").unwrap(), "20310501T170000Z");
    assert_eq!(property(&calendar, 0, "DTEND").unwrap(), "20310501T190000Z");
    assert!(property(&calendar, 0, "DTSTAMP").is_some());
    assert_eq!(property(&calendar, 0, "SUMMARY").unwrap(), "Rust\\, Lisbon\\; édition spéciale");
    // The calendar's own name is TEXT too, under both of its property names.
    for name in ["NAME", "X-WR-CALNAME"] {
        let value = calendar.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone());
        assert_eq!(value.unwrap(), "Rust\\, Lisbon\\; édition spéciale", "{name}");
    }
    assert!(property(&calendar, 0, "URL").unwrap().ends_with(&format!("/events/{id}")));
    let description = description.trim();
    let unescaped = property(&calendar, 0, "DESCRIPTION")
        .unwrap()
        .replace("\\n", "\n")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\");
    assert_eq!(unescaped, description);
    // The UID is stable.
    let again = parse(&ics(&app, &format!("/events/{id}/calendar.ics")).await);
    assert_eq!(property(&again, 0, "UID"), property(&calendar, 0, "UID"));
    assert!(
        event["google_calendar_url"]
            .as_str()
            .unwrap()
            .starts_with("https://calendar.google.com/calendar/render?action=TEMPLATE")
    );
    app.get(format!("/events/{}/calendar.ics", ulid::Ulid::new()), None).await.problem(404);
}

#[tokio::test]
async fn a_personal_feed_lists_upcoming_registrations_and_rotates() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mine = app.event(&organizer, json!({"title": "Mine", "capacity": 1})).await;
    let waiting = app.event(&organizer, json!({"title": "Waiting", "capacity": 1})).await;
    let past = app.event(&organizer, json!({"title": "Past"})).await;
    let not_mine = app.event(&organizer, json!({"title": "Not mine"})).await;
    app.post(
        format!("/events/{}/registrations", waiting["id"].as_str().unwrap()),
        Some(&bob.token),
        json!({}),
    )
    .await;
    for event in [&mine, &waiting, &past] {
        app.post(
            format!("/events/{}/registrations", event["id"].as_str().unwrap()),
            Some(&alice.token),
            json!({}),
        )
        .await;
    }
    app.post(
        format!("/events/{}/registrations", not_mine["id"].as_str().unwrap()),
        Some(&bob.token),
        json!({}),
    )
    .await;
    app.move_start(past["id"].as_str().unwrap(), "2020-01-01T00:00:00Z").await;

    let url =
        app.get("/users/me/calendar", Some(&alice.token)).await.ok(200)["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("http://{}/calendar/", app.address)) && url.ends_with("/feed.ics"));
    let path = url.trim_start_matches(&format!("http://{}", app.address)).to_owned();
    let calendar = parse(&ics(&app, &path).await);
    let mut summaries: Vec<(String, String)> = (0..calendar.events.len())
        .map(|i| (property(&calendar, i, "SUMMARY").unwrap(), property(&calendar, i, "STATUS").unwrap()))
        .collect();
    summaries.sort();
    assert_eq!(summaries, vec![("Mine".into(), "CONFIRMED".into()), ("Waiting".into(), "TENTATIVE".into())]);

    let rotated = app.post("/users/me/calendar/rotate", Some(&alice.token), json!({})).await;
    let new_url = rotated.ok(200)["url"].as_str().unwrap().to_owned();
    assert_ne!(new_url, url);
    app.get(&path, None).await.problem(404);
    let new_path = new_url.trim_start_matches(&format!("http://{}", app.address)).to_owned();
    assert_eq!(parse(&ics(&app, &new_path).await).events.len(), 2);
    assert_eq!(app.get("/users/me/calendar", Some(&alice.token)).await.ok(200)["url"], new_url.as_str());
    app.get("/calendar/forged-token/feed.ics", None).await.problem(404);
    app.get("/users/me/calendar", None).await.problem(401);
}
