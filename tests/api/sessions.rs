//! Sessions: a refresh resent with its key within the grace period, sessions that end, signing
//! out of one session or of all, and access tokens that stop at a password change.

use api_tests::{PASSWORD, TestApp, raw, read, spawn_app};
use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::json;
use shared::domain::Instant;
use shared::store::sessions::RESEND_GRACE_SECONDS;

async fn refresh(app: &TestApp, token: &str) -> api_tests::Reply {
    app.post("/auth/refresh", None, json!({"refresh_token": token})).await
}

/// A refresh sent with `Idempotency-Key: key`.
async fn refresh_with_key(app: &TestApp, token: &str, key: &str) -> api_tests::Reply {
    let request = raw(app, Method::POST, "/auth/refresh").header("Idempotency-Key", key);
    read(request.json(&json!({"refresh_token": token})).send().await.expect("sent")).await
}

fn refresh_token(reply: &api_tests::Reply) -> String {
    reply.ok(200)["refresh_token"].as_str().expect("a refresh token").to_owned()
}

fn access_token(reply: &api_tests::Reply) -> String {
    reply.ok(200)["access_token"].as_str().expect("an access token").to_owned()
}

/// Marks `token` as spent `seconds_ago`, as if its refresh had happened then.
async fn spent_ago(app: &TestApp, token: &str, seconds_ago: i64) {
    let at = AttributeValue::S(Instant::now().plus_seconds(-seconds_ago).to_string());
    app.update_refresh_token(token, "SET used_at = :at", [(":at", at)]).await;
}

#[tokio::test]
async fn a_refresh_resent_with_its_key_within_the_grace_period_gets_the_same_new_token() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let first = refresh_with_key(&app, &alice.refresh_token, "k-1").await;
    let next = refresh_token(&first);
    // The answer was lost; the client sends the same refresh again, with the same key.
    let again = refresh_with_key(&app, &alice.refresh_token, "k-1").await;
    assert_eq!(refresh_token(&again), next);
    app.get("/users/me", Some(&access_token(&again))).await.ok(200);
    // Near the end of the grace period it still holds.
    spent_ago(&app, &alice.refresh_token, RESEND_GRACE_SECONDS - 2).await;
    assert_eq!(refresh_token(&refresh_with_key(&app, &alice.refresh_token, "k-1").await), next);
    // The successor works, once.
    let after = refresh_token(&refresh(&app, &next).await);
    // Once the successor is spent, the old token presented again is reuse: the family goes.
    refresh_with_key(&app, &alice.refresh_token, "k-1").await.problem(401);
    refresh(&app, &after).await.problem(401);
    // A malformed key is a 400, before anything is spent.
    let other = refresh_token(&app.log_in("alice", PASSWORD).await);
    refresh_with_key(&app, &other, "has space").await.problem(400);
    refresh(&app, &other).await.ok(200);
}

#[tokio::test]
async fn a_spent_token_presented_without_its_key_is_reuse() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let keyed = refresh_token(&refresh_with_key(&app, &alice.refresh_token, "k-1").await);
    // Another key, or none, is not the same refresh: a used token is a 401 and ends the family.
    refresh_with_key(&app, &alice.refresh_token, "k-2").await.problem(401);
    refresh(&app, &keyed).await.problem(401);
    let bob = app.user("bob").await;
    let unkeyed = refresh_token(&refresh(&app, &bob.refresh_token).await);
    refresh(&app, &bob.refresh_token).await.problem(401);
    refresh(&app, &unkeyed).await.problem(401);
}

#[tokio::test]
async fn a_refresh_replayed_after_the_grace_period_revokes_the_family() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let next = refresh_token(&refresh_with_key(&app, &alice.refresh_token, "k-1").await);
    spent_ago(&app, &alice.refresh_token, RESEND_GRACE_SECONDS + 1).await;
    refresh_with_key(&app, &alice.refresh_token, "k-1").await.problem(401);
    refresh(&app, &next).await.problem(401);
    // Other sessions are untouched.
    let other = refresh_token(&app.log_in("alice", PASSWORD).await);
    refresh(&app, &other).await.ok(200);
}

