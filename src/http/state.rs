use std::ops::Deref;
use std::sync::Arc;

use crate::flows::Services;

/// What every handler may use; cloned into each worker. No globals: tests run many apps
/// in one process.
#[derive(Debug, Clone)]
pub struct AppState {
    pub services: Services,
    /// The discovery document, serialized once at start-up.
    pub discovery: Arc<[u8]>,
}

/// Handlers reach the flows' services (`state.config`, `state.context()`) directly.
impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}
