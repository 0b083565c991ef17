//! The token endpoint: client authentication, the code's single use and bindings, PKCE,
//! refresh rotation, client credentials, and the shape of every answer.

use wristband::flows::admin::ClientInput;

use crate::support::browser::{REDIRECT_URI, VERIFIER, claims, code_for, exchange, header};
use crate::support::oauth::{code_form, error_of};
use crate::support::{PASSWORD, TestApp, TestEnv, spawn_app};

async fn setup() -> (TestEnv, TestApp, String) {
    let (env, app) = spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &["reader", "writer"]).await;
    (env, app, secret)
}

#[tokio::test]
async fn the_code_exchange_issues_the_tokens_design_md_describes() {
    let (_env, app, secret) = setup().await;
    let alice =
        app.store.find_user_by_username(&wristband::model::Username::parse("alice").unwrap()).await.unwrap().unwrap();
    let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;

    let response = app.post_token("demo", &secret, &code_form(&code, VERIFIER)).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: serde_json::Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("wbr_"));
    let access = tokens["access_token"].as_str().unwrap();
    let active_kid = app
        .store
        .list_signing_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.state == wristband::model::KeyState::Active)
        .unwrap()
        .kid;
    assert_eq!(header(access)["typ"], "at+jwt");
    assert_eq!(header(access)["alg"], "RS256");
    assert_eq!(header(access)["kid"], active_kid.as_str());
    let at = claims(access);
    for claim in
        ["iss", "sub", "aud", "client_id", "exp", "iat", "jti", "scope", "auth_time", "acr", "amr", "sid", "roles"]
    {
        assert!(at.get(claim).is_some(), "access token lacks {claim}");
    }
    assert_eq!(at["sub"], alice.id.to_string(), "sub is the opaque user id");
    assert_eq!(at["aud"], "demo");
    assert_eq!(at["roles"], serde_json::json!(["reader", "writer"]));
    assert_eq!(at["amr"], serde_json::json!(["pwd"]));
    assert!(at.get("email").is_none() && at.get("name").is_none(), "no personal data in access tokens");
    let id = claims(tokens["id_token"].as_str().unwrap());
    for claim in ["iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash", "sid"] {
        assert!(id.get(claim).is_some(), "ID token lacks {claim}");
    }
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["preferred_username"], "alice");
    assert_eq!(id["sid"], at["sid"]);
}

#[tokio::test]
async fn a_code_expires_after_60_seconds() {
    let (_env, app, secret) = setup().await;
    let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    app.clock.advance(60);

    let late = app.post_token("demo", &secret, &code_form(&code, VERIFIER)).await;

    assert_eq!(error_of(late).await.1, "invalid_grant");
}

#[tokio::test]
async fn client_authentication_failures_are_invalid_client_with_401() {
    let (_env, app, secret) = setup().await;
    let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    let form = code_form(&code, VERIFIER);

    let wrong_secret = app.post_token("demo", "wbs_wrong", &form).await;
    assert!(wrong_secret.headers().get("www-authenticate").unwrap().to_str().unwrap().starts_with("Basic"));
    assert_eq!(error_of(wrong_secret).await, (401, "invalid_client".to_owned()));
    let unknown = app.post_token("nobody", &secret, &form).await;
    assert_eq!(error_of(unknown).await, (401, "invalid_client".to_owned()));
    let no_auth = app.http.post(app.url("/token")).form(&form).send().await.unwrap();
    assert_eq!(error_of(no_auth).await, (401, "invalid_client".to_owned()));
    let mut posted = form.clone();
    posted.extend([("client_id", "demo"), ("client_secret", "wbs_wrong")]);
    let wrong_post = app.http.post(app.url("/token")).form(&posted).send().await.unwrap();
    assert_eq!(error_of(wrong_post).await, (401, "invalid_client".to_owned()));
    let mut both = form.clone();
    both.push(("client_secret", &secret));
    let two_methods = app.post_token("demo", &secret, &both).await;
    assert_eq!(error_of(two_methods).await, (400, "invalid_request".to_owned()));

    // None of that consumed the code: client authentication comes first.
    let mut by_post = form.clone();
    by_post.extend([("client_id", "demo"), ("client_secret", secret.as_str())]);
    let ok = app.http.post(app.url("/token")).form(&by_post).send().await.unwrap();
    assert_eq!(ok.status(), 200, "client_secret_post works");
}

#[tokio::test]
async fn public_clients_authenticate_with_pkce_alone() {
    let (_env, app) = spawn_app().await;
    app.seed_user("alice", PASSWORD, &[]).await;
    let public = ClientInput {
        client_id: "spa".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        public: true,
        first_party: true,
        ..ClientInput::default()
    };
    app.seed_client_with(public).await;
    let (_browser, code) = code_for(&app, "spa", "alice", PASSWORD).await;

    let mut with_secret = code_form(&code, VERIFIER);
    with_secret.extend([("client_id", "spa"), ("client_secret", "guess")]);
    let refused = app.http.post(app.url("/token")).form(&with_secret).send().await.unwrap();
    let mut form = code_form(&code, VERIFIER);
    form.push(("client_id", "spa"));
    let accepted = app.http.post(app.url("/token")).form(&form).send().await.unwrap();

    assert_eq!(error_of(refused).await.1, "invalid_client");
    assert_eq!(accepted.status(), 200);
}

