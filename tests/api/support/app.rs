//! `spawn_app`: the real server on a random port with a fresh database, and a client
//! that talks HTTP to it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use sea_orm::{ConnectionTrait, Database};
use tempfile::TempDir;
use wristband::app::{Application, open_services};
use wristband::clock::{Clock, FixedClock, SystemClock};
use wristband::config::Config;
use wristband::flows::admin::{ApiInput, ClientInput, UserInput, add_api, add_client, add_user, set_client_resources};
use wristband::flows::bootstrap::BootstrappedAdmin;
use wristband::flows::{Actor, Context, Services};
use wristband::keys::Keystore;
use wristband::model::User;
use wristband::security::master_key::MasterKey;
use wristband::security::secret::SecretString;
use wristband::store::Store;

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        wristband::telemetry::init(wristband::config::LogFormat::Text, "debug");
    }
});

/// How far the test server's clock starts ahead of the wall clock (see `spawn_with`).
const CLI_CLOCK_LEAD_SECONDS: i64 = 50;

/// A place for one wristband deployment: a temp dir (keys, SQLite file) and a database.
/// Several apps spawned in one environment share its database and master key, like
/// restarts or replicas.
pub struct TestEnv {
    pub dir: TempDir,
    pub database_url: String,
    /// The issuer CLI commands run with (`WRISTBAND_ISSUER`), when it matters to them.
    pub cli_issuer: Option<String>,
}

impl TestEnv {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = fresh_database_url(dir.path()).await;
        Self { dir, database_url, cli_issuer: None }
    }

    /// An environment on a database the caller provides (a test's own PostgreSQL cluster).
    pub fn on_database(database_url: String) -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir"), database_url, cli_issuer: None }
    }

    /// The same environment, with CLI commands told the issuer of a spawned app.
    pub fn with_issuer(self, issuer: &str) -> Self {
        Self { cli_issuer: Some(issuer.to_owned()), ..self }
    }

    pub fn master_key_path(&self) -> PathBuf {
        self.dir.path().join("keys/master.key")
    }

    /// The configuration an app in this environment starts with (issuer set at spawn).
    pub fn config(&self) -> Config {
        Config::for_tests(self.dir.path(), &self.database_url)
    }

    pub async fn spawn(&self) -> TestApp {
        self.spawn_with(self.config()).await
    }

    pub async fn spawn_with(&self, config: Config) -> TestApp {
        self.spawn_at("127.0.0.1", config, None).await
    }

    /// An app whose issuer is `http://localhost:PORT`: browsers refuse passkeys on an IP
    /// address, so passkey tests need a host name (it still listens on 127.0.0.1).
    pub async fn spawn_on_localhost(&self) -> TestApp {
        self.spawn_at("localhost", self.config(), None).await
    }

    /// Another instance of `app`'s deployment on a port of its own, with `app`'s issuer, as
    /// behind a load balancer.
    pub async fn spawn_replica(&self, app: &TestApp) -> TestApp {
        self.spawn_at("127.0.0.1", self.config(), Some(app.config.issuer.clone())).await
    }

    async fn spawn_at(&self, host: &str, mut config: Config, issuer: Option<String>) -> TestApp {
        LazyLock::force(&TRACING);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a random port");
        let port = listener.local_addr().expect("local address").port();
        let address = format!("http://{host}:{port}");
        config.issuer = issuer.unwrap_or_else(|| address.clone());
        // A little ahead of the wall clock, which the CLI (a separate process) runs on:
        // what the CLI queues "now" is already due here, a token issued here is within
        // the 60 s leeway of the CLI's clock, and a key the CLI retires is not yet expired.
        let clock = FixedClock::new(SystemClock.now() + CLI_CLOCK_LEAD_SECONDS);
        let app = Application::with_listener(config.clone(), listener, Arc::new(clock.clone()))
            .await
            .expect("the app starts");
        let bootstrapped_admin = app.bootstrapped_admin.clone();
        let services = app.services().clone();
        let metrics_address = app.metrics_port().map(|port| format!("http://127.0.0.1:{port}"));
        tokio::spawn(app.run_until_stopped());
        let store = Store::connect(&SecretString::new(self.database_url.clone())).await.expect("store");
        TestApp {
            address,
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
            clock,
            config,
            store,
            services,
            bootstrapped_admin,
            metrics_address,
        }
    }
}

