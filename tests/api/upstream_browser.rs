//! Signing in to an application through an upstream provider in a real Chromium. The
//! upstream is a second wristband on `127.0.0.1`; the wristband the application uses runs
//! on `localhost`, so the browser keeps each site's cookies apart as it would for two
//! providers. Screenshots go to `target/screenshots/upstream-*.png`.

use wristband::flows::Actor;
use wristband::flows::admin::ClientInput;
use wristband::flows::upstream::manage::ClaimInput;
use wristband::flows::upstream::{UpstreamInput, add_upstream};
use wristband::model::{ACR_ONE_FACTOR, Username};
use wristband::security::secret::SecretString;

use crate::support::browser::CHALLENGE;
use crate::support::chromium::{
    callback_server, chromium, click, expect_text, fill, id_token_at_callback, screenshot, start_driver,
};
use crate::support::{PASSWORD, TestEnv};

#[tokio::test]
async fn a_person_signs_in_to_an_application_with_a_second_wristband_as_the_upstream() {
    let driver = start_driver().await;
    let up_env = TestEnv::new().await;
    let up = up_env.spawn().await;
    let down_env = TestEnv::new().await;
    let down = down_env.spawn_on_localhost().await;
    let redirect_uri = format!("{}/login/upstream/corp/callback", down.address);
    let up_secret = up.seed_client("down", &redirect_uri, true).await;
    up.seed_user("carol", PASSWORD, &[]).await;
    let upstream = UpstreamInput {
        name: "corp".into(),
        display_name: Some("Corp".into()),
        issuer: Some(up.address.clone()),
        authorization_endpoint: None,
        token_endpoint: None,
        userinfo_endpoint: None,
        claims: ClaimInput::default(),
        client_id: "down".into(),
        client_secret: SecretString::new(up_secret),
        scopes: vec![],
        link_by_verified_email: false,
        create_users: true,
        trusted_for_mfa: false,
        offer_end_session: true,
    };
    add_upstream(&down.ctx(), upstream, Actor::Cli).await.expect("upstream added");
    let callback = callback_server().await;
    let client = ClientInput {
        client_id: "demo".into(),
        redirect_uris: vec![callback.clone()],
        first_party: true,
        ..ClientInput::default()
    };
    let secret = down.seed_client_with(client).await.unwrap();
    let browser = chromium(&driver).await;

    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", "demo")
        .append_pair("redirect_uri", &callback)
        .append_pair("scope", "openid profile")
        .append_pair("state", "s-1")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256");
    browser.goto(&down.url(&format!("/authorize?{}", query.finish()))).await.unwrap();
    expect_text(&browser, "Sign in with Corp").await;
    screenshot(&browser, "upstream-00-login").await;
    click(&browser, "form[action='/login/upstream/corp'] button").await;
    // The upstream's own login page (wristband's has a #username too: wait for the move).
    let mut url = browser.current_url().await.unwrap();
    for _ in 0..100 {
        if url.as_str().starts_with(&up.address) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        url = browser.current_url().await.unwrap();
    }
    assert!(url.as_str().starts_with(&up.address), "at the upstream: {url}");
    expect_text(&browser, "to continue to").await;
    fill(&browser, "#username", "carol").await;
    screenshot(&browser, "upstream-01-upstream-login").await;
    fill(&browser, "#password", PASSWORD).await;
    click(&browser, "form[action='/login'] button[type=submit]").await;

    let id_token = id_token_at_callback(&browser, &down, "demo", &callback, &secret).await;
    let carol = down.store.find_user_by_username(&Username::parse("carol").unwrap()).await.unwrap().unwrap();
    assert_eq!(id_token["iss"], down.address.as_str(), "wristband's issuer");
    assert_eq!(id_token["sub"], carol.id.to_string(), "the local user");
    assert_eq!(id_token["amr"], serde_json::json!(["fed"]));
    assert_eq!(id_token["acr"], ACR_ONE_FACTOR);

    // The account page lists the linked identity; the logout page offers the upstream's.
    browser.goto(&down.url("/account")).await.unwrap();
    expect_text(&browser, "Other providers you sign in with").await;
    expect_text(&browser, "another provider").await;
    screenshot(&browser, "upstream-02-account").await;
    browser.goto(&down.url("/end_session")).await.unwrap();
    expect_text(&browser, "Also sign out of Corp").await;
    click(&browser, "form[action='/end_session/confirm'] button").await;
    expect_text(&browser, "You are signed out").await;
}
