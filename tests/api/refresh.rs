//! Refresh-token families under pressure: concurrent use of one token, and what a
//! detected reuse takes down with it.

use wristband::flows::admin::ClientInput;
use wristband::model::RefreshOverrides;

use crate::support::browser::{Browser, REDIRECT_URI, app_with_tokens, authorize_query, exchange};
use crate::support::{PASSWORD, TestApp, TestEnv, spawn_app};

#[tokio::test]
async fn twenty_concurrent_refreshes_of_one_token_give_exactly_one_success_and_no_5xx() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let attempts = (0..20).map(|_| {
        let (app, secret, refresh) = (&app, secret.clone(), refresh.clone());
        async move {
            let response =
                app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        }
    });
    let results = futures::future::join_all(attempts).await;

    let successes: Vec<&serde_json::Value> = results.iter().filter(|(s, _)| *s == 200).map(|(_, b)| b).collect();
    assert_eq!(successes.len(), 1, "{results:?}");
    assert!(
        results.iter().all(|(status, body)| *status == 200 || (*status == 400 && body["error"] == "invalid_grant")),
        "{results:?}"
    );
}

#[tokio::test]
async fn a_reused_token_kills_the_family_and_its_access_tokens_and_is_audited() {
    let (_env, app, secret, first) = app_with_tokens().await;
    let stolen = first["refresh_token"].as_str().unwrap();
    let owner: serde_json::Value = app
        .post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", stolen)])
        .await
        .json()
        .await
        .unwrap();
    let introspect = |token: String| {
        let (app, secret) = (&app, secret.clone());
        async move {
            let response = app.post_basic("/introspect", "demo", &secret, &[("token", &token)]).await;
            response.json::<serde_json::Value>().await.unwrap()["active"] == true
        }
    };
    assert!(introspect(owner["access_token"].as_str().unwrap().to_owned()).await);

    // The thief presents the token the owner already rotated.
    let thief = app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", stolen)]).await;

    assert_eq!(thief.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    let newest = app
        .post_token(
            "demo",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", owner["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(
        newest.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_grant",
        "the newest token died too"
    );
    assert!(
        !introspect(owner["access_token"].as_str().unwrap().to_owned()).await,
        "the family's access token is inactive"
    );
    assert!(!introspect(first["access_token"].as_str().unwrap().to_owned()).await);
    let events = app.store.recent_audit_events(10).await.unwrap();
    let reuse = events.iter().find(|e| e.event == "refresh_token_reused").expect("audited");
    assert_eq!(reuse.client_id.as_deref(), Some("demo"));
    assert_eq!(
        reuse.user_id.map(|u| u.to_string()).as_deref(),
        crate::support::browser::claims(first["access_token"].as_str().unwrap())["sub"].as_str()
    );
    assert_eq!(reuse.ip.as_deref(), Some("127.0.0.1"));
    assert!(reuse.details["family"].is_string());
}

#[tokio::test]
async fn an_administrator_can_end_every_session_and_family_of_a_user() {
    let (env, app, secret, tokens) = app_with_tokens().await;

    let out = crate::support::process::cli_ok(&env, &["user", "revoke-sessions", "alice"], None).await;

    assert!(out.contains("ended 1 session(s), revoked 1 refresh-token family(ies)"), "{out}");
    let refresh = app
        .post_token(
            "demo",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(refresh.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    let userinfo =
        app.http.get(app.url("/userinfo")).bearer_auth(tokens["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(userinfo.status(), 401);
    let unknown = crate::support::process::cli(&env, &["user", "revoke-sessions", "nobody"], None).await;
    assert!(!unknown.success && unknown.stderr.contains("no user `nobody`"));
    assert!(app.store.recent_audit_events(50).await.unwrap().iter().any(|e| e.event == "user_sessions_revoked"));
}

const DAY: i64 = 86_400;

/// An app with a first-party client `app` with the given refresh overrides, and `alice`.
async fn app_with_client(refresh: RefreshOverrides) -> (TestEnv, TestApp, String) {
    let (env, app) = spawn_app().await;
    let input = ClientInput {
        client_id: "app".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        first_party: true,
        refresh,
        ..ClientInput::default()
    };
    let secret = app.seed_client_with(input).await.unwrap();
    app.seed_user("alice", PASSWORD, &[]).await;
    (env, app, secret)
}

async fn login(app: &TestApp, secret: &str, scope: &str) -> (Browser, serde_json::Value) {
    let mut browser = Browser::new(app);
    let redirect = browser.authorize_and_login(&authorize_query("app", scope, &[]), "alice", PASSWORD).await;
    let tokens = exchange(app, "app", secret, &redirect.redirect_param("code").unwrap()).await;
    (browser, tokens)
}

async fn refresh(app: &TestApp, secret: &str, token: &str) -> (u16, serde_json::Value) {
    let response = app.post_token("app", secret, &[("grant_type", "refresh_token"), ("refresh_token", token)]).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

fn grace(seconds: i64) -> RefreshOverrides {
    RefreshOverrides { reuse_grace_seconds: Some(seconds), ..RefreshOverrides::default() }
}

#[tokio::test]
async fn within_the_grace_window_twenty_concurrent_refreshes_get_the_same_successor() {
    let (_env, app, secret) = app_with_client(grace(5)).await;
    let (_browser, tokens) = login(&app, &secret, "openid").await;
    let old = tokens["refresh_token"].as_str().unwrap().to_owned();

    let results = futures::future::join_all((0..20).map(|_| refresh(&app, &secret, &old))).await;

    assert!(results.iter().all(|(status, _)| *status == 200), "{results:?}");
    let successor = results[0].1["refresh_token"].as_str().unwrap();
    assert!(results.iter().all(|(_, body)| body["refresh_token"] == successor), "one successor, no branches");
    let jtis: std::collections::HashSet<String> = results
        .iter()
        .map(|(_, b)| crate::support::browser::claims(b["access_token"].as_str().unwrap())["jti"].to_string())
        .collect();
    assert_eq!(jtis.len(), 20, "fresh access tokens each time");

    app.clock.advance(6);
    assert_eq!(refresh(&app, &secret, &old).await.1["error"], "invalid_grant", "outside the window reuse is theft");
    assert_eq!(refresh(&app, &secret, successor).await.1["error"], "invalid_grant", "and the family is revoked");
}

#[tokio::test]
async fn a_lost_response_is_recovered_but_a_token_whose_successor_was_used_is_theft() {
    let (_env, app, secret) = app_with_client(grace(5)).await;
    let (_browser, tokens) = login(&app, &secret, "openid").await;
    let old = tokens["refresh_token"].as_str().unwrap();

    let (_, first) = refresh(&app, &secret, old).await;
    let (status, retry) = refresh(&app, &secret, old).await;
    assert_eq!(status, 200);
    assert_eq!(retry["refresh_token"], first["refresh_token"], "the same successor again");

    let (status, next) = refresh(&app, &secret, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let (status, body) = refresh(&app, &secret, old).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(refresh(&app, &secret, next["refresh_token"].as_str().unwrap()).await.1["error"], "invalid_grant");
}

#[tokio::test]
async fn without_offline_access_a_family_ends_with_its_browser_session() {
    let (_env, app, secret) = app_with_client(RefreshOverrides::default()).await;
    let (_browser, tokens) = login(&app, &secret, "openid").await;
    let (status, rotated) = refresh(&app, &secret, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);

    app.clock.advance(43_200);

    let token = rotated["refresh_token"].as_str().unwrap();
    let status = app.post_basic("/introspect", "app", &secret, &[("token", token)]).await;
    assert_eq!(status.json::<serde_json::Value>().await.unwrap()["active"], false, "introspection agrees");
    assert_eq!(refresh(&app, &secret, token).await.1["error"], "invalid_grant");
}

#[tokio::test]
async fn offline_access_needs_consent_even_from_a_first_party_client_and_outlives_logout() {
    let (_env, app, secret) = app_with_client(RefreshOverrides::default()).await;
    let mut browser = Browser::new(&app);
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("app", "openid offline_access", &[]))).await;
    let consent = browser.submit_login(&login_page, "alice", PASSWORD).await;
    assert!(consent.body.contains("Keep access to this after you sign out"), "{}", consent.body);
    let redirect = browser.submit_consent(&consent, "allow").await;
    let offline = exchange(&app, "app", &secret, &redirect.redirect_param("code").unwrap()).await;
    let silent = browser.get(&format!("/authorize?{}", authorize_query("app", "openid", &[]))).await;
    let online = exchange(&app, "app", &secret, &silent.redirect_param("code").unwrap()).await;

    let hint = offline["id_token"].as_str().unwrap();
    let logout = browser.get(&format!("/end_session?id_token_hint={hint}")).await;
    assert_eq!(logout.status, 200, "signed out");

    assert_eq!(refresh(&app, &secret, online["refresh_token"].as_str().unwrap()).await.1["error"], "invalid_grant");
    let (status, after) = refresh(&app, &secret, offline["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{after}");
    let introspected =
        app.post_basic("/introspect", "app", &secret, &[("token", after["access_token"].as_str().unwrap())]).await;
    assert_eq!(introspected.json::<serde_json::Value>().await.unwrap()["active"], true);
}

#[tokio::test]
async fn an_offline_family_dies_when_idle_too_long_and_at_its_absolute_lifetime() {
    let (_env, app, secret) = app_with_client(RefreshOverrides::default()).await;
    let (_browser, tokens) = login(&app, &secret, "openid offline_access").await;
    let mut token = tokens["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..4 {
        app.clock.advance(6 * DAY);
        let (status, body) = refresh(&app, &secret, &token).await;
        assert_eq!(status, 200, "used every 6 days, within the 30-day lifetime: {body}");
        token = body["refresh_token"].as_str().unwrap().to_owned();
    }
    app.clock.advance(6 * DAY);
    assert_eq!(refresh(&app, &secret, &token).await.1["error"], "invalid_grant", "30 days after login");

    let (_browser, idle) = login(&app, &secret, "openid offline_access").await;
    app.clock.advance(7 * DAY);
    assert_eq!(
        refresh(&app, &secret, idle["refresh_token"].as_str().unwrap()).await.1["error"],
        "invalid_grant",
        "7 days idle"
    );
}

#[tokio::test]
async fn a_client_can_have_shorter_refresh_lifetimes() {
    let overrides =
        RefreshOverrides { idle_seconds: Some(600), absolute_seconds: Some(3_600), ..RefreshOverrides::default() };
    let (_env, app, secret) = app_with_client(overrides).await;
    let (_browser, tokens) = login(&app, &secret, "openid offline_access").await;

    app.clock.advance(599);
    let (status, body) = refresh(&app, &secret, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    app.clock.advance(601);

    assert_eq!(refresh(&app, &secret, body["refresh_token"].as_str().unwrap()).await.1["error"], "invalid_grant");
}

#[tokio::test]
async fn a_sealed_successor_is_erased_once_the_grace_window_is_over() {
    let (_env, app, secret) = app_with_client(grace(5)).await;
    let (_browser, tokens) = login(&app, &secret, "openid").await;
    let old = tokens["refresh_token"].as_str().unwrap();
    refresh(&app, &secret, old).await;
    let hash = wristband::security::random::sha256_hex(old);
    assert!(app.store.find_refresh_token(&hash).await.unwrap().unwrap().sealed_successor.is_some());

    app.clock.advance(61);
    let report = wristband::flows::cleanup::clean_up(&app.ctx()).await.unwrap();

    assert_eq!(report.sealed_successors, 1);
    assert!(app.store.find_refresh_token(&hash).await.unwrap().unwrap().sealed_successor.is_none());
}

async fn fresh_refresh_token(app: &TestApp, secret: &str) -> String {
    let (_browser, code) = crate::support::browser::code_for(app, "demo", "alice", PASSWORD).await;
    exchange(app, "demo", secret, &code).await["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_password_change_and_disabling_the_user_revoke_every_family() {
    let (env, app) = spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    let refresh_error = |token: String| {
        let (app, secret) = (&app, secret.clone());
        async move {
            let response =
                app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", &token)]).await;
            response.json::<serde_json::Value>().await.unwrap()["error"].clone()
        }
    };

    let before_password_change = fresh_refresh_token(&app, &secret).await;
    crate::support::process::cli_ok(&env, &["user", "set-password", "alice", "--password-stdin"], Some(PASSWORD)).await;
    assert_eq!(refresh_error(before_password_change).await, "invalid_grant");

    let before_disable = fresh_refresh_token(&app, &secret).await;
    crate::support::process::cli_ok(&env, &["user", "disable", "alice"], None).await;
    assert_eq!(refresh_error(before_disable).await, "invalid_grant");
}
