//! The database goes away and comes back: requests that need it fail at once with 503 and
//! say why, `/readyz` says why, and the instance recovers by itself.

use std::time::{Duration, Instant};

use crate::support::TestEnv;
use crate::support::browser::{Browser, REDIRECT_URI, VERIFIER, authorize_query, code_for, exchange};
use crate::support::postgres::PgCluster;

/// Longer than any answer may take while the database is down: not a hang.
const NO_HANG: Duration = Duration::from_secs(10);

#[tokio::test]
async fn while_postgresql_is_stopped_requests_fail_with_503_and_all_recovers_when_it_returns() {
    let cluster = PgCluster::start();
    let env = TestEnv::on_database(cluster.url());
    let app = env.spawn().await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", "correct horse battery", &[]).await;
    let (_, code) = code_for(&app, "demo", "alice", "correct horse battery").await;
    let http = reqwest::Client::builder().timeout(NO_HANG).build().unwrap();

    cluster.stop();

    let ready = http.get(app.url("/readyz")).send().await.expect("an answer, not a hang");
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["reason"], "database unreachable");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];
    let token = http.post(app.url("/token")).basic_auth("demo", Some(&secret)).form(&form).send().await.unwrap();
    assert_eq!(token.status(), 503);
    assert!(token.headers().contains_key("retry-after"));
    let body: serde_json::Value = token.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    let mut browser = Browser::new(&app);
    let page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert_eq!(page.status, 503);
    assert!(page.body.contains("Try again in a minute"), "the page says what to do: {}", page.body);

    cluster.start_again();

    let started = Instant::now();
    while http.get(app.url("/readyz")).send().await.map(|r| r.status().as_u16()).ok() != Some(200) {
        assert!(started.elapsed() < Duration::from_secs(30), "the instance did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let tokens = exchange(&app, "demo", &secret, &code).await;
    assert!(tokens["id_token"].is_string(), "the code minted before the outage still works: nothing half-done");
}
