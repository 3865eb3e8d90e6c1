//! Registration, the waitlist and capacity, including under real concurrency.

use std::collections::BTreeSet;
use std::time::Duration;

use api_tests::fidelity::Behaviours;
use api_tests::{AppOptions, TestApp, days_from_now, spawn_app_with, spawn_app_with_index_lag};
use futures::future::join_all;
use serde_json::{Value, json};
use shared::domain::Id;
use shared::domain::Instant;
use shared::store::{INDEX_SETTLE_SECONDS, Store, seats};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn registrations(event: &str) -> String {
    format!("/events/{event}/registrations")
}

fn mine(event: &str) -> String {
    format!("/events/{event}/registrations/me")
}

#[tokio::test]
async fn registering_takes_a_seat_once() {
    let app = spawn_app_with_index_lag().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let event = id(&app.event(&alice, json!({"capacity": 2})).await);
    let reply = app.post(registrations(&event), Some(&bob.token), json!({})).await;
    let first = reply.ok(201).clone();
    assert_eq!(reply.header("location"), Some(mine(&event).as_str()));
    assert_eq!(first["event_id"], event.as_str());
    assert_eq!(first["user"], json!({"id": bob.id, "username": "bob"}));
    assert_eq!(first["status"], "confirmed");
    assert_eq!(first["waitlist_position"], Value::Null);
    assert!(first["created_at"].as_str().unwrap().ends_with('Z'));

    let again = app.post(registrations(&event), Some(&bob.token), json!({})).await;
    assert_eq!(again.ok(200), &first);
    assert_eq!(app.get(mine(&event), Some(&bob.token)).await.ok(200), &first);

    let stored = app.get(&format!("/events/{event}"), None).await;
    let body = stored.ok(200);
    assert_eq!((body["confirmed_count"].as_u64(), body["seats_left"].as_u64()), (Some(1), Some(1)));
    app.assert_invariants(&event).await;
}

#[tokio::test]
async fn a_full_event_waitlists_in_arrival_order_or_refuses() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 4).await;
    let event = id(&app.event(&organizer, json!({"capacity": 1})).await);
    for (i, person) in people.iter().enumerate() {
        let reply = app.post(registrations(&event), Some(&person.token), json!({})).await;
        let body = reply.ok(201);
        if i == 0 {
            assert_eq!(body["status"], "confirmed");
        } else {
            assert_eq!(body["status"], "waitlisted");
            assert_eq!(body["waitlist_position"], i as u64);
        }
    }
    let event_body = app.get(&format!("/events/{event}"), None).await.ok(200).clone();
    assert_eq!(event_body["waitlist_count"], 3);
    assert_eq!(event_body["seats_left"], 0);

    let closed = id(&app.event(&organizer, json!({"capacity": 1, "waitlist_enabled": false})).await);
    app.post(registrations(&closed), Some(&people[0].token), json!({})).await.ok(201);
    let refused = app.post(registrations(&closed), Some(&people[1].token), json!({})).await;
    assert_eq!(refused.problem(409)["type"].as_str().unwrap().rsplit('/').next(), Some("event-full"));
    app.assert_invariants(&event).await;
    app.assert_invariants(&closed).await;
}

#[tokio::test]
async fn registration_errors() {
    let app = spawn_app_with_index_lag().await;
    let alice = app.user("alice").await;
    let event = id(&app.event(&alice, json!({})).await);
    app.post(registrations(&event), None, json!({})).await.problem(401);
    app.post(registrations(&ulid::Ulid::new().to_string()), Some(&alice.token), json!({})).await.problem(404);
    app.post(registrations("nope"), Some(&alice.token), json!({})).await.problem(404);
    app.delete(mine(&event), Some(&alice.token)).await.problem(404);
    app.get(mine(&event), Some(&alice.token)).await.problem(404);
    app.move_start(&event, "2020-01-01T00:00:00Z").await;
    let started = app.post(registrations(&event), Some(&alice.token), json!({})).await;
    assert!(started.problem(409)["detail"].as_str().unwrap().contains("started"));
    app.assert_invariants(&event).await;
}

