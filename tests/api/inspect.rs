//! The token inspector (`wristband token inspect`, the admin page) and break-glass recovery.

use wristband::flows::inspect::{Inspection, inspect_token};

use crate::support::TestApp;
use crate::support::browser::{app_with_tokens, claims, header};
use crate::support::forge;
use crate::support::process::{cli, cli_ok};

async fn inspect(app: &TestApp, token: &str) -> Inspection {
    inspect_token(&app.ctx(), token).await.unwrap()
}

fn failed(report: &Inspection) -> Vec<&'static str> {
    report.checks.iter().filter(|c| !c.passed).map(|c| c.name).collect()
}

#[tokio::test]
async fn fresh_tokens_pass_every_check_and_each_attack_fails_the_check_it_breaks() {
    let (_env, app, secret, tokens) = app_with_tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let kid = header(access)["kid"].as_str().unwrap().to_owned();
    let mut access_claims = claims(access);

    for token in [access, tokens["id_token"].as_str().unwrap()] {
        let report = inspect(&app, token).await;
        assert!(report.all_passed(), "{report:?}");
        let names: Vec<_> = report.checks.iter().map(|c| c.name).collect();
        assert_eq!(names, ["structure", "algorithm", "kid", "signature", "iss", "aud", "exp", "iat", "revocation"]);
    }
    assert_eq!(failed(&inspect(&app, "not.a-jwt").await), ["structure"]);
    assert_eq!(failed(&inspect(&app, &forge::unsigned(&kid, &access_claims)).await), ["algorithm", "signature"]);
    assert_eq!(
        failed(&inspect(&app, &forge::hs256(&kid, &access_claims, b"public key")).await),
        ["algorithm", "signature"]
    );
    assert_eq!(failed(&inspect(&app, &forge::foreign_rs256(&kid, &access_claims)).await), ["signature"]);
    assert_eq!(failed(&inspect(&app, &forge::foreign_rs256("elsewhere", &access_claims)).await), ["kid", "signature"]);
    access_claims["aud"] = "someone-else".into();
    access_claims["iss"] = "https://evil.example".into();
    assert_eq!(failed(&inspect(&app, &forge::with_claims(access, &access_claims)).await), ["signature", "iss", "aud"]);

    app.post_basic("/revoke", "demo", &secret, &[("token", access)]).await;
    assert_eq!(failed(&inspect(&app, access).await), ["revocation"]);
    app.clock.advance(900 + 60);
    let expired = inspect(&app, access).await;
    assert_eq!(failed(&expired), ["exp", "revocation"]);
    assert!(expired.checks.iter().any(|c| c.name == "exp" && c.detail.starts_with("expired ")));
}

#[tokio::test]
async fn the_cli_prints_the_report_and_exits_zero_only_when_every_check_passes() {
    let (env, app, secret, tokens) = app_with_tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let env = env.with_issuer(&app.address);

    let run = cli(&env, &["token", "inspect", access], None).await;
    assert!(run.success, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("\"client_id\": \"demo\""), "{}", run.stdout);
    assert_eq!(run.stdout.matches("PASS  ").count(), 9, "{}", run.stdout);
    app.post_basic("/revoke", "demo", &secret, &[("token", access)]).await;
    let revoked = cli(&env, &["token", "inspect", access], None).await;
    assert!(revoked.stdout.contains("FAIL  revocation"), "{}", revoked.stdout);
    assert!(!revoked.success && revoked.stderr.contains("1 check(s) failed"), "{}", revoked.stderr);
    let garbage = cli(&env, &["token", "inspect", "-"], Some("garbage\n")).await;
    assert!(!garbage.success && garbage.stdout.contains("FAIL  structure"), "{}", garbage.stdout);
}

#[tokio::test]
async fn break_glass_gives_an_admin_a_new_password_and_clears_their_factor() {
    let (env, app, _, _) = app_with_tokens().await;
    app.enrol_totp("admin").await;

    let printed = cli_ok(&env, &["admin", "recover", "admin"], None).await;
    let password =
        printed.lines().find_map(|l| l.strip_prefix("password: ")).unwrap().split_whitespace().next().unwrap();
    let unknown = cli(&env, &["admin", "recover", "nobody"], None).await;
    let not_admin = cli(&env, &["admin", "recover", "alice"], None).await;

    assert!(!unknown.success && unknown.stderr.contains("no user `nobody`"), "{}", unknown.stderr);
    assert!(!not_admin.success && not_admin.stderr.contains("not an administrator"), "{}", not_admin.stderr);
    let mut browser = crate::support::browser::Browser::new(&app);
    let login = browser.get("/login?destination=admin").await;
    let csrf = login.hidden("csrf_token").unwrap();
    let page = browser
        .post(
            "/login",
            &[("csrf_token", &csrf), ("destination", "admin"), ("username", "admin"), ("password", password)],
        )
        .await;
    assert!(page.body.contains("Set up two-step verification"), "enrols again: {}", page.body);
    assert!(app.store.recent_audit_events(20).await.unwrap().iter().any(|e| e.event == "admin_recovered"));
}

#[tokio::test]
async fn a_token_for_an_api_is_shown_with_the_apis_name() {
    let (_env, app, secret, _) = app_with_tokens().await;
    app.seed_api("https://orders.example.com", &["read"], false).await;
    app.allow_apis("demo", &["https://orders.example.com"], true).await;
    let (_, code) = crate::support::browser::code_for(&app, "demo", "alice", "correct horse battery").await;
    let tokens = crate::support::browser::exchange(&app, "demo", &secret, &code).await;

    let report = inspect(&app, tokens["access_token"].as_str().unwrap()).await;

    let aud = report.checks.iter().find(|c| c.name == "aud").unwrap();
    assert!(aud.passed, "{aud:?}");
    assert_eq!(aud.detail, "the API https://orders.example.com");
}
