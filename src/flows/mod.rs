//! Protocol and administration logic as plain async functions over the store, the keys
//! and a clock. Nothing here knows about HTTP.

pub mod access;
pub mod account;
pub mod admin;
pub mod attempts;
pub mod authorize;
pub mod backchannel;
pub mod bootstrap;
pub mod cleanup;
pub mod consent;
pub mod email_address;
pub mod error;
pub mod inspect;
pub mod interaction;
pub mod introspect;
pub mod keys;
pub mod login;
pub mod logout;
pub mod mail;
pub mod mfa;
pub mod passkeys;
pub mod password;
pub mod password_reset;
pub mod pkce;
pub mod redirect;
pub mod registration;
pub mod resource;
pub mod revoke;
pub mod session;
#[cfg(test)]
pub(crate) mod testkit;
pub mod token;
pub mod totp;
pub mod upstream;
pub mod userinfo;

use std::sync::Arc;

use uuid::Uuid;

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::Keystore;
use crate::metrics::Metrics;
use crate::security::master_key::MasterKey;
use crate::security::password::PasswordHasher;
use crate::security::rate_limit::RateLimits;
use crate::store::{AuditEvent, Store};
use passkeys::RelyingParty;
use upstream::UpstreamDirectory;

/// Everything the flows may use, owned: built once by `app::open_services` (for the server
/// and for each CLI command) and lent to every call as a [`Context`].
#[derive(Debug, Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub store: Store,
    pub keystore: Arc<Keystore>,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub master_key: MasterKey,
    pub limits: Arc<RateLimits>,
    pub metrics: Arc<Metrics>,
    /// `None` when the issuer's host is an IP address, where browsers refuse passkeys.
    pub relying_party: Option<RelyingParty>,
    /// Upstream providers' discovery documents and keys, as this process fetched them.
    pub upstreams: Arc<UpstreamDirectory>,
}

impl Services {
    pub fn context(&self) -> Context<'_> {
        Context {
            store: &self.store,
            keystore: &self.keystore,
            clock: self.clock.as_ref(),
            config: &self.config,
            hasher: &self.hasher,
            master_key: &self.master_key,
            limits: &self.limits,
            metrics: &self.metrics,
            relying_party: self.relying_party.as_ref(),
            upstreams: &self.upstreams,
        }
    }
}

/// What the flows work with: one request's (or one command's) borrow of [`Services`].
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub store: &'a Store,
    pub keystore: &'a Keystore,
    pub clock: &'a dyn Clock,
    pub config: &'a Config,
    pub hasher: &'a PasswordHasher,
    pub master_key: &'a MasterKey,
    pub limits: &'a RateLimits,
    pub metrics: &'a Metrics,
    pub relying_party: Option<&'a RelyingParty>,
    pub upstreams: &'a UpstreamDirectory,
}

/// Who asked for an administrative change, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The `wristband` command line, run by someone with access to the server.
    Cli,
    /// wristband itself: start-up bootstrap, scheduled work.
    System,
    /// A signed-in administrator.
    Admin(Uuid),
    /// The person themselves, on the sign-up page.
    SignUp,
    /// The signed-in person, on their account pages.
    Own,
}

impl Actor {
    pub(crate) fn stamp(self, mut event: AuditEvent) -> AuditEvent {
        let via = match self {
            Self::Cli => "cli",
            Self::System => "system",
            Self::SignUp => "sign_up",
            Self::Own => "account_page",
            Self::Admin(id) => {
                event.actor_user_id = Some(id);
                "admin_ui"
            }
        };
        if let Some(details) = event.details.as_object_mut() {
            details.insert("via".to_owned(), via.into());
        }
        event
    }
}