#[tokio::test]
async fn a_deleted_users_token_cannot_register() {
    let app = spawn_app_with_index_lag().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let event = id(&app.event(&alice, json!({})).await);
    app.delete(&format!("/users/{}", bob.id), Some(&bob.token)).await;
    app.post(registrations(&event), Some(&bob.token), json!({})).await.problem(401);
    app.assert_invariants(&event).await;
}

#[tokio::test]
async fn a_renamed_user_registers_under_the_new_name_with_an_old_token() {
    let app = spawn_app_with_index_lag().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let event = id(&app.event(&alice, json!({})).await);
    app.patch(&format!("/users/{}", bob.id), Some(&bob.token), json!({"username": "robert"})).await.ok(200);
    let reply = app.post(registrations(&event), Some(&bob.token), json!({})).await;
    assert_eq!(reply.ok(201)["user"]["username"], "robert");
}

#[tokio::test]
async fn cancelling_a_seat_promotes_the_first_in_line() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 4).await;
    let event = id(&app.event(&organizer, json!({"capacity": 1})).await);
    for person in &people {
        app.post(registrations(&event), Some(&person.token), json!({})).await;
    }
    // p2 leaves the waitlist: p3 moves up.
    assert_eq!(app.delete(mine(&event), Some(&people[2].token)).await.status, 204);
    assert_eq!(app.get(mine(&event), Some(&people[3].token)).await.ok(200)["waitlist_position"], 2);
    // p0 gives up the seat: p1 gets it, p3 is first in line.
    assert_eq!(app.delete(mine(&event), Some(&people[0].token)).await.status, 204);
    let promoted = app.get(mine(&event), Some(&people[1].token)).await;
    assert_eq!(promoted.ok(200)["status"], "confirmed");
    assert_eq!(promoted.body["waitlist_position"], Value::Null);
    assert_eq!(app.get(mine(&event), Some(&people[3].token)).await.ok(200)["waitlist_position"], 1);
    app.delete(mine(&event), Some(&people[0].token)).await.problem(404);
    let stored = app.assert_invariants(&event).await;
    assert_eq!((stored.confirmed_count, stored.waitlist_count), (1, 1));
    // Registering again after cancelling puts you at the back.
    let back = app.post(registrations(&event), Some(&people[0].token), json!({})).await;
    assert_eq!(back.ok(201)["waitlist_position"], 2);
}

#[tokio::test]
async fn capacity_changes_respect_confirmed_seats_and_promote() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 6).await;
    let event = id(&app.event(&organizer, json!({"capacity": 2})).await);
    for person in &people {
        app.post(registrations(&event), Some(&person.token), json!({})).await;
    }
    let path = format!("/events/{event}");
    let lowered = app.patch(&path, Some(&organizer.token), json!({"capacity": 1})).await;
    assert!(lowered.problem(409)["detail"].as_str().unwrap().contains("2"));
    let raised = app.patch(&path, Some(&organizer.token), json!({"capacity": 5})).await;
    let body = raised.ok(200);
    assert_eq!((body["confirmed_count"].as_u64(), body["waitlist_count"].as_u64()), (Some(5), Some(1)));
    assert_eq!(app.get(mine(&event), Some(&people[4].token)).await.ok(200)["status"], "confirmed");
    assert_eq!(app.get(mine(&event), Some(&people[5].token)).await.ok(200)["waitlist_position"], 1);
    app.assert_invariants(&event).await;
}

