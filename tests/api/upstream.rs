//! Signing in through another provider. The upstream is a second wristband (its own
//! issuer, database and keys) over HTTP, so discovery, JWKS, the code exchange and the ID
//! token's verification all run for real; a small fake provider stands in where a test
//! needs an upstream to misbehave (another audience, a wrong nonce, a new key) or to be
//! GitHub-style (no ID token). Each browser here keeps one host's cookies, as a real
//! browser does for two sites.

use wristband::flows::Actor;
use wristband::flows::admin::ClientInput;
use wristband::flows::upstream::manage::ClaimInput;
use wristband::flows::upstream::{UpstreamInput, add_upstream};
use wristband::model::{ACR_ONE_FACTOR, ACR_TWO_FACTOR, Email, Username};
use wristband::security::secret::SecretString;

use crate::admin::admin_browser;
use crate::support::browser::{Browser, Page, REDIRECT_URI, authorize_query, claims, exchange};
use crate::support::fake_provider::FakeProvider;
use crate::support::process::{cli, cli_ok};
use crate::support::{PASSWORD, TestApp, TestEnv};

/// Two wristbands: `up` (the provider people already use) and `down` (the one apps talk
/// to), with `corp` configured on `down` as an upstream for `up`'s client `down`.
struct Federation {
    _up_env: TestEnv,
    up: TestApp,
    down_env: TestEnv,
    down: TestApp,
    /// The secret of `down`'s client `app`.
    app_secret: String,
}

fn input(name: &str, issuer: &str, client_id: &str, secret: &str) -> UpstreamInput {
    UpstreamInput {
        name: name.into(),
        display_name: Some("Corp".into()),
        issuer: Some(issuer.into()),
        authorization_endpoint: None,
        token_endpoint: None,
        userinfo_endpoint: None,
        claims: ClaimInput::default(),
        client_id: client_id.into(),
        client_secret: SecretString::new(secret),
        scopes: vec![],
        link_by_verified_email: false,
        create_users: false,
        trusted_for_mfa: false,
        offer_end_session: false,
    }
}

async fn federation(configure: impl FnOnce(&mut UpstreamInput)) -> Federation {
    let up_env = TestEnv::new().await;
    let up = up_env.spawn().await;
    let down_env = TestEnv::new().await;
    let down = down_env.spawn().await;
    let callback = format!("{}/login/upstream/corp/callback", down.address);
    let secret = up.seed_client("down", &callback, true).await;
    up.seed_user("carol", PASSWORD, &[]).await;
    let mut upstream = input("corp", &up.address, "down", &secret);
    configure(&mut upstream);
    add_upstream(&down.ctx(), upstream, Actor::Cli).await.expect("upstream added");
    let app_secret = down.seed_client("app", REDIRECT_URI, true).await;
    Federation { _up_env: up_env, up, down_env, down, app_secret }
}

/// The person's browser: one cookie jar per site.
struct Person {
    down: Browser,
    up: Browser,
}

impl Person {
    fn new(f: &Federation) -> Self {
        Self { down: Browser::new(&f.down), up: Browser::new(&f.up) }
    }
}

