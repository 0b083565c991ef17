//! The verifier crate (`verifier/`) and the example service built on it, against a live
//! wristband: what it accepts, what it refuses, and a key rotation under concurrent
//! requests.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpServer, web};
use wristband::app::KEY_REFRESH_INTERVAL;
use wristband::flows::Actor;
use wristband::flows::admin::ClientInput;
use wristband::flows::keys::{KeyChange, KeyRotation, rotate_signing_keys};
use wristband_verifier::{Options, Verifier, VerifyError};

use crate::support::browser::{REDIRECT_URI, app_with_tokens, code_for, exchange, header};
use crate::support::forge::{Trap, forged_access_tokens};
use crate::support::service::serve_protected;
use crate::support::{TestApp, TestEnv, spawn_app};

/// The wall clock, which the verifier runs on (the test server's runs a little ahead).
fn wall_clock() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// A client allowed client_credentials; its tokens carry `aud` = its id until it may
/// request an API.
async fn machine_client(app: &TestApp) -> String {
    let input = ClientInput {
        client_id: "machine".into(),
        grant_types: vec!["client_credentials".into()],
        ..ClientInput::default()
    };
    app.seed_client_with(input).await.expect("a confidential client")
}

async fn client_token(app: &TestApp, secret: &str) -> String {
    let response = app.post_token("machine", secret, &[("grant_type", "client_credentials")]).await;
    assert_eq!(response.status(), 200);
    response.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_verifier_accepts_a_token_for_its_api_and_refuses_one_the_same_app_got_for_another() {
    const ORDERS: &str = "https://orders.example.com";
    const BILLING: &str = "https://billing.example.com";
    let (_env, app) = spawn_app().await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_api(ORDERS, &["orders:read"], false).await;
    app.seed_api(BILLING, &["invoices:read"], false).await;
    app.allow_apis("demo", &[ORDERS, BILLING], true).await;
    let alice = app.seed_user("alice", "correct horse battery", &["auditor"]).await;
    let (_, code) = code_for(&app, "demo", "alice", "correct horse battery").await;
    let tokens = exchange(&app, "demo", &secret, &code).await;
    let verifier = Verifier::discover(&app.address, ORDERS).await.expect("discovery");

    let access = verifier.verify(tokens["access_token"].as_str().unwrap()).await.expect("a valid token");

    assert_eq!(access.subject, alice.id.to_string());
    assert_eq!(access.client_id.as_deref(), Some("demo"));
    assert!(access.has_scope("roles") && access.has_role("auditor"));
    assert!(!access.has_role("admin"));
    let billing = Verifier::discover(&app.address, BILLING).await.unwrap();
    let refused = billing.verify(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(refused, Err(VerifyError::Audience), "a token for orders is not a token for billing");
    let for_the_app = Verifier::discover(&app.address, "demo").await.unwrap();
    assert_eq!(for_the_app.verify(tokens["access_token"].as_str().unwrap()).await.err(), Some(VerifyError::Audience));
    assert!(Verifier::discover("http://127.0.0.1:9", "demo").await.is_err(), "no issuer, no verifier");
}

#[tokio::test]
async fn every_forged_token_of_the_attack_suite_is_refused_by_the_verifier() {
    let (_env, app, _secret, tokens) = app_with_tokens().await;
    let trap = Trap::start().await;
    let cases = forged_access_tokens(&app, &tokens, &trap.url, wall_clock()).await;
    let verifier = Verifier::discover(&app.address, "demo").await.unwrap();

    for (case, token) in &cases {
        assert!(verifier.verify(token).await.is_err(), "the verifier accepted: {case}");
    }

    assert_eq!(trap.connections.load(Ordering::SeqCst), 0, "jku and x5u are never fetched");
    assert!(verifier.verify(tokens["access_token"].as_str().unwrap()).await.is_ok(), "the genuine token still works");
}

#[tokio::test]
async fn the_example_service_answers_rfc6750_errors_and_names_its_rfc9728_metadata() {
    let (_env, app) = spawn_app().await;
    let secret = machine_client(&app).await;
    let itself = client_token(&app, &secret).await;
    let base = serve_protected(&app, "machine").await;
    let http = reqwest::Client::new();
    let response =
        app.post_token("machine", &secret, &[("grant_type", "client_credentials"), ("scope", "orders:read")]);
    let scoped = response.await.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let token = client_token(&app, &secret).await;
    let metadata_url = format!("{base}/.well-known/oauth-protected-resource");
    let challenge = |params: &str| match params {
        "" => format!(r#"Bearer resource_metadata="{metadata_url}""#),
        params => format!(r#"Bearer {params}, resource_metadata="{metadata_url}""#),
    };

    let metadata: serde_json::Value = http.get(&metadata_url).send().await.unwrap().json().await.unwrap();
    let me = http.get(format!("{base}/me")).bearer_auth(&token).send().await.unwrap();
    let anonymous = http.get(format!("{base}/me")).send().await.unwrap();
    let forged = http.get(format!("{base}/me")).bearer_auth(format!("{token}x")).send().await.unwrap();
    let not_for_it = http.get(format!("{base}/me")).bearer_auth(&itself).send().await.unwrap();
    let orders = http.get(format!("{base}/orders")).bearer_auth(&scoped).send().await.unwrap();
    let reports = http.get(format!("{base}/reports")).bearer_auth(&token).send().await.unwrap();

    assert_eq!(
        metadata,
        serde_json::json!({
            "resource": base,
            "authorization_servers": [app.address],
            "scopes_supported": ["orders:read"],
            "bearer_methods_supported": ["header"],
        })
    );
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<serde_json::Value>().await.unwrap()["sub"], "machine");
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], challenge("").as_str(), "no error code without credentials");
    assert_eq!(forged.status(), 401);
    assert_eq!(forged.headers()["www-authenticate"], challenge(r#"error="invalid_token""#).as_str());
    assert_eq!(not_for_it.status(), 401, "a token with the client as its audience is not for this API");
    assert_eq!(orders.status(), 200);
    assert_eq!(reports.status(), 403);
    assert_eq!(reports.headers()["www-authenticate"], challenge(r#"error="insufficient_scope""#).as_str());
    assert_eq!(reports.json::<serde_json::Value>().await.unwrap()["error"], "insufficient_scope");
}

/// How many clients keep minting tokens and calling the example service at once.
const STREAMS: usize = 4;

/// Mints a token and presents it to the service, again and again, until `stop`; returns
/// how many were served, how many of them were signed with a key other than `old_kid`, and
/// every refusal.
async fn keep_calling(
    app: Arc<TestApp>,
    secret: Arc<str>,
    service: Arc<str>,
    old_kid: Arc<str>,
    stop: Arc<AtomicBool>,
) -> (usize, usize, Vec<String>) {
    let http = reqwest::Client::new();
    let (mut served, mut with_new_key, mut refused) = (0, 0, Vec::new());
    while !stop.load(Ordering::Relaxed) {
        let token = client_token(&app, &secret).await;
        let response = http.get(format!("{service}/me")).bearer_auth(&token).send().await.unwrap();
        if response.status() == 200 {
            served += 1;
        } else {
            refused.push(format!("{} for a token of {}", response.status(), header(&token)["kid"]));
        }
        if header(&token)["kid"] != *old_kid {
            with_new_key += 1;
        }
    }
    (served, with_new_key, refused)
}

#[tokio::test]
async fn a_key_rotation_under_concurrent_requests_rejects_no_valid_token() {
    let env = TestEnv::new().await;
    let mut config = env.config();
    // Load from one client, faster than its default allowance at /token.
    config.rate_limits.token_per_client = None;
    config.rate_limits.token_per_ip = None;
    let app = Arc::new(env.spawn_with(config).await);
    let secret: Arc<str> = machine_client(&app).await.into();
    let service: Arc<str> = serve_protected(&app, "machine").await.into();
    let first = client_token(&app, &secret).await;
    let old_kid: Arc<str> = header(&first)["kid"].as_str().unwrap().into();
    let stop = Arc::new(AtomicBool::new(false));
    let streams: Vec<_> = (0..STREAMS)
        .map(|_| {
            let stream = keep_calling(
                Arc::clone(&app),
                Arc::clone(&secret),
                Arc::clone(&service),
                Arc::clone(&old_kid),
                Arc::clone(&stop),
            );
            tokio::spawn(stream)
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let ctx = app.ctx();
    let new_kid = rotated(&ctx).await.activated.expect("the next key promoted");
    // The server signs with the promoted key within its key refresh interval; keep the
    // load on a while after that.
    let started = Instant::now();
    while !has_signed_with(&app, &secret, &new_kid).await {
        assert!(started.elapsed() < KEY_REFRESH_INTERVAL * 3, "wristband never signed with the promoted key");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);

    let (mut served, mut with_new_key, mut refused) = (0, 0, Vec::new());
    for stream in streams {
        let (s, n, r) = stream.await.expect("a stream panicked");
        (served, with_new_key) = (served + s, with_new_key + n);
        refused.extend(r);
    }
    assert!(refused.is_empty(), "valid tokens refused: {refused:?}");
    assert!(with_new_key >= STREAMS, "only {with_new_key} of {served} tokens were signed with the promoted key");
    assert!(served > with_new_key, "no token of the old key was served: {served}");
    let before = reqwest::Client::new().get(format!("{service}/me")).bearer_auth(&first).send().await.unwrap();
    assert_eq!(before.status(), 200, "a token signed before the rotation is still good");
}

async fn has_signed_with(app: &TestApp, secret: &str, kid: &str) -> bool {
    header(&client_token(app, secret).await)["kid"] == kid
}

#[tokio::test]
async fn an_unknown_kid_makes_the_verifier_fetch_the_jwks_again() {
    let (_env, app) = spawn_app().await;
    let secret = machine_client(&app).await;
    let options = Options { unknown_kid_refetch_interval: Duration::ZERO, ..Options::default() };
    let verifier = Verifier::discover_with(&app.address, "machine", options).await.unwrap();
    let ctx = app.ctx();
    let old_kid = header(&client_token(&app, &secret).await)["kid"].as_str().unwrap().to_owned();

    // Twice in a row, so the key that signs next was made after the verifier's fetch.
    rotated(&ctx).await;
    let second = rotated(&ctx).await;
    let fresh_kid = second.activated.expect("a key was promoted");
    let started = Instant::now();
    let token = loop {
        let token = client_token(&app, &secret).await;
        if header(&token)["kid"] == fresh_kid.as_str() {
            break token;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "wristband still signs with {old_kid}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    assert!(verifier.verify(&token).await.is_ok(), "a key published after the verifier started is fetched");
}

/// A load balancer in front of replicas that disagree for a moment: its discovery
/// document names itself, and its JWKS is either the live one or a copy taken earlier.
struct LaggingReplicas {
    base: String,
    serve_stale: Arc<AtomicBool>,
}

async fn lagging_replicas(app: &TestApp) -> LaggingReplicas {
    let stale = app.http.get(app.url("/jwks.json")).send().await.unwrap().text().await.unwrap();
    let live = app.url("/jwks.json");
    let serve_stale = Arc::new(AtomicBool::new(true));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (flag, me) = (Arc::clone(&serve_stale), base.clone());
    let server = HttpServer::new(move || {
        let (flag, stale, live, me) = (Arc::clone(&flag), stale.clone(), live.clone(), me.clone());
        App::new()
            .route(
                "/.well-known/openid-configuration",
                web::get().to(move || {
                    let me = me.clone();
                    async move { web::Json(serde_json::json!({ "issuer": me, "jwks_uri": format!("{me}/jwks.json") })) }
                }),
            )
            .route(
                "/jwks.json",
                web::get().to(move || {
                    let (flag, stale, live) = (Arc::clone(&flag), stale.clone(), live.clone());
                    async move {
                        let body = if flag.load(Ordering::SeqCst) {
                            stale
                        } else {
                            reqwest::get(live).await.unwrap().text().await.unwrap()
                        };
                        actix_web::HttpResponse::Ok().content_type("application/json").body(body)
                    }
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    LaggingReplicas { base, serve_stale }
}

#[tokio::test]
async fn a_revoked_key_stays_refused_when_a_lagging_replica_still_publishes_it() {
    let (_env, app) = spawn_app().await;
    let secret = machine_client(&app).await;
    let token = client_token(&app, &secret).await;
    let replicas = lagging_replicas(&app).await;
    // No max-age from the balancer and none by default: every verification fetches.
    let options = Options { default_max_age: Duration::ZERO, ..Options::default() };
    let verifier = Verifier::discover_with(&replicas.base, "machine", options).await.unwrap();
    // Its issuer is the balancer, so a token whose key is trusted fails on `iss` instead.
    assert_eq!(verifier.verify(&token).await, Err(VerifyError::Issuer), "the key is trusted");

    let kid = header(&token)["kid"].as_str().unwrap().to_owned();
    wristband::flows::keys::revoke_signing_key(&app.ctx(), &kid, Actor::Cli).await.unwrap();
    replicas.serve_stale.store(false, Ordering::SeqCst);
    let mut refused = Err(VerifyError::Issuer);
    for _ in 0..50 {
        refused = verifier.verify(&token).await;
        if refused == Err(VerifyError::UnknownKey) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(refused, Err(VerifyError::UnknownKey), "gone from the live JWKS");
    replicas.serve_stale.store(true, Ordering::SeqCst);

    assert_eq!(verifier.verify(&token).await, Err(VerifyError::UnknownKey), "a stale copy does not bring it back");
}

async fn rotated(ctx: &wristband::flows::Context<'_>) -> KeyRotation {
    match rotate_signing_keys(ctx, Actor::Cli).await.expect("rotated") {
        KeyChange::Done(rotation) => rotation,
        KeyChange::Raced => panic!("nothing else rotates in this test"),
    }
}
