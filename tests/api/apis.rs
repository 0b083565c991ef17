//! APIs (RFC 8707 resource indicators): every access token names the one API it is for and
//! carries only that API's scopes; what a client may not request is `invalid_target`;
//! refreshes down-scope to one API of the grant; consent is remembered per API; an API's
//! introspection sees only its own tokens and an app only its own.

use wristband::flows::admin::ClientInput;

use crate::support::browser::{Browser, REDIRECT_URI, VERIFIER, authorize_query, claims};
use crate::support::oauth::error_of;
use crate::support::process::cli_ok;
use crate::support::{PASSWORD, TestApp, TestEnv, spawn_app};

const ORDERS: &str = "https://orders.example.com";
const BILLING: &str = "https://billing.example.com";
const HR: &str = "https://hr.example.com";

/// Three APIs (orders and billing both define `read`), `alice`, and the first-party client
/// `demo`, which may request orders and billing but not hr. Returns demo's secret and the
/// introspection credentials of orders.
async fn setup() -> (TestEnv, TestApp, String, (String, String)) {
    let (env, app) = spawn_app().await;
    let orders = app.seed_api(ORDERS, &["read=Read your orders", "write=Place orders"], true).await.unwrap();
    app.seed_api(BILLING, &["read=See your invoices", "pay=Pay invoices"], false).await;
    app.seed_api(HR, &["read"], false).await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.allow_apis("demo", &[ORDERS, BILLING], false).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    (env, app, secret, orders)
}

/// The redirect of a login through `/authorize?{query}` (consent answered if asked).
async fn authorize(app: &TestApp, query: &str) -> crate::support::browser::Page {
    Browser::new(app).authorize_and_login(query, "alice", PASSWORD).await
}

async fn redeem(app: &TestApp, secret: &str, code: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];
    form.extend_from_slice(extra);
    app.post_token("demo", secret, &form).await
}

async fn tokens(response: reqwest::Response) -> serde_json::Value {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn aud_and_scope(tokens: &serde_json::Value) -> (String, String) {
    let access = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["scope"], tokens["scope"], "the response says what the token carries");
    (access["aud"].as_str().unwrap().to_owned(), access["scope"].as_str().unwrap_or_default().to_owned())
}

async fn introspect(app: &TestApp, (client_id, secret): (&str, &str), token: &str) -> serde_json::Value {
    app.post_basic("/introspect", client_id, secret, &[("token", token)]).await.json().await.unwrap()
}

#[tokio::test]
async fn a_code_flow_for_an_api_gets_a_token_naming_it_with_only_its_scopes_and_userinfo_still_answers() {
    let (_env, app, secret, _) = setup().await;

    let redirect = authorize(&app, &authorize_query("demo", "openid profile read", &[("resource", ORDERS)])).await;
    let issued = tokens(redeem(&app, &secret, &redirect.redirect_param("code").unwrap(), &[]).await).await;
    let without = authorize(&app, &authorize_query("demo", "openid", &[])).await;
    let for_itself = tokens(redeem(&app, &secret, &without.redirect_param("code").unwrap(), &[]).await).await;

    assert_eq!(aud_and_scope(&issued), (ORDERS.to_owned(), "openid profile read".to_owned()));
    assert_eq!(claims(issued["id_token"].as_str().unwrap())["aud"], "demo", "the ID token is still the client's");
    let userinfo = app.http.get(app.url("/userinfo")).bearer_auth(issued["access_token"].as_str().unwrap());
    assert_eq!(userinfo.send().await.unwrap().status(), 200, "openid was granted");
    assert_eq!(aud_and_scope(&for_itself), ("demo".to_owned(), "openid".to_owned()), "no resource, no default");
}

#[tokio::test]
async fn a_default_api_is_used_when_a_request_names_none() {
    let (_env, app, secret, _) = setup().await;
    app.allow_apis("demo", &[BILLING, ORDERS], true).await;

    let redirect = authorize(&app, &authorize_query("demo", "openid pay", &[])).await;
    let issued = tokens(redeem(&app, &secret, &redirect.redirect_param("code").unwrap(), &[]).await).await;

    assert_eq!(aud_and_scope(&issued), (BILLING.to_owned(), "openid pay".to_owned()));
}

#[tokio::test]
async fn every_resource_a_client_may_not_request_is_invalid_target_back_at_the_client_with_state_and_iss() {
    let (_env, app, _, _) = setup().await;
    let mut browser = Browser::new(&app);
    for resource in [HR, "https://unknown.example.com", "orders", "https://orders.example.com#read", "urn:orders"] {
        let page =
            browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("resource", resource)]))).await;

        assert_eq!(page.status, 302, "{resource}: {}", page.body);
        assert!(page.location.as_deref().unwrap().starts_with(REDIRECT_URI), "{resource}");
        assert_eq!(page.redirect_param("error").as_deref(), Some("invalid_target"), "{resource}");
        assert_eq!(page.redirect_param("state").as_deref(), Some("af0ifjsldkj"));
        assert_eq!(page.redirect_param("iss").as_deref(), Some(app.address.as_str()));
    }
    let other_apis_scope = authorize_query("demo", "openid pay", &[("resource", ORDERS)]);
    let page = browser.get(&format!("/authorize?{other_apis_scope}")).await;
    assert_eq!(page.redirect_param("error").as_deref(), Some("invalid_scope"), "pay is billing's, not orders'");
}

