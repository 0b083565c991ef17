use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::flows::Context;
use crate::keys::Keystore;
use crate::metrics::Metrics;
use crate::security::master_key::MasterKey;
use crate::security::password::PasswordHasher;
use crate::security::rate_limit::RateLimits;
use crate::store::Store;

/// What every handler may use; cloned into each worker. No globals: tests run many apps
/// in one process.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub keystore: Arc<Keystore>,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub master_key: MasterKey,
    pub limits: Arc<RateLimits>,
    pub metrics: Arc<Metrics>,
    /// The discovery document, serialized once at start-up.
    pub discovery: Arc<[u8]>,
}

impl AppState {
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
        }
    }
}
