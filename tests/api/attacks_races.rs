//! The attack suite, limits raced: many guesses sent at once must be judged against the
//! lockout as if they came one by one, and a flood of sign-ins must be refused quickly
//! instead of queueing for the password hash while other endpoints keep answering.

use futures::future::join_all;

use crate::support::browser::{Browser, Page, REDIRECT_URI, authorize_query};
use crate::support::{PASSWORD, TestApp, TestEnv};

/// An app whose per-address login limit is off, so each test sees the limit it races.
async fn app_without_address_limit() -> (TestEnv, TestApp) {
    let env = TestEnv::new().await;
    let mut config = env.config();
    config.rate_limits.login_failures_per_ip = None;
    let app = env.spawn_with(config).await;
    app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    (env, app)
}

async fn login_page(app: &TestApp) -> (Browser, Page) {
    let mut browser = Browser::new(app);
    let page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    (browser, page)
}

/// Posts the login form of `page` `count` times at once, for the usernames `username(i)`.
async fn guesses(browser: &Browser, page: &Page, count: usize, username: impl Fn(usize) -> String) -> Vec<Page> {
    let csrf = page.hidden("csrf_token").unwrap();
    let request_id = page.hidden("request_id").unwrap();
    join_all((0..count).map(|i| {
        let mut browser = browser.clone();
        let (csrf, request_id, username) = (csrf.clone(), request_id.clone(), username(i));
        async move {
            let form = [
                ("csrf_token", csrf.as_str()),
                ("request_id", &request_id),
                ("username", &username),
                ("password", "a wrong guess"),
            ];
            browser.post("/login", &form).await
        }
    }))
    .await
}

async fn audited(app: &TestApp, event: &str) -> usize {
    app.store.recent_audit_events(10_000).await.unwrap().iter().filter(|e| e.event == event).count()
}

#[tokio::test]
async fn sixty_concurrent_guesses_at_one_username_check_at_most_the_lockout_attempts() {
    let (_env, app) = app_without_address_limit().await;
    let (browser, page) = login_page(&app).await;

    let answers = guesses(&browser, &page, 60, |_| "alice".to_owned()).await;

    let limit = app.config.login.lockout_attempts as usize;
    let wrong = answers.iter().filter(|a| a.status == 200 && a.body.contains("Incorrect username or password")).count();
    let refused = answers.iter().filter(|a| a.status == 429 && a.headers.contains_key("retry-after")).count();
    assert!(wrong < limit, "{wrong} wrong-password pages");
    assert_eq!(wrong + refused, 60, "every answer is a wrong password or a refusal");
    assert_eq!(audited(&app, "login_failed").await, limit, "exactly the allowed guesses were checked");
    assert_eq!(audited(&app, "login_locked").await, 1);
    let (mut browser, page) = login_page(&app).await;
    assert_eq!(browser.submit_login(&page, "alice", PASSWORD).await.status, 429, "the right password waits too");
}

#[tokio::test]
async fn concurrent_guesses_from_one_address_check_at_most_its_budget() {
    let env = TestEnv::new().await;
    let app = env.spawn().await;
    app.seed_client("demo", REDIRECT_URI, true).await;
    let budget = app.config.rate_limits.login_failures_per_ip.unwrap().burst as usize;
    let (browser, page) = login_page(&app).await;

    let answers = guesses(&browser, &page, budget * 2, |i| format!("user{i}")).await;

    assert_eq!(audited(&app, "login_failed").await, budget, "guesses across usernames stop at the address budget");
    assert_eq!(answers.iter().filter(|a| a.status == 429).count(), budget);
}

#[tokio::test]
async fn a_hundred_concurrent_codes_check_at_most_the_mfa_lockout_attempts() {
    let (_env, app) = app_without_address_limit().await;
    let phone = app.enrol_totp("alice").await;
    let (mut browser, page) = login_page(&app).await;
    let code_page = browser.submit_login(&page, "alice", PASSWORD).await;
    assert!(code_page.body.contains("Two-step verification"), "{}", code_page.body);
    let form = |code: &str| {
        vec![
            ("csrf_token", code_page.hidden("csrf_token").unwrap()),
            ("challenge", code_page.hidden("challenge").unwrap()),
            ("request_id", code_page.hidden("request_id").unwrap()),
            ("code", code.to_owned()),
        ]
    };

    let answers = join_all((0..100).map(|i| {
        let mut browser = browser.clone();
        let form = form(&format!("{:06}", 100_000 + i));
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.post("/login/mfa", &form).await
        }
    }))
    .await;

    let limit = app.config.mfa.lockout_attempts as usize;
    let failed = audited(&app, "mfa_failed").await;
    // One of the guesses may be today's code by chance; then fewer were wrong.
    assert!(failed <= limit && failed >= limit - 1, "{failed} wrong codes were checked");
    assert!(answers.iter().filter(|a| a.status == 429).count() >= 100 - limit);
    let right = form(&app.code(&phone));
    let right: Vec<(&str, &str)> = right.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(browser.post("/login/mfa", &right).await.status, 429, "locked: the right code waits too");
}

#[tokio::test]
async fn a_flood_of_sign_ins_gets_quick_refusals_while_the_jwks_keeps_answering() {
    let (_env, app) = app_without_address_limit().await;
    let (browser, page) = login_page(&app).await;
    let jwks = reqwest::Client::new();

    let (answers, keys) = tokio::join!(guesses(&browser, &page, 400, |i| format!("user{i}")), async {
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(jwks.get(app.url("/jwks.json")).send().await.unwrap().status().as_u16());
        }
        statuses
    });

    assert!(keys.iter().all(|s| *s == 200), "{keys:?}");
    let busy: Vec<_> = answers.iter().filter(|a| a.status == 429).collect();
    assert!(!busy.is_empty(), "the hashing queue is bounded: some sign-ins are refused at once");
    assert!(busy.iter().all(|a| a.headers.contains_key("retry-after")));
    assert!(answers.iter().all(|a| a.status == 429 || a.status == 200), "nothing else: no 500");
}
