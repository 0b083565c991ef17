//! `/authorize`: which requests may redirect, what they redirect with, single sign-on,
//! prompt, max_age and consent.

use wristband::flows::admin::ClientInput;

use crate::support::browser::{Browser, CHALLENGE, REDIRECT_URI, authorize_query, claims, exchange};
use crate::support::oauth::query;
use crate::support::{app_with_third_party_demo, spawn_app};

#[tokio::test]
async fn errors_after_the_redirect_uri_is_trusted_go_back_with_state_and_iss() {
    let (_env, app, _) = app_with_third_party_demo().await;
    let public = ClientInput {
        client_id: "spa".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        public: true,
        ..ClientInput::default()
    };
    app.seed_client_with(public).await;
    let mut browser = Browser::new(&app);
    let base = |client: &'static str| {
        vec![("client_id", client), ("redirect_uri", REDIRECT_URI), ("state", "st@te 1"), ("scope", "openid")]
    };
    let with = |client: &'static str, extra: &[(&'static str, &'static str)]| {
        let mut pairs = base(client);
        pairs.extend_from_slice(extra);
        pairs
    };
    let pkce = [("code_challenge", CHALLENGE), ("code_challenge_method", "S256")];
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (with("demo", &[("response_type", "token"), pkce[0], pkce[1]]), "unsupported_response_type"),
        (with("demo", &pkce), "invalid_request"),
        (with("demo", &[("response_type", "code"), ("scope", "admin"), pkce[0], pkce[1]]), "invalid_request"),
        (with("spa", &[("response_type", "code")]), "invalid_request"),
        (
            with(
                "spa",
                &[("response_type", "code"), ("code_challenge", CHALLENGE), ("code_challenge_method", "plain")],
            ),
            "invalid_request",
        ),
        (with("spa", &[("response_type", "code"), ("code_challenge", CHALLENGE)]), "invalid_request"),
        (with("demo", &[("response_type", "code")]), "invalid_request"),
        (with("demo", &[("response_type", "code"), ("prompt", "none"), pkce[0], pkce[1]]), "login_required"),
        (with("demo", &[("response_type", "code"), ("prompt", "none login"), pkce[0], pkce[1]]), "invalid_request"),
        (with("demo", &[("response_type", "code"), ("request", "eyJ..."), pkce[0], pkce[1]]), "request_not_supported"),
        (
            with("demo", &[("response_type", "code"), ("resource", "https://api.example.com"), pkce[0], pkce[1]]),
            "invalid_target",
        ),
    ];
    for (pairs, expected) in cases {
        let page = browser.get(&format!("/authorize?{}", query(&pairs))).await;
        assert_eq!(page.status, 302, "{pairs:?}: {}", page.body);
        assert!(page.location.as_deref().unwrap().starts_with(&format!("{REDIRECT_URI}?")), "{pairs:?}");
        assert_eq!(page.redirect_param("error").as_deref(), Some(expected), "{pairs:?}");
        assert!(page.redirect_param("error_description").is_some());
        assert_eq!(page.redirect_param("state").as_deref(), Some("st@te 1"), "{pairs:?}");
        assert_eq!(page.redirect_param("iss").as_deref(), Some(app.address.as_str()));
        assert!(page.redirect_param("code").is_none());
    }
    // The scope case: an unknown scope is invalid_scope, not invalid_request.
    let page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid admin", &[]))).await;
    assert_eq!(page.redirect_param("error").as_deref(), Some("invalid_scope"));
}

#[tokio::test]
async fn a_post_to_authorize_works_like_a_get_and_unknown_parameters_are_ignored() {
    let (_env, app, _) = app_with_third_party_demo().await;
    let mut browser = Browser::new(&app);
    let form = [
        ("response_type", "code"),
        ("client_id", "demo"),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "openid"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("login_hint", "alice"),
        ("ui_locales", "fr"),
        ("something_new", "x"),
    ];

    let page = browser.post("/authorize", &form).await;

    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"value="alice""#), "login_hint prefills the username");
    assert!(page.body.contains("demo"), "the client's name is shown");
}

