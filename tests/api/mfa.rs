//! Logging in with a second factor: TOTP and recovery codes, clients and requests that
//! demand two factors, step-up, and the admin pages' rule (replay and lockout:
//! attacks_mfa.rs).

use wristband::flows::admin::ClientInput;
use wristband::model::{ACR_ONE_FACTOR, ACR_TWO_FACTOR, Username};

use crate::support::browser::{Browser, REDIRECT_URI, authorize_query, claims, exchange};
use crate::support::pages::{has_session_cookie, is_code_page, password_step};
use crate::support::totp::{offered_secret, recovery_codes};
use crate::support::{PASSWORD, TestApp, app_with_alice, spawn_app};

#[tokio::test]
async fn a_password_and_a_totp_code_log_in_and_the_tokens_say_two_factors() {
    let (_env, app, secret) = app_with_alice().await;
    let phone = app.enrol_totp("alice").await;
    let mut browser = Browser::new(&app);

    let mfa_page = password_step(&mut browser, &authorize_query("demo", "openid", &[]), "alice").await;
    assert!(is_code_page(&mfa_page), "{}", mfa_page.body);
    assert!(mfa_page.body.contains("autocomplete=\"one-time-code\""));
    assert!(mfa_page.body.contains("Use a recovery code"));
    assert!(!has_session_cookie(&mfa_page), "no session before the second factor");
    let redirect = browser.submit_code(&mfa_page, &app.code(&phone)).await;

    assert_eq!(redirect.status, 303, "{}", redirect.body);
    assert!(has_session_cookie(&redirect));
    let tokens = exchange(&app, "demo", &secret, &redirect.redirect_param("code").expect("a code")).await;
    for token in ["id_token", "access_token"] {
        let claims = claims(tokens[token].as_str().unwrap());
        assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]), "{token}");
        assert_eq!(claims["acr"], ACR_TWO_FACTOR, "{token}");
    }
}

#[tokio::test]
async fn a_password_alone_says_one_factor() {
    let (_env, app, secret) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    let redirect = password_step(&mut browser, &authorize_query("demo", "openid", &[]), "alice").await;
    let tokens = exchange(&app, "demo", &secret, &redirect.redirect_param("code").expect("a code")).await;
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    assert_eq!(id["acr"], ACR_ONE_FACTOR);
}

#[tokio::test]
async fn a_half_done_login_expires_after_five_minutes_and_stays_in_its_browser() {
    let (_env, app, _) = app_with_alice().await;
    let phone = app.enrol_totp("alice").await;
    let mut browser = Browser::new(&app);
    let page = password_step(&mut browser, &authorize_query("demo", "openid", &[]), "alice").await;

    let challenge = page.hidden("challenge").unwrap();
    let request_id = page.hidden("request_id").unwrap();
    let mut thief = Browser::new(&app);
    let thief_csrf = thief.get("/login").await.hidden("csrf_token").unwrap();
    let code = app.code(&phone);
    let form =
        [("csrf_token", thief_csrf.as_str()), ("challenge", &challenge), ("request_id", &request_id), ("code", &code)];
    let elsewhere = thief.post("/login/mfa", &form).await;
    assert_eq!(elsewhere.status, 400, "another browser cannot finish it");
    assert!(!has_session_cookie(&elsewhere));

    app.clock.advance(301);
    let late = browser.submit_code(&page, &app.code(&phone)).await;
    assert_eq!(late.status, 400);
    assert!(late.body.contains("expired"), "{}", late.body);
}

