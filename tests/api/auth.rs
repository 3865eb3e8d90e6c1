//! `/auth/token`, `/auth/refresh`, and what happens to bad, forged or stale tokens.

use api_tests::{PASSWORD, spawn_app};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use shared::auth::Holder;
use shared::domain::{Id, Instant, Role};

#[tokio::test]
async fn log_in_issues_a_bearer_token_pair() {
    let app = spawn_app().await;
    app.user("alice").await;
    let reply = app.log_in("alice", PASSWORD).await;
    let body = reply.ok(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().len() > 40);
    let token = body["access_token"].as_str().unwrap();
    app.get("/users/me", Some(token)).await.ok(200);
    // Usernames match ignoring case at log-in too.
    app.log_in("ALICE", PASSWORD).await.ok(200);
}

#[tokio::test]
async fn bad_credentials_get_the_same_answer_whoever_asks() {
    let app = spawn_app().await;
    app.user("alice").await;
    let wrong_password = app.log_in("alice", "not-the-password").await;
    let unknown_user = app.log_in("nobody", "not-the-password").await;
    wrong_password.problem(401);
    unknown_user.problem(401);
    assert_eq!(wrong_password.body, unknown_user.body);
    assert_eq!(wrong_password.header("www-authenticate"), Some("Bearer"));
    app.post("/auth/token", None, json!({"username": "alice"})).await.problem(400);
    app.post("/auth/token", None, json!({"username": "alice", "password": 12345678})).await.problem(400);
}

#[tokio::test]
async fn refresh_rotates_and_a_spent_token_revokes_its_family() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let first = app.post("/auth/refresh", None, json!({"refresh_token": alice.refresh_token})).await;
    let second_token = first.ok(200)["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_token, alice.refresh_token);
    app.get("/users/me", Some(first.body["access_token"].as_str().unwrap())).await.ok(200);

    // Replaying the spent token fails, and takes the whole family down with it.
    app.post("/auth/refresh", None, json!({"refresh_token": alice.refresh_token})).await.problem(401);
    app.post("/auth/refresh", None, json!({"refresh_token": second_token})).await.problem(401);

    // Another login's family is untouched.
    let other = app.log_in("alice", PASSWORD).await;
    let other_token = other.ok(200)["refresh_token"].as_str().unwrap().to_owned();
    app.post("/auth/refresh", None, json!({"refresh_token": other_token})).await.ok(200);
}

#[tokio::test]
async fn a_password_change_ends_every_session_begun_before_it() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let admin = app.admin("root").await;
    let other = app.log_in("alice", PASSWORD).await.ok(200)["refresh_token"].as_str().unwrap().to_owned();
    let path = format!("/users/{}", alice.id);
    // A change of anything else leaves the sessions alone.
    app.patch(&path, Some(&alice.token), json!({"email": "alice2@example.com"})).await.ok(200);
    let renewed = app.post("/auth/refresh", None, json!({"refresh_token": other})).await;
    let other = renewed.ok(200)["refresh_token"].as_str().unwrap().to_owned();

    app.patch(&path, Some(&alice.token), json!({"password": "a-new-password", "current_password": PASSWORD}))
        .await
        .ok(200);
    for token in [&alice.refresh_token, &other] {
        app.post("/auth/refresh", None, json!({"refresh_token": token})).await.problem(401);
    }
    // A login that checked the old password just before the change begins no session after it.
    let alice_id = shared::domain::Id::parse(&alice.id).unwrap();
    let late = shared::auth::RefreshToken::generate(alice_id);
    let expiry = shared::domain::Instant::now().plus_seconds(60);
    let times = shared::store::sessions::SessionTimes { expires_at: expiry, session_expires_at: expiry };
    assert!(!app.state.store.store_refresh_token(&late, 0, times).await.unwrap());
    assert!(app.state.store.store_refresh_token(&late, 1, times).await.unwrap());
    // A session begun with the new password works; an admin's reset ends it too.
    let fresh =
        app.log_in("alice", "a-new-password").await.ok(200)["refresh_token"].as_str().unwrap().to_owned();
    app.patch(&path, Some(&admin.token), json!({"password": "set-by-admin"})).await.ok(200);
    app.post("/auth/refresh", None, json!({"refresh_token": fresh})).await.problem(401);
    app.log_in("alice", "set-by-admin").await.ok(200);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_succeed_at_most_once() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let attempts =
        (0..8).map(|_| app.post("/auth/refresh", None, json!({"refresh_token": alice.refresh_token})));
    let replies = futures::future::join_all(attempts).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert!(ok <= 1, "{ok} refreshes succeeded with one token");
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 401));
}

