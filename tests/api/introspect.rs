//! Introspection (RFC 7662): who may ask, and every way a token is not active.

use crate::support::browser::{REDIRECT_URI, app_with_tokens, claims};
use crate::support::{TestApp, spawn_app};

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
async fn a_refresh_token_is_described_only_to_its_own_client() {
    let (_env, app, _secret, tokens) = app_with_tokens().await;
    let other = app.seed_client("other", REDIRECT_URI, true).await;

    let response =
        app.post_basic("/introspect", "other", &other, &[("token", tokens["refresh_token"].as_str().unwrap())]).await;

    assert_eq!(response.json::<serde_json::Value>().await.unwrap(), serde_json::json!({"active": false}));
}
