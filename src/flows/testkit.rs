//! Flow tests without a server (DESIGN "flows testable without a server"): a [`Context`]
//! over a fresh SQLite file, a fixed clock that tests move, and argon2 at a cheap setting
//! so that a rule is checked in milliseconds. Signing keys are made only when a test asks.

use std::sync::Arc;

use tempfile::TempDir;

use super::admin::{ClientInput, UserInput, add_client, add_user};
use super::interaction::Browser;
use super::session::RequestMeta;
use super::{Actor, Context};
use crate::clock::FixedClock;
use crate::config::{Config, PasswordSettings};
use crate::keys::Keystore;
use crate::metrics::Metrics;
use crate::model::User;
use crate::security::master_key::MasterKey;
use crate::security::password::PasswordHasher;
use crate::security::rate_limit::RateLimits;
use crate::security::secret::SecretString;
use crate::store::Store;

pub const PASSWORD: &str = "correct horse battery";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9000/cb";

pub struct FlowTest {
    _dir: TempDir,
    pub store: Store,
    pub keystore: Keystore,
    pub clock: FixedClock,
    pub config: Config,
    pub hasher: PasswordHasher,
    pub master_key: MasterKey,
    pub limits: Arc<RateLimits>,
    pub metrics: Metrics,
}

impl FlowTest {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/wristband.db?mode=rwc", dir.path().display());
        let mut config = Config::for_tests(dir.path(), &url);
        config.password = PasswordSettings { argon2_memory_kib: 1_024, argon2_iterations: 1, argon2_parallelism: 1 };
        let store = Store::connect(&config.database_url).await.expect("store");
        store.migrate().await.expect("migrations");
        let master_key = MasterKey::load_or_create(&config.master_key).expect("master key");
        let keystore = Keystore::new(&[], master_key.clone()).expect("an empty keystore");
        Self {
            store,
            keystore,
            clock: FixedClock::new(1_800_000_000),
            hasher: PasswordHasher::new(&config.password).expect("hasher"),
            limits: Arc::new(RateLimits::new(&config.rate_limits)),
            metrics: Metrics::default(),
            master_key,
            config,
            _dir: dir,
        }
    }

    pub fn ctx(&self) -> Context<'_> {
        Context {
            store: &self.store,
            keystore: &self.keystore,
            clock: &self.clock,
            config: &self.config,
            hasher: &self.hasher,
            master_key: &self.master_key,
            limits: &self.limits,
            metrics: &self.metrics,
        }
    }

    /// A user with the password [`PASSWORD`].
    pub async fn user(&self, username: &str) -> User {
        let input = UserInput {
            username: username.to_owned(),
            password: Some(SecretString::new(PASSWORD)),
            ..UserInput::default()
        };
        add_user(&self.store, &self.clock, &self.hasher, input, Actor::Cli).await.expect("a user").0
    }

    /// A confidential client redirecting to [`REDIRECT_URI`].
    pub async fn client(&self, client_id: &str, first_party: bool, require_mfa: bool) {
        let input = ClientInput {
            client_id: client_id.to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            first_party,
            require_mfa,
            ..ClientInput::default()
        };
        add_client(&self.store, &self.clock, input, Actor::Cli).await.expect("a client");
    }
}

/// A browser without a session, identified by its CSRF cookie.
pub fn browser(name: &str) -> Browser {
    Browser { csrf_cookie: format!("csrf-cookie-of-{name}-0123456789abcdef0123456789"), session: None }
}

pub fn meta() -> RequestMeta {
    RequestMeta { ip: Some("192.0.2.7".to_owned()), user_agent: Some("flow test".to_owned()) }
}
