//! Revocation (RFC 7009): authenticated, family-wide for refresh tokens, jti-wide for
//! access tokens, and silent about tokens it does not know or that belong to others.

use crate::support::browser::{REDIRECT_URI, app_with_tokens, code_for, exchange};
use crate::support::{PASSWORD, TestApp, spawn_app};

async fn active(app: &TestApp, client: &str, secret: &str, token: &str) -> bool {
    let response = app.post_basic("/introspect", client, secret, &[("token", token)]).await;
    response.json::<serde_json::Value>().await.unwrap()["active"] == true
}

#[tokio::test]
async fn revocation_requires_client_authentication_and_changes_nothing_without_it() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let anonymous = app.http.post(app.url("/revoke")).form(&[("token", refresh)]).send().await.unwrap();

    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.json::<serde_json::Value>().await.unwrap()["error"], "invalid_client");
    assert!(active(&app, "demo", &secret, refresh).await);
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_family_and_an_access_token_its_jti() {
    let (_env, app) = spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    let first = exchange(&app, "demo", &secret, &code).await;
    let rotated: serde_json::Value = app
        .post_token(
            "demo",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", first["refresh_token"].as_str().unwrap())],
        )
        .await
        .json()
        .await
        .unwrap();
    let access = rotated["access_token"].as_str().unwrap();
    let newest = rotated["refresh_token"].as_str().unwrap();

    let revoked_access = app.post_basic("/revoke", "demo", &secret, &[("token", access)]).await;
    assert_eq!(revoked_access.status(), 200);
    assert!(!active(&app, "demo", &secret, access).await);
    assert!(active(&app, "demo", &secret, newest).await, "revoking an access token leaves the family");

    let revoked_refresh =
        app.post_basic("/revoke", "demo", &secret, &[("token", newest), ("token_type_hint", "refresh_token")]).await;
    assert_eq!(revoked_refresh.status(), 200);
    let refresh = app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", newest)]).await;
    assert_eq!(refresh.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
}

#[tokio::test]
async fn unknown_tokens_and_other_clients_tokens_get_200_and_are_left_alone() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let other = app.seed_client("other", REDIRECT_URI, true).await;

    let unknown = app.post_basic("/revoke", "demo", &secret, &[("token", "wbr_unknown")]).await;
    let garbage = app.post_basic("/revoke", "demo", &secret, &[("token", "garbage")]).await;
    let foreign_refresh =
        app.post_basic("/revoke", "other", &other, &[("token", tokens["refresh_token"].as_str().unwrap())]).await;
    let foreign_access =
        app.post_basic("/revoke", "other", &other, &[("token", tokens["access_token"].as_str().unwrap())]).await;

    for response in [unknown, garbage, foreign_refresh, foreign_access] {
        assert_eq!(response.status(), 200);
    }
    assert!(active(&app, "demo", &secret, tokens["refresh_token"].as_str().unwrap()).await);
    assert!(active(&app, "demo", &secret, tokens["access_token"].as_str().unwrap()).await);
}
