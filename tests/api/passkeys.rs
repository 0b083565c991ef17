//! Passkeys over HTTP, as an attacker sees them: the options endpoints want this page's
//! CSRF token, a ceremony is answered once, by the browser that asked, for the form it was
//! made for; a client that requires a passkey turns away a login without one; an issuer on
//! an IP address offers no passkeys. The ceremonies themselves run in Chromium
//! (`passkeys_browser`) and against a software authenticator (`flows::passkeys` tests).

use wristband::flows::admin::ClientInput;
use wristband::model::{ClientId, Username};

use crate::support::browser::{Browser, Page, REDIRECT_URI, authorize_query};
use crate::support::process::cli_ok;
use crate::support::{PASSWORD, TestApp, TestEnv, app_with_alice};

/// An app on `http://localhost:PORT` (a relying party browsers accept), with `alice`.
async fn passkey_app() -> (TestEnv, TestApp) {
    let env = TestEnv::new().await;
    let app = env.spawn_on_localhost().await;
    app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    (env, app)
}

/// A browser signed in to the account pages as alice.
async fn signed_in(app: &TestApp) -> Browser {
    let mut browser = Browser::new(app);
    let login = browser.get("/login?destination=account").await;
    let csrf = login.hidden("csrf_token").unwrap();
    let page = browser
        .post(
            "/login",
            &[("csrf_token", &csrf), ("destination", "account"), ("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/account"));
    browser
}

fn json(page: &Page) -> serde_json::Value {
    assert_eq!(page.status, 200, "{}", page.body);
    serde_json::from_str(&page.body).expect("JSON options")
}

#[tokio::test]
async fn the_login_page_offers_passkeys_from_a_first_party_script_and_only_on_a_host_name() {
    let (_env, app) = passkey_app().await;
    let (_ip_env, ip_app, _) = app_with_alice().await;

    let page = Browser::new(&app).get("/login?destination=account").await;
    let on_ip = Browser::new(&ip_app).get("/login?destination=account").await;
    let script = app.get("/static/passkeys.js").await;

    assert!(page.body.contains(r#"<script src="/static/passkeys.js?v="#) && page.body.contains("passkey-form"));
    assert!(page.body.contains(r#"autocomplete="username webauthn""#), "autofill offers passkeys");
    assert!(!on_ip.body.contains("<script") && !on_ip.body.contains("passkey"), "no passkeys on an IP address");
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(script.text().await.unwrap().contains("parseRequestOptionsFromJSON"));
    let mut ip_browser = Browser::new(&ip_app);
    let login = ip_browser.get("/login?destination=account").await;
    let csrf = login.hidden("csrf_token").unwrap();
    let refused = ip_browser.post("/login/passkey/options", &[("csrf_token", &csrf), ("destination", "account")]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("browsers allow passkeys only on a host name"), "{}", refused.body);
}

#[tokio::test]
async fn sign_in_options_need_the_pages_csrf_token_and_ask_for_a_verified_discoverable_credential() {
    let (_env, app) = passkey_app().await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/login?destination=account").await;
    let csrf = login.hidden("csrf_token").unwrap();

    let forged = browser.post("/login/passkey/options", &[("destination", "account")]).await;
    let options =
        json(&browser.post("/login/passkey/options", &[("csrf_token", &csrf), ("destination", "account")]).await);

    assert_eq!(forged.status, 403, "no CSRF token, no ceremony");
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert!(
        options["publicKey"]["allowCredentials"].as_array().is_none_or(|a| a.is_empty()),
        "the key names the account"
    );
    assert!(options["publicKey"]["challenge"].as_str().unwrap().len() >= 43, "a 256-bit challenge");
    assert!(options["ceremony"].as_str().unwrap().len() >= 43);
}

#[tokio::test]
async fn a_ceremony_is_answered_once_by_the_browser_that_asked_and_only_by_the_form_it_was_made_for() {
    let (_env, app) = passkey_app().await;
    let mut alice = signed_in(&app).await;
    let passkeys = alice.get("/account/passkeys").await;
    assert!(passkeys.body.contains("Add a passkey"), "{}", passkeys.body);
    let account_csrf = passkeys.hidden("csrf_token").unwrap();
    let registration = json(&alice.post("/account/passkeys/options", &[("csrf_token", &account_csrf)]).await);
    let registration_ceremony = registration["ceremony"].as_str().unwrap().to_owned();
    assert_eq!(registration["publicKey"]["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(registration["publicKey"]["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(registration["publicKey"]["attestation"], "none");

    let mut thief = Browser::new(&app);
    let login = thief.get("/login?destination=account").await;
    let thief_csrf = login.hidden("csrf_token").unwrap();
    let sign_in =
        json(&thief.post("/login/passkey/options", &[("csrf_token", &thief_csrf), ("destination", "account")]).await);
    let sign_in_ceremony = sign_in["ceremony"].as_str().unwrap().to_owned();
    let garbage = r#"{"id":"x","rawId":"eA","type":"public-key","response":{}}"#;

    // A registration's ceremony answering a sign-in form: the page has expired.
    let swapped = thief
        .post(
            "/login/passkey",
            &[
                ("csrf_token", &thief_csrf),
                ("destination", "account"),
                ("ceremony", &registration_ceremony),
                ("credential", garbage),
            ],
        )
        .await;
    // Another browser's sign-in ceremony answering alice's registration form.
    let account_csrf = alice.get("/account/passkeys").await.hidden("csrf_token").unwrap();
    let stolen = alice
        .post(
            "/account/passkeys",
            &[
                ("csrf_token", &account_csrf),
                ("name", "Mine"),
                ("ceremony", &sign_in_ceremony),
                ("credential", garbage),
            ],
        )
        .await;
    // The spent sign-in ceremony, now by the browser that asked for it.
    let spent = thief
        .post(
            "/login/passkey",
            &[
                ("csrf_token", &thief_csrf),
                ("destination", "account"),
                ("ceremony", &sign_in_ceremony),
                ("credential", garbage),
            ],
        )
        .await;
    // A fresh one with a credential that is not one.
    let fresh =
        json(&thief.post("/login/passkey/options", &[("csrf_token", &thief_csrf), ("destination", "account")]).await);
    let forged = thief
        .post(
            "/login/passkey",
            &[
                ("csrf_token", &thief_csrf),
                ("destination", "account"),
                ("ceremony", fresh["ceremony"].as_str().unwrap()),
                ("credential", garbage),
            ],
        )
        .await;

    assert!(swapped.body.contains("The passkey request expired"), "{}", swapped.body);
    assert!(stolen.body.contains("The request to add a passkey expired"), "{}", stolen.body);
    assert!(spent.body.contains("The passkey request expired"), "{}", spent.body);
    assert!(forged.body.contains("That passkey did not work"), "{}", forged.body);
    for page in [&swapped, &spent, &forged] {
        assert!(!crate::support::pages::has_session_cookie(page), "nobody signed in");
    }
    let alice_id = app.store.find_user_by_username(&Username::parse("alice").unwrap()).await.unwrap().unwrap().id;
    assert!(app.store.list_passkeys(alice_id).await.unwrap().is_empty(), "nothing registered");
    assert_eq!(app.state_rows().await.iter().find(|(t, _)| *t == "passkey_ceremonies").unwrap().1, 0, "all spent");
}

#[tokio::test]
async fn adding_a_passkey_needs_a_sign_in_from_the_last_five_minutes_and_offers_one() {
    let (_env, app) = passkey_app().await;
    let mut alice = signed_in(&app).await;
    app.clock.advance(301);

    let page = alice.get("/account/passkeys").await;
    let csrf = alice.get("/account").await.hidden("csrf_token").unwrap();
    let refused = alice.post("/account/passkeys/options", &[("csrf_token", &csrf)]).await;
    let again = alice.get("/login?destination=passkeys&prompt=login").await;
    let csrf = again.hidden("csrf_token").unwrap();
    let signed_in = alice
        .post(
            "/login",
            &[("csrf_token", &csrf), ("destination", "passkeys"), ("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    let fresh = alice.get("/account/passkeys").await;

    assert!(page.body.contains("needs a sign-in from the last") && !page.body.contains("passkey-form"));
    assert!(page.body.contains(r#"href="/login?destination=passkeys&amp;prompt=login""#));
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("needs a sign-in from the last five minutes"));
    assert!(again.body.contains(r#"value="alice""#), "signed in, asked again, name filled in");
    assert_eq!(signed_in.location.as_deref(), Some("/account/passkeys"));
    assert!(fresh.body.contains("passkey-form"), "{}", fresh.body);
}

#[tokio::test]
async fn a_client_that_requires_a_passkey_turns_away_a_login_without_one() {
    let (env, app, _) = app_with_alice().await;
    app.enrol_totp("alice").await;
    let client = ClientInput {
        client_id: "payroll".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        first_party: true,
        require_phishing_resistant: true,
        ..ClientInput::default()
    };
    app.seed_client_with(client).await;
    let env = env.with_issuer(&app.address);
    cli_ok(
        &env,
        &["client", "add", "ledger", "--redirect-uri", REDIRECT_URI, "--first-party", "--require-phishing-resistant"],
        None,
    )
    .await;

    let mut browser = Browser::new(&app);
    let login = browser.get(&format!("/authorize?{}", authorize_query("payroll", "openid", &[]))).await;
    let turned_away = browser.submit_login(&login, "alice", PASSWORD).await;

    assert_eq!(turned_away.status, 400);
    assert!(turned_away.body.contains("This sign-in needs a passkey"), "{}", turned_away.body);
    assert!(!crate::support::pages::has_session_cookie(&turned_away), "no session from the password alone");
    let ledger = app.store.find_client(&ClientId::parse("ledger").unwrap()).await.unwrap().unwrap();
    assert!(ledger.require_phishing_resistant, "the CLI flag");
}
