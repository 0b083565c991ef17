//! The attack suite, refresh tokens: a stolen token used after its owner, by another
//! client, after revocation, and after the user was disabled. The first kills the family;
//! the others are refused without issuing or writing anything.

use crate::support::TestApp;
use crate::support::browser::{REDIRECT_URI, app_with_tokens};
use crate::support::oauth::error_of;

async fn refresh(app: &TestApp, client_id: &str, secret: &str, token: &str) -> reqwest::Response {
    app.post_token(client_id, secret, &[("grant_type", "refresh_token"), ("refresh_token", token)]).await
}

#[tokio::test]
async fn a_replayed_refresh_token_kills_the_family_the_thief_and_the_owner_hold() {
    let (_env, app, secret, first) = app_with_tokens().await;
    let stolen = first["refresh_token"].as_str().unwrap();
    let owner: serde_json::Value = refresh(&app, "demo", &secret, stolen).await.json().await.unwrap();

    let replay = refresh(&app, "demo", &secret, stolen).await;

    assert_eq!(error_of(replay).await, (400, "invalid_grant".to_owned()));
    let successor = refresh(&app, "demo", &secret, owner["refresh_token"].as_str().unwrap()).await;
    assert_eq!(error_of(successor).await.1, "invalid_grant", "the whole family is gone");
    let events = app.store.recent_audit_events(20).await.unwrap();
    assert!(events.iter().any(|e| format!("{e:?}").contains("refresh_token_reused")), "{events:?}");
}

#[tokio::test]
async fn another_client_a_revoked_token_and_a_disabled_user_get_invalid_grant_and_nothing_else() {
    let (env, app, secret, tokens) = app_with_tokens().await;
    let other_secret = app.seed_client("other", REDIRECT_URI, true).await;
    let token = tokens["refresh_token"].as_str().unwrap();
    let before = app.state_rows().await;

    let by_other_client = refresh(&app, "other", &other_secret, token).await;
    assert_eq!(error_of(by_other_client).await, (400, "invalid_grant".to_owned()));
    assert_eq!(app.state_rows().await, before, "another client's attempt wrote nothing");

    let (_browser, code) = crate::support::browser::code_for(&app, "demo", "alice", "correct horse battery").await;
    let revoked = crate::support::browser::exchange(&app, "demo", &secret, &code).await;
    let revoked = revoked["refresh_token"].as_str().unwrap();
    assert_eq!(app.post_basic("/revoke", "demo", &secret, &[("token", revoked)]).await.status(), 200);
    let before = app.state_rows().await;
    assert_eq!(error_of(refresh(&app, "demo", &secret, revoked).await).await, (400, "invalid_grant".to_owned()));
    assert_eq!(app.state_rows().await, before, "a revoked token's attempt wrote nothing");

    crate::support::process::cli_ok(&env, &["user", "disable", "alice"], None).await;
    let before = app.state_rows().await;
    assert_eq!(error_of(refresh(&app, "demo", &secret, token).await).await, (400, "invalid_grant".to_owned()));
    assert_eq!(app.state_rows().await, before, "a disabled user's token wrote nothing");
}
