//! The periodic clean-up deletes expired rows, and nothing that is still needed.

use wristband::flows::cleanup::clean_up;
use wristband::model::{CeremonyPurpose, Destination, PasskeyCeremony};
use wristband::security::random::sha256_hex;
use wristband::store::CleanupReport;

use crate::support::browser::{Browser, app_with_tokens, authorize_query};

fn sum(a: CleanupReport, b: CleanupReport) -> CleanupReport {
    CleanupReport {
        authorization_codes: a.authorization_codes + b.authorization_codes,
        authorization_requests: a.authorization_requests + b.authorization_requests,
        mfa_challenges: a.mfa_challenges + b.mfa_challenges,
        passkey_ceremonies: a.passkey_ceremonies + b.passkey_ceremonies,
        upstream_logins: a.upstream_logins + b.upstream_logins,
        mail: a.mail + b.mail,
        mail_links: a.mail_links + b.mail_links,
        attempt_throttles: a.attempt_throttles + b.attempt_throttles,
        browser_sessions: a.browser_sessions + b.browser_sessions,
        refresh_families: a.refresh_families + b.refresh_families,
        revoked_access_tokens: a.revoked_access_tokens + b.revoked_access_tokens,
        sealed_successors: a.sealed_successors + b.sealed_successors,
        audit_events: a.audit_events + b.audit_events,
    }
}

#[tokio::test]
async fn the_clean_up_deletes_only_what_has_expired_once_across_instances() {
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
    // A passkey sign-in started and never answered.
    let unanswered = PasskeyCeremony {
        purpose: CeremonyPurpose::SignIn { authorization_request_hash: None, destination: Some(Destination::Account) },
        browser_hash: sha256_hex("a browser"),
        state: "{}".to_owned(),
        expires_at: app.clock_now() + 300,
    };
    app.store.insert_passkey_ceremony(sha256_hex("ceremony"), &unanswered, app.clock_now()).await.unwrap();
    // An upstream sign-in whose person never came back (its upstream must exist for it).
    let fake = crate::support::fake_provider::FakeProvider::start().await;
    let upstream = wristband::flows::upstream::UpstreamInput {
        name: "corp".into(),
        display_name: None,
        issuer: Some(fake.issuer.clone()),
        authorization_endpoint: None,
        token_endpoint: None,
        userinfo_endpoint: None,
        claims: Default::default(),
        client_id: "c".into(),
        client_secret: wristband::security::secret::SecretString::new("s"),
        scopes: vec![],
        link_by_verified_email: false,
        create_users: false,
        trusted_for_mfa: false,
        offer_end_session: false,
    };
    wristband::flows::upstream::add_upstream(&app.ctx(), upstream, wristband::flows::Actor::Cli).await.unwrap();
    let mut away = Browser::new(&app);
    let login = away.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let csrf = login.hidden("csrf_token").unwrap();
    let request_id = login.hidden("request_id").unwrap();
    let out = away.post("/login/upstream/corp", &[("csrf_token", &csrf), ("request_id", &request_id)]).await;
    assert_eq!(out.status, 303);

    let early = clean_up(&app.ctx()).await.unwrap();
    assert_eq!(early, CleanupReport::default(), "nothing has expired yet");
    assert!(app.store.find_refresh_token(&sha256_hex(refresh)).await.unwrap().is_some());

    // alice's verification mail (her address came with her account) goes out first.
    for _ in 0..100 {
        if app.store.recent_mail(10).await.unwrap().iter().all(|m| m.sent_at.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.clock.advance(31 * 86_400 + 86_400 + 61);
    // Every instance runs the clean-up; two at once delete each row once between them.
    let other_instance =
        wristband::app::open_services(app.config.clone(), std::sync::Arc::new(app.clock.clone())).await.unwrap();
    let (ctx, theirs_ctx) = (app.ctx(), other_instance.context());
    let (mine, theirs) = tokio::join!(clean_up(&ctx), clean_up(&theirs_ctx));
    let report = sum(mine.unwrap(), theirs.unwrap());
    let again = clean_up(&app.ctx()).await.unwrap();

    assert_eq!(
        report,
        CleanupReport {
            authorization_codes: 1,
            authorization_requests: 4,
            mfa_challenges: 1,
            passkey_ceremonies: 1,
            upstream_logins: 1,
            mail: 1,
            mail_links: 1,
            attempt_throttles: 1,
            browser_sessions: 1,
            refresh_families: 1,
            revoked_access_tokens: 1,
            sealed_successors: 0,
            audit_events: 0,
        }
    );
    assert_eq!(again, CleanupReport::default());
    assert!(app.store.find_refresh_token(&sha256_hex(refresh)).await.unwrap().is_none(), "tokens went with the family");
}

#[tokio::test]
async fn audit_events_are_kept_for_the_retention_then_deleted() {
    let (_env, app, _secret, _tokens) = app_with_tokens().await;
    let mut guesser = Browser::new(&app);
    let login = guesser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    guesser.submit_login(&login, "alice", "a wrong guess").await;
    let recorded = app.store.recent_audit_events(100).await.unwrap().len() as u64;
    assert!(recorded >= 2, "a login and a failed one");

    app.clock.advance(89 * 86_400);
    let within = clean_up(&app.ctx()).await.unwrap();
    app.clock.advance(2 * 86_400);
    let past = clean_up(&app.ctx()).await.unwrap();

    assert_eq!(within.audit_events, 0, "within audit.retention_days (90)");
    assert_eq!(past.audit_events, recorded);
    assert!(app.store.recent_audit_events(100).await.unwrap().is_empty());
    let mut forever = app.config.clone();
    forever.audit.retention_days = 0;
    let forever = wristband::flows::Services { config: std::sync::Arc::new(forever), ..app.services.clone() };
    guesser.submit_login(&login, "alice", "another wrong guess").await;
    app.clock.advance(3_650 * 86_400);
    assert_eq!(clean_up(&forever.context()).await.unwrap().audit_events, 0, "0 keeps them");
}
