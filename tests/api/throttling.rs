//! Limits on password guessing, sign-ups and refreshes, per account and per client address; and
//! the password policy. Clients at other addresses are other loopback addresses (127.0.0.x): the
//! server counts by the connection's peer, as it counts by API Gateway's source IP on AWS.

use std::net::Ipv4Addr;

use api_tests::{AppOptions, PASSWORD, Reply, TestApp, spawn_app, spawn_app_with};
use serde_json::json;
use shared::domain::throttle::{Limit, Limits};

/// An hour's wait after the free attempts: long enough that no test's timing can see it pass.
const HOUR_AFTER: u64 = 3600;

fn strict(free: u32) -> Limit {
    Limit { free, first_wait: HOUR_AFTER, max_wait: HOUR_AFTER, window: 86_400 }
}

async fn app_with(limits: Limits) -> TestApp {
    spawn_app_with(AppOptions { limits, ..AppOptions::default() }).await
}

const OTHER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const THIRD: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

fn login(username: &str, password: &str) -> serde_json::Value {
    json!({"username": username, "password": password})
}

/// A 429 problem whose `Retry-After` is the wait still to run, in whole seconds.
#[track_caller]
fn assert_wait(reply: &Reply, at_most: u64) {
    reply.problem(429);
    let seconds: u64 =
        reply.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After in seconds");
    assert!((1..=at_most).contains(&seconds), "Retry-After {seconds}");
    assert!(reply.body["detail"].as_str().unwrap().contains(&format!("{seconds} second")), "{}", reply.text);
}

#[tokio::test]
async fn guessing_one_password_is_refused_after_the_free_attempts_from_any_address() {
    let app = app_with(Limits { login_per_account: strict(3), ..Limits::default() }).await;
    app.user("alice").await;
    app.user("bob").await;
    for _ in 0..3 {
        app.log_in("alice", "not-the-password").await.problem(401);
    }
    assert_wait(&app.log_in("alice", "not-the-password").await, HOUR_AFTER);
    // The account's tally follows the account, whatever the address and the letter case.
    assert_wait(
        &app.post_from(OTHER, "/auth/token", login("ALICE", "guess-from-elsewhere")).await,
        HOUR_AFTER,
    );
    // While it waits, the right password waits too: it is not even checked.
    assert_wait(&app.log_in("alice", PASSWORD).await, HOUR_AFTER);
    // Other accounts, from the same address, are untouched.
    app.log_in("bob", PASSWORD).await.ok(200);
}

#[tokio::test]
async fn logging_in_clears_the_accounts_failures() {
    let app = app_with(Limits { login_per_account: strict(3), ..Limits::default() }).await;
    app.user("alice").await;
    for _ in 0..2 {
        app.log_in("alice", "not-the-password").await.problem(401);
    }
    app.log_in("alice", PASSWORD).await.ok(200);
    for _ in 0..3 {
        app.log_in("alice", "not-the-password").await.problem(401);
    }
    assert_wait(&app.log_in("alice", "not-the-password").await, HOUR_AFTER);
}

#[tokio::test]
async fn an_address_guessing_across_accounts_is_refused_and_others_are_not() {
    let app = app_with(Limits { login_per_address: strict(3), ..Limits::default() }).await;
    for name in ["alice", "bob", "carol", "dave"] {
        app.user(name).await;
    }
    // Two failures, a success of its own (which gives back only its own attempt), one more.
    app.post_from(OTHER, "/auth/token", login("bob", "not-the-password")).await.problem(401);
    app.post_from(OTHER, "/auth/token", login("carol", "not-the-password")).await.problem(401);
    app.post_from(OTHER, "/auth/token", login("dave", PASSWORD)).await.ok(200);
    app.post_from(OTHER, "/auth/token", login("dave", "not-the-password")).await.problem(401);
    assert_wait(&app.post_from(OTHER, "/auth/token", login("alice", "not-the-password")).await, HOUR_AFTER);
    // Names no account can have count too.
    assert_wait(&app.post_from(OTHER, "/auth/token", login("no such name", "x")).await, HOUR_AFTER);
    // Another address, and the accounts guessed at, are untouched.
    app.post_from(THIRD, "/auth/token", login("alice", PASSWORD)).await.ok(200);
    app.log_in("bob", PASSWORD).await.ok(200);
}

