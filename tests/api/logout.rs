//! RP-Initiated Logout: immediate with a valid hint for the session, confirmed otherwise,
//! and never a redirect to an unregistered URI.

use crate::support::browser::{Browser, REDIRECT_URI, authorize_query, exchange};
use crate::support::{PASSWORD, TestApp, TestEnv, spawn_app};

const LOGGED_OUT: &str = "http://127.0.0.1:9000/cb/logged-out";

async fn logged_in() -> (TestEnv, TestApp, String, Browser, serde_json::Value) {
    let (env, app) = spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    let mut browser = Browser::new(&app);
    let redirect = browser.authorize_and_login(&authorize_query("demo", "openid", &[]), "alice", PASSWORD).await;
    let tokens = exchange(&app, "demo", &secret, &redirect.redirect_param("code").unwrap()).await;
    (env, app, secret, browser, tokens)
}

fn query(pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    query.finish()
}

async fn still_logged_in(browser: &mut Browser) -> bool {
    let page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    page.status == 302
}

#[tokio::test]
async fn a_valid_hint_ends_the_session_and_its_refresh_families_at_once() {
    let (_env, app, secret, mut browser, tokens) = logged_in().await;
    let hint = tokens["id_token"].as_str().unwrap();
    app.clock.advance(7200); // an expired hint is accepted when its signature and issuer check out

    let page = browser
        .get(&format!(
            "/end_session?{}",
            query(&[("id_token_hint", hint), ("post_logout_redirect_uri", LOGGED_OUT), ("state", "s1")])
        ))
        .await;

    assert_eq!(page.status, 302);
    assert_eq!(page.location.as_deref(), Some(format!("{LOGGED_OUT}?state=s1").as_str()));
    assert!(page.set_cookies.iter().any(|c| c.starts_with("__Host-wristband_session=;") && c.contains("Max-Age=0")));
    assert!(!still_logged_in(&mut browser).await);
    let refresh = app
        .post_token(
            "demo",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(refresh.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
}

/// Whether `/introspect` calls `token` active, and the status `/userinfo` answers it with.
async fn token_status(app: &TestApp, secret: &str, token: &str) -> (bool, u16) {
    let introspected: serde_json::Value =
        app.post_basic("/introspect", "demo", secret, &[("token", token)]).await.json().await.unwrap();
    let userinfo = app.http.get(app.url("/userinfo")).bearer_auth(token).send().await.unwrap();
    (introspected["active"] == true, userinfo.status().as_u16())
}

#[tokio::test]
async fn the_access_tokens_of_a_session_that_ended_stop_being_active_before_they_expire() {
    let (_env, app, secret, mut browser, tokens) = logged_in().await;
    let access_token = tokens["access_token"].as_str().unwrap();
    assert_eq!(token_status(&app, &secret, access_token).await, (true, 200));

    let hint = tokens["id_token"].as_str().unwrap();
    let page = browser.get(&format!("/end_session?{}", query(&[("id_token_hint", hint)]))).await;
    assert!(!still_logged_in(&mut browser).await, "the session ended: {}", page.body);

    assert_eq!(token_status(&app, &secret, access_token).await, (false, 401), "no offline_access, no session");
}

#[tokio::test]
async fn without_a_hint_the_person_confirms_and_the_form_needs_its_csrf_token() {
    let (_env, _app, _secret, mut browser, _tokens) = logged_in().await;

    let confirm = browser
        .get(&format!("/end_session?{}", query(&[("client_id", "demo"), ("post_logout_redirect_uri", LOGGED_OUT)])))
        .await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("action=\"/end_session/confirm\""));
    assert!(still_logged_in(&mut browser).await, "a link alone logs nobody out");

    let forged =
        browser.post("/end_session/confirm", &[("client_id", "demo"), ("post_logout_redirect_uri", LOGGED_OUT)]).await;
    assert_eq!(forged.status, 403);
    assert!(still_logged_in(&mut browser).await);

    let csrf = confirm.hidden("csrf_token").unwrap();
    let done = browser
        .post(
            "/end_session/confirm",
            &[("csrf_token", &csrf), ("client_id", "demo"), ("post_logout_redirect_uri", LOGGED_OUT)],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some(LOGGED_OUT));
    assert!(!still_logged_in(&mut browser).await);
}

#[tokio::test]
async fn an_unregistered_post_logout_redirect_uri_is_never_followed() {
    let (_env, _app, _secret, mut browser, tokens) = logged_in().await;
    let hint = tokens["id_token"].as_str().unwrap();

    for uri in ["https://evil.example/", "http://127.0.0.1:9000/cb/logged-out/", REDIRECT_URI] {
        let page = browser
            .get(&format!("/end_session?{}", query(&[("id_token_hint", hint), ("post_logout_redirect_uri", uri)])))
            .await;
        assert_eq!(page.status, 400, "{uri}");
        assert!(page.location.is_none(), "{uri}");
    }
    assert!(still_logged_in(&mut browser).await, "a refused request ends nothing");
}

#[tokio::test]
async fn a_forged_hint_asks_for_confirmation_instead() {
    let (_env, _app, _secret, mut browser, tokens) = logged_in().await;
    let hint = tokens["id_token"].as_str().unwrap();
    let forged = crate::support::forge::foreign_rs256(
        crate::support::browser::header(hint)["kid"].as_str().unwrap(),
        &crate::support::browser::claims(hint),
    );

    let page = browser.get(&format!("/end_session?{}", query(&[("id_token_hint", &forged)]))).await;

    assert_eq!(page.status, 200);
    assert!(page.body.contains("Sign out?"));
    assert!(still_logged_in(&mut browser).await);
}
