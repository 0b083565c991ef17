//! Passkeys in a real Chromium with its virtual authenticator (a platform authenticator
//! with resident keys and user verification): a person adds a passkey on the account page,
//! signs in with it alone through an application's authorization code flow, steps up to it
//! from a TOTP login, is refused when a cloned authenticator presents it, and removes it.
//! The server's issuer is `http://localhost:PORT`: browsers refuse an IP address as a
//! WebAuthn relying party. Screenshots go to `target/screenshots/passkeys-*.png`.

use fantoccini::{Client, Locator};
use wristband::flows::admin::ClientInput;
use wristband::model::{ACR_PHISHING_RESISTANT, ACR_TWO_FACTOR, Username};

use crate::support::browser::CHALLENGE;
use crate::support::chromium::{
    VirtualAuthenticator, callback_server, chromium, click, expect_text, fill, id_token_at_callback, screenshot,
    start_driver,
};
use crate::support::{PASSWORD, TestApp, TestEnv};

fn authorize_url(app: &TestApp, callback: &str, extra: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", "demo")
        .append_pair("redirect_uri", callback)
        .append_pair("scope", "openid")
        .append_pair("state", "s-1")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256");
    for (name, value) in extra {
        query.append_pair(name, value);
    }
    app.url(&format!("/authorize?{}", query.finish()))
}

async fn sign_out(browser: &Client, app: &TestApp) {
    browser.goto(&app.url("/end_session")).await.unwrap();
    click(browser, "form[action='/end_session/confirm'] button").await;
    expect_text(browser, "You are signed out").await;
}

async fn password_step(browser: &Client) {
    fill(browser, "#username", "alice").await;
    fill(browser, "#password", PASSWORD).await;
    click(browser, "form[action='/login'] button[type=submit]").await;
}

async fn audited(app: &TestApp, event: &str) -> usize {
    app.store.recent_audit_events(1_000).await.unwrap().iter().filter(|e| e.event == event).count()
}

