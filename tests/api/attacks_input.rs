//! The attack suite, brute force and bad input: password guessing against one username
//! or from one address, floods of the token and introspection endpoints, and oversized or
//! malformed requests at every endpoint. Also: what the logs and the audit trail keep.

use std::process::Stdio;

use tokio::io::AsyncReadExt;
use wristband::security::rate_limit::RateLimit;

use crate::support::browser::{Browser, REDIRECT_URI, VERIFIER, authorize_query, code_for};
use crate::support::process::{cli_ok, free_port, wait_until_ready, wristband_in};
use crate::support::{PASSWORD, TestApp, TestEnv};

async fn app_with(configure: impl FnOnce(&mut wristband::config::Config)) -> (TestEnv, TestApp, String) {
    let env = TestEnv::new().await;
    let mut config = env.config();
    configure(&mut config);
    let app = env.spawn_with(config).await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    (env, app, secret)
}

/// One sign-in attempt in a fresh browser, as a guesser would make it.
async fn attempt(app: &TestApp, username: &str, password: &str) -> crate::support::browser::Page {
    attempt_forwarded_for(app, None, username, password).await
}

/// A sign-in attempt whose requests carry `X-Forwarded-For: forwarded_for`.
async fn attempt_forwarded_for(
    app: &TestApp,
    forwarded_for: Option<&str>,
    username: &str,
    password: &str,
) -> crate::support::browser::Page {
    let mut browser = Browser::new(app);
    browser.forwarded_for = forwarded_for.map(str::to_owned);
    let login = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    browser.submit_login(&login, username, password).await
}

#[tokio::test]
async fn five_failures_lock_a_username_known_or_not_and_the_lock_expires() {
    let (_env, app, _) = app_with(|_| {}).await;
    for username in ["alice", "ghost"] {
        for remaining in (1..=4).rev() {
            let page = attempt(&app, username, "guess").await;
            assert_eq!(page.status, 200, "{username}, {remaining} left");
            assert!(page.body.contains("Incorrect username or password"));
        }
    }
    let before = app.state_rows().await;

    let alice = attempt(&app, "alice", "guess").await;
    let ghost = attempt(&app, "ghost", "guess").await;
    let right_password = attempt(&app, "ALICE", PASSWORD).await;

    for page in [&alice, &ghost, &right_password] {
        assert_eq!(page.status, 429);
        assert_eq!(page.headers["retry-after"], "900");
        assert!(page.set_cookies.iter().all(|c| !c.starts_with("__Host-wristband_session")));
    }
    assert_eq!(alice.body, ghost.body, "a real and an unknown username lock alike");
    assert!(alice.body.contains("Wait 15 minutes"), "{}", alice.body);
    let before_sessions = before.iter().find(|(t, _)| *t == "browser_sessions").unwrap().1;
    let after = app.state_rows().await;
    assert_eq!(after.iter().find(|(t, _)| *t == "browser_sessions").unwrap().1, before_sessions);
    let events = app.store.recent_audit_events(50).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.event == "login_locked").count(), 2);

    app.clock.advance(901);
    assert_eq!(attempt(&app, "alice", PASSWORD).await.status, 303, "the lock expires");
}

#[tokio::test]
async fn two_typos_lock_nobody_out_and_a_success_starts_the_count_again() {
    let (_env, app, _) = app_with(|_| {}).await;
    for _ in 0..3 {
        for _ in 0..2 {
            assert_eq!(attempt(&app, "alice", "typo").await.status, 200);
        }
        assert_eq!(attempt(&app, "alice", PASSWORD).await.status, 303);
    }
}

#[tokio::test]
async fn failures_from_one_address_are_limited_across_usernames() {
    let (_env, app, _) =
        app_with(|config| config.rate_limits.login_failures_per_ip = Some(RateLimit { burst: 3, period_seconds: 900 }))
            .await;
    for username in ["u1", "u2", "u3"] {
        assert_eq!(attempt(&app, username, "guess").await.status, 200);
    }

    let sprayed = attempt(&app, "alice", PASSWORD).await;

    assert_eq!(sprayed.status, 429, "even a right password waits: the address is throttled");
    assert_eq!(sprayed.headers["retry-after"], "300");
    app.clock.advance(300);
    assert_eq!(attempt(&app, "alice", PASSWORD).await.status, 303);
}

