//! Tickets and check-in: a ticket per seat, its QR, scans at the door (once, even from two doors
//! at once), codes of other events and of cancelled registrations refused, and the door's hours.

use api_tests::{TestApp, TestUser, spawn_app};
use serde_json::{Value, json};

/// An event starting within the hour, so its door is open.
async fn starting_soon(app: &TestApp, organizer: &TestUser, overrides: Value) -> String {
    let starts = chrono::Utc::now() + chrono::Duration::minutes(60);
    let mut body = json!({"starts_at": starts.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)});
    if let (Some(base), Some(extra)) = (body.as_object_mut(), overrides.as_object()) {
        base.extend(extra.clone());
    }
    app.event(organizer, body).await["id"].as_str().expect("an event id").to_owned()
}

async fn register(app: &TestApp, event: &str, who: &TestUser) -> Value {
    let reply = app.post(format!("/events/{event}/registrations"), Some(&who.token), json!({})).await;
    reply.ok(201).clone()
}

async fn ticket(app: &TestApp, event: &str, who: &TestUser) -> Value {
    app.get(format!("/events/{event}/registrations/me/ticket"), Some(&who.token)).await.ok(200).clone()
}

fn code_of(ticket: &Value) -> String {
    ticket["code"].as_str().expect("a code").to_owned()
}

#[tokio::test]
async fn a_seat_has_one_ticket_a_waiter_none_and_cancelling_voids_it() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 3).await;
    let event = starting_soon(&app, &organizer, json!({"capacity": 1, "waitlist_enabled": true})).await;
    register(&app, &event, &people[0]).await;
    register(&app, &event, &people[1]).await;

    let path = format!("/events/{event}/registrations/me/ticket");
    let reply = app.get(&path, Some(&people[0].token)).await;
    let first = reply.ok(200).clone();
    assert_eq!(reply.header("cache-control"), Some("no-store"), "a ticket is a credential");
    let code = code_of(&first);
    assert_eq!(code.len(), 32);
    assert!(code.chars().all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)), "{code}");
    assert_eq!(first["status"], "valid");
    assert_eq!(first["checked_in_at"], Value::Null);
    assert_eq!(first["event"]["id"], event.as_str());
    assert!(
        first["qr_svg_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/events/{event}/registrations/me/ticket.svg"))
    );
    assert_eq!(code_of(&ticket(&app, &event, &people[0]).await), code, "the same ticket every time");

    let waiting = app.get(&path, Some(&people[1].token)).await;
    assert!(waiting.problem(404)["detail"].as_str().unwrap().contains("waitlist"), "{}", waiting.text);
    app.get(&path, Some(&people[2].token)).await.problem(404);
    app.get(&path, None).await.problem(401);
    app.get("/events/01JQ8Z4B2C3D4E5F6G7H8J9K0M/registrations/me/ticket", Some(&people[0].token))
        .await
        .problem(404);

    // Cancelling voids the ticket and promotes the waiter, who gets a ticket of their own.
    app.delete(format!("/events/{event}/registrations/me"), Some(&people[0].token)).await.ok(204);
    let promoted = code_of(&ticket(&app, &event, &people[1]).await);
    assert_ne!(promoted, code);
    let scan =
        app.post(format!("/events/{event}/checkins"), Some(&organizer.token), json!({"code": code})).await;
    scan.problem(404);
    // Registering again gives a new ticket: the old code stays void.
    register(&app, &event, &people[0]).await;
    app.delete(format!("/events/{event}/registrations/me"), Some(&people[1].token)).await.ok(204);
    let again = code_of(&ticket(&app, &event, &people[0]).await);
    assert_ne!(again, code);
    let scan =
        app.post(format!("/events/{event}/checkins"), Some(&organizer.token), json!({"code": code})).await;
    scan.problem(404);
    let scan =
        app.post(format!("/events/{event}/checkins"), Some(&organizer.token), json!({"code": again})).await;
    scan.ok(201);
}

