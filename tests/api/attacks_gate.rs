//! The attack suite, the login gate: every page that can resume an authorization request
//! is posted the hidden fields of every other page a request can show, and requests that
//! demand a fresh login are resumed over an old session. None of it may yield a code.

use wristband::flows::admin::ClientInput;

use crate::support::TestApp;
use crate::support::app_with_alice;
use crate::support::browser::{Browser, Page, REDIRECT_URI, authorize_query};
use crate::support::pages::password_step;

/// Whether the page sends the browser back to the client with a code.
fn gives_code(page: &Page) -> bool {
    page.location.as_deref().is_some_and(|l| l.starts_with(REDIRECT_URI) && l.contains("code="))
}

/// Posts `page`'s request id and CSRF token to every page that resumes a request, as an
/// attacker replaying one page's form against another's; returns what each answered.
async fn replay_everywhere(browser: &mut Browser, page: &Page) -> Vec<(&'static str, Page)> {
    let csrf = page.hidden("csrf_token").expect("a CSRF token");
    let request_id = page.hidden("request_id").expect("a request id");
    let fields = |extra: &[(&'static str, &'static str)]| {
        let mut form = vec![("csrf_token", csrf.clone()), ("request_id", request_id.clone())];
        form.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        form
    };
    let attempts: [(&str, Vec<(&str, String)>); 4] = [
        ("/login/password", fields(&[("new_password", "a brand new pass"), ("confirm_password", "a brand new pass")])),
        ("/login/resume", fields(&[])),
        ("/consent", fields(&[("decision", "allow")])),
        ("/login/mfa", fields(&[("challenge", "x"), ("code", "123456")])),
    ];
    let mut answers = Vec::new();
    for (path, form) in attempts {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        answers.push((path, browser.post(path, &form).await));
    }
    answers
}

fn assert_no_code(answers: &[(&str, Page)], what: &str) {
    for (path, page) in answers {
        assert!(!gives_code(page), "{what}: {path} gave a code: {:?}", page.location);
    }
}

async fn seed_bank(app: &TestApp) {
    let input = ClientInput {
        client_id: "bank".into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        first_party: true,
        require_mfa: true,
        ..ClientInput::default()
    };
    app.seed_client_with(input).await.unwrap();
}

/// A browser signed in with the password alone (alice, no second factor).
async fn one_factor_browser(app: &TestApp) -> Browser {
    let mut browser = Browser::new(app);
    let done = password_step(&mut browser, &authorize_query("demo", "openid", &[]), "alice").await;
    assert!(gives_code(&done), "{:?} {}", done.location, done.body);
    browser
}

#[tokio::test]
async fn the_enrolment_page_of_a_two_factor_client_replayed_anywhere_gives_no_code() {
    let (_env, app, _) = app_with_alice().await;
    seed_bank(&app).await;
    let mut browser = one_factor_browser(&app).await;

    let enrol = browser.get(&format!("/authorize?{}", authorize_query("bank", "openid", &[]))).await;
    assert!(enrol.body.contains("Set up two-step verification"), "{}", enrol.body);
    let answers = replay_everywhere(&mut browser, &enrol).await;

    assert_no_code(&answers, "enrolment page");
    let resumed = browser
        .post(
            "/login/resume",
            &[
                ("csrf_token", &enrol.hidden("csrf_token").unwrap()),
                ("request_id", &enrol.hidden("request_id").unwrap()),
            ],
        )
        .await;
    assert!(!gives_code(&resumed));
}

#[tokio::test]
async fn the_code_page_of_an_acr_request_replayed_anywhere_gives_no_code() {
    let (_env, app, _) = app_with_alice().await;
    let mut browser = one_factor_browser(&app).await;
    app.enrol_totp("alice").await;
    // Turning TOTP on ended the one-factor session: sign in with the password again, in a
    // browser the attacker holds, and ask for two factors.
    let mut browser2 = Browser::new(&app);
    let two = authorize_query("demo", "openid", &[("acr_values", "urn:wristband:acr:2fa")]);
    let code_page = password_step(&mut browser2, &two, "alice").await;
    assert!(code_page.body.contains("Two-step verification"), "{}", code_page.body);

    let answers = replay_everywhere(&mut browser2, &code_page).await;

    assert_no_code(&answers, "code page");
    let old = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert!(!gives_code(&old), "the one-factor session ended when TOTP was turned on");
}

#[tokio::test]
async fn prompt_login_and_max_age_zero_over_a_live_session_give_no_code_without_a_new_login() {
    let (_env, app, _) = app_with_alice().await;
    let mut browser = one_factor_browser(&app).await;

    for extra in [("prompt", "login"), ("max_age", "0")] {
        // The session is older than the request, as any session an attacker holds is.
        app.clock.advance(5);
        let login = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[extra]))).await;
        assert!(login.body.contains("action=\"/login\""), "{extra:?}: the login page: {}", login.body);
        let answers = replay_everywhere(&mut browser, &login).await;
        assert_no_code(&answers, &format!("{extra:?}"));

        let login = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[extra]))).await;
        let done = browser.submit_login(&login, "alice", "correct horse battery").await;
        assert!(gives_code(&done), "{extra:?}: a new login answers it: {}", done.body);
    }
}

#[tokio::test]
async fn max_age_is_measured_from_the_last_login() {
    let (_env, app, _) = app_with_alice().await;
    let mut browser = one_factor_browser(&app).await;
    app.clock.advance(120);

    let within = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("max_age", "300")]))).await;
    let beyond = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[("max_age", "60")]))).await;

    assert!(gives_code(&within), "{:?}", within.location);
    assert!(!gives_code(&beyond) && beyond.body.contains("action=\"/login\""), "{}", beyond.body);
}

#[tokio::test]
async fn the_password_page_refuses_a_session_without_a_temporary_password() {
    let (_env, app, _) = app_with_alice().await;
    let mut browser = one_factor_browser(&app).await;
    let account = browser.get("/account").await;
    let csrf = account.hidden("csrf_token").expect("account page CSRF token");

    let posted = browser
        .post(
            "/login/password",
            &[
                ("csrf_token", &csrf),
                ("destination", "account"),
                ("new_password", "a brand new pass"),
                ("confirm_password", "a brand new pass"),
            ],
        )
        .await;

    assert_ne!(posted.status, 303, "{:?}", posted.location);
    let mut fresh = Browser::new(&app);
    let login = fresh.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let done = fresh.submit_login(&login, "alice", "a brand new pass").await;
    assert!(!gives_code(&done), "the password did not change");
}
