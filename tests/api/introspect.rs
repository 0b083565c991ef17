//! Introspection (RFC 7662): who may ask, and every way a token is not active.

use crate::browser::{REDIRECT_URI, app_with_tokens, claims};
use crate::forge;
use crate::helpers::{TestApp, spawn_app};

async fn introspect(app: &TestApp, secret: &str, token: &str) -> serde_json::Value {
    let response = app.post_basic("/introspect", "demo", secret, &[("token", token)]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn introspection_requires_client_authentication() {
    let (_env, app) = spawn_app().await;
    app.seed_client("demo", REDIRECT_URI, true).await;

    let anonymous = app.http.post(app.url("/introspect")).form(&[("token", "x")]).send().await.unwrap();
    let wrong = app.post_basic("/introspect", "demo", "wbs_wrong", &[("token", "x")]).await;

    for response in [anonymous, wrong] {
        assert_eq!(response.status(), 401);
        assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_client");
    }
}

#[tokio::test]
async fn a_valid_access_token_is_active_with_the_standard_fields() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let access = tokens["access_token"].as_str().unwrap();

    let status = introspect(&app, &secret, access).await;
    let refresh_status = introspect(&app, &secret, tokens["refresh_token"].as_str().unwrap()).await;

    let at = claims(access);
    assert_eq!(status["active"], true);
    for field in ["sub", "client_id", "scope", "exp", "iat", "iss", "aud", "jti"] {
        assert_eq!(status[field], at[field], "{field}");
    }
    assert_eq!(status["token_type"], "Bearer");
    assert_eq!(refresh_status["active"], true);
    assert_eq!(refresh_status["client_id"], "demo");
}

#[tokio::test]
async fn forged_expired_and_misused_tokens_are_inactive() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let genuine = claims(access);
    let kid = crate::browser::header(access)["kid"].as_str().unwrap().to_owned();
    let jwks = app.get_json("/jwks.json").await;
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone();
    let (pem, jwk_text) = forge::public_key_material(&jwk);
    let mut tampered = genuine.clone();
    tampered["sub"] = serde_json::json!("00000000-0000-0000-0000-000000000000");
    let mut wrong_issuer = genuine.clone();
    wrong_issuer["iss"] = serde_json::json!("https://evil.example");

    let forged = [
        ("alg none", forge::unsigned(&kid, &genuine)),
        ("HS256 with the PEM", forge::hs256(&kid, &genuine, &pem)),
        ("HS256 with the JWK", forge::hs256(&kid, &genuine, &jwk_text)),
        ("foreign key, our kid", forge::foreign_rs256(&kid, &genuine)),
        ("unknown kid", forge::foreign_rs256("no-such-kid", &genuine)),
        ("path traversal kid", forge::foreign_rs256("../../etc/passwd", &genuine)),
        ("flipped payload", forge::with_claims(access, &tampered)),
        ("wrong issuer", forge::with_claims(access, &wrong_issuer)),
        ("truncated signature", access[..access.len() - 4].to_owned()),
        ("an ID token", tokens["id_token"].as_str().unwrap().to_owned()),
        ("garbage", "not.a.jwt".to_owned()),
        ("oversized", "a".repeat(20_000)),
    ];
    for (name, token) in &forged {
        assert_eq!(introspect(&app, &secret, token).await, serde_json::json!({"active": false}), "{name}");
    }
    assert_eq!(introspect(&app, &secret, access).await["active"], true, "the genuine token is untouched");

    app.clock.advance(900 + 61);
    assert_eq!(introspect(&app, &secret, access).await["active"], false, "expired beyond the leeway");
}

#[tokio::test]
async fn a_refresh_token_is_described_only_to_its_own_client() {
    let (_env, app, _secret, tokens) = app_with_tokens().await;
    let other = app.seed_client("other", REDIRECT_URI, true).await;

    let response =
        app.post_basic("/introspect", "other", &other, &[("token", tokens["refresh_token"].as_str().unwrap())]).await;

    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), serde_json::json!({"active": false}));
}