#[tokio::test]
async fn a_client_that_requires_mfa_takes_a_person_without_totp_through_enrollment() {
    let (_env, app) = spawn_app().await;
    let secret = app
        .seed_client_with(ClientInput {
            client_id: "bank".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            first_party: true,
            require_mfa: true,
            ..ClientInput::default()
        })
        .await
        .unwrap();
    app.seed_user("alice", PASSWORD, &[]).await;
    let mut browser = Browser::new(&app);

    let enroll = password_step(&mut browser, &authorize_query("bank", "openid", &[]), "alice").await;
    assert!(enroll.body.contains("Set up two-step verification"), "{}", enroll.body);
    assert!(enroll.body.contains("data:image/png;base64,"));
    let phone = offered_secret(&enroll);
    let wrong = browser.submit_code(&enroll, "000000").await;
    assert!(wrong.body.contains("That code did not match") && offered_secret(&wrong).as_bytes() == phone.as_bytes());
    let codes_page = browser.submit_code(&enroll, &app.code(&phone)).await;
    assert_eq!(recovery_codes(&codes_page).len(), 10, "{}", codes_page.body);
    let csrf = codes_page.hidden("csrf_token").unwrap();
    let request_id = codes_page.hidden("request_id").unwrap();
    let redirect = browser.post("/login/resume", &[("csrf_token", &csrf), ("request_id", &request_id)]).await;

    assert_eq!(redirect.status, 303, "{}", redirect.body);
    let tokens = exchange(&app, "bank", &secret, &redirect.redirect_param("code").unwrap()).await;
    assert_eq!(claims(tokens["id_token"].as_str().unwrap())["acr"], ACR_TWO_FACTOR);
    let again = browser.post("/login/resume", &[("csrf_token", &csrf), ("request_id", &request_id)]).await;
    assert_eq!(again.status, 400, "a request is resumed once");
}

#[tokio::test]
async fn acr_values_steps_up_a_one_factor_session_and_keeps_its_sid() {
    let (_env, app, secret) = app_with_alice().await;
    let mut browser = Browser::new(&app);
    let first = password_step(&mut browser, &authorize_query("demo", "openid", &[]), "alice").await;
    let first_tokens = exchange(&app, "demo", &secret, &first.redirect_param("code").unwrap()).await;
    let first_id = claims(first_tokens["id_token"].as_str().unwrap());
    let two = [("acr_values", ACR_TWO_FACTOR)];

    let silent =
        browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[two[0], ("prompt", "none")]))).await;
    assert_eq!(silent.redirect_param("error").as_deref(), Some("login_required"));
    let step_up = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &two))).await;
    assert!(step_up.body.contains("Set up two-step verification"), "enrolment, not the password: {}", step_up.body);
    let phone = offered_secret(&step_up);
    let old_cookie = browser.cookies["__Host-wristband_session"].clone();
    let shown = browser.submit_code(&step_up, &app.code(&phone)).await;
    assert_eq!(recovery_codes(&shown).len(), 10, "{}", shown.body);
    let resume =
        [("csrf_token", shown.hidden("csrf_token").unwrap()), ("request_id", shown.hidden("request_id").unwrap())];
    let redirect = browser.post("/login/resume", &resume.each_ref().map(|(k, v)| (*k, v.as_str()))).await;

    assert_eq!(redirect.status, 303, "{}", redirect.body);
    assert_ne!(browser.cookies["__Host-wristband_session"], old_cookie, "a new cookie after the step-up");
    let tokens = exchange(&app, "demo", &secret, &redirect.redirect_param("code").unwrap()).await;
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["acr"], ACR_TWO_FACTOR);
    assert_eq!(id["sid"], first_id["sid"], "the same session");
    let mut replayed = Browser::new(&app);
    replayed.cookies.insert("__Host-wristband_session".into(), old_cookie);
    let login = replayed.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert!(login.body.contains("action=\"/login\""), "the old cookie is worthless");
    let no_more = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &two))).await;
    assert_eq!(no_more.status, 302, "two factors already: straight back with a code");
}

#[tokio::test]
async fn prompt_login_and_max_age_ask_for_the_factor_again() {
    let (_env, app, _) = app_with_alice().await;
    let phone = app.enrol_totp("alice").await;
    let mut browser = Browser::new(&app);
    let page = password_step(&mut browser, &authorize_query("demo", "openid", &[]), "alice").await;
    assert_eq!(browser.submit_code(&page, &app.code(&phone)).await.status, 303);
    app.clock.advance(120);

    for extra in [("prompt", "login"), ("max_age", "60")] {
        let page = password_step(&mut browser, &authorize_query("demo", "openid", &[extra]), "alice").await;
        assert!(is_code_page(&page), "{extra:?}: {}", page.body);
        assert_eq!(browser.submit_code(&page, &app.code(&phone)).await.status, 303, "{extra:?}");
        app.clock.advance(61);
    }
}