#[tokio::test]
async fn organizers_list_confirmed_then_the_waitlist_in_order() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let admin = app.admin("root").await;
    let people = app.crowd("p", 7).await;
    let event = id(&app.event(&organizer, json!({"capacity": 3})).await);
    for person in &people {
        app.post(registrations(&event), Some(&person.token), json!({})).await;
    }
    app.get(registrations(&event), Some(&people[0].token)).await.problem(403);
    app.get(registrations(&event), None).await.problem(401);
    app.get(registrations(&ulid::Ulid::new().to_string()), Some(&organizer.token)).await.problem(404);
    // Lists are read from an index: once it has caught up with the writes above.
    app.fidelity.settle_indexes();
    let listed = app.all_registrations(&event, &organizer.token, 2).await;
    let statuses: Vec<&str> = listed.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["confirmed"; 3].iter().chain(["waitlisted"; 4].iter()).copied().collect::<Vec<_>>()
    );
    let users: Vec<&str> = listed.iter().map(|r| r["user"]["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = people.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(users, expected);
    let positions: Vec<Value> = listed.iter().map(|r| r["waitlist_position"].clone()).collect();
    assert_eq!(
        positions,
        vec![Value::Null, Value::Null, Value::Null, json!(1), json!(2), json!(3), json!(4)]
    );
    assert_eq!(app.all_registrations(&event, &admin.token, 100).await, listed);
    // A cursor of this list is refused by another event's list.
    let page = app.get(&format!("{}?limit=1", registrations(&event)), Some(&organizer.token)).await;
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let other = id(&app.event(&organizer, json!({})).await);
    app.get(&format!("{}?cursor={cursor}", registrations(&other)), Some(&organizer.token)).await.problem(400);
}

#[tokio::test]
async fn my_registrations_come_soonest_event_first() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let alice = app.user("alice").await;
    let later = id(&app.event(&organizer, json!({"starts_at": days_from_now(30)})).await);
    let sooner = id(&app.event(&organizer, json!({"starts_at": days_from_now(2)})).await);
    let middle = id(&app.event(&organizer, json!({"starts_at": days_from_now(10), "capacity": 1})).await);
    app.post(registrations(&middle), Some(&organizer.token), json!({})).await.ok(201);
    for event in [&later, &sooner, &middle] {
        app.post(registrations(event), Some(&alice.token), json!({})).await;
    }
    // Lists are read from an index: once it has caught up with the writes above.
    app.fidelity.settle_indexes();
    let reply = app.get("/users/me/registrations", Some(&alice.token)).await;
    let results = reply.ok(200)["results"].as_array().unwrap().clone();
    let order: Vec<&str> = results.iter().map(|r| r["event_id"].as_str().unwrap()).collect();
    assert_eq!(order, [sooner.as_str(), middle.as_str(), later.as_str()]);
    assert_eq!(results[1]["status"], "waitlisted");
    assert_eq!(results[1]["waitlist_position"], 1);
    let first_page = app.get("/users/me/registrations?limit=2", Some(&alice.token)).await;
    let cursor = first_page.body["next_cursor"].as_str().unwrap().to_owned();
    let second =
        app.get(&format!("/users/me/registrations?limit=2&cursor={cursor}"), Some(&alice.token)).await;
    assert_eq!(second.ok(200)["results"][0]["event_id"], later.as_str());
    assert_eq!(second.body["next_cursor"], Value::Null);
    // Another user's cursor is not mine.
    app.get(&format!("/users/me/registrations?cursor={cursor}"), Some(&organizer.token)).await.problem(400);
    app.get("/users/me/registrations", None).await.problem(401);

    // Moving an event re-orders the list.
    app.patch(&format!("/events/{later}"), Some(&organizer.token), json!({"starts_at": days_from_now(1)}))
        .await
        .ok(200);
    app.fidelity.settle_indexes();
    let reply = app.get("/users/me/registrations", Some(&alice.token)).await;
    assert_eq!(reply.ok(200)["results"][0]["event_id"], later.as_str());
}

