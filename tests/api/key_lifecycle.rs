//! The key lifecycle with the injectable clock: next → active → retired → removed, the
//! schedule, and what verifiers see of it through the JWKS and introspection.

use std::collections::HashSet;
use std::time::Duration;

use wristband::flows::Actor;
use wristband::flows::keys::{KeyChange, KeySchedule, maintain_signing_keys, revoke_signing_key, rotate_signing_keys};
use wristband::model::KeyState;

use crate::support::TestApp;
use crate::support::browser::{app_with_tokens, header};

async fn state_of(app: &TestApp, kid: &str) -> KeyState {
    app.store.list_signing_keys().await.unwrap().into_iter().find(|k| k.kid == kid).unwrap().state
}

async fn published(app: &TestApp) -> HashSet<String> {
    let jwks = app.get_json("/jwks.json").await;
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

/// Waits for the server's keystore refresh (every 5 s) to show `check` in the JWKS.
async fn until_jwks(app: &TestApp, check: impl Fn(&HashSet<String>) -> bool) -> HashSet<String> {
    for _ in 0..100 {
        let kids = published(app).await;
        if check(&kids) {
            return kids;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the JWKS never got there: {:?}", published(app).await);
}

/// Whether a resource server holding the current JWKS accepts the token's signature.
async fn verifies(app: &TestApp, jwt: &str) -> bool {
    let kid = header(jwt)["kid"].as_str().unwrap().to_owned();
    let verifiers = app.jwks_verifiers().await;
    let Some(verifier) = verifiers.iter().find(|v| v.key_id() == Some(kid.as_str())) else { return false };
    josekit::jwt::decode_with_verifier(jwt, verifier.as_ref()).is_ok()
}

async fn introspected_active(app: &TestApp, secret: &str, jwt: &str) -> bool {
    let response = app.post_basic("/introspect", "demo", secret, &[("token", jwt)]).await;
    response.json::<serde_json::Value>().await.unwrap()["active"] == true
}

#[tokio::test]
async fn a_retired_key_verifies_its_tokens_until_they_expire_then_leaves_the_jwks_and_its_row_stays() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let ctx = app.ctx();
    let old_token = tokens["access_token"].as_str().unwrap();
    let old_kid = header(old_token)["kid"].as_str().unwrap().to_owned();
    let schedule = KeySchedule::from_config(&app.ctx()).await.unwrap();
    assert_eq!(schedule.longest_token_seconds, 3_600 + 60, "ID tokens live longest, plus the leeway");

    let KeyChange::Done(rotation) = rotate_signing_keys(&ctx, Actor::Cli).await.unwrap() else { panic!("raced") };
    let new_kid = rotation.activated.clone().unwrap();
    until_jwks(&app, |kids| kids.contains(&rotation.new_next)).await;

    assert!(verifies(&app, old_token).await, "a token from before the rotation still verifies");
    assert!(introspected_active(&app, &secret, old_token).await);
    let (_, code) = crate::support::browser::code_for(&app, "demo", "alice", "correct horse battery").await;
    let fresh = crate::support::browser::exchange(&app, "demo", &secret, &code).await;
    assert_eq!(header(fresh["access_token"].as_str().unwrap())["kid"], new_kid.as_str(), "new tokens, new key");

    app.clock.advance(3_660 - 1);
    assert_eq!(maintain_signing_keys(&ctx, schedule).await.unwrap().removed, Vec::<String>::new());
    assert_eq!(state_of(&app, &old_kid).await, KeyState::Retired);
    app.clock.advance(1);
    let done = maintain_signing_keys(&ctx, schedule).await.unwrap();

    assert_eq!(done.removed, vec![old_kid.clone()]);
    assert_eq!(done.rotated, None);
    assert_eq!(state_of(&app, &old_kid).await, KeyState::Removed, "the row stays for the audit trail");
    let kids = until_jwks(&app, |kids| !kids.contains(&old_kid)).await;
    assert_eq!(kids, HashSet::from([new_kid, rotation.new_next]));
    assert!(app.store.recent_audit_events(20).await.unwrap().iter().any(|e| e.event == "key_removed"));
}

#[tokio::test]
async fn a_client_with_longer_access_tokens_keeps_retired_keys_published_longer() {
    let (_env, app, _, _) = app_with_tokens().await;
    app.seed_client_with(wristband::flows::admin::ClientInput {
        client_id: "batch".into(),
        redirect_uris: vec![crate::support::browser::REDIRECT_URI.into()],
        access_token_seconds: Some(86_400),
        ..Default::default()
    })
    .await;
    let schedule = KeySchedule::from_config(&app.ctx()).await.unwrap();
    assert_eq!(schedule.longest_token_seconds, 86_400 + 60);
}

#[tokio::test]
async fn scheduled_rotation_happens_once_when_several_instances_notice_together() {
    let (_env, app, _, _) = app_with_tokens().await;
    let ctx = app.ctx();
    let schedule = KeySchedule { rotate_every_seconds: Some(90 * 86_400), longest_token_seconds: 3_660 };
    let before = app.store.list_signing_keys().await.unwrap();
    let active = before.iter().find(|k| k.state == KeyState::Active).unwrap().kid.clone();

    app.clock.advance(90 * 86_400 - 1);
    assert_eq!(maintain_signing_keys(&ctx, schedule).await.unwrap().rotated, None, "not due yet");
    app.clock.advance(1);
    let (a, b, c) = tokio::join!(
        maintain_signing_keys(&ctx, schedule),
        maintain_signing_keys(&ctx, schedule),
        maintain_signing_keys(&ctx, schedule)
    );

    for result in [&a, &b, &c] {
        assert!(result.is_ok(), "{result:?}");
    }
    let keys = app.store.list_signing_keys().await.unwrap();
    let count = |state| keys.iter().filter(|k| k.state == state).count();
    assert_eq!((count(KeyState::Active), count(KeyState::Next), count(KeyState::Retired)), (1, 1, 1));
    assert_eq!(state_of(&app, &active).await, KeyState::Retired);
    let rotations =
        app.store.recent_audit_events(50).await.unwrap().into_iter().filter(|e| e.event == "key_rotated").count();
    assert_eq!(rotations, 1, "exactly once, whoever noticed first (the server's own loop included)");
    let off = KeySchedule { rotate_every_seconds: None, ..schedule };
    app.clock.advance(365 * 86_400);
    assert_eq!(maintain_signing_keys(&ctx, off).await.unwrap().rotated, None, "off means only on demand");
}

#[tokio::test]
async fn revoking_a_key_makes_its_tokens_inactive_and_revoking_the_active_one_keeps_signing() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let ctx = app.ctx();
    let token = tokens["access_token"].as_str().unwrap();
    let kid = header(token)["kid"].as_str().unwrap().to_owned();

    revoke_signing_key(&ctx, &kid, Actor::Cli).await.unwrap();
    until_jwks(&app, |kids| !kids.contains(&kid)).await;

    assert!(!verifies(&app, token).await);
    assert!(!introspected_active(&app, &secret, token).await);
    let userinfo = app.http.get(app.url("/userinfo")).bearer_auth(token).send().await.unwrap();
    assert_eq!(userinfo.status(), 401);
    let (_, code) = crate::support::browser::code_for(&app, "demo", "alice", "correct horse battery").await;
    let fresh = crate::support::browser::exchange(&app, "demo", &secret, &code).await;
    let fresh_token = fresh["access_token"].as_str().unwrap();
    assert_ne!(header(fresh_token)["kid"], kid.as_str(), "the promoted key signs");
    assert!(verifies(&app, fresh_token).await && introspected_active(&app, &secret, fresh_token).await);
}