#[tokio::test]
async fn concurrent_guesses_get_exactly_the_free_attempts() {
    let app = app_with(Limits { login_per_account: strict(3), ..Limits::default() }).await;
    app.user("alice").await;
    let guesses = (0..16).map(|_| app.log_in("alice", "not-the-password"));
    let replies = futures::future::join_all(guesses).await;
    let checked = replies.iter().filter(|r| r.status == 401).count();
    let waiting = replies.iter().filter(|r| r.status == 429).count();
    assert_eq!((checked, waiting), (3, 13), "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_name_no_account_can_have_is_refused_like_a_wrong_password() {
    let app = spawn_app().await;
    app.user("alice").await;
    let wrong = app.log_in("alice", "not-the-password").await;
    for name in ["x".repeat(3000), "ab".into(), "has space".into(), "émile".into()] {
        let reply = app.log_in(&name, "not-the-password").await;
        reply.problem(401);
        assert_eq!(reply.body, wrong.body, "{name:?}");
    }
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited_and_a_refused_one_stores_nothing() {
    let app = app_with(Limits { sign_up_per_address: strict(2), ..Limits::default() }).await;
    let sign_up =
        |name: &str| json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD});
    app.post_from(OTHER, "/users", sign_up("alice")).await.ok(201);
    app.post_from(OTHER, "/users", sign_up("bob")).await.ok(201);
    assert_wait(&app.post_from(OTHER, "/users", sign_up("carol")).await, HOUR_AFTER);
    assert!(app.state.store.find_user_by_username("carol").await.unwrap().is_none());
    // A body refused anyway is told what is wrong with it, before any counting.
    app.post_from(OTHER, "/users", json!({"username": "dave"})).await.problem(400);
    app.post_from(THIRD, "/users", sign_up("carol")).await.ok(201);
}

#[tokio::test]
async fn refreshes_from_one_address_are_limited() {
    let app = app_with(Limits { refresh_per_address: strict(2), ..Limits::default() }).await;
    let alice = app.user("alice").await;
    let first = app.post_from(OTHER, "/auth/refresh", json!({"refresh_token": alice.refresh_token})).await;
    let next = first.ok(200)["refresh_token"].as_str().unwrap().to_owned();
    app.post_from(OTHER, "/auth/refresh", json!({"refresh_token": "garbage"})).await.problem(401);
    assert_wait(&app.post_from(OTHER, "/auth/refresh", json!({"refresh_token": next})).await, HOUR_AFTER);
    // The token was not spent by the refused attempt.
    app.post_from(THIRD, "/auth/refresh", json!({"refresh_token": next})).await.ok(200);
}

#[tokio::test]
async fn responses_carrying_credentials_are_never_cached() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let login = app.log_in("alice", PASSWORD).await;
    let refreshed = app.post("/auth/refresh", None, json!({"refresh_token": alice.refresh_token})).await;
    let calendar = app.get("/users/me/calendar", Some(&alice.token)).await;
    let rotated = app.post("/users/me/calendar/rotate", Some(&alice.token), json!({})).await;
    for reply in [&login, &refreshed, &calendar, &rotated] {
        reply.ok(200);
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{}", reply.text);
        assert_eq!(reply.header("pragma"), Some("no-cache"));
    }
}

#[tokio::test]
async fn common_or_personal_passwords_are_refused_with_a_field_error() {
    let app = spawn_app().await;
    for (username, password) in
        [("alice", "password123"), ("alice", "iloveyou1"), ("rosalind-q", "rosalind-q")]
    {
        let body = json!({"username": username, "email": "someone@example.com", "password": password});
        let reply = app.post("/users", None, body).await;
        let message = reply.problem(400)["errors"]["password"][0].as_str().unwrap().to_owned();
        assert!(message.starts_with("is too easy to guess"), "{message}");
    }
    assert!(app.state.store.find_user_by_username("alice").await.unwrap().is_none());
    // Long passwords of any characters are welcome.
    let body = json!({"username": "alice", "email": "alice@example.com", "password": "ζωή είναι ωραία 🌊"});
    app.post("/users", None, body).await.ok(201);
    app.log_in("alice", "ζωή είναι ωραία 🌊").await.ok(200);
    // A new password meets the same rule, the account's own name included.
    let bob = app.user("bob").await;
    let path = format!("/users/{}", bob.id);
    for weak in ["password123", "bob@example.com"] {
        let change = json!({"password": weak, "current_password": PASSWORD});
        app.patch(&path, Some(&bob.token), change).await.problem(400);
    }
    app.log_in("bob", PASSWORD).await.ok(200);
}

#[tokio::test]
async fn an_attempt_given_back_moves_no_wait_forward() {
    use shared::domain::Instant;
    use shared::store::throttle::{Attempt, Subject};
    let app = spawn_app().await;
    let store = &app.state.store;
    let limit = strict(3);
    let subject = Subject { what: "login-account", who: "alice" };
    let two_hours_ago = Instant::now().plus_seconds(-7200);
    for _ in 0..3 {
        assert!(matches!(
            store.count_attempt(subject, &limit, two_hours_ago).await.unwrap(),
            Attempt::Counted(_)
        ));
    }
    // The hour's wait after the free attempts has passed: one more may be made.
    let now = Instant::now();
    let Attempt::Counted(count) = store.count_attempt(subject, &limit, now).await.unwrap() else {
        panic!("the wait has passed")
    };
    // It is given back (its login was refused elsewhere, say): the tally is as it was, so the
    // next attempt may still go ahead at once instead of waiting another hour.
    store.uncount_attempt(subject, &count).await.unwrap();
    assert!(matches!(store.count_attempt(subject, &limit, now).await.unwrap(), Attempt::Counted(_)));
    // That one, not given back, closes the gate again, for the next wait (the hour at most).
    match store.count_attempt(subject, &limit, now).await.unwrap() {
        Attempt::Wait(seconds) => assert!((3500..=HOUR_AFTER).contains(&seconds), "{seconds}"),
        other => panic!("{other:?}"),
    }
}