#[tokio::test]
async fn deleting_a_user_releases_their_seat_to_the_waitlist() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let event = id(&app.event(&organizer, json!({"capacity": 1})).await);
    app.post(registrations(&event), Some(&alice.token), json!({})).await.ok(201);
    app.post(registrations(&event), Some(&bob.token), json!({})).await.ok(201);
    // The deletion finds the user's registrations through an index: once it has caught up.
    app.fidelity.settle_indexes();
    assert_eq!(app.delete(&format!("/users/{}", alice.id), Some(&alice.token)).await.status, 204);
    assert_eq!(app.get(mine(&event), Some(&bob.token)).await.ok(200)["status"], "confirmed");
    let stored = app.assert_invariants(&event).await;
    assert!(!stored.registrations.contains_key(&alice.id));
}

#[tokio::test]
async fn a_seat_the_index_did_not_show_yet_is_released_by_the_scheduled_run() {
    let app = spawn_app_with(AppOptions {
        fidelity: Behaviours { index_lag: Duration::from_secs(600), ..Behaviours::default() },
        ..AppOptions::default()
    })
    .await;
    let organizer = app.user("org").await;
    let (alice, bob) = (app.user("alice").await, app.user("bob").await);
    let event = id(&app.event(&organizer, json!({"capacity": 1})).await);
    app.post(registrations(&event), Some(&alice.token), json!({})).await.ok(201);
    app.post(registrations(&event), Some(&bob.token), json!({})).await.ok(201);
    // Deleted before the index shows the registration: the request cannot find the seat.
    assert_eq!(app.delete(&format!("/users/{}", alice.id), Some(&alice.token)).await.status, 204);
    assert_eq!(app.get(mine(&event), Some(&bob.token)).await.ok(200)["status"], "waitlisted");
    app.assert_invariants(&event).await;

    // The scheduled run, once the index has caught up, releases it to the queue.
    app.fidelity.settle_indexes();
    let later = Instant::now().plus_seconds(INDEX_SETTLE_SECONDS);
    let summary = local::run_reminders(&app.state.store, later, Duration::from_secs(60)).await.unwrap();
    assert_eq!(summary.cleanups_finished, 1);
    assert_eq!(app.get(mine(&event), Some(&bob.token)).await.ok(200)["status"], "confirmed");
    let stored = app.assert_invariants(&event).await;
    assert!(!stored.registrations.contains_key(&alice.id));
}

#[tokio::test]
async fn deleting_an_event_removes_its_registrations() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 30).await;
    let event = id(&app.event(&organizer, json!({"capacity": 10})).await);
    join_all(people.iter().map(|p| app.post(registrations(&event), Some(&p.token), json!({})))).await;
    assert_eq!(app.delete(&format!("/events/{event}"), Some(&organizer.token)).await.status, 204);
    let stored = app.stored(&event).await;
    assert!(stored.registrations.is_empty() && stored.queue.is_empty());
    // Lists are read from an index: once it has caught up with the writes above.
    app.fidelity.settle_indexes();
    let reply = app.get("/users/me/registrations", Some(&people[0].token)).await;
    assert_eq!(reply.ok(200)["results"], json!([]));
    app.post(registrations(&event), Some(&people[0].token), json!({})).await.problem(404);
}

