//! The access-token signing key lives in Secrets Manager (the stand-in here, through the fidelity
//! proxy, so IAM checks each read): read when a token is first issued, never at start; a new key
//! put in the secret signs without a restart; a key no function verifies is never used.

use api_tests::{AppOptions, PASSWORD, spawn_app_with};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use shared::auth::keys::generate;

fn key_id(token: &str) -> String {
    let header = URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap();
    serde_json::from_slice::<Value>(&header).unwrap()["kid"].as_str().unwrap().to_owned()
}

fn development_key() -> String {
    let config = shared::Config::from_lookup(|name| match name {
        "TABLE_NAME" => Some("t".into()),
        "JWT_SECRET" => Some(api_tests::TEST_SECRET.into()),
        "DYNAMODB_ENDPOINT" => Some("http://127.0.0.1:1".into()),
        _ => None,
    })
    .unwrap();
    shared::config::local_signing_key(&config).expose()
}

#[tokio::test]
async fn the_key_is_read_when_a_token_is_first_issued_not_at_start() {
    let app = spawn_app_with(AppOptions { signing_key_in_secret: false, ..AppOptions::default() }).await;
    let body = json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD});
    app.post("/users", None, body).await.ok(201);
    assert_eq!(app.fidelity.stats().secret_calls, 0, "starting and signing up read no secret");

    // The secret is not there yet: the log-in is unavailable, to be tried again.
    let refused = app.log_in("alice", PASSWORD).await;
    refused.problem(503);
    assert!(refused.header("retry-after").is_some());
    assert_eq!(app.fidelity.stats().secret_calls, 1);

    app.set_signing_key_secret_created(&development_key()).await;
    let first = app.log_in("alice", PASSWORD).await;
    let token = first.ok(200)["access_token"].as_str().unwrap().to_owned();
    assert_eq!(key_id(&token), "local");
    app.get("/users/me", Some(&token)).await.ok(200);
    let refresh = first.body["refresh_token"].as_str().unwrap();
    app.post("/auth/refresh", None, json!({"refresh_token": refresh})).await.ok(200);
    app.log_in("alice", PASSWORD).await.ok(200);
    assert_eq!(app.fidelity.stats().secret_calls, 2, "the key read is kept for later tokens");
}

#[tokio::test]
async fn a_new_key_put_in_the_secret_signs_without_a_restart_and_earlier_tokens_still_verify() {
    let (next_private, next_public) = generate("next");
    let development_public = shared::config::NamedKey::parse(&development_key()).unwrap().public();
    let public = format!("{},{}", development_public.expose(), next_public.expose());
    let app = spawn_app_with(AppOptions {
        signing_key_reread_seconds: Some(0),
        settings: vec![("ACCESS_TOKEN_PUBLIC_KEYS", public)],
        ..AppOptions::default()
    })
    .await;
    let alice = app.user("alice").await;
    assert_eq!(key_id(&alice.token), "local");

    app.set_signing_key_secret(Some(&next_private.expose())).await;
    let after = app.log_in("alice", PASSWORD).await;
    let after = after.ok(200)["access_token"].as_str().unwrap().to_owned();
    assert_eq!(key_id(&after), "next");
    app.get("/users/me", Some(&alice.token)).await.ok(200);
    app.get("/users/me", Some(&after)).await.ok(200);

    // The secret gone (or Secrets Manager unreachable): the key read last goes on signing.
    app.set_signing_key_secret(None).await;
    let meanwhile = app.log_in("alice", PASSWORD).await;
    assert_eq!(key_id(meanwhile.ok(200)["access_token"].as_str().unwrap()), "next");
}

#[tokio::test]
async fn a_key_whose_public_key_no_function_holds_is_never_used() {
    let app = spawn_app_with(AppOptions { signing_key_in_secret: false, ..AppOptions::default() }).await;
    let body = json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD});
    app.post("/users", None, body).await.ok(201);
    let (unpublished, _) = generate("unpublished");
    app.set_signing_key_secret_created(&unpublished.expose()).await;
    app.log_in("alice", PASSWORD).await.problem(500);

    app.set_signing_key_secret(Some(&development_key())).await;
    let token = app.log_in("alice", PASSWORD).await.ok(200)["access_token"].as_str().unwrap().to_owned();
    assert_eq!(key_id(&token), "local");
}

#[test]
fn only_the_users_function_is_told_where_the_key_is_and_none_holds_it() {
    let template: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(api_tests::fidelity::iam::template_path()).unwrap())
            .unwrap();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(globals.get("ACCESS_TOKEN_SIGNING_KEY").is_none());
    assert!(globals.get("ACCESS_TOKEN_SIGNING_KEY_SECRET").is_none());
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let variables = &resource["Properties"]["Environment"]["Variables"];
        assert!(variables.get("ACCESS_TOKEN_SIGNING_KEY").is_none(), "{name:?} holds the private key");
        let told = variables.get("ACCESS_TOKEN_SIGNING_KEY_SECRET").is_some();
        assert_eq!(told, name.as_str() == Some("UsersFunction"), "{name:?}");
    }
}
