//! Flow tests without a server (DESIGN "flows testable without a server"): a [`Context`]
//! over a fresh SQLite file, a fixed clock that tests move, and argon2 at a cheap setting
//! so that a rule is checked in milliseconds. Signing keys are made only when a test asks.

use std::sync::Arc;

use tempfile::TempDir;

use super::admin::{ClientInput, UserInput, add_client, add_user};
use super::interaction::Browser;
use super::session::RequestMeta;
use super::{Actor, Context, Services};
use crate::app::open_services;
use crate::clock::{Clock, FixedClock};
use crate::config::{Config, PasswordSettings};
use crate::keys::generate_rsa_key;
use crate::model::{KeyState, User};
use crate::security::secret::SecretString;

pub const PASSWORD: &str = "correct horse battery";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9000/cb";

pub struct FlowTest {
    _dir: TempDir,
    pub services: Services,
    /// The services' clock, which tests move.
    pub clock: FixedClock,
}

impl FlowTest {
    pub async fn new() -> Self {
        Self::configured(|_| {}).await
    }

    /// The same, with settings changed by `edit` first.
    pub async fn configured(edit: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/wristband.db?mode=rwc", dir.path().display());
        let mut config = Config::for_tests(dir.path(), &url);
        // A host name, not an address: browsers (and webauthn-rs) refuse passkeys on an IP.
        config.issuer = "http://localhost:8080".to_owned();
        config.password = PasswordSettings { argon2_memory_kib: 1_024, argon2_iterations: 1, argon2_parallelism: 1 };
        edit(&mut config);
        let clock = FixedClock::new(1_800_000_000);
        let services = open_services(config, Arc::new(clock.clone())).await.expect("services");
        Self { _dir: dir, services, clock }
    }

    /// The same, with an `active` and a `next` signing key stored and loaded, as after a
    /// server's first start (made here, not by `flows::keys`, whose tests use this).
    pub async fn with_keys() -> Self {
        let test = Self::new().await;
        let bits = test.config.keys.rsa_bits;
        let keys = [KeyState::Active, KeyState::Next]
            .map(|state| (generate_rsa_key(bits, &test.master_key).expect("a signing key"), state));
        test.store.insert_signing_keys(keys.into(), test.clock.now()).await.expect("keys stored");
        test.keystore.update(&test.store.list_signing_keys().await.expect("keys read")).expect("keys loaded");
        test
    }

    pub fn ctx(&self) -> Context<'_> {
        self.services.context()
    }

    /// A user with the password [`PASSWORD`].
    pub async fn user(&self, username: &str) -> User {
        let input = UserInput {
            username: username.to_owned(),
            password: Some(SecretString::new(PASSWORD)),
            ..UserInput::default()
        };
        add_user(&self.ctx(), input, Actor::Cli).await.expect("a user").0
    }

    /// A confidential client redirecting to [`REDIRECT_URI`]; its secret.
    pub async fn client(&self, client_id: &str, first_party: bool, require_mfa: bool) -> SecretString {
        let input = ClientInput {
            client_id: client_id.to_owned(),
            redirect_uris: vec![REDIRECT_URI.to_owned()],
            first_party,
            require_mfa,
            ..ClientInput::default()
        };
        add_client(&self.ctx(), input, Actor::Cli).await.expect("a client").secret.expect("confidential")
    }
}

/// Tests read the services (`test.store`, `test.config`) directly.
impl std::ops::Deref for FlowTest {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

/// A browser without a session, identified by its CSRF cookie.
pub fn browser(name: &str) -> Browser {
    Browser { csrf_cookie: format!("csrf-cookie-of-{name}-0123456789abcdef0123456789"), session: None }
}

pub fn meta() -> RequestMeta {
    RequestMeta { ip: Some("192.0.2.7".to_owned()), user_agent: Some("flow test".to_owned()) }
}
