use std::collections::HashSet;
use std::time::Duration;

use wristband::config::MasterKeySource;
use wristband::keys::generate_rsa_key;
use wristband::model::KeyState;
use wristband::security::master_key::MasterKey;
use wristband::store::StoreError;

use crate::support::process::{cli, cli_ok};
use crate::support::{TestApp, TestEnv};

async fn published_kids(app: &TestApp) -> HashSet<String> {
    let jwks = app.get_json("/jwks.json").await;
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

/// Waits (at most 10 s, the promise to operators) for the server's JWKS to equal `expected`.
async fn wait_for_jwks(app: &TestApp, expected: &HashSet<String>) {
    for _ in 0..100 {
        if &published_kids(app).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("JWKS is {:?}, expected {expected:?}", published_kids(app).await);
}

fn kid_in(listing: &str, state: &str) -> Vec<String> {
    listing
        .lines()
        .filter(|line| line.split_whitespace().nth(1) == Some(state))
        .map(|line| line.split_whitespace().next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_rotation_and_a_revocation_from_the_cli_reach_a_running_server() {
    // Arrange
    let env = TestEnv::new().await;
    let app = env.spawn().await;
    let before = cli_ok(&env, &["keys", "list"], None).await;
    let (active, next) = (kid_in(&before, "active"), kid_in(&before, "next"));
    assert_eq!((active.len(), next.len()), (1, 1), "{before}");

    // Act: rotate
    let out = cli_ok(&env, &["keys", "rotate"], None).await;
    let rotated = cli_ok(&env, &["keys", "list"], None).await;

    // Assert: next became active, active retired, a new next is published
    assert!(out.contains(&format!("active: {}", next[0])), "{out}");
    assert_eq!(kid_in(&rotated, "active"), next);
    assert_eq!(kid_in(&rotated, "retired"), active);
    let new_next = kid_in(&rotated, "next");
    assert_eq!(new_next.len(), 1);
    wait_for_jwks(&app, &[&active[0], &next[0], &new_next[0]].into_iter().cloned().collect()).await;

    // Act: revoke the retired key
    cli_ok(&env, &["keys", "revoke", &active[0]], None).await;

    // Assert: it leaves the JWKS at once on this server's next refresh
    let listing = cli_ok(&env, &["keys", "list"], None).await;
    assert_eq!(kid_in(&listing, "revoked"), active);
    wait_for_jwks(&app, &[&next[0], &new_next[0]].into_iter().cloned().collect()).await;
}

#[tokio::test]
async fn revoking_the_active_key_promotes_next_at_once() {
    let env = TestEnv::new().await;
    let _app = env.spawn().await;
    let before = cli_ok(&env, &["keys", "list"], None).await;

    cli_ok(&env, &["keys", "revoke", &kid_in(&before, "active")[0]], None).await;

    let after = cli_ok(&env, &["keys", "list"], None).await;
    assert_eq!(kid_in(&after, "active"), kid_in(&before, "next"));
    assert_eq!(kid_in(&after, "next").len(), 1);
    assert_eq!(kid_in(&after, "revoked"), kid_in(&before, "active"));
}

#[tokio::test]
async fn revoking_an_unknown_or_revoked_key_is_refused() {
    let env = TestEnv::new().await;
    let _app = env.spawn().await;
    let listing = cli_ok(&env, &["keys", "list"], None).await;
    let active = kid_in(&listing, "active").remove(0);
    cli_ok(&env, &["keys", "revoke", &active], None).await;

    let unknown = cli(&env, &["keys", "revoke", "no-such-kid"], None).await;
    let again = cli(&env, &["keys", "revoke", &active], None).await;

    assert!(!unknown.success && unknown.stderr.contains("no key with kid `no-such-kid`"), "{}", unknown.stderr);
    assert!(!again.success && again.stderr.contains("already revoked"), "{}", again.stderr);
    assert_eq!(cli_ok(&env, &["keys", "list"], None).await.lines().count(), 3);
}

#[tokio::test]
async fn the_database_itself_refuses_a_second_active_or_next_key() {
    let env = TestEnv::new().await;
    let app = env.spawn().await;
    let master_key = MasterKey::load_or_create(&MasterKeySource::File(env.master_key_path())).unwrap();

    for state in [KeyState::Active, KeyState::Next] {
        let key = generate_rsa_key(2048, &master_key).unwrap();
        let result = app.store.insert_signing_keys(vec![(key, state)], 0).await;
        assert!(matches!(result, Err(StoreError::Conflict(_))), "{state}: {result:?}");
    }
    assert_eq!(app.store.list_signing_keys().await.unwrap().len(), 2);
}
