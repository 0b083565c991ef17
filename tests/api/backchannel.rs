//! Back-Channel Logout: a receiving client gets a logout token it can verify with the
//! JWKS, and a failed delivery is retried from the durable queue.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use wristband::flows::admin::ClientInput;

use crate::support::browser::{Browser, REDIRECT_URI, authorize_query, exchange};
use crate::support::{TestApp, TestEnv, spawn_app};

/// A client's back-channel endpoint that answers 500 to the first notification.
struct Receiver {
    url: String,
    tokens: Arc<Mutex<Vec<String>>>,
}

async fn start_receiver() -> Receiver {
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&tokens);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/backchannel-logout", listener.local_addr().unwrap().port());
    let server = HttpServer::new(move || {
        let seen = Arc::clone(&seen);
        App::new().route(
            "/backchannel-logout",
            web::post().to(move |form: web::Form<std::collections::HashMap<String, String>>| {
                let seen = Arc::clone(&seen);
                async move {
                    let mut tokens = seen.lock().unwrap();
                    tokens.push(form.get("logout_token").cloned().unwrap_or_default());
                    if tokens.len() == 1 {
                        HttpResponse::InternalServerError().finish()
                    } else {
                        HttpResponse::Ok().finish()
                    }
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Receiver { url, tokens }
}

async fn wait_for_deliveries(receiver: &Receiver, count: usize) {
    for _ in 0..100 {
        if receiver.tokens.lock().unwrap().len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {count} deliveries, got {}", receiver.tokens.lock().unwrap().len());
}

async fn verify(app: &TestApp, token: &str) -> (josekit::jws::JwsHeader, serde_json::Value) {
    let verifiers = app.jwks_verifiers().await;
    let (payload, header) = josekit::jws::deserialize_compact_with_selector(token, |header| {
        Ok(verifiers.iter().find(|v| v.key_id() == header.key_id()).map(|v| v.as_ref()))
    })
    .expect("the logout token verifies against the JWKS");
    (header, serde_json::from_slice(&payload).unwrap())
}

/// Registers the first-party client `demo` listening at `receiver` (the rest of `input`
/// as given); its secret.
async fn seed_listening_client(app: &TestApp, receiver: &Receiver, input: ClientInput) -> Option<String> {
    app.seed_client_with(ClientInput {
        client_id: "demo".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        first_party: true,
        backchannel_logout_uri: Some(receiver.url.clone()),
        ..input
    })
    .await
}

/// An app whose first-party client `demo` listens at `receiver`, and `alice` logged in to it.
async fn logged_in_with_listening_client(
    receiver: &Receiver,
) -> (TestEnv, TestApp, String, Browser, serde_json::Value) {
    let (env, app) = spawn_app().await;
    let secret = seed_listening_client(&app, receiver, ClientInput::default()).await.unwrap();
    app.seed_user("alice", "correct horse battery", &[]).await;
    let mut browser = Browser::new(&app);
    let redirect =
        browser.authorize_and_login(&authorize_query("demo", "openid", &[]), "alice", "correct horse battery").await;
    let tokens = exchange(&app, "demo", &secret, &redirect.redirect_param("code").unwrap()).await;
    (env, app, secret, browser, tokens)
}

#[tokio::test]
async fn a_logout_reaches_the_client_with_a_verifiable_token_and_is_retried_after_a_failure() {
    let receiver = start_receiver().await;
    let (_env, app, _secret, mut browser, tokens) = logged_in_with_listening_client(&receiver).await;
    let alice =
        app.store.find_user_by_username(&wristband::model::Username::parse("alice").unwrap()).await.unwrap().unwrap();
    let id_claims = crate::support::browser::claims(tokens["id_token"].as_str().unwrap());

    let logout = browser.get(&format!("/end_session?id_token_hint={}", tokens["id_token"].as_str().unwrap())).await;
    assert_eq!(logout.status, 200);

    wait_for_deliveries(&receiver, 1).await;
    let queued = app.store.pending_logout_jobs().await.unwrap();
    assert_eq!(queued.len(), 1, "the failed delivery stays queued");
    app.clock.advance(5);
    wait_for_deliveries(&receiver, 2).await;

    let token = receiver.tokens.lock().unwrap()[1].clone();
    let (header, claims) = verify(&app, &token).await;
    assert_eq!(header.token_type(), Some("logout+jwt"));
    assert_eq!(claims["iss"], app.address.as_str());
    assert_eq!(claims["aud"], "demo");
    assert_eq!(claims["sub"], alice.id.to_string());
    assert_eq!(claims["sid"], id_claims["sid"]);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
    assert!(claims["jti"].is_string() && claims["exp"].as_i64() > claims["iat"].as_i64());
    for _ in 0..50 {
        if app.store.pending_logout_jobs().await.unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("a delivered notification leaves the queue");
}

#[tokio::test]
async fn disabling_a_user_notifies_every_client_of_their_sessions() {
    let receiver = start_receiver().await;
    let (env, _app, _secret, _browser, _tokens) = logged_in_with_listening_client(&receiver).await;

    crate::support::process::cli_ok(&env, &["user", "disable", "alice"], None).await;

    wait_for_deliveries(&receiver, 1).await;
}

#[tokio::test]
async fn a_detected_refresh_reuse_ends_the_session_and_notifies_the_client() {
    let receiver = start_receiver().await;
    let (_env, app, secret, mut browser, tokens) = logged_in_with_listening_client(&receiver).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;

    let reuse = app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;

    assert_eq!(reuse.status(), 400);
    wait_for_deliveries(&receiver, 1).await;
    let page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert!(page.body.contains("action=\"/login\""), "the browser session ended");
}

#[tokio::test]
async fn a_client_is_notified_when_a_session_ends_days_after_its_code_was_cleaned_up() {
    let receiver = start_receiver().await;
    let env = TestEnv::new().await;
    let mut config = env.config();
    config.sessions.lifetime_seconds = 7 * 86_400;
    config.sessions.idle_seconds = 0;
    let app = env.spawn_with(config).await;
    // No refresh tokens: nothing but the code ties the client to the session.
    let only_codes = ClientInput { grant_types: vec!["authorization_code".into()], ..ClientInput::default() };
    seed_listening_client(&app, &receiver, only_codes).await;
    app.seed_user("alice", "correct horse battery", &[]).await;
    let mut browser = Browser::new(&app);
    browser.authorize_and_login(&authorize_query("demo", "openid", &[]), "alice", "correct horse battery").await;
    app.clock.advance(2 * 86_400);
    let cleaned = wristband::flows::cleanup::clean_up(&app.ctx()).await.unwrap();
    assert_eq!(cleaned.authorization_codes, 1, "the code is gone");

    crate::support::process::cli_ok(&env, &["user", "disable", "alice"], None).await;

    wait_for_deliveries(&receiver, 1).await;
}
