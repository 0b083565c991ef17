//! UserInfo: claims per scope, and RFC 6750 errors for tokens that stopped being good
//! (forged ones: attacks_tokens.rs).

use crate::support::browser::{Browser, REDIRECT_URI, app_with_tokens, authorize_query, code_for, exchange};
use crate::support::{PASSWORD, TestApp, spawn_app};

async fn userinfo(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(app.url("/userinfo"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

fn assert_invalid_token(response: &reqwest::Response, case: &str) {
    assert_eq!(response.status(), 401, "{case}");
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer") && challenge.contains(r#"error="invalid_token""#), "{case}: {challenge}");
}

#[tokio::test]
async fn userinfo_returns_the_claims_of_the_granted_scopes() {
    let (_env, app) = spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    let alice = app.seed_user("alice", PASSWORD, &["reader"]).await;
    let mut browser = Browser::new(&app);
    let redirect =
        browser.authorize_and_login(&authorize_query("demo", "openid profile", &[]), "alice", PASSWORD).await;
    let narrow = exchange(&app, "demo", &secret, &redirect.redirect_param("code").unwrap()).await;
    let (_other, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    let wide = exchange(&app, "demo", &secret, &code).await;

    let narrow_claims: serde_json::Value = userinfo(&app, narrow["access_token"].as_str()).await.json().await.unwrap();
    let response =
        app.http.post(app.url("/userinfo")).bearer_auth(wide["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let wide_claims: serde_json::Value = response.json().await.unwrap();

    assert_eq!(
        narrow_claims,
        serde_json::json!({"sub": alice.id.to_string(), "preferred_username": "alice", "name": "alice Example"})
    );
    assert_eq!(wide_claims["email"], "alice@example.com");
    assert_eq!(wide_claims["email_verified"], false);
    assert_eq!(wide_claims["roles"], serde_json::json!(["reader"]));
}

#[tokio::test]
async fn missing_expired_and_revoked_tokens_and_disabled_users_get_invalid_token() {
    let (env, app, secret, tokens) = app_with_tokens().await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();

    assert_invalid_token(&userinfo(&app, None).await, "missing");
    assert_eq!(userinfo(&app, Some(&access)).await.status(), 200);

    app.post_basic("/revoke", "demo", &secret, &[("token", &access)]).await;
    assert_invalid_token(&userinfo(&app, Some(&access)).await, "revoked");

    let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    let expiring = exchange(&app, "demo", &secret, &code).await;
    app.clock.advance(900 + 61);
    assert_invalid_token(&userinfo(&app, expiring["access_token"].as_str()).await, "expired");

    let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    let fresh = exchange(&app, "demo", &secret, &code).await;
    crate::support::process::cli_ok(&env, &["user", "disable", "alice"], None).await;
    assert_invalid_token(&userinfo(&app, fresh["access_token"].as_str()).await, "user disabled");
}

#[tokio::test]
async fn a_client_credentials_token_is_not_a_person() {
    let (_env, app) = spawn_app().await;
    let secret = app
        .seed_client_with(wristband::flows::admin::ClientInput {
            client_id: "svc".into(),
            grant_types: vec!["client_credentials".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    let tokens: serde_json::Value =
        app.post_token("svc", &secret, &[("grant_type", "client_credentials")]).await.json().await.unwrap();

    assert_invalid_token(&userinfo(&app, tokens["access_token"].as_str()).await, "client token");
}
