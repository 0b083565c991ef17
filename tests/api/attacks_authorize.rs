//! The attack suite, authorization: redirect URIs that are almost right, codes used twice
//! or by another client, PKCE missing, wrong or `plain`, `prompt=none` without a session,
//! and consent skipped by posting directly. None of them redirects where it should not,
//! issues a token or leaves a grant behind.

use crate::support::PASSWORD;
use crate::support::browser::{
    Browser, CHALLENGE, REDIRECT_URI, VERIFIER, authorize_query, claims, code_for, exchange,
};
use crate::support::oauth::{code_form, error_of, introspect_active};
use crate::support::{app_with_third_party_demo, oauth::query};

#[tokio::test]
async fn unknown_clients_and_unregistered_redirect_uris_get_an_error_page_never_a_redirect() {
    let (_env, app, _) = app_with_third_party_demo().await;
    let mut browser = Browser::new(&app);
    let before = app.state_rows().await;
    let variations = [
        "http://127.0.0.1:9000/cb/",
        "http://127.0.0.1:9000/cbx",
        "http://127.0.0.1:9000/c",
        "http://127.0.0.1:9000/CB",
        "HTTP://127.0.0.1:9000/cb",
        "http://127.0.0.1:9000/cb/../cb",
        "http://127.0.0.1:9000/x/../cb",
        "http://127.0.0.1:9000/cb%2F..%2Fevil",
        " http://127.0.0.1:9000/cb",
        "http://127.0.0.1:9000/cb?x=1",
        "http://127.0.0.1:9000/cb#frag",
        "http://127.0.0.1:9001/cb",
        "https://127.0.0.1:9000/cb",
        "http://evil.example@127.0.0.1:9000/cb",
        "http://127.0.0.1:9000@evil.example/cb",
        "http://evil.example/cb",
    ];
    for redirect_uri in variations {
        let page = browser
            .get(&format!(
                "/authorize?{}",
                query(&[
                    ("response_type", "code"),
                    ("client_id", "demo"),
                    ("redirect_uri", redirect_uri),
                    ("scope", "openid"),
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256")
                ])
            ))
            .await;
        assert_eq!(page.status, 400, "{redirect_uri}");
        assert!(page.location.is_none(), "{redirect_uri} must not redirect");
        assert!(page.body.contains("not registered"), "{redirect_uri}: {}", page.body);
    }
    for bad in [
        query(&[("response_type", "code"), ("client_id", "nobody"), ("redirect_uri", REDIRECT_URI)]),
        query(&[("response_type", "code"), ("redirect_uri", REDIRECT_URI)]),
        query(&[("response_type", "code"), ("client_id", "demo")]),
        query(&[("client_id", "demo"), ("client_id", "demo"), ("redirect_uri", REDIRECT_URI)]),
    ] {
        let page = browser.get(&format!("/authorize?{bad}")).await;
        assert_eq!(page.status, 400, "{bad}");
        assert!(page.location.is_none(), "{bad}");
    }
    assert!(app.store.recent_audit_events(10).await.unwrap().iter().all(|e| e.event != "login_succeeded"));
    assert_eq!(app.state_rows().await, before, "no pending request was stored");
}

#[tokio::test]
async fn prompt_none_without_a_session_never_shows_a_page() {
    let (_env, app, _) = app_with_third_party_demo().await;
    let mut browser = Browser::new(&app);

    let page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("prompt", "none")]))).await;

    assert_eq!(page.status, 302);
    assert_eq!(page.redirect_param("error").as_deref(), Some("login_required"));
    assert!(page.body.is_empty());
}

#[tokio::test]
async fn a_consent_posted_for_a_request_that_never_asked_is_refused() {
    let (_env, app, _) = app_with_third_party_demo().await;
    let mut browser = Browser::new(&app);
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;

    // The person has not logged in; the request id of the login page is posted to /consent.
    let skipped = browser.submit_consent(&login_page, "allow").await;

    assert_eq!(skipped.status, 400);
    assert!(skipped.location.is_none());
    assert!(
        app.store
            .find_consent(uuid::Uuid::nil(), &wristband::model::ClientId::parse("demo").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_code_works_once_and_its_second_use_revokes_what_the_first_issued() {
    let (_env, app, secret) = app_with_third_party_demo().await;
    let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    let tokens = exchange(&app, "demo", &secret, &code).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert!(introspect_active(&app, &secret, access).await);

    let replay = app.post_token("demo", &secret, &code_form(&code, VERIFIER)).await;

    assert_eq!(error_of(replay).await, (400, "invalid_grant".to_owned()));
    assert!(!introspect_active(&app, &secret, access).await, "the first access token is revoked");
    let refreshed =
        app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(error_of(refreshed).await.1, "invalid_grant", "the first refresh token is revoked");
    let events = app.store.recent_audit_events(5).await.unwrap();
    assert!(events.iter().any(|e| e.event == "authorization_code_reused"));
}

#[tokio::test]
async fn a_failed_verification_consumes_the_code() {
    let (_env, app, secret) = app_with_third_party_demo().await;
    let wrong_verifier = "a".repeat(43);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("grant_type", "authorization_code"),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &wrong_verifier),
            ],
            "invalid_grant",
        ),
        (vec![("grant_type", "authorization_code"), ("redirect_uri", REDIRECT_URI)], "invalid_grant"),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("redirect_uri", "http://127.0.0.1:9000/cb/"),
                ("code_verifier", VERIFIER),
            ],
            "invalid_grant",
        ),
        (
            vec![("grant_type", "authorization_code"), ("redirect_uri", REDIRECT_URI), ("code_verifier", "short")],
            "invalid_grant",
        ),
    ];
    for (form, expected) in cases {
        let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;
        let mut form = form;
        form.push(("code", &code));

        let refused = app.post_token("demo", &secret, &form).await;
        let honest = app.post_token("demo", &secret, &code_form(&code, VERIFIER)).await;

        assert_eq!(error_of(refused).await.1, expected, "{form:?}");
        assert_eq!(error_of(honest).await.1, "invalid_grant", "the code was consumed: {form:?}");
    }
}