#[tokio::test]
async fn a_session_ends_at_its_lifetime_however_often_it_is_refreshed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let end = Instant::now().plus_seconds(100).unix();
    let end_value = AttributeValue::N(end.to_string());
    app.update_refresh_token(&alice.refresh_token, "SET session_expires_at = :end", [(":end", end_value)])
        .await;
    // A refresh before the end lasts no longer than the session.
    let next = refresh_token(&refresh(&app, &alice.refresh_token).await);
    let stored = app.refresh_token_item(&next).await.expect("the successor is stored");
    assert_eq!(stored["expires_at"], AttributeValue::N(end.to_string()));
    assert_eq!(stored["session_expires_at"], AttributeValue::N(end.to_string()));
    // Once the session's end has passed, it is over.
    let past = AttributeValue::N(Instant::now().plus_seconds(-1).unix().to_string());
    app.update_refresh_token(&next, "SET session_expires_at = :end", [(":end", past)]).await;
    refresh(&app, &next).await.problem(401);
    // A login begins a session of the full lifetime (90 days by default).
    let fresh = refresh_token(&app.log_in("alice", PASSWORD).await);
    let stored = app.refresh_token_item(&fresh).await.expect("stored");
    let AttributeValue::N(session_end) = &stored["session_expires_at"] else { panic!("{stored:?}") };
    let days = (session_end.parse::<i64>().unwrap() - Instant::now().unix()) / 86_400;
    assert!((89..=90).contains(&days), "{days}");
}

#[tokio::test]
async fn logging_out_ends_that_session_only() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let other = refresh_token(&app.log_in("alice", PASSWORD).await);
    let next = refresh_token(&refresh(&app, &alice.refresh_token).await);
    let reply = app.post("/auth/logout", None, json!({"refresh_token": alice.refresh_token})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    // The whole family goes, the token presented and its successor.
    refresh(&app, &next).await.problem(401);
    refresh(&app, &other).await.ok(200);
    assert!(app.refresh_token_item(&next).await.is_none());
    // Nothing about a token is told: a spent, unknown or malformed one is a 204 too.
    for token in [alice.refresh_token.as_str(), "garbage"] {
        let reply = app.post("/auth/logout", None, json!({"refresh_token": token})).await;
        assert_eq!(reply.status, 204, "{}", reply.text);
    }
    app.post("/auth/logout", None, json!({})).await.problem(400);
}

#[tokio::test]
async fn logging_out_everywhere_ends_every_session_and_access_token() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let organizer = app.user("olga").await;
    let event = app.event(&organizer, json!({})).await;
    let second = app.log_in("alice", PASSWORD).await;
    let (second_access, second_refresh) = (access_token(&second), refresh_token(&second));
    let reply = app.post("/auth/logout-all", Some(&alice.token), json!({})).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    for token in [&alice.refresh_token, &second_refresh] {
        refresh(&app, token).await.problem(401);
    }
    for token in [&alice.token, &second_access] {
        app.get("/users/me", Some(token)).await.problem(401);
        // Routes that read no user first refuse it inside their transaction.
        let path = format!("/events/{}/registrations", event["id"].as_str().unwrap());
        app.post(&path, Some(token), json!({})).await.problem(401);
    }
    app.post("/auth/logout-all", Some(&alice.token), json!({})).await.problem(401);
    // A new login works, and other users are untouched.
    let fresh = access_token(&app.log_in("alice", PASSWORD).await);
    app.get("/users/me", Some(&fresh)).await.ok(200);
    app.get("/users/me", Some(&organizer.token)).await.ok(200);
}

#[tokio::test]
async fn access_tokens_issued_before_a_password_change_are_refused() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let path = format!("/users/{}", alice.id);
    let change = json!({"password": "a-new-password", "current_password": PASSWORD});
    app.patch(&path, Some(&alice.token), change).await.ok(200);
    app.get("/users/me", Some(&alice.token)).await.problem(401);
    let fresh = access_token(&app.log_in("alice", "a-new-password").await);
    app.get("/users/me", Some(&fresh)).await.ok(200);
}

#[tokio::test]
async fn a_family_being_revoked_cannot_rotate_meanwhile() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    // A logout has written its mark and not yet deleted the tokens (the first token of a login
    // names its family).
    let token = shared::auth::RefreshToken::parse(&alice.refresh_token).unwrap();
    let until = AttributeValue::N(Instant::now().plus_seconds(3600).unix().to_string());
    let mark = shared::store::keys::revoked_family(token.user_id, token.token_id);
    app.update_item(mark, "SET expires_at = :t", [(":t", until)]).await;
    // A refresh racing it stores no successor.
    refresh(&app, &alice.refresh_token).await.problem(401);
    let successor = token.successor(&app.state.tokens.refresh_key);
    assert!(app.refresh_token_item(&successor.expose()).await.is_none());
    // Other sessions go on.
    let other = refresh_token(&app.log_in("alice", PASSWORD).await);
    refresh(&app, &other).await.ok(200);
}
