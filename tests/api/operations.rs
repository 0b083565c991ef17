//! The real binary as operators run it: JSON logs that tie each line to its request, and
//! a SIGTERM that lets the requests in flight finish.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

use crate::support::browser::{Browser, REDIRECT_URI, authorize_query};
use crate::support::process::{free_port, wait_until_ready, wristband_in};
use crate::support::{PASSWORD, TestApp, TestEnv};

/// `wristband serve` with JSON logs, its stderr piped; and a client of it with `demo`
/// and `alice`.
async fn serve_json(env: &TestEnv) -> (Child, TestApp, String) {
    serve_logging(env, "json").await
}

async fn serve_logging(env: &TestEnv, log_format: &str) -> (Child, TestApp, String) {
    let base = format!("http://127.0.0.1:{}", free_port());
    let mut server = wristband_in(env)
        .arg("serve")
        .env("WRISTBAND_BIND", base.trim_start_matches("http://"))
        .env("WRISTBAND_LOG_FORMAT", log_format)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    wait_until_ready(&base, &mut server).await;
    let app = TestApp::at(env, &base).await;
    let secret = app.seed_client("demo", REDIRECT_URI, true).await;
    app.seed_user("alice", PASSWORD, &[]).await;
    (server, app, secret)
}

/// Sends SIGTERM, as an orchestrator stopping a container does.
async fn terminate(server: &Child) {
    let pid = server.id().expect("still running").to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill runs");
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_lets_the_sign_ins_in_flight_finish_then_exits_zero() {
    let env = TestEnv::new().await;
    let (mut server, app, _) = serve_json(&env).await;
    let mut forms = Vec::new();
    for _ in 0..6 {
        let mut browser = Browser::new(&app);
        let page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
        forms.push((browser, page));
    }

    // Six argon2 verifications on two cores: some are still hashing when the signal lands.
    let in_flight: Vec<_> = forms
        .into_iter()
        .map(|(mut browser, page)| {
            tokio::spawn(async move {
                let answered = browser.submit_login(&page, "alice", PASSWORD).await;
                (answered, std::time::Instant::now())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    terminate(&server).await;
    let signalled = std::time::Instant::now();

    let mut answered_after_the_signal = 0;
    for sign_in in in_flight {
        let (page, answered) = sign_in.await.expect("the request was answered, not cut off");
        assert_eq!(page.status, 303, "{}", page.body);
        answered_after_the_signal += usize::from(answered > signalled);
    }
    assert!(answered_after_the_signal > 0, "no sign-in was still in flight at SIGTERM: the test proved nothing");
    let exit = tokio::time::timeout(Duration::from_secs(40), server.wait()).await.expect("it exits").unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    assert!(reqwest::get(app.url("/healthz")).await.is_err(), "nothing listens any more");
}

#[tokio::test]
async fn json_log_lines_carry_their_request_id_and_the_client_address_not_a_forged_one() {
    let env = TestEnv::new().await;
    let (mut server, app, _) = serve_json(&env).await;
    let hint = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLWEtaGludA";

    let refused = app
        .http
        .post(app.url("/token"))
        .basic_auth("demo", Some("wbs_not-the-secret"))
        .header("X-Forwarded-For", "203.0.113.66")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let _ = app.http.get(app.url(&format!("/end_session?id_token_hint={hint}"))).send().await.unwrap();
    terminate(&server).await;
    server.wait().await.unwrap();
    let mut log = String::new();
    server.stderr.take().unwrap().read_to_string(&mut log).await.unwrap();

    assert_eq!(refused.status(), 401);
    let lines: Vec<serde_json::Value> =
        log.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"))).collect();
    let refusal = lines.iter().find(|l| l["fields"]["message"] == "request refused").expect("the refusal is logged");
    let span = &refusal["span"];
    assert_eq!(span["request_id"].as_str().map(str::len), Some(36), "{refusal}");
    assert_eq!(span["path"], "/token");
    assert_eq!(span["client_ip"], "127.0.0.1", "no proxy is trusted: {refusal}");
    assert!(!log.contains("203.0.113.66"), "a forged X-Forwarded-For does not reach the log");
    assert!(!log.contains(hint) && !log.contains("wbs_not-the-secret"), "no token or secret in the log");
}

/// An authorization request whose `response_type` carries a CR LF and a fake log line.
const FORGED: &str = "2026-01-01T00:00:00.000000Z ERROR wristband: forged";

async fn send_forged_line(app: &TestApp) {
    let query = format!(
        "/authorize?client_id=demo&redirect_uri={}&response_type={}",
        urlencode(REDIRECT_URI),
        urlencode(&format!("token\r\n{FORGED}\u{1b}[2J"))
    );
    let response = app.http.get(app.url(&query)).send().await.unwrap();
    assert_eq!(response.status(), 302, "refused back to the client");
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn log_of(mut server: Child) -> String {
    terminate(&server).await;
    server.wait().await.unwrap();
    let mut log = String::new();
    server.stderr.take().unwrap().read_to_string(&mut log).await.unwrap();
    log
}

#[tokio::test]
async fn request_values_cannot_forge_log_lines_in_either_format() {
    for format in ["text", "json"] {
        let env = TestEnv::new().await;
        let (server, app, _) = serve_logging(&env, format).await;

        send_forged_line(&app).await;
        let log = log_of(server).await;

        assert!(log.contains("forged"), "{format}: the value is logged: {log}");
        assert!(!log.lines().any(|line| line.starts_with(FORGED)), "{format}: a forged line: {log}");
        assert!(!log.contains('\u{1b}') && !log.contains('\r'), "{format}: raw control characters: {log:?}");
        if format == "json" {
            assert!(log.lines().all(|line| serde_json::from_str::<serde_json::Value>(line).is_ok()), "{log}");
        }
    }
}