#[tokio::test]
async fn at_the_token_endpoint_a_resource_must_be_one_the_grant_covers_and_one_per_request() {
    let (_env, app, secret, _) = setup().await;
    let redirect = authorize(&app, &authorize_query("demo", "openid read", &[("resource", ORDERS)])).await;
    let code = redirect.redirect_param("code").unwrap();

    for extra in [
        [("resource", BILLING)].as_slice(),
        &[("resource", "not a uri")],
        &[("resource", ORDERS), ("resource", BILLING)],
    ] {
        let (status, error) = error_of(redeem(&app, &secret, &code, extra).await).await;
        assert_eq!((status, error.as_str()), (400, "invalid_target"), "{extra:?}");
    }
    let issued = tokens(redeem(&app, &secret, &code, &[("resource", ORDERS)]).await).await;
    assert_eq!(aud_and_scope(&issued).0, ORDERS, "a refused target does not use up the code");
}

#[tokio::test]
async fn a_refresh_gets_a_token_for_one_api_of_the_grant_and_never_another_apis_scopes() {
    let (_env, app, secret, _) = setup().await;
    let query = authorize_query("demo", "openid read write pay", &[("resource", ORDERS), ("resource", BILLING)]);
    let redirect = authorize(&app, &query).await;

    let first =
        tokens(redeem(&app, &secret, &redirect.redirect_param("code").unwrap(), &[("resource", BILLING)]).await).await;
    let refresh = |token: String, resource: Option<&'static str>| {
        let app = &app;
        let secret = &secret;
        async move {
            let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token.as_str())];
            form.extend(resource.map(|r| ("resource", r)));
            app.post_token("demo", secret, &form).await
        }
    };
    let to_orders = tokens(refresh(first["refresh_token"].as_str().unwrap().to_owned(), Some(ORDERS)).await).await;
    let by_default = tokens(refresh(to_orders["refresh_token"].as_str().unwrap().to_owned(), None).await).await;
    let refused = refresh(by_default["refresh_token"].as_str().unwrap().to_owned(), Some(HR)).await;

    assert_eq!(aud_and_scope(&first), (BILLING.to_owned(), "openid pay read".to_owned()));
    assert_eq!(aud_and_scope(&to_orders), (ORDERS.to_owned(), "openid read write".to_owned()));
    assert_eq!(aud_and_scope(&by_default).0, ORDERS, "no resource: the first API granted");
    assert_eq!(error_of(refused).await, (400, "invalid_target".to_owned()));
}

#[tokio::test]
async fn consent_is_remembered_per_api_not_per_scope_name() {
    let (_env, app, _, _) = setup().await;
    app.seed_client("third", REDIRECT_URI, false).await;
    app.allow_apis("third", &[ORDERS, BILLING], false).await;
    let mut browser = Browser::new(&app);
    let for_orders = authorize_query("third", "openid read", &[("resource", ORDERS)]);
    let login = browser.get(&format!("/authorize?{for_orders}")).await;
    let consent = browser.submit_login(&login, "alice", PASSWORD).await;
    assert!(consent.body.contains("orders.example.com: Read your orders"), "{}", consent.body);
    assert!(!consent.body.contains("invoices"), "{}", consent.body);
    let granted = browser.submit_consent(&consent, "allow").await;
    assert!(granted.redirect_param("code").is_some());

    let again = browser.get(&format!("/authorize?{for_orders}")).await;
    let billing =
        browser.get(&format!("/authorize?{}", authorize_query("third", "openid read", &[("resource", BILLING)]))).await;

    assert!(again.redirect_param("code").is_some(), "orders' read was granted: {}", again.body);
    assert_eq!(billing.status, 200, "billing's read was not");
    assert!(billing.body.contains("See your invoices"), "{}", billing.body);
}