fn path_of(location: &str) -> String {
    let url = url::Url::parse(location).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// Opens the login page of an authorization request at `down` and presses "Sign in with
/// Corp": the redirect to the upstream.
async fn press_corp(person: &mut Person, query: &str) -> Page {
    let login = person.down.get(&format!("/authorize?{query}")).await;
    assert!(login.body.contains("Sign in with Corp"), "a button per upstream: {}", login.body);
    let form =
        [("csrf_token", login.hidden("csrf_token").unwrap()), ("request_id", login.hidden("request_id").unwrap())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = person.down.post("/login/upstream/corp", &form).await;
    assert_eq!(out.status, 303, "off to the upstream: {}", out.body);
    out
}

/// Signs in at the upstream (password) and follows its redirect back to `down`.
async fn sign_in_upstream(f: &Federation, person: &mut Person, out: &Page, username: &str) -> Page {
    let location = out.location.clone().unwrap();
    assert!(location.starts_with(&f.up.address), "{location}");
    let up_login = person.up.get(&path_of(&location)).await;
    assert_eq!(up_login.status, 200, "the upstream's login page: {}", up_login.body);
    let back = person.up.submit_login(&up_login, username, PASSWORD).await;
    assert_eq!(back.status, 303, "the upstream sends the person back: {}", back.body);
    let callback = back.location.unwrap();
    assert!(callback.starts_with(&format!("{}/login/upstream/corp/callback", f.down.address)), "{callback}");
    person.down.get(&path_of(&callback)).await
}

/// A whole sign-in through `corp` for `app`; the ID token `app` gets.
async fn federated_id_token(f: &Federation, person: &mut Person, username: &str) -> serde_json::Value {
    let out = press_corp(person, &authorize_query("app", "openid profile email", &[])).await;
    let done = sign_in_upstream(f, person, &out, username).await;
    assert_eq!(done.status, 303, "back to the application: {}", done.body);
    let code = done.redirect_param("code").expect("a code");
    let tokens = exchange(&f.down, "app", &f.app_secret, &code).await;
    claims(tokens["id_token"].as_str().unwrap())
}

#[tokio::test]
async fn a_first_sign_in_creates_an_account_and_the_next_reuses_its_link_with_a_stable_sub() {
    let f = federation(|u| u.create_users = true).await;
    let first = federated_id_token(&f, &mut Person::new(&f), "carol").await;
    assert_eq!(first["iss"], f.down.address.as_str(), "wristband's issuer, not the upstream's");
    assert_eq!(first["amr"], serde_json::json!(["fed"]));
    assert_eq!(first["acr"], ACR_ONE_FACTOR);
    let local = f.down.store.find_user_by_username(&Username::parse("carol").unwrap()).await.unwrap().unwrap();
    assert_eq!(first["sub"], local.id.to_string(), "the local user's id");
    let up_carol = f.up.store.find_user_by_username(&Username::parse("carol").unwrap()).await.unwrap().unwrap();
    assert_ne!(first["sub"], up_carol.id.to_string());
    assert!(local.email.is_none(), "the upstream had not verified carol's address, so it is not kept");
    let second = federated_id_token(&f, &mut Person::new(&f), "carol").await;
    assert_eq!(second["sub"], first["sub"], "the link is reused");
    let links = f.down.store.list_linked_identities(local.id).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].subject, up_carol.id.to_string(), "linked by the upstream's sub");
    let events = f.down.store.recent_audit_events(50).await.unwrap();
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert!(names.contains(&"user_created") && names.contains(&"upstream_identity_linked"), "{names:?}");
}

#[tokio::test]
async fn a_verified_address_links_an_existing_account_only_when_both_sides_verified_it() {
    let f = federation(|u| u.link_by_verified_email = true).await;
    let local = f.down.seed_user("carol-here", PASSWORD, &[]).await;
    let email = Email::parse("carol@example.com").unwrap();
    // The upstream has verified carol's address, this side has not: no link.
    let up_carol = f.up.store.find_user_by_username(&Username::parse("carol").unwrap()).await.unwrap().unwrap();
    f.up.store.set_email_verified(up_carol.id, &email, f.up.clock_now()).await.unwrap();
    let mut person = Person::new(&f);
    let out = press_corp(&mut person, &authorize_query("app", "openid email", &[])).await;
    let page = sign_in_upstream(&f, &mut person, &out, "carol").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No account here is linked to that identity"), "{}", page.body);
    assert!(!page.set_cookies.iter().any(|c| c.starts_with("__Host-wristband_session=")), "no session");
    // The local account has the address, verified.
    f.down
        .store
        .update_user_profile(local.id, Some(email), true, local.name.clone(), &local.roles, f.down.clock_now())
        .await
        .unwrap();
    let id_token = federated_id_token(&f, &mut Person::new(&f), "carol").await;
    assert_eq!(id_token["sub"], local.id.to_string(), "linked to the account with the verified address");
}

#[tokio::test]
async fn an_unlinked_identity_is_told_to_link_first_and_linking_on_the_account_page_makes_it_sign_in() {
    let f = federation(|_| {}).await;
    let local = f.down.seed_user("carla", PASSWORD, &[]).await;
    let mut person = Person::new(&f);
    let out = press_corp(&mut person, &authorize_query("app", "openid", &[])).await;
    let page = sign_in_upstream(&f, &mut person, &out, "carol").await;
    assert!(page.body.contains("No account here is linked to that identity"), "{}", page.body);
    // carla signs in with her password here, and links her corp identity.
    let mut person = Person::new(&f);
    let done = person.down.authorize_and_login(&authorize_query("app", "openid", &[]), "carla", PASSWORD).await;
    assert!(done.redirect_param("code").is_some());
    let account = person.down.get("/account").await;
    assert!(account.body.contains("Other providers you sign in with"), "{}", account.body);
    let csrf = account.hidden("csrf_token").unwrap();
    let out = person.down.post("/account/upstreams/link", &[("csrf_token", &csrf), ("upstream", "corp")]).await;
    assert_eq!(out.status, 303, "{}", out.body);
    let back = sign_in_upstream(&f, &mut person, &out, "carol").await;
    assert_eq!(back.location.as_deref(), Some("/account?notice=identity_linked"), "{}", back.body);
    let account = person.down.get("/account").await;
    assert!(account.body.contains("Unlink"), "{}", account.body);
    let id_token = federated_id_token(&f, &mut Person::new(&f), "carol").await;
    assert_eq!(id_token["sub"], local.id.to_string());
    // Unlinked, it no longer signs carla in.
    let csrf = account.hidden("csrf_token").unwrap();
    let out = person.down.post("/account/upstreams/unlink", &[("csrf_token", &csrf), ("upstream", "corp")]).await;
    assert_eq!(out.location.as_deref(), Some("/account?notice=identity_unlinked"));
    let mut stranger = Person::new(&f);
    let out = press_corp(&mut stranger, &authorize_query("app", "openid", &[])).await;
    let page = sign_in_upstream(&f, &mut stranger, &out, "carol").await;
    assert!(page.body.contains("No account here is linked to that identity"), "{}", page.body);
    // Linking again, minutes after the sign-in: a stolen session cannot add a way in.
    f.down.clock.advance(301);
    let late = person.down.post("/account/upstreams/link", &[("csrf_token", &csrf), ("upstream", "corp")]).await;
    assert_eq!(late.status, 400);
    assert!(late.body.contains("sign in again first"), "{}", late.body);
}

