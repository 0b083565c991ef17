//! The periodic clean-up deletes expired rows, and nothing that is still needed.

use wristband::flows::cleanup::clean_up;
use wristband::security::random::sha256_hex;
use wristband::store::CleanupReport;

use crate::browser::{Browser, app_with_tokens, authorize_query};

#[tokio::test]
async fn the_clean_up_deletes_only_what_has_expired_and_is_idempotent() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    app.post_basic("/revoke", "demo", &secret, &[("token", tokens["access_token"].as_str().unwrap())]).await;
    Browser::new(&app).get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    app.enrol_totp("alice").await;
    let mut half_done = Browser::new(&app);
    let login = half_done.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert!(half_done.submit_login(&login, "alice", "correct horse battery").await.body.contains("/login/mfa"));
    let mut guesser = Browser::new(&app);
    let login = guesser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert_eq!(guesser.submit_login(&login, "nobody", "guess").await.status, 200);

    let early = clean_up(&app.store, &app.clock).await.unwrap();
    assert_eq!(early, CleanupReport::default(), "nothing has expired yet");
    assert!(app.store.find_refresh_token(&sha256_hex(refresh)).await.unwrap().is_some());

    app.clock.advance(31 * 86_400 + 86_400 + 61);
    let report = clean_up(&app.store, &app.clock).await.unwrap();
    let again = clean_up(&app.store, &app.clock).await.unwrap();

    assert_eq!(
        report,
        CleanupReport {
            authorization_codes: 1,
            authorization_requests: 3,
            mfa_challenges: 1,
            login_throttles: 1,
            browser_sessions: 1,
            refresh_families: 1,
            revoked_access_tokens: 1,
            sealed_successors: 0,
        }
    );
    assert_eq!(again, CleanupReport::default());
    assert!(app.store.find_refresh_token(&sha256_hex(refresh)).await.unwrap().is_none(), "tokens went with the family");
}
