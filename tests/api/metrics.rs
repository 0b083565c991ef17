//! `/metrics` on its own listener: what an operator's Prometheus sees after tokens,
//! sign-ins, second factors and a refresh-token replay.

use crate::support::browser::{Browser, REDIRECT_URI, authorize_query, code_for, exchange};
use crate::support::{PASSWORD, TestEnv};

#[tokio::test]
async fn metrics_count_tokens_logins_second_factors_replays_and_requests() {
    let env = TestEnv::new().await;
    let mut config = env.config();
    config.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    let app = env.spawn_with(config).await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    app.seed_user("bob", PASSWORD, &[]).await;
    let phone = app.enrol_totp("bob").await;

    let mut guesser = Browser::new(&app);
    let login = guesser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert_eq!(guesser.submit_login(&login, "alice", "wrong").await.status, 200);
    let (_, code) = code_for(&app, "demo", "alice", PASSWORD).await;
    let tokens = exchange(&app, "demo", &secret, &code).await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let refresh = [("grant_type", "refresh_token"), ("refresh_token", first)];
    assert_eq!(app.post_token("demo", &secret, &refresh).await.status(), 200);
    assert_eq!(app.post_token("demo", &secret, &refresh).await.status(), 400, "a replay");
    let mut bob = Browser::new(&app);
    let login = bob.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    let challenge = bob.submit_login(&login, "bob", PASSWORD).await;
    let wrong = bob.submit_code(&challenge, "000000").await;
    assert_eq!(bob.submit_code(&wrong, &app.code(&phone)).await.status, 303);

    let odd = reqwest::Method::from_bytes(b"FOOBAR").unwrap();
    assert_eq!(app.http.request(odd, app.url("/token")).send().await.unwrap().status(), 404);

    let scraped = app.http.get(format!("{}/metrics", app.metrics_address.as_ref().unwrap())).send().await.unwrap();

    assert_eq!(scraped.status(), 200);
    assert!(scraped.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = scraped.text().await.unwrap();
    for line in [
        r#"wristband_tokens_issued_total{grant_type="authorization_code"} 1"#,
        r#"wristband_tokens_issued_total{grant_type="refresh_token"} 1"#,
        r#"wristband_logins_total{outcome="failure"} 1"#,
        r#"wristband_logins_total{outcome="success"} 2"#,
        r#"wristband_mfa_verifications_total{outcome="wrong"} 1"#,
        r#"wristband_mfa_verifications_total{outcome="accepted"} 1"#,
        "wristband_refresh_token_reuse_detected_total 1",
        r#"wristband_http_request_duration_seconds_count{route="/token",method="POST",status="400"} 1"#,
        r#"wristband_http_request_duration_seconds_count{route="/token",method="POST",status="200"} 2"#,
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
    }
    assert!(text.contains(r#"wristband_db_connections{state="open"} "#), "{text}");
    assert!(!text.contains("FOOBAR") && text.contains(r#"method="other""#), "made-up methods share one label");
    assert!(!text.contains(&secret) && !text.contains(first), "no secret in the metrics");
    assert_eq!(app.get("/metrics").await.status(), 404, "not on the public listener");
}
