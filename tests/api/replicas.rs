//! Several `wristband serve` processes on one database, one master key and one issuer, as
//! behind a load balancer: any request may land on any instance, and what one instance
//! did holds on the others.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};

use tokio::process::Child;
use wristband::app::KEY_REFRESH_INTERVAL;
use wristband::flows::Actor;
use wristband::flows::admin::{ClientInput, UserInput, add_user};
use wristband::security::secret::SecretString;

use crate::support::browser::{Browser, REDIRECT_URI, VERIFIER, authorize_query, claims, exchange, header};
use crate::support::process::{free_port, wait_until_ready, wristband_in};
use crate::support::{PASSWORD, TestApp, TestEnv};

/// Instances of the real binary on one database; `apps[i]` talks to instance `i`. The
/// issuer is the first instance's address, as it would be a proxy's.
pub struct Replicas {
    env: TestEnv,
    pub apps: Vec<TestApp>,
    children: Vec<Child>,
    /// The first-party client `demo`'s secret; the user `alice` has `PASSWORD`.
    pub secret: String,
}

impl Replicas {
    /// Starts `count` instances at once (they race to migrate and to create the first keys
    /// and administrator), then registers `demo` (a first-party client that may also use client_credentials)
    /// and `alice`.
    pub async fn start(count: usize) -> Self {
        let ports: Vec<u16> = (0..count).map(|_| free_port()).collect();
        let issuer = format!("http://127.0.0.1:{}", ports[0]);
        let env = TestEnv::new().await.with_issuer(&issuer);
        let mut children: Vec<Child> = ports.iter().map(|port| serve(&env, *port)).collect();
        let mut apps = Vec::new();
        for (port, child) in ports.iter().zip(&mut children) {
            let base = format!("http://127.0.0.1:{port}");
            wait_until_ready(&base, child).await;
            apps.push(TestApp::at(&env, &base).await);
        }
        let demo = ClientInput {
            client_id: "demo".into(),
            redirect_uris: vec![REDIRECT_URI.into()],
            grant_types: ["authorization_code", "refresh_token", "client_credentials"].map(String::from).to_vec(),
            first_party: true,
            ..ClientInput::default()
        };
        let secret = apps[0].seed_client_with(demo).await.expect("a confidential client");
        apps[0].seed_user("alice", PASSWORD, &[]).await;
        Self { env, apps, children, secret }
    }

    /// Stops instance `i` the hard way (SIGKILL): no shutdown, no flush, like a crash.
    pub async fn kill(&mut self, i: usize) {
        self.children[i].kill().await.expect("the instance is killed");
    }

    /// The last lines instance `i` logged.
    fn log_tail(&self, i: usize) -> String {
        let port = self.apps[i].address.rsplit(':').next().unwrap_or_default();
        let log = std::fs::read_to_string(self.env.dir.path().join(format!("serve-{port}.log"))).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The token response of a code exchange at instance `i`.
    async fn exchange_at(&self, i: usize, code: &str) -> reqwest::Response {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ];
        self.apps[i].post_token("demo", &self.secret, &form).await
    }

    async fn refresh_at(&self, i: usize, refresh_token: &str) -> reqwest::Response {
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        self.apps[i].post_token("demo", &self.secret, &form).await
    }

    /// The `kid` a client_credentials token from instance `i` is signed with.
    async fn signing_kid_at(&self, i: usize) -> String {
        let response = self.apps[i].post_token("demo", &self.secret, &[("grant_type", "client_credentials")]).await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        header(body["access_token"].as_str().unwrap())["kid"].as_str().unwrap().to_owned()
    }
}