/// The tables `state_rows` counts.
const STATE_TABLES: &[&str] = &[
    "users",
    "clients",
    "signing_keys",
    "browser_sessions",
    "authorization_requests",
    "authorization_codes",
    "consents",
    "refresh_families",
    "refresh_tokens",
    "revoked_access_tokens",
    "mfa_challenges",
    "passkeys",
    "passkey_ceremonies",
    "upstream_logins",
    "linked_identities",
    "user_recovery_codes",
    "backchannel_logout_jobs",
];

pub struct TestApp {
    /// The issuer, which is also the base URL tests call.
    pub address: String,
    pub http: reqwest::Client,
    /// The server's clock: advance it to expire codes, tokens and sessions.
    pub clock: FixedClock,
    pub config: Config,
    pub store: Store,
    /// The flows' services of this instance, to call a flow as it would.
    pub services: Services,
    pub bootstrapped_admin: Option<BootstrappedAdmin>,
    /// Where `/metrics` is served, when the configuration asked for it.
    pub metrics_address: Option<String>,
}

impl TestApp {
    /// A client of a server started elsewhere (the real binary) at `base`, in `env`.
    pub async fn at(env: &TestEnv, base: &str) -> Self {
        let store = Store::connect(&SecretString::new(env.database_url.clone())).await.expect("store");
        let clock = FixedClock::new(SystemClock.now());
        let services = open_services(env.config(), Arc::new(clock.clone())).await.expect("services");
        Self {
            address: base.to_owned(),
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
            clock,
            config: env.config(),
            store,
            services,
            bootstrapped_admin: None,
            metrics_address: None,
        }
    }

