//! The admin pages in a real headless Chromium (see `support::chromium`): sign in with
//! TOTP, create a client and a user, rotate the key, revoke a refresh family, inspect a
//! token. Each page is saved as a screenshot under `target/screenshots/`.

use fantoccini::Locator;
use wristband::model::{ClientId, KeyState, Username};

use crate::support::browser::app_with_tokens;
use crate::support::chromium::{chromium, click, expect_text, fill, screenshot, start_driver};

#[tokio::test]
async fn an_administrator_does_the_daily_tasks_in_a_real_browser() {
    let driver = start_driver().await;
    let (_env, app, _secret, tokens) = app_with_tokens().await;
    let phone = app.enrol_totp("admin").await;
    let password = app.bootstrapped_admin.clone().unwrap().password.unwrap();
    let browser = chromium(&driver).await;

    // Sign in with a password and a TOTP code.
    browser.goto(&app.url("/admin")).await.unwrap();
    assert!(browser.current_url().await.unwrap().as_str().ends_with("/login?destination=admin"));
    screenshot(&browser, "01-login").await;
    fill(&browser, "#username", "admin").await;
    fill(&browser, "#password", password.expose()).await;
    click(&browser, "button[type=submit]").await;
    expect_text(&browser, "Two-step verification").await;
    screenshot(&browser, "02-totp").await;
    fill(&browser, "#code", &app.code(&phone)).await;
    click(&browser, "button[type=submit]").await;
    expect_text(&browser, "Choose a new password").await;
    fill(&browser, "#new_password", "the admin's own passphrase").await;
    fill(&browser, "#confirm_password", "the admin's own passphrase").await;
    screenshot(&browser, "03-new-password").await;
    click(&browser, "button[type=submit]").await;
    expect_text(&browser, "Signed in as admin with two factors").await;
    screenshot(&browser, "03b-dashboard").await;

    // Create a client; its secret is shown once.
    browser.goto(&app.url("/admin/clients")).await.unwrap();
    fill(&browser, "#client_id", "reports").await;
    fill(&browser, "#name", "Reports").await;
    fill(&browser, "#redirect_uris", "https://reports.example/cb").await;
    click(&browser, "form[action='/admin/clients'] button[type=submit]").await;
    let secret = browser.wait().for_element(Locator::Css("#secret")).await.unwrap().text().await.unwrap();
    assert!(secret.starts_with("wbs_"), "{secret}");
    screenshot(&browser, "04-client-secret").await;
    assert!(app.store.find_client(&ClientId::parse("reports").unwrap()).await.unwrap().is_some());

    // Register an API with introspection credentials; the secret is shown once, then the
    // list shows the API with its scopes.
    browser.goto(&app.url("/admin/apis")).await.unwrap();
    fill(&browser, "#identifier", "https://orders.example.com").await;
    fill(&browser, "#name", "Orders").await;
    fill(&browser, "#scopes", "orders:read = Read your orders").await;
    click(&browser, "input[name=introspection]").await;
    click(&browser, "form[action='/admin/apis'] button[type=submit]").await;
    let secret = browser.wait().for_element(Locator::Css("#secret")).await.unwrap().text().await.unwrap();
    assert!(secret.starts_with("wbs_"), "{secret}");
    browser.goto(&app.url("/admin/apis")).await.unwrap();
    expect_text(&browser, "orders:read").await;
    screenshot(&browser, "04b-apis").await;

    // Create a user; the temporary password is shown once.
    browser.goto(&app.url("/admin/users")).await.unwrap();
    fill(&browser, "#username", "carol").await;
    fill(&browser, "#email", "carol@example.com").await;
    fill(&browser, "#roles", "reader").await;
    click(&browser, "form[method=post][action='/admin/users'] button").await;
    expect_text(&browser, "Temporary password").await;
    screenshot(&browser, "05-user-password").await;
    let carol = app.store.find_user_by_username(&Username::parse("carol").unwrap()).await.unwrap();
    assert!(carol.is_some_and(|c| c.email.is_some_and(|e| e.as_str() == "carol@example.com")));

    // Rotate the key: the next key was published moments ago, so the page asks first.
    browser.goto(&app.url("/admin/keys")).await.unwrap();
    screenshot(&browser, "06-keys").await;
    click(&browser, "form[action='/admin/keys/rotate'] button").await;
    expect_text(&browser, "Rotate before every verifier has the next key?").await;
    screenshot(&browser, "07-rotate-confirm").await;
    click(&browser, "button.danger").await;
    expect_text(&browser, "The keys were rotated").await;
    let keys = app.store.list_signing_keys().await.unwrap();
    assert_eq!(keys.iter().filter(|k| k.state == KeyState::Retired).count(), 1);

    // Revoke alice's refresh-token family.
    browser.goto(&app.url("/admin/families?user=alice")).await.unwrap();
    screenshot(&browser, "08-families").await;
    click(&browser, "form[action^='/admin/families/'] button").await;
    expect_text(&browser, "The refresh-token family was revoked.").await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let family = app.store.find_refresh_token(&wristband::security::random::sha256_hex(refresh)).await.unwrap();
    assert!(family.unwrap().family.revoked);

    // Inspect a token.
    browser.goto(&app.url("/admin/inspect")).await.unwrap();
    fill(&browser, "#token", tokens["id_token"].as_str().unwrap()).await;
    click(&browser, "form[action='/admin/inspect'] button").await;
    expect_text(&browser, "Every check passed").await;
    screenshot(&browser, "09-inspector").await;

    browser.close().await.unwrap();
}