#[tokio::test]
async fn an_api_introspects_only_its_own_tokens_and_an_app_only_the_tokens_issued_to_it() {
    let (_env, app, secret, (orders_id, orders_secret)) = setup().await;
    let other = app.seed_client("other", REDIRECT_URI, true).await;
    let for_orders = authorize(&app, &authorize_query("demo", "openid read", &[("resource", ORDERS)])).await;
    let for_orders = tokens(redeem(&app, &secret, &for_orders.redirect_param("code").unwrap(), &[]).await).await;
    let for_billing = authorize(&app, &authorize_query("demo", "openid read", &[("resource", BILLING)])).await;
    let for_billing = tokens(redeem(&app, &secret, &for_billing.redirect_param("code").unwrap(), &[]).await).await;
    let (orders_token, billing_token) =
        (for_orders["access_token"].as_str().unwrap(), for_billing["access_token"].as_str().unwrap());
    let orders = (orders_id.as_str(), orders_secret.as_str());

    let mine = introspect(&app, orders, orders_token).await;
    let foreign = introspect(&app, orders, billing_token).await;
    let own_app = introspect(&app, ("demo", &secret), billing_token).await;
    let other_app = introspect(&app, ("other", &other), billing_token).await;

    assert_eq!((mine["active"].clone(), mine["aud"].clone()), (true.into(), ORDERS.into()));
    assert_eq!(foreign, serde_json::json!({ "active": false }), "a token for billing is none of orders' business");
    assert_eq!(own_app["active"], true);
    assert_eq!(other_app, serde_json::json!({ "active": false }));
    let token = app.post_basic("/token", &orders_id, &orders_secret, &[("grant_type", "client_credentials")]).await;
    assert_eq!(error_of(token).await.1, "unauthorized_client", "introspection credentials get no tokens");
}

#[tokio::test]
async fn client_credentials_for_an_api_get_its_scopes_and_nothing_else() {
    let (_env, app, _, _) = setup().await;
    let input = ClientInput {
        client_id: "svc".into(),
        grant_types: vec!["client_credentials".into()],
        resources: vec![ORDERS.into()],
        ..ClientInput::default()
    };
    let secret = app.seed_client_with(input).await.unwrap();
    let grant = |extra: &'static [(&'static str, &'static str)]| {
        let (app, secret) = (&app, &secret);
        async move {
            let mut form = vec![("grant_type", "client_credentials")];
            form.extend_from_slice(extra);
            app.post_token("svc", secret, &form).await
        }
    };

    let all = tokens(grant(&[("resource", ORDERS)]).await).await;
    let some = tokens(grant(&[("resource", ORDERS), ("scope", "read")]).await).await;
    let itself = tokens(grant(&[]).await).await;

    assert_eq!(aud_and_scope(&all), (ORDERS.to_owned(), "read write".to_owned()));
    assert_eq!(aud_and_scope(&some).1, "read");
    assert_eq!(claims(itself["access_token"].as_str().unwrap())["aud"], "svc");
    assert_eq!(error_of(grant(&[("resource", ORDERS), ("scope", "pay")]).await).await.1, "invalid_scope");
    assert_eq!(error_of(grant(&[("resource", BILLING)]).await).await.1, "invalid_target");
    assert_eq!(error_of(grant(&[("resource", ORDERS), ("resource", ORDERS)]).await).await.1, "invalid_target");
    assert_eq!(error_of(grant(&[("scope", "read")]).await).await.1, "invalid_scope", "no API, no scope");
}

#[tokio::test]
async fn the_cli_registers_shows_and_removes_apis_and_sets_what_a_client_may_request() {
    let (env, app) = spawn_app().await;
    app.seed_client("demo", REDIRECT_URI, true).await;

    let added = cli_ok(
        &env,
        &["api", "add", ORDERS, "--name", "Orders", "--scope", "read=Read your orders", "--introspection", "--json"],
        None,
    )
    .await;
    let added: serde_json::Value = serde_json::from_str(&added).unwrap();
    cli_ok(&env, &["client", "resources", "demo", "--resource", ORDERS, "--default-resource", ORDERS], None).await;
    let shown: serde_json::Value =
        serde_json::from_str(&cli_ok(&env, &["api", "show", ORDERS, "--json"], None).await).unwrap();
    let listed = cli_ok(&env, &["api", "list"], None).await;

    assert_eq!(added["scopes"][0], serde_json::json!({ "name": "read", "description": "Read your orders" }));
    let introspection_client = added["introspection_client_id"].as_str().unwrap();
    assert!(added["introspection_client_secret"].as_str().unwrap().starts_with("wbs_"));
    assert_eq!(shown["clients"], serde_json::json!(["demo"]));
    assert_eq!(shown["introspection_clients"], serde_json::json!([introspection_client]));
    assert!(listed.contains(ORDERS) && listed.contains("Orders"), "{listed}");

    cli_ok(&env, &["api", "remove", ORDERS], None).await;
    let clients: serde_json::Value =
        serde_json::from_str(&cli_ok(&env, &["client", "list", "--json"], None).await).unwrap();
    assert_eq!(clients.as_array().unwrap().len(), 1, "the introspection client went with the API: {clients}");
    assert_eq!(clients[0]["resources"], serde_json::json!([]));
    assert_eq!(clients[0]["default_resource"], serde_json::Value::Null);
}