#[tokio::test]
async fn a_code_cannot_be_exchanged_by_another_client() {
    let (_env, app, _) = app_with_third_party_demo().await;
    let other_secret = app.seed_client("other", REDIRECT_URI, true).await;
    let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;

    let stolen = app.post_token("other", &other_secret, &code_form(&code, VERIFIER)).await;

    assert_eq!(error_of(stolen).await.1, "invalid_grant");
}

#[tokio::test]
async fn pkce_missing_or_plain_is_refused_at_authorize_and_a_wrong_verifier_at_token() {
    let (_env, app, secret) = app_with_third_party_demo().await;
    let mut browser = Browser::new(&app);
    let before = app.state_rows().await;
    let without = |extra: &[(&str, &str)]| {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", "demo"),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid"),
            ("state", "s-1"),
        ];
        pairs.extend_from_slice(extra);
        query(&pairs)
    };
    for (case, request) in [
        ("no code_challenge", without(&[])),
        ("plain", without(&[("code_challenge", VERIFIER), ("code_challenge_method", "plain")])),
        ("no method (plain by default)", without(&[("code_challenge", CHALLENGE)])),
        ("short challenge", without(&[("code_challenge", "abc"), ("code_challenge_method", "S256")])),
    ] {
        let page = browser.get(&format!("/authorize?{request}")).await;
        assert_eq!(page.status, 302, "{case}");
        assert_eq!(page.redirect_param("error").as_deref(), Some("invalid_request"), "{case}");
        assert_eq!(page.redirect_param("state").as_deref(), Some("s-1"), "{case}: state comes back");
        assert!(page.redirect_param("code").is_none(), "{case}");
    }
    assert_eq!(app.state_rows().await, before, "nothing was stored");

    let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    let wrong = "b".repeat(43);
    let refused = app.post_token("demo", &secret, &code_form(&code, &wrong)).await;
    assert_eq!(error_of(refused).await, (400, "invalid_grant".to_owned()));
}

#[tokio::test]
async fn state_and_nonce_come_back_exactly_as_sent() {
    let (_env, app, secret) = app_with_third_party_demo().await;
    let state = "<script>alert(1)</script> &amp; ü";
    let nonce = "n\"'<>";
    let mut browser = Browser::new(&app);
    let request = authorize_query("demo", "openid", &[("state", state), ("nonce", nonce)]);
    let request = request.replace("state=af0ifjsldkj&", "").replace("nonce=n-0S6_WzA2Mj&", "");

    let redirect = browser.authorize_and_login(&request, "alice", PASSWORD).await;
    let tokens = exchange(&app, "demo", &secret, &redirect.redirect_param("code").unwrap()).await;

    assert_eq!(redirect.redirect_param("state").as_deref(), Some(state));
    assert_eq!(claims(tokens["id_token"].as_str().unwrap())["nonce"], nonce);
}

#[tokio::test]
async fn a_flood_of_authorization_requests_from_one_address_stops_at_its_budget() {
    let (_env, app) = crate::support::spawn_app().await;
    app.seed_client("demo", crate::support::browser::REDIRECT_URI, true).await;
    let budget = app.config.rate_limits.authorize_per_ip.unwrap().burst as usize;
    let mut browser = crate::support::browser::Browser::new(&app);
    let query = crate::support::browser::authorize_query("demo", "openid", &[]);

    let mut statuses = Vec::new();
    for _ in 0..600 {
        statuses.push(browser.get(&format!("/authorize?{query}")).await.status);
    }

    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        budget,
        "a login page, and a row, per request in budget"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 600 - budget);
    let rows = app.state_rows().await;
    let pending = rows.iter().find(|(table, _)| *table == "authorization_requests").unwrap().1;
    assert_eq!(pending, budget as i64, "600 requests in a row did not write 600 rows");
}