#[tokio::test]
async fn two_doors_scanning_one_ticket_at_once_let_it_in_once() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let door = app.user("doorkeeper").await;
    let guest = app.user("guest").await;
    let event = starting_soon(&app, &organizer, json!({})).await;
    app.put(format!("/events/{event}/team/doorkeeper"), Some(&organizer.token), json!({"role": "door"}))
        .await
        .ok(201);
    register(&app, &event, &guest).await;
    let code = code_of(&ticket(&app, &event, &guest).await);

    let path = format!("/events/{event}/checkins");
    let scans = (0..12).map(|i| {
        let scanner = if i % 2 == 0 { &door } else { &organizer };
        app.post(&path, Some(&scanner.token), json!({"code": code.to_lowercase()}))
    });
    let replies = futures::future::join_all(scans).await;
    let admitted: Vec<_> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(admitted.len(), 1, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    let first = admitted[0];
    assert_eq!(first.header("location"), Some(format!("/events/{event}/checkins/{}", guest.id).as_str()));
    assert_eq!(first.body["registration"]["user"]["id"], guest.id.as_str());
    assert_eq!(first.body["registration"]["status"], "confirmed");
    let by = first.body["checked_in_by"]["username"].as_str().unwrap();
    assert!(by == "doorkeeper" || by == "org", "{by}");
    for reply in replies.iter().filter(|r| r.status != 201) {
        let problem = reply.problem(409);
        assert!(problem["type"].as_str().unwrap().ends_with("/already-checked-in"));
        assert_eq!(problem["checked_in_at"], first.body["checked_in_at"], "says when");
        assert_eq!(problem["checked_in_by"], first.body["checked_in_by"], "and by whom");
        assert!(problem["detail"].as_str().unwrap().contains(by));
    }
    let shown = ticket(&app, &event, &guest).await;
    assert_eq!(
        (shown["status"].clone(), shown["checked_in_at"].clone()),
        (json!("checked_in"), first.body["checked_in_at"].clone())
    );

    // Undone, the ticket scans again; undoing twice is a 404.
    let undo = format!("/events/{event}/checkins/{}", guest.id);
    app.delete(&undo, Some(&door.token)).await.ok(204);
    app.delete(&undo, Some(&door.token)).await.problem(404);
    assert_eq!(ticket(&app, &event, &guest).await["status"], "valid");
    app.post(&path, Some(&door.token), json!({"code": code})).await.ok(201);
    app.delete(format!("/events/{event}/checkins/not-an-id"), Some(&door.token)).await.problem(404);
}

#[tokio::test]
async fn codes_work_only_at_their_own_event_and_only_for_the_team() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let admin = app.admin("boss").await;
    let people = app.crowd("p", 2).await;
    let event = starting_soon(&app, &organizer, json!({})).await;
    let other = starting_soon(&app, &organizer, json!({})).await;
    register(&app, &event, &people[0]).await;
    register(&app, &other, &people[1]).await;
    let code = code_of(&ticket(&app, &event, &people[0]).await);

    // A code of another event is unknown here, even to the organizer of both.
    let at_other =
        app.post(format!("/events/{other}/checkins"), Some(&organizer.token), json!({"code": code})).await;
    at_other.problem(404);
    let path = format!("/events/{event}/checkins");
    // Neither an attendee nor anyone off the team may scan.
    app.post(&path, Some(&people[0].token), json!({"code": code})).await.problem(403);
    app.post(&path, Some(&people[1].token), json!({"code": code})).await.problem(403);
    app.post(&path, None, json!({"code": code})).await.problem(401);
    // Malformed and unknown codes match no ticket; a body without a code is a 400.
    for bad in ["", "short", "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U", &code[..31]] {
        app.post(&path, Some(&organizer.token), json!({"code": bad})).await.problem(404);
    }
    let missing = app.post(&path, Some(&organizer.token), json!({})).await;
    assert!(missing.problem(400)["errors"]["code"].is_array());
    app.post(&path, Some(&organizer.token), json!({"code": code, "user_id": people[0].id}))
        .await
        .problem(400);
    app.post(&path, Some(&organizer.token), json!({"code": 5})).await.problem(400);
    app.post("/events/01JQ8Z4B2C3D4E5F6G7H8J9K0M/checkins", Some(&organizer.token), json!({"code": code}))
        .await
        .problem(404);
    // An admin may.
    app.post(&path, Some(&admin.token), json!({"code": code})).await.ok(201);
}

