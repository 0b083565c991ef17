//! The account pages: a person's own sessions, applications, password and second factor.

use wristband::security::random::sha256_hex;

use crate::support::browser::{Browser, Page, authorize_query, code_for, exchange};
use crate::support::totp::recovery_codes;
use crate::support::{PASSWORD, TestApp, app_with_alice_and_bob};

const NEW_PASSWORD: &str = "a much better passphrase";

/// A signed-in browser with the refresh token of one login to `demo`.
async fn signed_in(app: &TestApp, secret: &str, username: &str) -> (Browser, String) {
    let (browser, tokens) = signed_in_with_tokens(app, secret, username).await;
    (browser, tokens["refresh_token"].as_str().unwrap().to_owned())
}

async fn signed_in_with_tokens(app: &TestApp, secret: &str, username: &str) -> (Browser, serde_json::Value) {
    let (browser, code) = code_for(app, "demo", username, PASSWORD).await;
    (browser, exchange(app, "demo", secret, &code).await)
}

async fn active(app: &TestApp, secret: &str, access_token: &str) -> bool {
    let response = app.post_basic("/introspect", "demo", secret, &[("token", access_token)]).await;
    response.json::<serde_json::Value>().await.unwrap()["active"] == true
}

async fn refresh_status(app: &TestApp, secret: &str, refresh_token: &str) -> u16 {
    let response =
        app.post_token("demo", secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await;
    response.status().as_u16()
}

/// The value of the first hidden field `name` that follows `after` in the page.
fn hidden_after(page: &Page, after: &str, name: &str) -> String {
    let rest = &page.body[page.body.find(after).expect("marker on the page")..];
    Page { body: rest.to_owned(), ..empty_page() }.hidden(name).expect("hidden field")
}

/// The sid of the session listed without "Sign out here": not the current one.
fn other_session(page: &Page) -> String {
    let row = page
        .body
        .split("<tr>")
        .find(|row| row.contains("action=\"/account/sessions/end\"") && !row.contains("Sign out here"))
        .expect("another session is listed");
    hidden_after(&Page { body: row.to_owned(), ..empty_page() }, "action=", "sid")
}

fn empty_page() -> Page {
    Page { status: 200, location: None, set_cookies: vec![], headers: Default::default(), body: String::new() }
}

#[tokio::test]
async fn the_account_page_needs_a_session_and_then_shows_the_person_their_account() {
    let (_env, app, secret) = app_with_alice_and_bob().await;
    let mut browser = Browser::new(&app);

    let to_login = browser.get("/account").await;
    assert_eq!((to_login.status, to_login.location.as_deref()), (303, Some("/login?destination=account")));
    let login = browser.get("/login?destination=account").await;
    assert!(login.body.contains("name=\"destination\" value=\"account\""));
    let form = [
        ("csrf_token", login.hidden("csrf_token").unwrap()),
        ("destination", "account".into()),
        ("username", "alice".into()),
        ("password", PASSWORD.into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let back = browser.post("/login", &form).await;
    assert_eq!((back.status, back.location.as_deref()), (303, Some("/account")));
    signed_in(&app, &secret, "alice").await;
    let page = browser.get("/account").await;

    assert_eq!(page.status, 200);
    assert!(page.body.contains("alice@example.com") && page.body.contains("alice Example"));
    assert_eq!(page.body.matches("action=\"/account/sessions/end\"").count(), 2, "both of alice's sessions");
    assert_eq!(page.body.matches("Sign out here").count(), 1);
    assert_eq!(page.body.matches("action=\"/account/apps/revoke\"").count(), 1, "demo holds a refresh token");
    assert!(page.body.contains("<td>demo</td>"));
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_every_other_session_and_family() {
    let (_env, app, secret) = app_with_alice_and_bob().await;
    let (mut here, here_refresh) = signed_in(&app, &secret, "alice").await;
    let (mut elsewhere, elsewhere_refresh) = signed_in(&app, &secret, "alice").await;
    let (_, bob_refresh) = signed_in(&app, &secret, "bob").await;
    let page = here.get("/account").await;
    let csrf = page.hidden("csrf_token").unwrap();

    let wrong = here
        .post(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", "guess"),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("current password is not right"));
    assert_eq!(elsewhere.get("/account").await.status, 200, "nothing changed");
    let changed = here
        .post(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;

    assert_eq!(changed.location.as_deref(), Some("/account?notice=password_changed"));
    assert_eq!(here.get("/account").await.status, 200, "this session stays");
    assert_eq!(elsewhere.get("/account").await.status, 303, "the other session ended");
    assert_eq!(refresh_status(&app, &secret, &elsewhere_refresh).await, 400, "the other family ended");
    assert_eq!(refresh_status(&app, &secret, &here_refresh).await, 200, "this session's family stays");
    assert_eq!(refresh_status(&app, &secret, &bob_refresh).await, 200, "another user is untouched");
    let mut fresh = Browser::new(&app);
    let login = fresh.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert!(fresh.submit_login(&login, "alice", PASSWORD).await.body.contains("Incorrect username or password."));
    assert_eq!(fresh.submit_login(&login, "alice", NEW_PASSWORD).await.status, 303);
}

#[tokio::test]
async fn sessions_and_applications_are_revoked_from_the_account_page_and_only_ones_own() {
    let (_env, app, secret) = app_with_alice_and_bob().await;
    let (mut alice, alice_tokens) = signed_in_with_tokens(&app, &secret, "alice").await;
    let alice_refresh = alice_tokens["refresh_token"].as_str().unwrap().to_owned();
    let alice_access = alice_tokens["access_token"].as_str().unwrap();
    let (mut other_alice, _) = signed_in(&app, &secret, "alice").await;
    let (mut bob, _) = signed_in(&app, &secret, "bob").await;
    let page = alice.get("/account").await;
    let found = app.store.find_refresh_token(&sha256_hex(&alice_refresh)).await.unwrap().unwrap();
    let family = found.family.id.to_string();
    assert!(page.body.contains(&format!("name=\"family\" value=\"{family}\"")), "listed with a button");
    let other_sid = other_session(&page);

    let bob_page = bob.get("/account").await;
    let bob_csrf = bob_page.hidden("csrf_token").unwrap();
    let by_bob = bob.post("/account/apps/revoke", &[("csrf_token", &bob_csrf), ("family", &family)]).await;
    let by_bob_session = bob.post("/account/sessions/end", &[("csrf_token", &bob_csrf), ("sid", &other_sid)]).await;
    assert_eq!(by_bob.location.as_deref(), Some("/account?notice=nothing_changed"));
    assert_eq!(by_bob_session.location.as_deref(), Some("/account?notice=nothing_changed"));
    assert!(active(&app, &secret, alice_access).await, "bob cannot touch alice's grants");
    assert_eq!(other_alice.get("/account").await.status, 200, "nor her sessions");

    let csrf = page.hidden("csrf_token").unwrap();
    let revoked = alice.post("/account/apps/revoke", &[("csrf_token", &csrf), ("family", &family)]).await;
    assert_eq!(revoked.location.as_deref(), Some("/account?notice=app_revoked"));
    assert_eq!(refresh_status(&app, &secret, &alice_refresh).await, 400, "the family is revoked");
    assert!(!active(&app, &secret, alice_access).await, "and its access tokens are inactive");
    let ended = alice.post("/account/sessions/end", &[("csrf_token", &csrf), ("sid", &other_sid)]).await;
    assert_eq!(ended.location.as_deref(), Some("/account?notice=session_ended"));
    assert_eq!(other_alice.get("/account").await.status, 303, "the other session ended");
    let current = hidden_after(&alice.get("/account").await, "action=\"/account/sessions/end\"", "sid");
    let out = alice.post("/account/sessions/end", &[("csrf_token", &csrf), ("sid", &current)]).await;
    assert_eq!(out.location.as_deref(), Some("/login?destination=account"), "signing out here");
    assert!(!alice.cookies.contains_key("__Host-wristband_session"), "the cookie is cleared");
}

#[tokio::test]
async fn every_account_form_refuses_a_missing_or_wrong_csrf_token() {
    let (_env, app, secret) = app_with_alice_and_bob().await;
    let (mut alice, refresh) = signed_in(&app, &secret, "alice").await;
    let page = alice.get("/account").await;
    let family = hidden_after(&page, "action=\"/account/apps/revoke\"", "family");
    let sid = hidden_after(&page, "action=\"/account/sessions/end\"", "sid");
    let forms: [(&str, Vec<(&str, &str)>); 6] = [
        ("/account/sessions/end", vec![("sid", &sid)]),
        ("/account/apps/revoke", vec![("family", &family)]),
        (
            "/account/password",
            vec![("current_password", PASSWORD), ("new_password", NEW_PASSWORD), ("confirm_password", NEW_PASSWORD)],
        ),
        ("/account/mfa/enable", vec![("enrollment", "x"), ("code", "123456")]),
        ("/account/mfa/disable", vec![("password", PASSWORD)]),
        ("/account/mfa/recovery-codes", vec![("password", PASSWORD)]),
    ];

    for (path, fields) in &forms {
        let missing = alice.post(path, fields).await;
        let mut wrong_fields = fields.clone();
        wrong_fields.push(("csrf_token", "not-the-cookie-value-not-the-cookie-value"));
        let wrong = alice.post(path, &wrong_fields).await;
        assert_eq!((missing.status, wrong.status), (403, 403), "{path}");
    }

    assert_eq!(alice.get("/account").await.status, 200, "still signed in");
    assert_eq!(refresh_status(&app, &secret, &refresh).await, 200, "the family is untouched");
    let mut fresh = Browser::new(&app);
    let login = fresh.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert_eq!(fresh.submit_login(&login, "alice", PASSWORD).await.status, 303, "the password is unchanged");
}

#[tokio::test]
async fn turning_totp_off_or_renewing_recovery_codes_needs_a_code_or_the_password() {
    let (_env, app, secret) = app_with_alice_and_bob().await;
    let phone = app.enrol_totp("alice").await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/login?destination=account").await;
    let csrf = login.hidden("csrf_token").unwrap();
    let code_page = browser
        .post(
            "/login",
            &[("csrf_token", &csrf), ("destination", "account"), ("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(browser.submit_code(&code_page, &app.code(&phone)).await.location.as_deref(), Some("/account"));
    let manage = browser.get("/account/mfa").await;
    assert!(manage.body.contains("<strong>0</strong> unused recovery codes"), "{}", manage.body);
    let csrf = manage.hidden("csrf_token").unwrap();

    let refused = browser.post("/account/mfa/recovery-codes", &[("csrf_token", &csrf), ("password", "guess")]).await;
    assert_eq!(refused.status, 400);
    let renewed = browser.post("/account/mfa/recovery-codes", &[("csrf_token", &csrf), ("password", PASSWORD)]).await;
    assert_eq!(recovery_codes(&renewed).len(), 10);
    assert!(browser.get("/account/mfa").await.body.contains("<strong>10</strong> unused"));
    let wrong_code = browser.post("/account/mfa/disable", &[("csrf_token", &csrf), ("code", "000000")]).await;
    assert!(wrong_code.status == 400 && wrong_code.body.contains("That code did not work"));
    app.clock.advance(30);
    let off = browser.post("/account/mfa/disable", &[("csrf_token", &csrf), ("code", &app.code(&phone))]).await;

    assert_eq!(off.location.as_deref(), Some("/account?notice=mfa_disabled"));
    let (_, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    assert!(exchange(&app, "demo", &secret, &code).await["id_token"].is_string(), "a password alone again");
}