#[tokio::test]
async fn a_forged_forwarded_for_header_does_not_escape_the_address_limit() {
    let (_env, app, _) =
        app_with(|config| config.rate_limits.login_failures_per_ip = Some(RateLimit { burst: 3, period_seconds: 900 }))
            .await;
    for (i, username) in ["u1", "u2", "u3"].into_iter().enumerate() {
        let forged = format!("198.51.100.{i}");
        assert_eq!(attempt_forwarded_for(&app, Some(&forged), username, "guess").await.status, 200);
    }

    let sprayed = attempt_forwarded_for(&app, Some("198.51.100.9"), "alice", PASSWORD).await;

    assert_eq!(sprayed.status, 429, "no proxy is trusted, so the header names nobody");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_has_its_own_allowance() {
    let (_env, app, _) = app_with(|config| {
        config.rate_limits.login_failures_per_ip = Some(RateLimit { burst: 3, period_seconds: 900 });
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    for username in ["u1", "u2", "u3"] {
        assert_eq!(attempt_forwarded_for(&app, Some("198.51.100.1"), username, "guess").await.status, 200);
    }

    let guesser = attempt_forwarded_for(&app, Some("198.51.100.1"), "alice", PASSWORD).await;
    let neighbour = attempt_forwarded_for(&app, Some("203.0.113.7, 198.51.100.2"), "alice", PASSWORD).await;

    assert_eq!(guesser.status, 429);
    assert_eq!(neighbour.status, 303, "another client behind the same proxy signs in");
    let events = app.store.recent_audit_events(20).await.unwrap();
    let failure = events.iter().find(|e| e.event == "login_failed").expect("failures are audited");
    assert_eq!(failure.ip.as_deref(), Some("198.51.100.1"), "the audit trail names the client, not the proxy");
}

#[tokio::test]
async fn the_token_and_introspection_endpoints_are_limited_per_client_and_per_address() {
    let (_env, app, secret) = app_with(|config| {
        config.rate_limits.token_per_client = Some(RateLimit { burst: 2, period_seconds: 60 });
        config.rate_limits.token_per_ip = Some(RateLimit { burst: 5, period_seconds: 60 });
        config.rate_limits.introspect_per_client = Some(RateLimit { burst: 2, period_seconds: 60 });
    })
    .await;
    let other_secret = app.seed_client("other", REDIRECT_URI, true).await;
    let form = [("grant_type", "refresh_token"), ("refresh_token", "wbr_nothing")];

    let demo: Vec<u16> = futures::future::join_all((0..3).map(|_| app.post_token("demo", &secret, &form)))
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let by_name_only = app.post_token("demo", "wbs_wrong", &form).await;
    let other = app.post_token("other", &other_secret, &form).await;
    let flooded = app.post_token("other", &other_secret, &form).await;

    assert_eq!(demo.iter().filter(|s| **s == 429).count(), 1, "{demo:?}");
    assert_eq!(by_name_only.status(), 401, "naming a client without its secret uses none of its allowance");
    assert_eq!(other.status(), 400, "another client has its own allowance");
    assert_eq!(flooded.status(), 429, "the address has used its 5");
    assert!(flooded.headers()["retry-after"].to_str().unwrap().parse::<i64>().unwrap() >= 1);
    assert_eq!(flooded.headers()["cache-control"], "no-store");
    let body: serde_json::Value = flooded.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");

    let introspected: Vec<u16> =
        futures::future::join_all((0..3).map(|_| app.post_basic("/introspect", "demo", &secret, &[("token", "x")])))
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
    assert_eq!(introspected.iter().filter(|s| **s == 429).count(), 1, "{introspected:?}");
}

#[tokio::test]
async fn oversized_and_malformed_input_gets_a_clear_4xx_and_changes_nothing() {
    let (_env, app, secret) = app_with(|_| {}).await;
    let before = app.state_rows().await;
    let huge_body = "a=".to_owned() + &"b".repeat(70 * 1024);
    let long_field = format!("grant_type=refresh_token&refresh_token={}", "x".repeat(9 * 1024));
    let many_fields = vec!["a=1"; 100].join("&");
    let bad_encoding = b"grant_type=%ZZ%&&==&%FF%FE\xff\xfe=\x00".to_vec();
    let form_endpoints = [
        "/token",
        "/introspect",
        "/revoke",
        "/login",
        "/login/mfa",
        "/login/password",
        "/login/resume",
        "/consent",
        "/authorize",
        "/end_session",
        "/end_session/confirm",
        "/account/password",
        "/admin/users",
    ];
    for path in form_endpoints {
        for (case, body, expected) in [
            ("a 70 KiB body", huge_body.clone().into_bytes(), &[413][..]),
            ("a 9 KiB field", long_field.clone().into_bytes(), &[400, 401, 403]),
            ("100 fields", many_fields.clone().into_bytes(), &[400, 401, 403]),
            ("broken encoding", bad_encoding.clone(), &[400, 401, 403]),
        ] {
            let response = app
                .http
                .post(app.url(path))
                .basic_auth("demo", Some(&secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            // RP-Initiated Logout ignores what it cannot read and asks the person to confirm.
            let confirm_page = path == "/end_session" && status == 200 && !case.ends_with("body");
            assert!(expected.contains(&status) || confirm_page, "{path}, {case}: {status}");
            assert!(!response.text().await.unwrap().is_empty(), "{path}, {case}: a body that says what went wrong");
        }
    }
    for query in [
        format!("/authorize?state={}", "s".repeat(9 * 1024)),
        format!("/authorize?{}", vec!["a=1"; 100].join("&")),
        "/authorize?client_id=%ZZ&redirect_uri=%FF".to_owned(),
        "/end_session?id_token_hint=not.a.jwt&post_logout_redirect_uri=javascript:alert(1)".to_owned(),
        "/login?destination=%00".to_owned(),
    ] {
        let response = app.get(&query).await;
        assert_eq!(response.status(), 400, "{}", &query[..query.len().min(60)]);
        assert!(response.headers().get("location").is_none());
    }
    let token_errors = [
        app.http.post(app.url("/token")).header("authorization", "Basic !!!").form(&[("grant_type", "x")]),
        app.http.post(app.url("/token")).header("authorization", "Basic Og==").form(&[("grant_type", "x")]),
        app.http
            .post(app.url("/token"))
            .basic_auth("demo", Some(&secret))
            .body("{\"grant_type\":")
            .header("content-type", "application/json"),
    ];
    for request in token_errors {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(
            matches!((status, body["error"].as_str()), (401, Some("invalid_client")) | (400, Some("invalid_request"))),
            "{status} {body}"
        );
    }
    for bearer in ["", "Bearer", "Bearer ", "Basic abc", "Bearer a b c", &format!("Bearer {}", "x".repeat(9_000))] {
        let response = app.http.get(app.url("/userinfo")).header("authorization", bearer).send().await.unwrap();
        assert!(matches!(response.status().as_u16(), 400 | 401), "{bearer:.20}: {}", response.status());
    }
    let big_header =
        app.http.get(app.url("/jwks.json")).header("x-padding", "p".repeat(64 * 1024)).send().await.unwrap();
    assert!(matches!(big_header.status().as_u16(), 400 | 413 | 431), "{}", big_header.status());
    assert_eq!(app.state_rows().await, before, "nothing was written");
    assert_eq!(app.get("/healthz").await.status(), 200, "the server is still up");
}

/// The real binary, behind an https issuer, through a whole login: its log and the
/// audit trail hold no password, secret, code or token, and its pages carry HSTS.
#[tokio::test]
async fn logs_and_audit_events_never_hold_a_secret() {
    let env = TestEnv::new().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client =
        cli_ok(&env, &["client", "add", "demo", "--redirect-uri", REDIRECT_URI, "--first-party", "--json"], None).await;
    let client: serde_json::Value = serde_json::from_str(&client).unwrap();
    let secret = client["client_secret"].as_str().unwrap().to_owned();
    cli_ok(&env, &["user", "add", "alice", "--password-stdin"], Some(PASSWORD)).await;
    let mut server = wristband_in(&env)
        .arg("serve")
        .env("WRISTBAND_BIND", format!("127.0.0.1:{port}"))
        .env("WRISTBAND_ISSUER", "https://id.example.test")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_ready(&base, &mut server).await;
    let app = TestApp::at(&env, &base).await;

    let failed = attempt(&app, "alice", "Tr0ub4dor&3-wrong").await;
    let (_browser, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    let tokens: serde_json::Value = app
        .post_token(
            "demo",
            &secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    server.kill().await.unwrap();
    let mut log = String::new();
    server.stdout.take().unwrap().read_to_string(&mut log).await.unwrap();
    server.stderr.take().unwrap().read_to_string(&mut log).await.unwrap();
    let audit = format!("{:?}", app.store.recent_audit_events(200).await.unwrap());

    assert!(failed.headers["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
    assert!(log.contains("refresh_token_reused") || audit.contains("refresh_token_reused"), "the reuse was recorded");
    let access = tokens["access_token"].as_str().unwrap();
    let secrets = [
        ("the password", PASSWORD),
        ("a wrong password", "Tr0ub4dor&3-wrong"),
        ("the client secret", secret.as_str()),
        ("the code", code.as_str()),
        ("the refresh token", refresh),
        ("the access token's signature", access.rsplit('.').next().unwrap()),
        ("the ID token's signature", tokens["id_token"].as_str().unwrap().rsplit('.').next().unwrap()),
    ];
    for (what, value) in secrets {
        assert!(!log.contains(value), "the log holds {what}");
        assert!(!audit.contains(value), "the audit trail holds {what}");
    }
}

/// Posts the account page's password change with `current` as the current password.
async fn change_password(browser: &mut Browser, csrf: &str, current: &str) -> u16 {
    let new = "the thief's new passphrase";
    let form = [("csrf_token", csrf), ("current_password", current), ("new_password", new), ("confirm_password", new)];
    browser.post("/account/password", &form).await.status
}

#[tokio::test]
async fn a_stolen_session_cannot_be_used_to_guess_the_password() {
    let (_env, app, _) = app_with(|_| {}).await;
    let (mut thief, account) = crate::attacks_browser::account_of(&app, "alice").await;
    let csrf = account.hidden("csrf_token").unwrap();
    for _ in 0..4 {
        assert_eq!(change_password(&mut thief, &csrf, "guess").await, 400);
    }

    let locked = change_password(&mut thief, &csrf, "guess").await;

    assert_eq!(locked, 429);
    assert_eq!(change_password(&mut thief, &csrf, PASSWORD).await, 429, "even the right one waits");
    assert_eq!(attempt(&app, "alice", PASSWORD).await.status, 429, "the same lock as the login form");
    app.clock.advance(901);
    assert_eq!(attempt(&app, "alice", PASSWORD).await.status, 303, "the password never changed");
}

/// A field sent twice leaves it open which copy counts (one check could read the first,
/// another the last): every form refuses it whole, before anything is checked.
#[tokio::test]
async fn a_field_sent_twice_is_refused_before_anything_is_checked() {
    let (_env, app, secret) = app_with(|_| {}).await;
    let before = app.state_rows().await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/login?destination=account").await;
    let csrf = login.hidden("csrf_token").unwrap();

    let twice = browser
        .post(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("destination", "account"),
                ("username", "alice"),
                ("username", "admin"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let revoke = app.post_basic("/revoke", "demo", &secret, &[("token", "a"), ("token", "b")]).await;
    let status = revoke.status().as_u16();
    let body: serde_json::Value = revoke.json().await.unwrap();

    assert_eq!(twice.status, 400, "{}", twice.body);
    assert!(twice.body.contains("could not be read") && !twice.set_cookies.iter().any(|c| c.contains("session=")));
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    assert_eq!(app.state_rows().await, before, "nothing was written");
    let events = app.store.recent_audit_events(10).await.unwrap();
    assert!(!events.iter().any(|e| e.event.starts_with("login")), "no attempt was counted: {events:?}");
}
