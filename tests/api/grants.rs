//! Which access tokens stay active when something about their grant changes: the client
//! is removed, or one family of a session and client is revoked while the person signs
//! in again through the same session.

use wristband::flows::Actor;
use wristband::flows::admin::remove_client;

use crate::support::TestApp;
use crate::support::browser::{app_with_tokens, authorize_query, code_for, exchange};

async fn userinfo_status(app: &TestApp, access_token: &str) -> u16 {
    app.http.get(app.url("/userinfo")).bearer_auth(access_token).send().await.unwrap().status().as_u16()
}

async fn active_for(app: &TestApp, client_id: &str, secret: &str, token: &str) -> serde_json::Value {
    let response = app.post_basic("/introspect", client_id, secret, &[("token", token)]).await;
    response.json::<serde_json::Value>().await.unwrap()["active"].clone()
}

#[tokio::test]
async fn the_access_tokens_of_a_removed_client_stop_being_active() {
    let (_env, app, secret, _) = app_with_tokens().await;
    let (api, api_secret) = app.seed_api("https://orders.example.com", &["read"], true).await.unwrap();
    app.allow_apis("demo", &["https://orders.example.com"], true).await;
    let (_browser, code) = code_for(&app, "demo", "alice", "correct horse battery").await;
    let tokens = exchange(&app, "demo", &secret, &code).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(active_for(&app, &api, &api_secret, access).await, true);

    remove_client(&app.ctx(), "demo", Actor::Cli).await.unwrap();

    assert_eq!(active_for(&app, &api, &api_secret, access).await, false);
    assert_eq!(userinfo_status(&app, access).await, 401);
}

#[tokio::test]
async fn a_revoked_family_ends_its_own_tokens_not_those_of_a_later_sign_in_through_the_same_session() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let mut browser = crate::support::browser::Browser::new(&app);
    let query = authorize_query("demo", "openid profile email roles", &[]);
    let first = browser.authorize_and_login(&query, "alice", "correct horse battery").await;
    let first = exchange(&app, "demo", &secret, &first.redirect_param("code").unwrap()).await;
    let revoked =
        app.post_basic("/revoke", "demo", &secret, &[("token", first["refresh_token"].as_str().unwrap())]).await;
    assert_eq!(revoked.status(), 200);
    assert_eq!(userinfo_status(&app, first["access_token"].as_str().unwrap()).await, 401, "its own token ends");
    app.clock.advance(1);

    let again = browser.get(&format!("/authorize?{query}")).await;
    let second = exchange(&app, "demo", &secret, &again.redirect_param("code").expect("a code")).await;

    assert_eq!(userinfo_status(&app, second["access_token"].as_str().unwrap()).await, 200, "a later sign-in works");
    assert_eq!(userinfo_status(&app, tokens["access_token"].as_str().unwrap()).await, 200, "another session's too");
}
