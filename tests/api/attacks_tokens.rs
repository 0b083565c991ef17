//! The attack suite, tokens: everything an attacker can bring to userinfo and
//! introspection instead of a genuine access token. Each is refused, nothing is fetched
//! from the URLs the headers name, nothing is written, and the genuine token still works.

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::browser::app_with_tokens;
use crate::support::forge::{self, Trap};

async fn userinfo_refuses(app: &TestApp, token: &str, case: &str) {
    let response = app.http.get(app.url("/userinfo")).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 401, "userinfo, {case}");
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains(r#"error="invalid_token""#), "userinfo, {case}: {challenge}");
    assert!(response.text().await.unwrap().contains("invalid_token"), "{case}");
}

async fn introspection(app: &TestApp, secret: &str, token: &str) -> Value {
    let response = app.post_basic("/introspect", "demo", secret, &[("token", token)]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn forged_tampered_expired_and_misused_tokens_are_refused_at_userinfo_and_introspection() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let trap = Trap::start().await;
    let mut cases = forge::forged_access_tokens(&app, &tokens, &trap.url, app.clock_now()).await;
    let (_browser, code) = crate::support::browser::code_for(&app, "demo", "alice", "correct horse battery").await;
    let revoked = crate::support::browser::exchange(&app, "demo", &secret, &code).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post_basic("/revoke", "demo", &secret, &[("token", &revoked)]).await;
    cases.push(("a revoked jti", revoked));
    let before = app.state_rows().await;

    for (case, token) in &cases {
        userinfo_refuses(&app, token, case).await;
        if *case != "a refresh token" {
            assert_eq!(introspection(&app, &secret, token).await, json!({"active": false}), "introspection, {case}");
        }
    }
    assert_eq!(trap.connections.load(Ordering::SeqCst), 0, "jku and x5u are never fetched");
    assert_eq!(app.state_rows().await, before, "nothing was written");
    let still = app.http.get(app.url("/userinfo")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(still.status(), 200, "the genuine token is untouched");
    assert_eq!(introspection(&app, &secret, &access).await["active"], true);
}