#[tokio::test]
async fn one_refresh_sent_concurrently_with_its_key_makes_one_successor() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let attempts = (0..8).map(|_| async {
        let request =
            api_tests::raw(&app, reqwest::Method::POST, "/auth/refresh").header("Idempotency-Key", "k-1");
        api_tests::read(request.json(&json!({"refresh_token": alice.refresh_token})).send().await.unwrap())
            .await
    });
    let replies = futures::future::join_all(attempts).await;
    assert!(
        replies.iter().all(|r| r.status == 200),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let successors: std::collections::BTreeSet<&str> =
        replies.iter().map(|r| r.body["refresh_token"].as_str().unwrap()).collect();
    assert_eq!(successors.len(), 1, "{successors:?}");
    let successor = successors.into_iter().next().unwrap().to_owned();
    app.post("/auth/refresh", None, json!({"refresh_token": successor})).await.ok(200);
}

#[tokio::test]
async fn malformed_and_forged_refresh_tokens_are_401() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut forged = alice.refresh_token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [String::new(), "garbage".into(), forged, format!("{}.x", alice.refresh_token)] {
        app.post("/auth/refresh", None, json!({"refresh_token": bad})).await.problem(401);
    }
    app.post("/auth/refresh", None, json!({})).await.problem(400);
    app.post("/auth/refresh", None, json!({"refresh_token": alice.refresh_token})).await.ok(200);
}

fn tamper_role(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["role"] = "admin".into();
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    parts.join(".")
}

#[tokio::test]
async fn forged_expired_and_malformed_access_tokens_are_401() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let id = Id::parse(&alice.id).unwrap();
    let expired = app
        .state
        .tokens
        .issue_access(
            Holder { id, username: "alice", role: Role::User, session_version: 0 },
            Instant::now().plus_seconds(-3600),
        )
        .await
        .unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let now = chrono::Utc::now().timestamp();
    let claims = URL_SAFE_NO_PAD.encode(
        json!({"sub": alice.id, "name": "alice", "role": "admin", "iat": now, "exp": now + 600, "iss": "events-api"})
            .to_string(),
    );
    let alg_none = format!("{header}.{claims}.");
    let foreign = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": alice.id, "name": "alice", "role": "admin", "iat": now, "exp": now + 600, "iss": "events-api"}),
        &jsonwebtoken::EncodingKey::from_secret(api_tests::TEST_SECRET.as_bytes()),
    )
    .unwrap();
    for bad in
        [expired, alg_none, tamper_role(&alice.token), foreign, "x.y.z".into(), alice.refresh_token.clone()]
    {
        let reply = app.get("/users/me", Some(&bad)).await;
        reply.problem(401);
        assert!(reply.header("www-authenticate").unwrap().starts_with("Bearer"));
    }
    for header in ["Basic YWxpY2U6cGFzcw==", "Bearer", "Bearer ", alice.token.as_str()] {
        let reply = api_tests::read(
            api_tests::raw(&app, reqwest::Method::GET, "/users/me")
                .header("authorization", header)
                .send()
                .await
                .unwrap(),
        )
        .await;
        reply.problem(401);
    }
}

#[tokio::test]
async fn a_promotion_takes_effect_without_a_new_token() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.get("/users", Some(&alice.token)).await.problem(403);
    let store = &app.state.store;
    store.set_role(Id::parse(&alice.id).unwrap(), Role::Admin).await.unwrap();
    app.get("/users", Some(&alice.token)).await.ok(200);
    store.set_role(Id::parse(&alice.id).unwrap(), Role::User).await.unwrap();
    app.get("/users", Some(&alice.token)).await.problem(403);
}

#[tokio::test]
async fn access_tokens_verify_with_the_published_keys() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let reply = app.get("/.well-known/jwks.json", None).await;
    let set = reply.ok(200).clone();
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
    let header = jsonwebtoken::decode_header(&alice.token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    let kid = header.kid.expect("a token names its key");
    let key = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the key is published");
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    // Anyone can check a token with the published key alone.
    let decoding = jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&["events-api"]);
    let claims =
        jsonwebtoken::decode::<serde_json::Value>(&alice.token, &decoding, &validation).unwrap().claims;
    assert_eq!(claims["sub"], alice.id.as_str());
    // Nothing private is published.
    assert!(key.get("d").is_none());
}