/// Hundreds of requests in flight queue up in one DynamoDB Local on a small machine: a generous
/// storage timeout keeps a slow emulator from turning into 503s, which are not what is tested.
async fn spawn_patient_app() -> TestApp {
    spawn_app_with(AppOptions { timeout_ms: 60_000, ..AppOptions::with_index_lag() }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_concurrent_registrations_never_overbook() {
    let app = spawn_patient_app().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 250).await;
    let event = id(&app.event(&organizer, json!({"capacity": 50})).await);
    // Fifty of them press the button twice.
    let attempts = people.iter().chain(people.iter().take(50));
    let replies =
        join_all(attempts.map(|p| app.post(registrations(&event), Some(&p.token), json!({})))).await;
    for reply in &replies {
        assert!(reply.status == 201 || reply.status == 200, "{}: {}", reply.status, reply.text);
    }
    let stored = app.assert_invariants(&event).await;
    assert_eq!(stored.confirmed_count, 50);
    assert_eq!(stored.waitlist_count, 200);
    assert_eq!(stored.registrations.len(), 250);
    // Lists are read from an index: once it has caught up with the writes above.
    app.fidelity.settle_indexes();
    let listed = app.all_registrations(&event, &organizer.token, 100).await;
    let positions: Vec<u64> = listed.iter().filter_map(|r| r["waitlist_position"].as_u64()).collect();
    assert_eq!(positions, (1..=200).collect::<Vec<_>>());
    let users: BTreeSet<&str> = listed.iter().map(|r| r["user"]["id"].as_str().unwrap()).collect();
    assert_eq!(users.len(), 250);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_cancels_registrations_and_capacity_changes_keep_the_invariants() {
    let app = spawn_patient_app().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 120).await;
    let event = id(&app.event(&organizer, json!({"capacity": 30})).await);
    join_all(people.iter().take(80).map(|p| app.post(registrations(&event), Some(&p.token), json!({}))))
        .await;
    app.assert_invariants(&event).await;

    let path = format!("/events/{event}");
    let cancels = people.iter().take(60).step_by(2).map(|p| app.delete(mine(&event), Some(&p.token)));
    let newcomers =
        people.iter().skip(80).map(|p| app.post(registrations(&event), Some(&p.token), json!({})));
    let returners =
        people.iter().take(20).step_by(4).map(|p| app.post(registrations(&event), Some(&p.token), json!({})));
    let capacities =
        [35, 25, 45, 40].map(|c| app.patch(&path, Some(&organizer.token), json!({"capacity": c})));
    let (cancelled, joined, returned, resized) =
        tokio::join!(join_all(cancels), join_all(newcomers), join_all(returners), join_all(capacities));
    for reply in cancelled.iter().chain(&joined).chain(&returned) {
        assert!([200, 201, 204, 404].contains(&reply.status.as_u16()), "{}: {}", reply.status, reply.text);
    }
    for reply in &resized {
        assert!([200, 409].contains(&reply.status.as_u16()), "{}: {}", reply.status, reply.text);
    }
    let stored = app.assert_invariants(&event).await;
    // Lists are read from an index: once it has caught up with the writes above.
    app.fidelity.settle_indexes();
    let listed = app.all_registrations(&event, &organizer.token, 50).await;
    assert_eq!(listed.len(), stored.registrations.len());
    let positions: Vec<u64> = listed.iter().filter_map(|r| r["waitlist_position"].as_u64()).collect();
    assert_eq!(positions, (1..=stored.waitlist_count).collect::<Vec<_>>());
    // The queue is in arrival order: nobody was passed over.
    let waitlisted: Vec<String> = listed
        .iter()
        .filter(|r| r["status"] == "waitlisted")
        .map(|r| r["user"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(waitlisted, stored.queue);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_of_several_seat_shards_latches_promotes_and_opens_again() {
    let app = spawn_patient_app().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 140).await;
    // 70 seats: three shards of 24, 23 and 23.
    let event = id(&app.event(&organizer, json!({"capacity": 70})).await);
    let replies =
        join_all(people.iter().take(100).map(|p| app.post(registrations(&event), Some(&p.token), json!({}))))
            .await;
    assert!(
        replies.iter().all(|r| r.status == 201),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let stored = app.assert_invariants(&event).await;
    assert_eq!((stored.shards, stored.latched_shards), (3, 3));
    assert_eq!((stored.confirmed_count, stored.waitlist_count), (70, 30));

    // Confirmed and waitlisted people leave at once while others arrive: every freed seat goes to
    // the head of the queue, and newcomers wait behind.
    let leaving = people.iter().take(100).step_by(3).map(|p| app.delete(mine(&event), Some(&p.token)));
    let arriving =
        people.iter().skip(100).take(20).map(|p| app.post(registrations(&event), Some(&p.token), json!({})));
    let (left, arrived) = tokio::join!(join_all(leaving), join_all(arriving));
    assert!(left.iter().all(|r| r.status == 204) && arrived.iter().all(|r| r.status == 201));
    let stored = app.assert_invariants(&event).await;
    assert_eq!(stored.confirmed_count, 70);

    // More seats than people waiting: everyone waiting is promoted, the shards open again, and
    // the next newcomer takes a seat.
    let path = format!("/events/{event}");
    let resized = app.patch(&path, Some(&organizer.token), json!({"capacity": 140})).await;
    assert_eq!(resized.ok(200)["waitlist_count"], 0);
    let stored = app.assert_invariants(&event).await;
    assert_eq!((stored.waitlist_count, stored.latched_shards), (0, 0));
    let late = app.post(registrations(&event), Some(&people[139].token), json!({})).await;
    assert_eq!(late.ok(201)["status"], "confirmed");
    let stored = app.assert_invariants(&event).await;
    assert_eq!(stored.capacity, 140);

    // Below the seats confirmed is refused; down to them is allowed, split over the shards.
    let confirmed = stored.confirmed_count;
    app.patch(&path, Some(&organizer.token), json!({"capacity": confirmed - 1})).await.problem(409);
    app.patch(&path, Some(&organizer.token), json!({"capacity": confirmed})).await.ok(200);
    let full = app.post(registrations(&event), Some(&people[138].token), json!({})).await;
    assert_eq!(full.ok(201)["status"], "waitlisted");
    app.assert_invariants(&event).await;
}

#[tokio::test]
async fn a_start_moved_by_another_process_is_read_before_refusing_as_started() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let (early, late) = (app.user("early").await, app.user("late").await);
    let event = id(&app.event(&organizer, json!({})).await);
    // This process reads the event while it seems to have started...
    app.move_start(&event, "2020-01-01T00:00:00Z").await;
    app.post(registrations(&event), Some(&early.token), json!({})).await.problem(409);
    // ...then another process moves it back into the future: the seats this process remembers
    // are stale, and a registration reads them again rather than refuse.
    app.move_start(&event, &api_tests::days_from_now(3)).await;
    assert_eq!(
        app.post(registrations(&event), Some(&late.token), json!({})).await.ok(201)["status"],
        "confirmed"
    );
    app.assert_invariants(&event).await;
}

#[tokio::test]
async fn a_seat_freed_by_another_process_is_found_by_the_registration_that_would_latch() {
    let app = spawn_app_with_index_lag().await;
    let organizer = app.user("org").await;
    let people = app.crowd("p", 48).await;
    // 40 seats: two shards of 20, all taken through this process, which so knows them full.
    let event = id(&app.event(&organizer, json!({"capacity": 40})).await);
    for person in &people[..40] {
        let reply = app.post(registrations(&event), Some(&person.token), json!({})).await;
        assert_eq!(reply.ok(201)["status"], "confirmed");
    }
    // Another process, with a store of its own, cancels a seat: nobody waits, so it is given back.
    let event_id = Id::parse(&event).expect("an event id");
    let leaver = Id::parse(&people[0].id).expect("a user id");
    let other = Store::open(app.table.clone(), Some(&app.fidelity.endpoint), Duration::from_secs(10)).await;
    let freed = other.find_registration(event_id, leaver).await.expect("read").expect("registered").shard;
    other.cancel_registration(event_id, leaver).await.expect("cancelled").expect("was registered");

    // A newcomer whose own shard is the other one: this process would latch both shards and join
    // the queue, but the latch's condition on the freed shard fails, and the newcomer gets the seat.
    let newcomer = people[40..]
        .iter()
        .find(|p| seats::home_shard(Id::parse(&p.id).expect("a user id"), 2) != usize::from(freed))
        .expect("one of eight on the other shard");
    let reply = app.post(registrations(&event), Some(&newcomer.token), json!({})).await;
    assert_eq!(reply.ok(201)["status"], "confirmed");
    let stored = app.assert_invariants(&event).await;
    assert_eq!((stored.confirmed_count, stored.waitlist_count, stored.latched_shards), (40, 0, 0));
}