#[tokio::test]
async fn a_person_adds_a_passkey_signs_in_with_it_alone_steps_up_to_it_and_a_clone_is_refused() {
    let driver = start_driver().await;
    let env = TestEnv::new().await;
    let app = env.spawn_on_localhost().await;
    let callback = callback_server().await;
    let client = ClientInput {
        client_id: "demo".into(),
        redirect_uris: vec![callback.clone()],
        first_party: true,
        require_mfa: true,
        ..ClientInput::default()
    };
    let secret = app.seed_client_with(client).await.unwrap();
    let alice = app.seed_user("alice", PASSWORD, &[]).await;
    let browser = chromium(&driver).await;
    let authenticator = VirtualAuthenticator::add(&driver, &browser).await;

    // Add a passkey: sign in with the password, name the passkey, save the recovery codes.
    browser.goto(&app.url("/account/passkeys")).await.unwrap();
    let username = browser.wait().for_element(Locator::Css("#username")).await.unwrap();
    assert_eq!(username.attr("autocomplete").await.unwrap().as_deref(), Some("username webauthn"), "autofill");
    expect_text(&browser, "Sign in with a passkey").await;
    screenshot(&browser, "passkeys-00-login").await;
    password_step(&browser).await;
    expect_text(&browser, "Name it, so you know which device it is on").await;
    fill(&browser, "#passkey_name", "Laptop").await;
    screenshot(&browser, "passkeys-01-add").await;
    click(&browser, "#passkey-button").await;
    expect_text(&browser, "Save your recovery codes").await;
    click(&browser, "a.button").await;
    expect_text(&browser, "The passkey was added").await;
    expect_text(&browser, "this device only").await;
    screenshot(&browser, "passkeys-02-list").await;
    assert_eq!(app.store.list_passkeys(alice.id).await.unwrap().len(), 1);
    assert_eq!(authenticator.credentials().await.len(), 1, "a discoverable credential, kept by the authenticator");

    // Signed out, the passkey alone signs in to a client that requires two factors: the
    // login page offers it in the username field's autofill (conditional mediation), where
    // the virtual authenticator picks it as a person would.
    sign_out(&browser, &app).await;
    browser.goto(&authorize_url(&app, &callback, &[])).await.unwrap();
    let id = id_token_at_callback(&browser, &app, "demo", &callback, &secret).await;
    assert_eq!(id["acr"], ACR_PHISHING_RESISTANT);
    assert_eq!(id["amr"], serde_json::json!(["hwk", "user", "mfa"]));
    assert_eq!(id["sub"], alice.id.to_string());

    // Without the authenticator at hand, a password and a TOTP code make a two-factor
    // login; acr_values asking for the phishing-resistant level steps it up to the passkey.
    sign_out(&browser, &app).await;
    let phone = app.enrol_totp("alice").await;
    let passkey = authenticator.credentials().await.pop().expect("the passkey");
    authenticator.remove_credential(passkey["credentialId"].as_str().unwrap()).await;
    browser.goto(&authorize_url(&app, &callback, &[])).await.unwrap();
    password_step(&browser).await;
    expect_text(&browser, "or use your passkey").await;
    screenshot(&browser, "passkeys-04-second-step").await;
    fill(&browser, "#code", &app.code(&phone)).await;
    click(&browser, "form:not(#passkey-form)[action='/login/mfa'] button[type=submit]").await;
    let id = id_token_at_callback(&browser, &app, "demo", &callback, &secret).await;
    assert_eq!(id["acr"], ACR_TWO_FACTOR);
    authenticator.add_credential(&passkey).await;
    browser.goto(&authorize_url(&app, &callback, &[("acr_values", ACR_PHISHING_RESISTANT)])).await.unwrap();
    expect_text(&browser, "This sign-in needs your passkey.").await;
    assert!(browser.find(Locator::Css("#code")).await.is_err(), "no code field: a code cannot reach this level");
    screenshot(&browser, "passkeys-05-step-up").await;
    click(&browser, "#passkey-button").await;
    let id = id_token_at_callback(&browser, &app, "demo", &callback, &secret).await;
    assert_eq!(id["acr"], ACR_PHISHING_RESISTANT);
    assert_eq!(id["amr"], serde_json::json!(["pwd", "hwk", "user", "mfa"]));

    // Still freshly signed in: rename the passkey, remove it, add one again.
    browser.goto(&app.url("/account/passkeys")).await.unwrap();
    fill(&browser, "form[action='/account/passkeys/rename'] input[name=name]", "Work laptop").await;
    click(&browser, "form[action='/account/passkeys/rename'] button").await;
    expect_text(&browser, "Work laptop").await;
    click(&browser, "form[action='/account/passkeys/remove'] button").await;
    expect_text(&browser, "The passkey was removed").await;
    expect_text(&browser, "You have no passkey yet").await;
    assert!(app.store.list_passkeys(alice.id).await.unwrap().is_empty());
    assert_eq!(audited(&app, "passkey_removed").await, 1);
    fill(&browser, "#passkey_name", "Laptop again").await;
    click(&browser, "#passkey-button").await;
    expect_text(&browser, "The passkey was added").await;
    let user = app.store.find_user_by_username(&Username::parse("alice").unwrap()).await.unwrap().unwrap();
    assert!(user.has_totp(), "passkeys come and go; the other factor stays");

    // Used once more, then copied with its counter behind the one wristband saw: the copy
    // is refused, audited, and the passkey removed.
    sign_out(&browser, &app).await;
    browser.goto(&app.url("/login?destination=account")).await.unwrap();
    expect_text(&browser, "Your account").await;
    sign_out(&browser, &app).await;
    let stored = app.store.list_passkeys(alice.id).await.unwrap().pop().expect("the new passkey").sign_count;
    assert!(stored >= 1, "device-bound: it counts");
    let mut credential = authenticator.credentials().await.pop().expect("the passkey");
    authenticator.remove_credential(credential["credentialId"].as_str().unwrap()).await;
    credential["signCount"] = 0.into();
    authenticator.add_credential(&credential).await;
    browser.goto(&app.url("/login?destination=account")).await.unwrap();
    expect_text(&browser, "its authenticator may have been copied").await;
    screenshot(&browser, "passkeys-06-clone-refused").await;
    assert_eq!(audited(&app, "passkey_clone_suspected").await, 1);
    assert!(app.store.list_passkeys(alice.id).await.unwrap().is_empty(), "removed");

    browser.close().await.unwrap();
}
