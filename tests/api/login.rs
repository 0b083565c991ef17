//! The login page: one answer for every failure, CSRF, session cookies and fixation.

use crate::support::browser::{Browser, REDIRECT_URI, authorize_query};
use crate::support::{PASSWORD, app_with_alice, spawn_app};

/// An app with the first-party client `demo` and the user `alice`.

#[tokio::test]
async fn unknown_users_wrong_passwords_and_disabled_accounts_get_the_same_answer() {
    let (env, app) = spawn_app().await;
    app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    app.seed_user("bob", PASSWORD, &[]).await;
    crate::support::process::cli_ok(&env, &["user", "disable", "bob"], None).await;
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
async fn a_login_page_left_open_too_long_expires() {
    let (_env, app, _) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    app.clock.advance(601);

    let late = browser.submit_login(&login_page, "alice", PASSWORD).await;

    assert_eq!(late.status, 400);
    assert!(late.body.contains("expired"));
    assert!(late.set_cookies.iter().all(|c| !c.starts_with("__Host-wristband_session")));
}
