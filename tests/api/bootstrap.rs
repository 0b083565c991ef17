use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use tokio::io::AsyncReadExt;
use wristband::model::{KeyState, Username};
use wristband::security::password::PasswordHasher;
use wristband::security::secret::SecretString;

use crate::support::TestEnv;
use crate::support::process::{free_port, wait_until_ready, wristband};

fn states(keys: &[wristband::model::SigningKeyRecord]) -> Vec<(String, KeyState)> {
    keys.iter().map(|k| (k.kid.clone(), k.state)).collect()
}

#[tokio::test]
async fn the_first_start_bootstraps_one_admin_and_a_restart_reuses_everything() {
    // Arrange
    let env = TestEnv::new().await;

    // Act
    let first = env.spawn().await;
    let master_key = std::fs::read(env.master_key_path()).unwrap();
    let keys_after_first = first.store.list_signing_keys().await.unwrap();
    let second = env.spawn().await;

    // Assert
    let admin = first.bootstrapped_admin.as_ref().expect("the first start makes an admin");
    assert_eq!(admin.username.as_str(), "admin");
    assert!(admin.password.as_ref().is_some_and(|p| p.expose().len() >= 16));
    assert!(second.bootstrapped_admin.is_none(), "a restart makes no second admin");
    assert_eq!(second.store.list_users().await.unwrap().len(), 1);
    assert_eq!(std::fs::read(env.master_key_path()).unwrap(), master_key, "the master key is reused");
    assert_eq!(master_key.len(), 32);
    let mode = std::fs::metadata(env.master_key_path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let keys = second.store.list_signing_keys().await.unwrap();
    assert_eq!(states(&keys), states(&keys_after_first), "no key is generated twice");
    let mut key_states: Vec<KeyState> = keys.iter().map(|k| k.state).collect();
    key_states.sort_by_key(|s| s.as_str());
    assert_eq!(key_states, [KeyState::Active, KeyState::Next]);
}

#[tokio::test]
async fn the_bootstrap_password_can_be_configured_and_is_then_not_printed() {
    let env = TestEnv::new().await;
    let mut config = env.config();
    config.bootstrap_admin_password = Some(SecretString::new("a configured password"));

    let app = env.spawn_with(config.clone()).await;

    let admin = app.bootstrapped_admin.as_ref().expect("admin created");
    assert!(admin.password.is_none(), "a configured password is not echoed");
    let stored = app.store.find_user_by_username(&Username::parse("admin").unwrap()).await.unwrap().unwrap();
    assert!(stored.is_admin);
    let hasher = PasswordHasher::new(&config.password).unwrap();
    assert!(hasher.verify(&SecretString::new("a configured password"), Some(&stored.password_hash)).await.unwrap());
}

#[tokio::test]
async fn instances_starting_together_on_one_database_make_one_active_key_and_one_admin() {
    let env = TestEnv::new().await;

    let (a, b) = tokio::join!(env.spawn(), env.spawn());

    let keys = a.store.list_signing_keys().await.unwrap();
    assert_eq!(keys.iter().filter(|k| k.state == KeyState::Active).count(), 1);
    assert_eq!(keys.iter().filter(|k| k.state == KeyState::Next).count(), 1);
    assert_eq!(keys.len(), 2);
    assert_eq!(b.store.list_users().await.unwrap().len(), 1);
    assert_eq!(a.bootstrapped_admin.is_some() as u8 + b.bootstrapped_admin.is_some() as u8, 1);
    let created: Vec<_> = a
        .store
        .recent_audit_events(20)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "signing_keys_created")
        .collect();
    assert_eq!(created.len(), 1, "the first keys are audited once");
    let active = keys.iter().find(|k| k.state == KeyState::Active).unwrap();
    assert_eq!(created[0].details["active"], active.kid.as_str());
}

/// What a newcomer does: `wristband serve` in a fresh directory, no configuration at all.
#[tokio::test]
async fn serve_with_no_configuration_creates_its_database_keys_and_admin_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let start = || {
        let mut command = wristband(dir.path());
        command
            .arg("serve")
            .env("WRISTBAND_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.spawn().expect("serve starts")
    };
    async fn stop(mut child: tokio::process::Child) -> (String, String) {
        child.kill().await.unwrap();
        let (mut out, mut err) = (String::new(), String::new());
        child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
        child.stderr.take().unwrap().read_to_string(&mut err).await.unwrap();
        (out, err)
    }

    let mut first = start();
    wait_until_ready(&base, &mut first).await;
    let metadata: serde_json::Value =
        reqwest::get(format!("{base}/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    let (stdout, stderr) = stop(first).await;

    assert_eq!(metadata["issuer"], base);
    assert!(stdout.contains("username: admin"), "{stdout}");
    assert!(stdout.contains("password: "), "{stdout}");
    assert!(stderr.contains(&format!("listening on 127.0.0.1:{port}, issuer {base}")), "{stderr}");
    assert!(dir.path().join("data/wristband.db").exists());
    let key = dir.path().join("keys/master.key");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let key_bytes = std::fs::read(&key).unwrap();

    let mut second = start();
    wait_until_ready(&base, &mut second).await;
    let (stdout, _) = stop(second).await;
    assert!(!stdout.contains("password"), "a restart prints no new admin: {stdout}");
    assert_eq!(std::fs::read(&key).unwrap(), key_bytes);
}
