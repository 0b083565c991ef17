//! The login page: one answer for every failure, CSRF, session cookies and fixation.

use crate::browser::{Browser, REDIRECT_URI, authorize_query};
use crate::helpers::spawn_app;

const PASSWORD: &str = "correct horse battery";

/// An app with the first-party client `demo` and the user `alice`.
async fn app_with_alice() -> (crate::helpers::TestEnv, crate::helpers::TestApp) {
    let (env, app) = spawn_app().await;
    app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    (env, app)
}

#[tokio::test]
async fn unknown_users_wrong_passwords_and_disabled_accounts_get_the_same_answer() {
    let (env, app) = spawn_app().await;
    app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    app.seed_user("bob", PASSWORD, &[]).await;
    crate::process::cli_ok(&env, &["user", "disable", "bob"], None).await;
    let mut browser = Browser::new(&app);
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;

    let mut bodies = Vec::new();
    for (username, password) in [("mallory", PASSWORD), ("alice", "wrong password"), ("bob", PASSWORD)] {
        let page = browser.submit_login(&login_page, username, password).await;
        assert_eq!(page.status, 200, "{username}");
        assert!(page.set_cookies.iter().all(|c| !c.starts_with("__Host-wristband_session")), "{username}: no session");
        assert!(page.body.contains("Incorrect username or password."), "{username}");
        bodies.push(page.body.replace(&format!("value=\"{username}\""), "value=\"USER\""));
    }

    assert_eq!(bodies[0], bodies[1], "unknown user and wrong password look the same");
    assert_eq!(bodies[0], bodies[2], "a disabled account looks the same");
    let failures =
        app.store.recent_audit_events(20).await.unwrap().iter().filter(|e| e.event == "login_failed").count();
    assert_eq!(failures, 3);
    let ok = browser.submit_login(&login_page, "alice", PASSWORD).await;
    assert_eq!(ok.status, 303, "the form still works after failures");
}

#[tokio::test]
async fn the_session_cookie_is_host_prefixed_secure_http_only_and_lax() {
    let (_env, app) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;

    let logged_in = browser.submit_login(&login_page, "alice", PASSWORD).await;

    let cookie =
        logged_in.set_cookies.iter().find(|c| c.starts_with("__Host-wristband_session=")).expect("session cookie");
    let attributes: Vec<String> = cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
    for required in ["httponly", "secure", "samesite=lax", "path=/"] {
        assert!(attributes.iter().any(|a| a == required), "{required} missing in {cookie}");
    }
    assert!(!attributes.iter().any(|a| a.starts_with("domain")), "no Domain on a __Host- cookie");
    let csrf = login_page.set_cookies.iter().find(|c| c.starts_with("__Host-wristband_csrf=")).expect("csrf cookie");
    assert!(csrf.contains("Secure") && csrf.contains("HttpOnly") && csrf.contains("Path=/"), "{csrf}");
    for page in [&login_page, &logged_in] {
        assert_eq!(page.headers["cache-control"], "no-store");
        assert_eq!(page.headers["x-frame-options"], "DENY");
        assert!(page.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    }
}

#[tokio::test]
async fn a_planted_session_cookie_is_replaced_at_login() {
    let (_env, app) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    browser.cookies.insert("__Host-wristband_session".into(), "planted-by-the-attacker-0123456789abcdef".into());
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;

    browser.submit_login(&login_page, "alice", PASSWORD).await;

    let session = browser.cookies.get("__Host-wristband_session").unwrap();
    assert_ne!(session, "planted-by-the-attacker-0123456789abcdef");
    let mut attacker = Browser::new(&app);
    attacker.cookies.insert("__Host-wristband_session".into(), "planted-by-the-attacker-0123456789abcdef".into());
    let page = attacker.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert!(page.body.contains("action=\"/login\""), "the planted id opens no session");
}

#[tokio::test]
async fn every_login_gets_a_new_session_id_and_ends_the_previous_session() {
    let (_env, app) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    browser.authorize_and_login(&authorize_query("demo", "openid", &[]), "alice", PASSWORD).await;
    let first = browser.cookies["__Host-wristband_session"].clone();

    let login_page =
        browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("prompt", "login")]))).await;
    browser.submit_login(&login_page, "alice", PASSWORD).await;

    let second = browser.cookies["__Host-wristband_session"].clone();
    assert_ne!(first, second);
    let mut old = Browser::new(&app);
    old.cookies.insert("__Host-wristband_session".into(), first);
    let page = old.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert!(page.body.contains("action=\"/login\""), "the previous session ended");
}

#[tokio::test]
async fn a_login_without_the_csrf_token_or_from_another_browser_is_refused() {
    let (_env, app) = app_with_alice().await;
    let mut victim = Browser::new(&app);
    let login_page = victim.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let request_id = login_page.hidden("request_id").unwrap();
    let mut attacker = Browser::new(&app);
    let attacker_page = attacker.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let attacker_csrf = attacker_page.hidden("csrf_token").unwrap();

    let missing =
        victim.post("/login", &[("request_id", &request_id), ("username", "alice"), ("password", PASSWORD)]).await;
    let foreign = victim
        .post(
            "/login",
            &[
                ("csrf_token", &attacker_csrf),
                ("request_id", &request_id),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let replayed_elsewhere = attacker
        .post(
            "/login",
            &[
                ("csrf_token", &attacker_csrf),
                ("request_id", &request_id),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;

    for page in [&missing, &foreign] {
        assert_eq!(page.status, 403);
        assert!(page.set_cookies.iter().all(|c| !c.starts_with("__Host-wristband_session")));
    }
    // The attacker's own CSRF token is valid for the attacker, but the victim's request is
    // bound to the victim's browser.
    assert_eq!(replayed_elsewhere.status, 400);
    assert!(replayed_elsewhere.set_cookies.iter().all(|c| !c.starts_with("__Host-wristband_session")));
    assert!(!app.store.recent_audit_events(10).await.unwrap().iter().any(|e| e.event == "login_succeeded"));
}

#[tokio::test]
async fn a_login_page_left_open_too_long_expires() {
    let (_env, app) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    app.clock.advance(601);

    let late = browser.submit_login(&login_page, "alice", PASSWORD).await;

    assert_eq!(late.status, 400);
    assert!(late.body.contains("expired"));
    assert!(late.set_cookies.iter().all(|c| !c.starts_with("__Host-wristband_session")));
}

#[tokio::test]
async fn user_input_is_escaped_on_the_pages() {
    let (_env, app) = spawn_app().await;
    app.seed_client_with(wristband::flows::admin::ClientInput {
        client_id: "xss".into(),
        name: Some("<script>alert(1)</script>".into()),
        redirect_uris: vec![REDIRECT_URI.into()],
        ..Default::default()
    })
    .await;
    let mut browser = Browser::new(&app);

    let page = browser
        .get(&format!(
            "/authorize?{}",
            authorize_query("xss", "openid", &[("login_hint", "\"><img src=x onerror=alert(1)>")])
        ))
        .await;

    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(!page.body.contains("<img src=x"));
    assert!(page.body.contains("&#60;script&#62;") || page.body.contains("&lt;script&gt;"), "{}", page.body);
}