    /// A flow's context on this instance's services.
    pub fn ctx(&self) -> Context<'_> {
        self.services.context()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.address)).send().await.expect("request sent")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("a JSON body")
    }

    /// A user with the given password, email `<username>@example.com` and `roles`.
    pub async fn seed_user(&self, username: &str, password: &str, roles: &[&str]) -> User {
        let input = UserInput {
            username: username.to_owned(),
            email: Some(format!("{username}@example.com")),
            name: Some(format!("{username} Example")),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            is_admin: false,
            password: Some(SecretString::new(password)),
            verify_before_sign_in: false,
        };
        add_user(&self.ctx(), input, Actor::Cli).await.expect("user created").0
    }

    /// A confidential client with the default grants; returns its secret.
    pub async fn seed_client(&self, client_id: &str, redirect_uri: &str, first_party: bool) -> String {
        let input = ClientInput {
            client_id: client_id.to_owned(),
            redirect_uris: vec![redirect_uri.to_owned()],
            post_logout_redirect_uris: vec![format!("{redirect_uri}/logged-out")],
            first_party,
            ..ClientInput::default()
        };
        let created = add_client(&self.ctx(), input, Actor::Cli).await.expect("client created");
        created.secret.expect("confidential").expose().to_owned()
    }

    /// Registers an API with `scopes` (`name=description` or `name`); with `introspection`,
    /// its introspection client id and secret.
    pub async fn seed_api(&self, identifier: &str, scopes: &[&str], introspection: bool) -> Option<(String, String)> {
        let scopes = scopes
            .iter()
            .map(|s| s.split_once('=').map_or((s.to_string(), String::new()), |(n, d)| (n.into(), d.into())))
            .collect();
        let input = ApiInput { identifier: identifier.into(), name: None, scopes, access_token_seconds: None };
        let created = add_api(&self.ctx(), input, introspection, Actor::Cli).await.expect("API registered");
        created.introspection.map(|(id, secret)| (id.to_string(), secret.expose().to_owned()))
    }

    /// Lets `client_id` request `resources`, the first of them by default when `default`.
    pub async fn allow_apis(&self, client_id: &str, resources: &[&str], default: bool) {
        let resources: Vec<String> = resources.iter().map(|r| r.to_string()).collect();
        let default_resource = if default { resources.first().map(String::as_str) } else { None };
        set_client_resources(&self.ctx(), client_id, &resources, default_resource, Actor::Cli).await.expect("allowed");
    }

    /// Registers any client; returns its secret when it has one.
    pub async fn seed_client_with(&self, input: ClientInput) -> Option<String> {
        let created = add_client(&self.ctx(), input, Actor::Cli).await.expect("client created");
        created.secret.map(|s| s.expose().to_owned())
    }

    /// A verifier for every key of the published JWKS, as a resource server builds them.
    pub async fn jwks_verifiers(&self) -> Vec<Box<dyn josekit::jws::JwsVerifier>> {
        let body = self.http.get(self.url("/jwks.json")).send().await.unwrap().bytes().await.unwrap();
        let jwks = josekit::jwk::JwkSet::from_bytes(&body).unwrap();
        jwks.keys()
            .iter()
            .map(|jwk| {
                let mut verifier = josekit::jws::RS256.verifier_from_jwk(jwk).unwrap();
                verifier.set_key_id(jwk.key_id().unwrap());
                Box::new(verifier) as Box<dyn josekit::jws::JwsVerifier>
            })
            .collect()
    }

    /// Row counts of every table an attack could add to or change the size of. Audit
    /// events (which record attacks) and failed-login counters are left out.
    pub async fn state_rows(&self) -> Vec<(&'static str, i64)> {
        let db = Database::connect(self.config.database_url.expose()).await.expect("connect");
        let mut counts = Vec::new();
        for table in STATE_TABLES {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT COUNT(*) AS n FROM {table}"),
                ))
                .await
                .expect("count")
                .expect("a row");
            counts.push((*table, row.try_get::<i64>("", "n").expect("a count")));
        }
        db.close().await.expect("close");
        counts
    }

    /// Signs `claims` with wristband's own active key, as only wristband can: for tokens
    /// that are genuine but wrong in one claim.
    pub async fn sign_as_wristband(&self, typ: &str, claims: &serde_json::Value) -> String {
        let master = MasterKey::load_or_create(&self.config.master_key).expect("master key");
        let records = self.store.list_signing_keys().await.expect("keys");
        let keystore = Keystore::new(&records, master).expect("keystore");
        keystore.current().sign(typ, claims.to_string().as_bytes()).expect("signed")
    }

    pub fn clock_now(&self) -> i64 {
        use wristband::clock::Clock;
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs a form to the token endpoint with HTTP Basic client authentication.
    pub async fn post_token(&self, client_id: &str, secret: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url("/token"))
            .basic_auth(client_id, Some(secret))
            .form(form)
            .send()
            .await
            .expect("token request")
    }

    /// POSTs a form to a machine endpoint with HTTP Basic client authentication.
    pub async fn post_basic(
        &self,
        path: &str,
        client_id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .basic_auth(client_id, Some(secret))
            .form(form)
            .send()
            .await
            .expect("request sent")
    }
}

/// A SQLite file in `dir`, or, when `WRISTBAND_TEST_DATABASE_URL` names a PostgreSQL
/// server, a new database on it named by a UUID.
pub async fn fresh_database_url(dir: &Path) -> String {
    let Ok(admin_url) = std::env::var("WRISTBAND_TEST_DATABASE_URL") else {
        return format!("sqlite://{}/wristband.db?mode=rwc", dir.display());
    };
    let name = format!("wristband_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(admin_url.as_str()).await.expect("connect to WRISTBAND_TEST_DATABASE_URL");
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
    admin.close().await.expect("close admin connection");
    let mut url = url::Url::parse(&admin_url).expect("WRISTBAND_TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}