#[tokio::test]
async fn the_door_opens_two_hours_before_the_start_and_closes_at_the_end() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let guest = app.user("guest").await;
    let next_week = app.event(&organizer, json!({})).await["id"].as_str().unwrap().to_owned();
    register(&app, &next_week, &guest).await;
    let code = code_of(&ticket(&app, &next_week, &guest).await);
    let path = format!("/events/{next_week}/checkins");
    let early = app.post(&path, Some(&organizer.token), json!({"code": code})).await;
    assert!(early.problem(409)["type"].as_str().unwrap().ends_with("/check-in-not-open"));

    // Started more than 12 hours ago with no end: closed.
    app.move_start(&next_week, "2020-01-01T00:00:00Z").await;
    let late = app.post(&path, Some(&organizer.token), json!({"code": code})).await;
    assert!(late.problem(409)["type"].as_str().unwrap().ends_with("/check-in-closed"));

    // Started an hour ago, with no end: open.
    let an_hour_ago =
        (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    app.move_start(&next_week, &an_hour_ago).await;
    app.post(&path, Some(&organizer.token), json!({"code": code})).await.ok(201);
}

#[tokio::test]
async fn the_qr_image_decodes_back_to_the_code() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let guest = app.user("guest").await;
    let event = starting_soon(&app, &organizer, json!({})).await;
    register(&app, &event, &guest).await;
    let code = code_of(&ticket(&app, &event, &guest).await);
    let reply = app.get(format!("/events/{event}/registrations/me/ticket.svg"), Some(&guest.token)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("image/svg+xml"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(decode_qr(&reply.text), code);
    app.get(format!("/events/{event}/registrations/me/ticket.svg"), Some(&organizer.token))
        .await
        .problem(404);
}

/// Rasterizes the SVG (a white square and one path of axis-aligned rectangles, each
/// `M x y` followed by `h`, `v`, `H` and `V` moves) and decodes it with `rqrr`.
fn decode_qr(svg: &str) -> String {
    let size = attribute(svg, "width").parse::<usize>().expect("a width");
    let path = attribute(&svg[svg.find("<path").expect("a path")..], "d");
    let mut dark = vec![false; size * size];
    for sub in path.split('M').filter(|s| !s.is_empty()) {
        let points = trace(sub);
        let (x0, x1) = span(points.iter().map(|p| p.0));
        let (y0, y1) = span(points.iter().map(|p| p.1));
        for y in y0..y1 {
            for x in x0..x1 {
                dark[y * size + x] = true;
            }
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(
            size,
            size,
            |x, y| {
                if dark[y * size + x] { 0 } else { 255 }
            },
        );
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("a readable QR code").1
}

fn attribute<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text.find(&format!(" {name}=\"")).expect("the attribute") + name.len() + 3;
    &text[start..start + text[start..].find('"').expect("a closing quote")]
}

/// The corners one subpath visits.
fn trace(sub: &str) -> Vec<(usize, usize)> {
    let mut tokens = Vec::new();
    let mut number = String::new();
    for c in sub.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        if !number.is_empty() {
            tokens.push(Token::Number(number.parse().expect("a number")));
            number.clear();
        }
        if c.is_ascii_alphabetic() {
            tokens.push(Token::Command(c));
        }
    }
    let mut numbers = tokens.iter().filter_map(|t| if let Token::Number(n) = t { Some(*n) } else { None });
    let mut at = (numbers.next().expect("x"), numbers.next().expect("y"));
    let mut points = vec![at];
    let mut rest = tokens.iter().skip(2);
    while let Some(token) = rest.next() {
        let Token::Command(command) = token else { panic!("a number without a command") };
        let Some(Token::Number(n)) = rest.next() else { break };
        match command {
            'h' => at.0 += n,
            'v' => at.1 += n,
            'H' => at.0 = *n,
            'V' => at.1 = *n,
            'z' | 'Z' => break,
            other => panic!("unexpected path command {other}"),
        }
        points.push(at);
    }
    points
}

enum Token {
    Number(usize),
    Command(char),
}

fn span(values: impl Iterator<Item = usize>) -> (usize, usize) {
    values.fold((usize::MAX, 0), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

#[tokio::test]
async fn the_attendee_export_is_csv_a_spreadsheet_cannot_run() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let door = app.user("doorkeeper").await;
    let stranger = app.user("stranger").await;
    let event = starting_soon(&app, &organizer, json!({"capacity": 2, "waitlist_enabled": true})).await;
    app.put(format!("/events/{event}/team/doorkeeper"), Some(&organizer.token), json!({"role": "door"}))
        .await
        .ok(201);
    // People who chose names and addresses a spreadsheet would run as formulas.
    let mut people = Vec::new();
    for (name, email) in
        [("-cmd", "=1+2@example.com"), ("plain", "plain@example.com"), ("sum", "+x@example.com")]
    {
        app.post("/users", None, json!({"username": name, "email": email, "password": api_tests::PASSWORD}))
            .await
            .ok(201);
        let tokens = app.log_in(name, api_tests::PASSWORD).await;
        let token = tokens.ok(200)["access_token"].as_str().unwrap().to_owned();
        people.push((name, email, token));
    }
    for (_, _, token) in &people {
        app.post(format!("/events/{event}/registrations"), Some(token), json!({})).await.ok(201);
    }
    let code = app.get(format!("/events/{event}/registrations/me/ticket"), Some(&people[0].2)).await.ok(200)
        ["code"]
        .clone();
    let scanned =
        app.post(format!("/events/{event}/checkins"), Some(&door.token), json!({"code": code})).await;
    let checked_in_at = scanned.ok(201)["checked_in_at"].as_str().unwrap().to_owned();

    let path = format!("/events/{event}/attendees.csv");
    let reply = app.get(&path, Some(&door.token)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("text/csv; charset=utf-8; header=present"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert!(reply.header("content-disposition").unwrap().starts_with("attachment;"));
    assert!(reply.text.contains("\r\n") && !reply.text.replace("\r\n", "").contains('\n'), "CRLF lines");
    let rows = read_csv(&reply.text);
    assert_eq!(
        rows[0],
        ["username", "email", "status", "waitlist_position", "registered_at", "checked_in_at"]
    );
    assert_eq!(rows.len(), 4);
    let row =
        |name: &str| rows.iter().find(|r| r[0].trim_start_matches('\'') == name).expect("a row").clone();
    assert_eq!(row("-cmd")[..4], ["'-cmd", "'=1+2@example.com", "confirmed", ""]);
    assert_eq!(row("-cmd")[5], checked_in_at);
    assert_eq!(row("plain")[..4], ["plain", "plain@example.com", "confirmed", ""]);
    assert_eq!(row("plain")[5], "");
    assert_eq!(row("sum")[..4], ["sum", "'+x@example.com", "waitlisted", "1"]);
    assert!(rows[1..].iter().all(|r| !r.iter().any(|cell| cell.starts_with(['=', '+', '-', '@']))));

    app.get(&path, Some(&organizer.token)).await.ok(200);
    app.get(&path, Some(&stranger.token)).await.problem(403);
    app.get(&path, Some(&people[1].2)).await.problem(403);
    app.get(&path, None).await.problem(401);
    app.get("/events/01JQ8Z4B2C3D4E5F6G7H8J9K0M/attendees.csv", Some(&organizer.token)).await.problem(404);
}

#[tokio::test]
async fn an_export_of_many_pages_lists_everyone_once_in_order() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 230).await;
    let event = starting_soon(&app, &organizer, json!({"capacity": 150, "waitlist_enabled": true})).await;
    for person in &people {
        register(&app, &event, person).await;
    }
    let reply = app.get(format!("/events/{event}/attendees.csv"), Some(&organizer.token)).await;
    assert_eq!(reply.status, 200);
    let rows = read_csv(&reply.text);
    assert_eq!(rows.len(), 231, "a header and one row each, over three pages");
    let mut names: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    let confirmed = rows[1..].iter().take_while(|r| r[2] == "confirmed").count();
    assert_eq!(confirmed, 150, "confirmed first");
    let positions: Vec<String> = rows[151..].iter().map(|r| r[3].clone()).collect();
    assert_eq!(positions, (1..=80).map(|p| p.to_string()).collect::<Vec<_>>(), "then the waitlist in order");
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 230);
}

/// The rows of `text` as Python's `csv` module reads them.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    use std::io::Write;
    let mut python = std::process::Command::new("python3")
        .args(["-c", "import csv, io, json, sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.read(), newline='')))))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    python.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("writing the CSV");
    let out = python.wait_with_output().expect("python3 answers");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("rows as JSON")
}

#[tokio::test]
async fn the_stats_follow_every_registration_cancellation_and_check_in() {
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let cohost = app.user("cohost").await;
    let door = app.user("doorkeeper").await;
    let people = app.crowd("p", 5).await;
    let event = starting_soon(&app, &organizer, json!({"capacity": 3, "waitlist_enabled": true})).await;
    for (who, role) in [("cohost", "cohost"), ("doorkeeper", "door")] {
        app.put(format!("/events/{event}/team/{who}"), Some(&organizer.token), json!({"role": role}))
            .await
            .ok(201);
    }
    for person in &people {
        register(&app, &event, person).await;
    }
    // Two check in; one of them undoes it; one confirmed and one waiting cancel.
    for person in &people[..2] {
        let code = code_of(&ticket(&app, &event, person).await);
        app.post(format!("/events/{event}/checkins"), Some(&door.token), json!({"code": code})).await.ok(201);
    }
    app.delete(format!("/events/{event}/checkins/{}", people[1].id), Some(&door.token)).await.ok(204);
    app.delete(format!("/events/{event}/registrations/me"), Some(&people[0].token)).await.ok(204);
    app.delete(format!("/events/{event}/registrations/me"), Some(&people[4].token)).await.ok(204);

    let path = format!("/events/{event}/stats");
    let stats = app.get(&path, Some(&cohost.token)).await.ok(200).clone();
    assert_eq!(stats["capacity"], 3);
    assert_eq!(stats["confirmed"], 3, "p1, p2 and p3 promoted");
    assert_eq!(stats["waitlisted"], 0);
    assert_eq!(stats["checked_in"], 0, "p0 checked in and cancelled; p1's was undone");
    assert_eq!(stats["cancelled"], 2);
    assert_eq!(stats["average_rating"], Value::Null);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let days = stats["registrations_per_day"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{days:?}");
    assert_eq!(days[0], json!({"date": today, "registrations": 5, "cancellations": 2, "check_ins": 0}));

    // A check-in that stands is counted.
    let code = code_of(&ticket(&app, &event, &people[2]).await);
    app.post(format!("/events/{event}/checkins"), Some(&organizer.token), json!({"code": code}))
        .await
        .ok(201);
    let after = app.get(&path, Some(&organizer.token)).await.ok(200).clone();
    assert_eq!(after["checked_in"], 1);
    assert_eq!(after["registrations_per_day"][0]["check_ins"], 1);

    // The numbers are the team's, but not the door's.
    app.get(&path, Some(&door.token)).await.problem(403);
    app.get(&path, Some(&people[2].token)).await.problem(403);
    app.get(&path, None).await.problem(401);
    app.get("/events/01JQ8Z4B2C3D4E5F6G7H8J9K0M/stats", Some(&organizer.token)).await.problem(404);
}

#[tokio::test]
async fn on_lambda_the_export_is_read_whole_before_answering() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let app = spawn_app().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 120).await;
    let event = starting_soon(&app, &organizer, json!({"capacity": 200})).await;
    for person in &people {
        register(&app, &event, person).await;
    }
    // As lambda_http hands the router a request: with the invocation's context.
    let request = http::Request::get(format!("/events/{event}/attendees.csv"))
        .header("authorization", format!("Bearer {}", organizer.token))
        .extension(lambda_http::Context::default())
        .body(axum::body::Body::empty())
        .unwrap();
    let response = register::router(app.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8; header=present");
    let body = response.into_body();
    assert_eq!(
        axum::body::HttpBody::size_hint(&body).exact().map(|n| n > 0),
        Some(true),
        "a whole body, not a stream"
    );
    let text = String::from_utf8(body.collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let rows = read_csv(&text);
    assert_eq!(rows.len(), 121, "a header and one row each, over two pages");
}