#[tokio::test]
async fn the_first_administrator_enrols_totp_on_the_way_to_admin() {
    let (_env, app) = spawn_app().await;
    let admin = app.bootstrapped_admin.clone().expect("a bootstrapped admin");
    let password = admin.password.expect("a generated password");
    let mut browser = Browser::new(&app);

    let to_login = browser.get("/admin").await;
    assert_eq!(to_login.location.as_deref(), Some("/login?destination=admin"));
    let login = browser.get("/login?destination=admin").await;
    let enroll = browser
        .post(
            "/login",
            &[
                ("csrf_token", &login.hidden("csrf_token").unwrap()),
                ("destination", "admin"),
                ("username", "admin"),
                ("password", password.expose()),
            ],
        )
        .await;
    assert!(enroll.body.contains("Set up two-step verification"), "{}", enroll.body);
    let phone = offered_secret(&enroll);
    let codes = browser.submit_code(&enroll, &app.code(&phone)).await;
    assert!(codes.body.contains("href=\"/admin\""), "{}", codes.body);
    let temporary = browser.get("/admin").await;
    let back = browser.replace_password(&temporary, "the admin's own passphrase").await;
    assert_eq!(back.location.as_deref(), Some("/admin"), "the printed password was temporary");
    let home = browser.get("/admin").await;

    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("with two factors"));
    assert_eq!(claims_of_session(&app).await, ACR_TWO_FACTOR);
}

async fn claims_of_session(app: &TestApp) -> String {
    let admin = app.store.find_user_by_username(&Username::parse("admin").unwrap()).await.unwrap().unwrap();
    let sessions = app.store.list_live_sessions(admin.id, app.clock_now()).await.unwrap();
    sessions[0].acr.clone()
}

#[tokio::test]
async fn a_one_factor_administrator_steps_up_and_others_are_refused() {
    let (_env, app, _) = app_with_alice().await;
    let admin_password = app.bootstrapped_admin.clone().unwrap().password.unwrap();
    let mut alice = Browser::new(&app);
    password_step(&mut alice, &authorize_query("demo", "openid", &[]), "alice").await;
    assert_eq!(alice.get("/admin").await.status, 403, "not an administrator");

    let mut admin = Browser::new(&app);
    let login = admin.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let temporary = admin.submit_login(&login, "admin", admin_password.expose()).await;
    assert_eq!(admin.replace_password(&temporary, "the admin's own passphrase").await.status, 303, "one factor");
    let step_up = admin.get("/admin").await;
    assert!(step_up.body.contains("Set up two-step verification"), "{}", step_up.body);
    let phone = offered_secret(&step_up);
    let shown = admin.submit_code(&step_up, &app.code(&phone)).await;

    assert_eq!(recovery_codes(&shown).len(), 10, "{}", shown.body);
    assert_eq!(admin.get("/admin").await.status, 200);
}

#[tokio::test]
async fn the_cli_enrols_totp_at_once_and_reset_mfa_removes_it_and_ends_the_grants() {
    let (env, app, secret) = app_with_alice().await;
    let printed = crate::support::process::cli_ok(&env, &["user", "totp", "alice"], None).await;
    let url = printed.lines().find(|l| l.starts_with("otpauth://totp/")).expect("the otpauth URI");
    let phone = crate::support::totp::authenticator(url);
    let twice = crate::support::process::cli(&env, &["user", "totp", "alice"], None).await;
    assert!(!twice.success && twice.stderr.contains("already has TOTP"), "{}", twice.stderr);

    let mut browser = Browser::new(&app);
    let page = password_step(&mut browser, &authorize_query("demo", "openid", &[]), "alice").await;
    assert!(is_code_page(&page), "active at once");
    let redirect = browser.submit_code(&page, &app.code(&phone)).await;
    let tokens = exchange(&app, "demo", &secret, &redirect.redirect_param("code").unwrap()).await;

    crate::support::process::cli_ok(&env, &["user", "reset-mfa", "alice"], None).await;

    let refresh = tokens["refresh_token"].as_str().unwrap();
    let refreshed =
        app.post_token("demo", &secret, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(refreshed.status(), 400, "the family ended");
    let page = password_step(&mut Browser::new(&app), &authorize_query("demo", "openid", &[]), "alice").await;
    assert_eq!(page.status, 303, "a password alone again");
    let events = app.store.recent_audit_events(30).await.unwrap();
    assert!(events.iter().any(|e| e.event == "mfa_enrolled") && events.iter().any(|e| e.event == "mfa_reset"));
}