#[tokio::test]
async fn linking_an_identity_linked_to_someone_else_changes_nothing() {
    let f = federation(|u| u.create_users = true).await;
    federated_id_token(&f, &mut Person::new(&f), "carol").await;
    f.down.seed_user("mallory", PASSWORD, &[]).await;
    let mut person = Person::new(&f);
    person.down.authorize_and_login(&authorize_query("app", "openid", &[]), "mallory", PASSWORD).await;
    let csrf = person.down.get("/account").await.hidden("csrf_token").unwrap();
    let out = person.down.post("/account/upstreams/link", &[("csrf_token", &csrf), ("upstream", "corp")]).await;
    let back = sign_in_upstream(&f, &mut person, &out, "carol").await;
    assert_eq!(back.location.as_deref(), Some("/account?notice=identity_taken"));
    let mallory = f.down.store.find_user_by_username(&Username::parse("mallory").unwrap()).await.unwrap().unwrap();
    assert!(f.down.store.list_linked_identities(mallory.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_tampered_replayed_or_foreign_callback_leaves_no_session_and_says_so() {
    let f = federation(|u| u.create_users = true).await;
    let mut person = Person::new(&f);
    let out = press_corp(&mut person, &authorize_query("app", "openid", &[])).await;
    let location = out.location.clone().unwrap();
    let up_login = person.up.get(&path_of(&location)).await;
    let back = person.up.submit_login(&up_login, "carol", PASSWORD).await;
    let callback = back.location.clone().unwrap();
    let (state, code) = (back.redirect_param("state").unwrap(), back.redirect_param("code").unwrap());
    let unknown = "does not match a sign-in started in this browser";
    // A tampered state.
    let tampered = person.down.get(&format!("/login/upstream/corp/callback?state={state}x&code={code}")).await;
    assert_eq!(tampered.status, 400);
    assert!(tampered.body.contains(unknown), "{}", tampered.body);
    // The right answer in another browser: the state is spent, not handed over.
    let mut attacker = Browser::new(&f.down);
    attacker.get("/login").await;
    let foreign = attacker.get(&format!("/login/upstream/corp/callback?state={state}&code={code}")).await;
    assert_eq!(foreign.status, 400);
    assert!(foreign.body.contains(unknown));
    // ... so the person's own browser cannot use it either now: single use.
    let replay = person.down.get(&path_of(&callback)).await;
    assert_eq!(replay.status, 400);
    for page in [&tampered, &foreign, &replay] {
        assert!(!page.set_cookies.iter().any(|c| c.contains("session=") && !c.contains("Max-Age=0")), "no session");
    }
    // Under another upstream's name, a state does not count either.
    let out = press_corp(&mut person, &authorize_query("app", "openid", &[])).await;
    let state = out.redirect_param("state").unwrap();
    let renamed = person.down.get(&format!("/login/upstream/other/callback?state={state}&code=x")).await;
    assert_eq!(renamed.status, 400);
    let events = f.down.store.recent_audit_events(50).await.unwrap();
    assert!(events.iter().filter(|e| e.event == "upstream_login_failed").count() >= 3);
    assert!(f.down.store.find_user_by_username(&Username::parse("carol").unwrap()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_refusal_at_the_upstream_shows_the_login_page_again_with_what_happened() {
    let f = federation(|u| u.create_users = true).await;
    let mut person = Person::new(&f);
    let out = press_corp(&mut person, &authorize_query("app", "openid", &[])).await;
    let state = out.redirect_param("state").unwrap();
    let page = person.down.get(&format!("/login/upstream/corp/callback?state={state}&error=access_denied")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("cancelled or refused there"), "{}", page.body);
    assert!(page.body.contains("Sign in with Corp"), "the login page, to try again");
    assert!(!page.set_cookies.iter().any(|c| c.starts_with("__Host-wristband_session=")));
}

/// A client `strict` whose every login needs two factors; its secret.
async fn strict_client(app: &TestApp) -> String {
    let input = ClientInput {
        client_id: "strict".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        first_party: true,
        require_mfa: true,
        ..ClientInput::default()
    };
    app.seed_client_with(input).await.unwrap()
}

#[tokio::test]
async fn a_client_requiring_two_factors_gets_wristbands_second_step_after_an_upstream_login() {
    let f = federation(|u| u.create_users = true).await;
    federated_id_token(&f, &mut Person::new(&f), "carol").await;
    let totp = f.down.enrol_totp("carol").await;
    let secret = strict_client(&f.down).await;
    let mut person = Person::new(&f);
    let out = press_corp(&mut person, &authorize_query("strict", "openid", &[])).await;
    let page = sign_in_upstream(&f, &mut person, &out, "carol").await;
    assert_eq!(page.status, 200, "no code yet: {:?}", page.location);
    assert!(page.body.contains("name=\"challenge\""), "the second step: {}", page.body);
    let done = person.down.submit_code(&page, &f.down.code(&totp)).await;
    let code = done.redirect_param("code").expect("a code after the second step");
    let tokens = exchange(&f.down, "strict", &secret, &code).await;
    let id_token = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["acr"], ACR_TWO_FACTOR);
    assert_eq!(id_token["amr"], serde_json::json!(["fed", "otp", "mfa"]), "the first factor was the upstream");
}

#[tokio::test]
async fn an_upstream_trusted_for_mfa_counts_its_own_second_factor() {
    let f = federation(|u| {
        u.create_users = true;
        u.trusted_for_mfa = true;
    })
    .await;
    let up_totp = f.up.enrol_totp("carol").await;
    let secret = strict_client(&f.down).await;
    let mut person = Person::new(&f);
    let out = press_corp(&mut person, &authorize_query("strict", "openid", &[])).await;
    let up_login = person.up.get(&path_of(out.location.as_deref().unwrap())).await;
    let second = person.up.submit_login(&up_login, "carol", PASSWORD).await;
    let back = person.up.submit_code(&second, &f.up.code(&up_totp)).await;
    let done = person.down.get(&path_of(back.location.as_deref().unwrap())).await;
    let code = done.redirect_param("code").expect("no second step here: the upstream did it");
    let id_token = claims(exchange(&f.down, "strict", &secret, &code).await["id_token"].as_str().unwrap());
    assert_eq!(
        (id_token["acr"].as_str(), id_token["amr"].clone()),
        (Some(ACR_TWO_FACTOR), serde_json::json!(["fed", "mfa"]))
    );
}

#[tokio::test]
async fn a_key_rotation_at_the_upstream_is_followed_by_refetching_its_keys() {
    let f = federation(|u| u.create_users = true).await;
    let first = federated_id_token(&f, &mut Person::new(&f), "carol").await;
    // Twice: the key that signs next was not even `next` when wristband cached the keys.
    for _ in 0..2 {
        wristband::flows::keys::rotate_signing_keys(&f.up.ctx(), Actor::Cli).await.unwrap();
    }
    wristband::flows::keys::refresh_keystore(&f.up.ctx()).await.unwrap();
    // Past the ten seconds in which a key set just fetched is not fetched again.
    f.down.clock.advance(30);
    let second = federated_id_token(&f, &mut Person::new(&f), "carol").await;
    assert_eq!(first["sub"], second["sub"]);
}

#[tokio::test]
async fn the_logout_page_offers_the_upstreams_end_session_when_configured() {
    let f = federation(|u| {
        u.create_users = true;
        u.offer_end_session = true;
    })
    .await;
    let mut person = Person::new(&f);
    federated_id_token(&f, &mut person, "carol").await;
    let page = person.down.get("/end_session").await;
    assert!(page.body.contains("Also sign out of Corp"), "{}", page.body);
    assert!(page.body.contains(&format!("{}/end_session?client_id=down", f.up.address)), "{}", page.body);
}

/// `down` with the fake provider as upstream `corp`.
async fn with_fake(configure: impl FnOnce(&mut UpstreamInput)) -> (TestEnv, TestApp, FakeProvider, String) {
    let fake = FakeProvider::start().await;
    let env = TestEnv::new().await;
    let down = env.spawn().await;
    let mut upstream = input("corp", &fake.issuer, "wristband-down", "fake-secret");
    configure(&mut upstream);
    add_upstream(&down.ctx(), upstream, Actor::Cli).await.expect("upstream added");
    let secret = down.seed_client("app", REDIRECT_URI, true).await;
    (env, down, fake, secret)
}

/// Starts a sign-in with the fake upstream: the browser, and the `state` and `nonce` sent.
async fn start_with_fake(down: &TestApp) -> (Browser, String, String) {
    let mut browser = Browser::new(down);
    let login = browser.get(&format!("/authorize?{}", authorize_query("app", "openid", &[]))).await;
    let form =
        [("csrf_token", login.hidden("csrf_token").unwrap()), ("request_id", login.hidden("request_id").unwrap())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = browser.post("/login/upstream/corp", &form).await;
    let location = url::Url::parse(out.location.as_deref().unwrap()).unwrap();
    let param = |name: &str| location.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param("client_id").as_deref(), Some("wristband-down"));
    (browser, param("state").unwrap(), param("nonce").unwrap_or_default())
}

fn id_claims(fake: &FakeProvider, down: &TestApp, nonce: &str) -> serde_json::Value {
    let now = down.clock_now();
    serde_json::json!({
        "iss": fake.issuer, "sub": "fake-1", "aud": "wristband-down", "iat": now, "exp": now + 300,
        "nonce": nonce, "preferred_username": "fiona",
    })
}

#[tokio::test]
async fn id_tokens_for_another_audience_with_another_nonce_or_a_strangers_key_are_refused() {
    let (_env, down, fake, secret) = with_fake(|u| u.create_users = true).await;
    let stranger = {
        let mut pair = josekit::jws::RS256.generate_key_pair(2048).unwrap();
        pair.set_key_id(Some("k1"));
        pair
    };
    type Forge<'a> = Box<dyn Fn(&str) -> String + 'a>;
    let cases: Vec<(&str, Forge)> = vec![
        (
            "another audience",
            Box::new(|nonce| {
                fake.sign(serde_json::json!({"aud": "someone-else"}).merge(id_claims(&fake, &down, nonce)), None)
            }),
        ),
        ("another nonce", Box::new(|_| fake.sign(id_claims(&fake, &down, "replayed-nonce"), None))),
        ("a stranger's key", Box::new(|nonce| fake.sign(id_claims(&fake, &down, nonce), Some(&stranger)))),
        (
            "another issuer",
            Box::new(|nonce| {
                fake.sign(serde_json::json!({"iss": "http://127.0.0.1:1"}).merge(id_claims(&fake, &down, nonce)), None)
            }),
        ),
    ];
    for (case, token) in cases {
        let (mut browser, state, nonce) = start_with_fake(&down).await;
        fake.answer_with_id_token(token(&nonce));
        let page = browser.get(&format!("/login/upstream/corp/callback?state={state}&code=c-1")).await;
        assert_eq!(page.status, 200, "{case}");
        assert!(page.body.contains("could not be verified"), "{case}: {}", page.body);
        assert!(!page.set_cookies.iter().any(|c| c.starts_with("__Host-wristband_session=")), "{case}: no session");
    }
    assert!(down.store.find_user_by_username(&Username::parse("fiona").unwrap()).await.unwrap().is_none());
    // The code went with PKCE and the client's credentials (Basic, the default).
    let (authorization, form) = fake.token_requests().pop().unwrap();
    assert!(authorization.unwrap().starts_with("Basic "));
    assert!(form.iter().any(|(k, v)| k == "code_verifier" && v.len() == 43));
    // And a good one signs in.
    let (mut browser, state, nonce) = start_with_fake(&down).await;
    fake.answer_with_id_token(fake.sign(id_claims(&fake, &down, &nonce), None));
    let done = browser.get(&format!("/login/upstream/corp/callback?state={state}&code=c-1")).await;
    let code = done.redirect_param("code").expect("signed in");
    assert!(exchange(&down, "app", &secret, &code).await["id_token"].is_string());
}

trait Merge {
    fn merge(self, base: serde_json::Value) -> serde_json::Value;
}

impl Merge for serde_json::Value {
    /// `base` with this object's members put over it.
    fn merge(self, mut base: serde_json::Value) -> serde_json::Value {
        for (k, v) in self.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }
}

#[tokio::test]
async fn a_new_key_at_the_upstream_is_fetched_once_and_a_forged_kid_does_not_hammer_it() {
    let (_env, down, fake, _secret) = with_fake(|u| u.create_users = true).await;
    let (mut browser, state, nonce) = start_with_fake(&down).await;
    fake.answer_with_id_token(fake.sign(id_claims(&fake, &down, &nonce), None));
    browser.get(&format!("/login/upstream/corp/callback?state={state}&code=c")).await;
    let fetches = fake.jwks_fetches();
    fake.add_key("k2");
    // Within ten seconds of the last fetch the keys are not fetched again: refused.
    down.clock.advance(20);
    let (mut browser, state, nonce) = start_with_fake(&down).await;
    fake.answer_with_id_token(fake.sign(id_claims(&fake, &down, &nonce), None));
    let done = browser.get(&format!("/login/upstream/corp/callback?state={state}&code=c")).await;
    assert!(done.redirect_param("code").is_some(), "k2 fetched on sight: {}", done.body);
    assert_eq!(fake.jwks_fetches(), fetches + 1);
    let (mut browser, state, nonce) = start_with_fake(&down).await;
    let mut forged = josekit::jws::RS256.generate_key_pair(2048).unwrap();
    forged.set_key_id(Some("k-forged"));
    fake.answer_with_id_token(fake.sign(id_claims(&fake, &down, &nonce), Some(&forged)));
    let refused = browser.get(&format!("/login/upstream/corp/callback?state={state}&code=c")).await;
    assert!(refused.body.contains("could not be verified"));
    assert_eq!(fake.jwks_fetches(), fetches + 1, "a refetch seconds after the last one is not made");
}

#[tokio::test]
async fn an_upstream_that_is_down_gets_a_page_saying_so_and_an_audit_event() {
    let (_env, down, fake, _secret) = with_fake(|u| u.create_users = true).await;
    let (mut browser, state, _nonce) = start_with_fake(&down).await;
    fake.stop().await;
    let page = browser.get(&format!("/login/upstream/corp/callback?state={state}&code=c")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("cannot be reached right now"), "{}", page.body);
    let events = down.store.recent_audit_events(20).await.unwrap();
    let failed = events.iter().find(|e| e.event == "upstream_login_failed").expect("audited");
    assert_eq!(failed.details["stage"], "token");
}

#[tokio::test]
async fn a_github_style_upstream_signs_in_from_its_user_document() {
    let fake = FakeProvider::start().await;
    let env = TestEnv::new().await;
    let down = env.spawn().await;
    let upstream = UpstreamInput {
        name: "github".into(),
        display_name: Some("GitHub".into()),
        issuer: None,
        authorization_endpoint: Some(format!("{}/authorize", fake.issuer)),
        token_endpoint: Some(format!("{}/token", fake.issuer)),
        userinfo_endpoint: Some(format!("{}/user", fake.issuer)),
        scopes: vec!["read:user".into()],
        create_users: true,
        ..input("github", "", "gh-client", "gh-secret")
    };
    add_upstream(&down.ctx(), upstream, Actor::Cli).await.expect("upstream added");
    let secret = down.seed_client("app", REDIRECT_URI, true).await;
    fake.set_user(
        serde_json::json!({"id": 583231, "login": "Octocat", "name": "The Octocat", "email": "octo@example.com"}),
    );
    let mut browser = Browser::new(&down);
    let login = browser.get(&format!("/authorize?{}", authorize_query("app", "openid", &[]))).await;
    assert!(login.body.contains("Sign in with GitHub"));
    let form =
        [("csrf_token", login.hidden("csrf_token").unwrap()), ("request_id", login.hidden("request_id").unwrap())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = browser.post("/login/upstream/github", &form).await;
    let location = url::Url::parse(out.location.as_deref().unwrap()).unwrap();
    assert!(location.query_pairs().all(|(k, _)| k != "nonce"), "no nonce without OpenID Connect");
    let state = location.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let done = browser.get(&format!("/login/upstream/github/callback?state={state}&code=gh-code")).await;
    let code = done.redirect_param("code").expect("signed in");
    let id_token = claims(exchange(&down, "app", &secret, &code).await["id_token"].as_str().unwrap());
    let user = down.store.find_user_by_username(&Username::parse("octocat").unwrap()).await.unwrap().unwrap();
    assert_eq!(id_token["sub"], user.id.to_string());
    assert_eq!(id_token["amr"], serde_json::json!(["fed"]));
    assert!(user.email.is_none(), "GitHub's /user address is not marked verified: not kept");
    let links = down.store.list_linked_identities(user.id).await.unwrap();
    assert_eq!(links[0].subject, "583231", "the numeric id, as text");
    let (_, form) = fake.token_requests().pop().unwrap();
    assert!(form.contains(&("client_secret".into(), "gh-secret".into())), "the secret in the form, GitHub style");
}

#[tokio::test]
async fn upstreams_are_refused_with_a_clear_reason_when_misconfigured() {
    let env = TestEnv::new().await;
    let down = env.spawn().await;
    let fake = FakeProvider::start().await;
    let cases = [
        (input("Corp", &fake.issuer, "c", "s"), "upstream name"),
        (input("corp", "http://idp.example.com", "c", "s"), "https"),
        (input("corp", "http://127.0.0.1:1", "c", "s"), "discovery document"),
        (input("corp", &format!("{}/other", fake.issuer), "c", "s"), "discovery document"),
        (
            UpstreamInput {
                token_endpoint: Some("https://x.example/t".into()),
                ..input("corp", &fake.issuer, "c", "s")
            },
            "not both",
        ),
        (input("corp", &fake.issuer, "", "s"), "client id"),
        (UpstreamInput { scopes: vec!["bad\"scope".into()], ..input("corp", &fake.issuer, "c", "s") }, "not a scope"),
    ];
    for (upstream, reason) in cases {
        let err = add_upstream(&down.ctx(), upstream, Actor::Cli).await.unwrap_err();
        assert!(err.to_string().contains(reason), "{reason}: {err}");
    }
    assert!(down.store.list_upstreams().await.unwrap().is_empty());
    add_upstream(&down.ctx(), input("corp", &fake.issuer, "c", "s"), Actor::Cli).await.unwrap();
    let twice = add_upstream(&down.ctx(), input("corp", &fake.issuer, "c", "s"), Actor::Cli).await.unwrap_err();
    assert!(twice.to_string().contains("already exists"));
    let mut browser = Browser::new(&down);
    let page = browser.get("/login/upstream/nope/callback?state=x&code=y").await;
    assert_eq!(page.status, 400, "an unknown name is a page, not a 500");
}

#[tokio::test]
async fn the_cli_adds_lists_shows_and_removes_upstreams() {
    let fake = FakeProvider::start().await;
    let env = TestEnv::new().await;
    let down = env.spawn().await;
    let env = env.with_issuer(&down.address);
    let args = ["upstream", "add", "corp", "--issuer", &fake.issuer, "--client-id", "c-1", "--client-secret-stdin"];
    let added =
        cli_ok(&env, &[&args[..], &["--display-name", "Corp", "--create-users"]].concat(), Some("s3cret\n")).await;
    assert!(added.contains(&format!("{}/login/upstream/corp/callback", down.address)), "the redirect URI: {added}");
    assert!(!added.contains("s3cret"), "the secret is never printed");
    let github = [
        "upstream",
        "add",
        "github",
        "--authorization-endpoint",
        "https://github.com/login/oauth/authorize",
        "--token-endpoint",
        "https://github.com/login/oauth/access_token",
        "--userinfo-endpoint",
        "https://api.github.com/user",
        "--client-id",
        "gh",
        "--client-secret-stdin",
        "--scope",
        "read:user",
    ];
    cli_ok(&env, &github, Some("gh-secret")).await;
    let listed = cli_ok(&env, &["upstream", "list", "--json"], None).await;
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["corp", "github"]);
    assert_eq!(listed[1]["protocol"], "oauth2");
    let shown = cli_ok(&env, &["upstream", "show", "corp"], None).await;
    assert!(shown.contains(&format!("token endpoint: {}/token", fake.issuer)), "{shown}");
    // The login page shows both buttons within the cache's few seconds.
    let mut browser = Browser::new(&down);
    let mut page = browser.get("/login").await;
    for _ in 0..60 {
        if page.body.contains("Sign in with github") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = browser.get("/login").await;
    }
    assert!(page.body.contains("Sign in with Corp") && page.body.contains("Sign in with github"), "{}", page.body);
    let wrong = cli(
        &env,
        &["upstream", "add", "bad", "--issuer", "http://127.0.0.1:1", "--client-id", "c", "--client-secret-stdin"],
        Some("s"),
    )
    .await;
    assert!(!wrong.success && wrong.stderr.contains("discovery document"), "{}", wrong.stderr);
    cli_ok(&env, &["upstream", "remove", "github"], None).await;
    let gone = cli(&env, &["upstream", "show", "github"], None).await;
    assert!(!gone.success && gone.stderr.contains("no upstream named"), "{}", gone.stderr);
}

#[tokio::test]
async fn administrators_add_and_remove_providers_and_see_and_unlink_identities_per_user() {
    let f = federation(|u| u.create_users = true).await;
    federated_id_token(&f, &mut Person::new(&f), "carol").await;
    let (mut admin, csrf) = admin_browser(&f.down).await;
    let page = admin.get("/admin/upstreams").await;
    assert!(page.body.contains(&format!("{}/login/upstream/corp/callback", f.down.address)), "{}", page.body);
    let fake = FakeProvider::start().await;
    let added = admin
        .post(
            "/admin/upstreams",
            &[
                ("csrf_token", &csrf),
                ("name", "partner"),
                ("display_name", "Partner"),
                ("issuer", &fake.issuer),
                ("client_id", "p-1"),
                ("client_secret", "p-secret"),
            ],
        )
        .await;
    assert_eq!(added.location.as_deref(), Some("/admin/upstreams?notice=upstream_added"), "{}", added.body);
    let refused = admin
        .post(
            "/admin/upstreams",
            &[
                ("csrf_token", &csrf),
                ("name", "x"),
                ("issuer", "http://idp.example"),
                ("client_id", "c"),
                ("client_secret", "s"),
            ],
        )
        .await;
    assert!(refused.body.contains("https"), "{}", refused.body);
    let carol = f.down.store.find_user_by_username(&Username::parse("carol").unwrap()).await.unwrap().unwrap();
    let user_page = admin.get(&format!("/admin/users/{}", carol.id)).await;
    assert!(
        user_page.body.contains("Linked identities at other providers") && user_page.body.contains("<code>corp</code>")
    );
    let unlinked =
        admin.post(&format!("/admin/users/{}/identities/corp/unlink", carol.id), &[("csrf_token", &csrf)]).await;
    assert_eq!(
        unlinked.location.as_deref(),
        Some(format!("/admin/users/{}?notice=identity_unlinked", carol.id).as_str())
    );
    assert!(f.down.store.list_linked_identities(carol.id).await.unwrap().is_empty());
    let removed =
        admin.post("/admin/upstreams/remove?name=partner", &[("csrf_token", &csrf), ("confirm", "yes")]).await;
    assert_eq!(removed.location.as_deref(), Some("/admin/upstreams?notice=upstream_removed"), "{}", removed.body);
    let names: Vec<String> =
        f.down.store.list_upstreams().await.unwrap().into_iter().map(|u| u.name.to_string()).collect();
    assert_eq!(names, ["corp"]);
}

#[tokio::test]
async fn racing_callbacks_use_a_state_once_and_make_one_account_per_identity() {
    let (_env, down, fake, secret) = with_fake(|u| u.create_users = true).await;
    // One state, answered twice at once: one sign-in.
    let (browser, state, nonce) = start_with_fake(&down).await;
    fake.answer_with_id_token(fake.sign(id_claims(&fake, &down, &nonce), None));
    let url = format!("/login/upstream/corp/callback?state={state}&code=c");
    let (mut a, mut b) = (browser.clone(), browser);
    let (first, second) = tokio::join!(a.get(&url), b.get(&url));
    let codes = [&first, &second].iter().filter(|p| p.redirect_param("code").is_some()).count();
    assert_eq!(codes, 1, "{} / {}", first.status, second.status);
    // Four first sign-ins of one new identity at once (four states): one account.
    let mut callbacks = Vec::new();
    for i in 0..4 {
        let (mut browser, state, nonce) = start_with_fake(&down).await;
        let mut claims = id_claims(&fake, &down, &nonce);
        claims["sub"] = "fake-2".into();
        claims["preferred_username"] = "gwen".into();
        fake.answer_code_with(&format!("c-{i}"), fake.sign(claims, None));
        let url = format!("/login/upstream/corp/callback?state={state}&code=c-{i}");
        callbacks.push(async move { browser.get(&url).await });
    }
    let pages = futures::future::join_all(callbacks).await;
    let mut subs = std::collections::BTreeSet::new();
    for page in &pages {
        let code = page.redirect_param("code").unwrap_or_else(|| panic!("signed in: {}", page.body));
        let id_token = claims(exchange(&down, "app", &secret, &code).await["id_token"].as_str().unwrap());
        subs.insert(id_token["sub"].as_str().unwrap().to_owned());
    }
    assert_eq!(subs.len(), 1, "every racer is the same account: {subs:?}");
    let gwen = down.store.find_user_by_username(&Username::parse("gwen").unwrap()).await.unwrap().unwrap();
    assert_eq!(down.store.list_linked_identities(gwen.id).await.unwrap().len(), 1);
    let created = down.store.recent_audit_events(100).await.unwrap();
    let gwens =
        created.iter().filter(|e| e.event == "user_created" && e.details["upstream_subject"] == "fake-2").count();
    assert_eq!(gwens, 1, "one account for the identity");
}

#[tokio::test]
async fn a_sign_in_started_on_one_instance_finishes_on_another() {
    let f = federation(|u| u.create_users = true).await;
    let other = f.down_env.spawn_replica(&f.down).await;
    let mut person = Person::new(&f);
    let out = press_corp(&mut person, &authorize_query("app", "openid", &[])).await;
    let location = out.location.clone().unwrap();
    let up_login = person.up.get(&path_of(&location)).await;
    let back = person.up.submit_login(&up_login, "carol", PASSWORD).await;
    // The load balancer sends the callback to the other instance (same database, keys).
    person.down.switch_to(&other);
    let done = person.down.get(&path_of(back.location.as_deref().unwrap())).await;
    let code = done.redirect_param("code").unwrap_or_else(|| panic!("{}", done.body));
    assert!(exchange(&f.down, "app", &f.app_secret, &code).await["id_token"].is_string());
}
