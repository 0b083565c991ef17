use std::sync::Arc;

use crate::config::Config;
use crate::keys::Keystore;
use crate::store::Store;

/// What every handler may use; cloned into each worker. No globals: tests run many apps
/// in one process.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub keystore: Arc<Keystore>,
    /// The discovery document, serialized once at start-up.
    pub discovery: Arc<[u8]>,
}