#[tokio::test]
async fn the_success_redirect_carries_code_state_and_iss_after_a_303() {
    let (_env, app, _) = app_with_third_party_demo().await;
    let mut browser = Browser::new(&app);

    let redirect =
        browser.authorize_and_login(&authorize_query("demo", "openid", &[]), "alice", "correct horse battery").await;

    assert_eq!(redirect.status, 303, "a POST ends in 303, never 307");
    assert!(redirect.redirect_param("code").is_some());
    assert_eq!(redirect.redirect_param("state").as_deref(), Some("af0ifjsldkj"));
    assert_eq!(redirect.redirect_param("iss").as_deref(), Some(app.address.as_str()));
}

#[tokio::test]
async fn an_existing_session_skips_the_login_page_and_remembered_consent_skips_consent() {
    let (_env, app, _) = app_with_third_party_demo().await;
    let mut browser = Browser::new(&app);
    browser
        .authorize_and_login(&authorize_query("demo", "openid profile", &[]), "alice", "correct horse battery")
        .await;

    let again = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let wider = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid email", &[]))).await;
    let forced =
        browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("prompt", "consent")]))).await;
    let silent = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("prompt", "none")]))).await;
    let silent_wider =
        browser.get(&format!("/authorize?{}", authorize_query("demo", "openid roles", &[("prompt", "none")]))).await;

    assert_eq!(again.status, 302, "single sign-on: {}", again.body);
    assert!(again.redirect_param("code").is_some());
    assert!(wider.body.contains("See your email address"), "a new scope asks again");
    assert!(forced.body.contains("action=\"/consent\""), "prompt=consent asks again");
    assert!(silent.redirect_param("code").is_some(), "prompt=none with session and consent");
    assert_eq!(silent_wider.redirect_param("error").as_deref(), Some("consent_required"));
}

#[tokio::test]
async fn declining_consent_returns_access_denied_and_grants_nothing() {
    let (_env, app, _) = app_with_third_party_demo().await;
    let mut browser = Browser::new(&app);
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let consent = browser.submit_login(&login_page, "alice", "correct horse battery").await;

    let declined = browser.submit_consent(&consent, "deny").await;

    assert_eq!(declined.status, 303);
    assert_eq!(declined.redirect_param("error").as_deref(), Some("access_denied"));
    assert_eq!(declined.redirect_param("state").as_deref(), Some("af0ifjsldkj"));
    let again = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert!(again.body.contains("action=\"/consent\""), "no consent was stored");
}

#[tokio::test]
async fn first_party_clients_skip_consent() {
    let (_env, app) = spawn_app().await;
    app.seed_client("portal", REDIRECT_URI, true).await;
    app.seed_user("alice", "correct horse battery", &[]).await;
    let mut browser = Browser::new(&app);
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("portal", "openid profile", &[]))).await;

    let after_login = browser.submit_login(&login_page, "alice", "correct horse battery").await;

    assert_eq!(after_login.status, 303);
    assert!(after_login.redirect_param("code").is_some());
}

#[tokio::test]
async fn prompt_login_and_an_exceeded_max_age_demand_a_fresh_login_with_auth_time() {
    let (_env, app, secret) = app_with_third_party_demo().await;
    let mut browser = Browser::new(&app);
    browser.authorize_and_login(&authorize_query("demo", "openid", &[]), "alice", "correct horse battery").await;
    let first_login = app.clock_now();
    app.clock.advance(600);

    let forced =
        browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("prompt", "login")]))).await;
    let within =
        browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("max_age", "3600")]))).await;
    let code = within.redirect_param("code").expect("max_age within the session");
    let tokens = exchange(&app, "demo", &secret, &code).await;
    let exceeded =
        browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("max_age", "300")]))).await;
    let relogin = browser.submit_login(&exceeded, "alice", "correct horse battery").await;

    assert!(forced.body.contains("action=\"/login\""), "prompt=login shows the login page");
    assert_eq!(claims(tokens["id_token"].as_str().unwrap())["auth_time"], first_login);
    assert!(exceeded.body.contains("action=\"/login\""), "max_age exceeded shows the login page");
    let code = relogin.redirect_param("code").expect("a code after the fresh login");
    let tokens = exchange(&app, "demo", &secret, &code).await;
    assert_eq!(claims(tokens["id_token"].as_str().unwrap())["auth_time"], first_login + 600);
}