#[tokio::test]
async fn malformed_token_requests_get_the_rfc6749_error() {
    let (_env, app, secret) = setup().await;
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "invalid_request"),
        (&[("grant_type", "password"), ("username", "alice"), ("password", PASSWORD)], "unsupported_grant_type"),
        (&[("grant_type", "client_credentials")], "unauthorized_client"),
        (&[("grant_type", "authorization_code"), ("grant_type", "refresh_token")], "invalid_request"),
    ];
    for (form, expected) in cases {
        let response = app.post_token("demo", &secret, form).await;
        assert_eq!(error_of(response).await, (400, expected.to_owned()), "{form:?}");
    }
    let json_body = app
        .http
        .post(app.url("/token"))
        .basic_auth("demo", Some(&secret))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(json_body).await.1, "invalid_request");
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_family() {
    let (_env, app, secret) = setup().await;
    let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    let first = exchange(&app, "demo", &secret, &code).await;
    let r1 = first["refresh_token"].as_str().unwrap();

    let second: serde_json::Value = app
        .post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", r1)])
        .await
        .json()
        .await
        .unwrap();
    let r2 = second["refresh_token"].as_str().unwrap();
    let reuse = app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", r1)]).await;
    let newest = app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", r2)]).await;

    assert_ne!(r1, r2);
    assert_eq!(
        claims(second["id_token"].as_str().unwrap())["auth_time"],
        claims(first["id_token"].as_str().unwrap())["auth_time"]
    );
    assert_eq!(error_of(reuse).await.1, "invalid_grant");
    assert_eq!(error_of(newest).await.1, "invalid_grant", "reuse revoked the whole family");
    assert!(app.store.recent_audit_events(5).await.unwrap().iter().any(|e| e.event == "refresh_token_reused"));
}

#[tokio::test]
async fn refresh_may_narrow_the_scope_but_never_widen_it_or_cross_clients() {
    let (_env, app, secret) = setup().await;
    let other_secret = app.seed_client("other", REDIRECT_URI, true).await;
    let mut browser = crate::support::browser::Browser::new(&app);
    let redirect = browser
        .authorize_and_login(
            &crate::support::browser::authorize_query("demo", "openid profile", &[]),
            "alice",
            PASSWORD,
        )
        .await;
    let tokens = exchange(&app, "demo", &secret, &redirect.redirect_param("code").unwrap()).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let stolen =
        app.post_token("other", &other_secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    let wider = app
        .post_token(
            "demo",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "openid email")],
        )
        .await;
    let narrower: serde_json::Value = app
        .post_token(
            "demo",
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "openid")],
        )
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(error_of(stolen).await.1, "invalid_grant");
    assert_eq!(error_of(wider).await.1, "invalid_scope");
    assert_eq!(narrower["scope"], "openid", "the refused attempts changed nothing");
    assert!(claims(narrower["id_token"].as_str().unwrap()).get("preferred_username").is_none());
}

#[tokio::test]
async fn a_client_can_have_its_own_access_token_lifetime() {
    let (_env, app) = spawn_app().await;
    let input = ClientInput {
        client_id: "short".into(),
        grant_types: vec!["client_credentials".into()],
        access_token_seconds: Some(120),
        ..Default::default()
    };
    let secret = app.seed_client_with(input).await.unwrap();

    let tokens: serde_json::Value =
        app.post_token("short", &secret, &[("grant_type", "client_credentials")]).await.json().await.unwrap();

    assert_eq!(tokens["expires_in"], 120);
    let at = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(at["exp"].as_i64().unwrap() - at["iat"].as_i64().unwrap(), 120);
}

#[tokio::test]
async fn client_credentials_gives_a_client_token_and_nothing_else() {
    let (_env, app) = spawn_app().await;
    let secret = app
        .seed_client_with(ClientInput {
            client_id: "svc".into(),
            grant_types: vec!["client_credentials".into()],
            ..Default::default()
        })
        .await
        .unwrap();

    let tokens: serde_json::Value =
        app.post_token("svc", &secret, &[("grant_type", "client_credentials")]).await.json().await.unwrap();
    let scoped = app.post_token("svc", &secret, &[("grant_type", "client_credentials"), ("scope", "openid")]).await;

    assert!(tokens.get("refresh_token").is_none() && tokens.get("id_token").is_none());
    let at = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(
        (at["sub"].as_str(), at["client_id"].as_str(), at["aud"].as_str()),
        (Some("svc"), Some("svc"), Some("svc"))
    );
    assert_eq!(error_of(scoped).await.1, "invalid_scope");
}