/// `wristband serve` on `port`, its log in the environment's folder. The load test sends
/// one client's requests faster than its default allowance at `/token`.
fn serve(env: &TestEnv, port: u16) -> Child {
    let log = std::fs::File::create(env.dir.path().join(format!("serve-{port}.log"))).expect("log file");
    wristband_in(env)
        .arg("serve")
        .env("WRISTBAND_BIND", format!("127.0.0.1:{port}"))
        .env("WRISTBAND_RATE_LIMITS_TOKEN_PER_CLIENT", "off")
        .env("WRISTBAND_RATE_LIMITS_TOKEN_PER_IP", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("serve starts")
}

/// An administrator signed in with TOTP at `app`'s instance; and the session's form token.
async fn admin_at(app: &TestApp) -> (Browser, String) {
    let input = UserInput {
        username: "ops".into(),
        is_admin: true,
        password: Some(SecretString::new(PASSWORD)),
        ..UserInput::default()
    };
    add_user(&app.ctx(), input, Actor::Cli).await.unwrap();
    let phone = app.enrol_totp("ops").await;
    let mut browser = Browser::new(app);
    let login = browser.get("/login?destination=admin").await;
    let csrf = login.hidden("csrf_token").unwrap();
    let form = [("csrf_token", csrf.as_str()), ("destination", "admin"), ("username", "ops"), ("password", PASSWORD)];
    let code_page = browser.post("/login", &form).await;
    let signed_in = browser.submit_code(&code_page, &app.code(&phone)).await;
    assert_eq!(signed_in.location.as_deref(), Some("/admin"), "{}", signed_in.body);
    let csrf = browser.get("/admin/keys").await.hidden("csrf_token").expect("the session's form token");
    (browser, csrf)
}

#[tokio::test]
async fn a_login_started_on_one_instance_finishes_on_another_and_its_code_works_once_anywhere() {
    let replicas = Replicas::start(2).await;
    let (a, b) = (&replicas.apps[0], &replicas.apps[1]);

    let mut browser = Browser::new(a);
    let login_page = browser.get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await;
    assert_eq!(login_page.status, 200);
    browser.switch_to(b);
    let redirect = browser.submit_login(&login_page, "alice", PASSWORD).await;
    assert_eq!(redirect.status, 303, "{}", redirect.body);
    let code = redirect.redirect_param("code").expect("a code from the second instance");

    let tokens = exchange(a, "demo", &replicas.secret, &code).await;
    let id_token = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id_token["iss"], a.address.as_str(), "one issuer, whichever instance signs");
    assert_eq!(id_token["nonce"], "n-0S6_WzA2Mj");

    let again = replicas.exchange_at(1, &code).await;
    assert_eq!(again.status(), 400);
    assert_eq!(again.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    let access_token = tokens["access_token"].as_str().unwrap();
    let introspected: serde_json::Value =
        a.post_basic("/introspect", "demo", &replicas.secret, &[("token", access_token)]).await.json().await.unwrap();
    assert_eq!(introspected["active"], false, "a code used twice revokes what it issued, on every instance");
}

#[tokio::test]
async fn a_refresh_token_reused_on_another_instance_revokes_the_family_everywhere() {
    let replicas = Replicas::start(2).await;
    let (a, b) = (&replicas.apps[0], &replicas.apps[1]);
    let mut browser = Browser::new(a);
    let redirect =
        browser.authorize_and_login(&authorize_query("demo", "openid offline_access", &[]), "alice", PASSWORD).await;
    let tokens = exchange(b, "demo", &replicas.secret, &redirect.redirect_param("code").unwrap()).await;
    let first = tokens["refresh_token"].as_str().expect("a refresh token").to_owned();

    let rotated = replicas.refresh_at(0, &first).await;
    assert_eq!(rotated.status(), 200);
    let second = rotated.json::<serde_json::Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_owned();
    let reused = replicas.refresh_at(1, &first).await;
    assert_eq!(reused.status(), 400, "the rotation on one instance is seen by the other");

    for i in [0, 1] {
        let response = replicas.refresh_at(i, &second).await;
        assert_eq!(response.status(), 400, "the family is revoked on instance {i}");
        assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    }
    let families = a.store.search_families(None, Some("demo"), 0, 10).await.unwrap();
    assert_eq!(families.len(), 1);
    assert_eq!(families[0].revoked_reason.as_deref(), Some("refresh_token_reused"));
}

#[tokio::test]
async fn a_key_rotated_on_one_instance_signs_on_the_others_within_the_key_refresh_interval() {
    let replicas = Replicas::start(2).await;
    let a = &replicas.apps[0];
    let before = replicas.signing_kid_at(1).await;
    assert_eq!(replicas.signing_kid_at(0).await, before);

    let (mut admin, csrf) = admin_at(a).await;
    let rotated = admin.post("/admin/keys/rotate", &[("csrf_token", &csrf), ("confirm", "yes")]).await;
    assert_eq!(rotated.status, 303, "{}", rotated.body);
    let after = replicas.signing_kid_at(0).await;
    assert_ne!(after, before, "the instance that rotated signs with the promoted key at once");

    let started = Instant::now();
    while replicas.signing_kid_at(1).await != after {
        assert!(started.elapsed() < KEY_REFRESH_INTERVAL * 2, "the other instance still signs with {before}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for app in &replicas.apps {
        let jwks = app.get_json("/jwks.json").await;
        let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
        assert!(kids.contains(&before.as_str()) && kids.contains(&after.as_str()), "{kids:?}");
        assert_eq!(kids.len(), 3, "retired, active and the new next key: {kids:?}");
    }
}

/// Where a request went: answered, never delivered (the instance is gone, so another may
/// be asked), or lost in flight (it may or may not have taken effect).
enum Sent<T> {
    Answered(T),
    Refused,
    InDoubt(String),
}

fn sent<T>(result: Result<T, reqwest::Error>) -> Sent<T> {
    match result {
        Ok(answer) => Sent::Answered(answer),
        Err(err) if err.is_connect() => Sent::Refused,
        Err(err) => Sent::InDoubt(format!("{err:?}")),
    }
}

/// How a refresh client's family ended up.
#[derive(Debug)]
enum FamilyOutcome {
    /// Its last token was answered with a 200: it must still work.
    Holding(String),
    /// A request presenting this token was lost in the crash after its rotation went
    /// through; the client, which never saw the successor, presented the token again, and
    /// that replay revoked the family, as it should.
    LostInCrash(String),
}

/// The load's shared state: when to stop, and how many rotations succeeded so far.
#[derive(Clone, Default)]
struct Load {
    stop: Arc<AtomicBool>,
    rotations: Arc<AtomicUsize>,
}

/// How many rotations the crash test waits for before the crash and after it.
const ROTATIONS_EACH_SIDE: usize = 30;

impl Load {
    /// Waits until `count` rotations have succeeded; `false` if they stall for a minute.
    async fn until_rotations(&self, count: usize) -> bool {
        let started = Instant::now();
        while self.rotations.load(Ordering::Relaxed) < count {
            if started.elapsed() > Duration::from_secs(60) {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }
}

/// A client that opens a connection per request, so that a request to a dead instance
/// fails to connect (and may go elsewhere) instead of dying on a pooled connection (in
/// doubt: it may have been sent).
fn client_without_keep_alive() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client")
}

/// Rotates `token` again and again, alternating instances, until the load stops. A
/// request lost in flight is resolved the way a client would: the same token again,
/// elsewhere.
async fn keep_refreshing(
    bases: Arc<Vec<String>>,
    secret: String,
    mut token: String,
    load: Load,
) -> Result<FamilyOutcome, String> {
    let http = client_without_keep_alive();
    let mut next = 0;
    let mut in_doubt: Option<String> = None;
    while !load.stop.load(Ordering::Relaxed) || in_doubt.is_some() {
        next += 1;
        let base = &bases[next % bases.len()];
        let form = [("grant_type", "refresh_token"), ("refresh_token", token.as_str())];
        let request = http.post(format!("{base}/token")).basic_auth("demo", Some(&secret)).form(&form).send();
        match sent(request.await) {
            Sent::Answered(response) => {
                let status = response.status();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                match (status.as_u16(), in_doubt.take()) {
                    (200, _) => {
                        token = body["refresh_token"].as_str().expect("a successor").to_owned();
                        load.rotations.fetch_add(1, Ordering::Relaxed);
                    }
                    (400, Some(lost)) if body["error"] == "invalid_grant" => {
                        return Ok(FamilyOutcome::LostInCrash(lost));
                    }
                    (status, _) => return Err(format!("{base} answered {status} to an acknowledged token: {body}")),
                }
            }
            Sent::Refused => continue,
            Sent::InDoubt(why) => in_doubt = Some(why),
        }
    }
    Ok(FamilyOutcome::Holding(token))
}

/// Logs in and exchanges codes, alternating instances, until `stop`; returns the codes
/// that were exchanged with a 200.
async fn keep_logging_in(bases: Arc<Vec<String>>, secret: String, load: Load) -> Vec<String> {
    let http = client_without_keep_alive();
    let mut exchanged = Vec::new();
    let mut next = 0;
    while !load.stop.load(Ordering::Relaxed) {
        next += 1;
        let mut browser = Browser::at(&bases[next % bases.len()]);
        let Sent::Answered(page) =
            sent(browser.try_get(&format!("/authorize?{}", authorize_query("demo", "openid", &[]))).await)
        else {
            continue;
        };
        let fields = [
            ("csrf_token", page.hidden("csrf_token").expect("a login form")),
            ("request_id", page.hidden("request_id").expect("a login form")),
            ("username", "alice".to_owned()),
            ("password", PASSWORD.to_owned()),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let Sent::Answered(redirect) = sent(browser.try_post("/login", &fields).await) else { continue };
        let code = redirect.redirect_param("code").expect("a code after the login");
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ];
        for attempt in 1..=bases.len() {
            let base = &bases[(next + attempt) % bases.len()];
            let request = http.post(format!("{base}/token")).basic_auth("demo", Some(&secret)).form(&form).send();
            match sent(request.await) {
                Sent::Answered(response) => {
                    assert_eq!(response.status(), 200, "a live instance refused a fresh code");
                    exchanged.push(code);
                    break;
                }
                Sent::Refused => continue,
                Sent::InDoubt(_) => break,
            }
        }
    }
    exchanged
}

#[tokio::test]
async fn killing_an_instance_under_refresh_and_login_load_loses_nothing_that_was_acknowledged() {
    let mut replicas = Replicas::start(2).await;
    let mut first_tokens = Vec::new();
    for i in 0..6 {
        let mut browser = Browser::new(&replicas.apps[i % 2]);
        let redirect = browser
            .authorize_and_login(&authorize_query("demo", "openid offline_access", &[]), "alice", PASSWORD)
            .await;
        let tokens =
            exchange(&replicas.apps[0], "demo", &replicas.secret, &redirect.redirect_param("code").unwrap()).await;
        first_tokens.push(tokens["refresh_token"].as_str().unwrap().to_owned());
    }
    let bases: Arc<Vec<String>> = Arc::new(replicas.apps.iter().map(|app| app.address.clone()).collect());
    let load = Load::default();
    let refreshers: Vec<_> = first_tokens
        .into_iter()
        .map(|token| tokio::spawn(keep_refreshing(Arc::clone(&bases), replicas.secret.clone(), token, load.clone())))
        .collect();
    let logins: Vec<_> = (0..2)
        .map(|_| tokio::spawn(keep_logging_in(Arc::clone(&bases), replicas.secret.clone(), load.clone())))
        .collect();

    let warmed_up = load.until_rotations(ROTATIONS_EACH_SIDE).await;
    replicas.kill(0).await;
    let before_the_crash = load.rotations.load(Ordering::Relaxed);
    let went_on = load.until_rotations(before_the_crash + ROTATIONS_EACH_SIDE).await;
    load.stop.store(true, Ordering::Relaxed);

    let survivor = 1;
    let mut outcomes = Vec::new();
    for refresher in refreshers {
        match refresher.await.expect("a refresh client panicked") {
            Ok(outcome) => outcomes.push(outcome),
            Err(failure) => panic!("{failure}\nthe survivor's log ends:\n{}", replicas.log_tail(survivor)),
        }
    }
    let done = load.rotations.load(Ordering::Relaxed);
    assert!(
        warmed_up && went_on,
        "the load stalled: {before_the_crash} rotations before the crash, {done} in all; {outcomes:#?}"
    );
    for outcome in outcomes {
        let (token, expected) = match outcome {
            FamilyOutcome::Holding(token) => (token, 200),
            FamilyOutcome::LostInCrash(token) => (token, 400),
        };
        let response = replicas.refresh_at(survivor, &token).await;
        assert_eq!(
            response.status(),
            expected,
            "200: the last acknowledged token works; 400: the family stays revoked"
        );
    }
    let mut codes = 0;
    for login in logins {
        for code in login.await.expect("no login client failed") {
            codes += 1;
            let again = replicas.exchange_at(survivor, &code).await;
            assert_eq!(again.status(), 400, "an exchanged code is not usable twice");
        }
    }
    assert!(codes > 0, "logins ran");

    let db = Database::connect(replicas.env.database_url.as_str()).await.unwrap();
    let twice = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT family_id FROM refresh_tokens WHERE used_at IS NULL GROUP BY family_id HAVING COUNT(*) > 1",
        ))
        .await
        .unwrap();
    assert!(twice.is_empty(), "{} families have two live successors", twice.len());
}
