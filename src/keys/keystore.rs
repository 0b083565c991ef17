use std::sync::{Arc, RwLock};

use super::{Jwks, KeyError};
use crate::model::{KeyState, SigningKeyRecord};

/// What one request sees of the keys: a consistent snapshot.
#[derive(Debug)]
pub struct KeySet {
    pub jwks: Jwks,
    /// (kid, state) of every stored key, oldest first.
    pub states: Vec<(String, KeyState)>,
}

/// The in-process view of the signing keys, replaced as a whole when the stored keys
/// change (rotation here, or on another instance, picked up by a periodic refresh).
#[derive(Debug)]
pub struct Keystore {
    current: RwLock<Arc<KeySet>>,
}

impl Keystore {
    pub fn new(records: &[SigningKeyRecord]) -> Result<Self, KeyError> {
        Ok(Self { current: RwLock::new(Arc::new(build(records)?)) })
    }

    pub fn current(&self) -> Arc<KeySet> {
        // The lock only guards an Arc swap, which cannot panic half-way: a poisoned lock
        // still holds a whole snapshot.
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces the snapshot when the stored keys differ from it; returns whether they did.
    pub fn update(&self, records: &[SigningKeyRecord]) -> Result<bool, KeyError> {
        let states = states_of(records);
        if self.current().states == states {
            return Ok(false);
        }
        let next = Arc::new(build(records)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = next;
        Ok(true)
    }
}

fn states_of(records: &[SigningKeyRecord]) -> Vec<(String, KeyState)> {
    records.iter().map(|r| (r.kid.clone(), r.state)).collect()
}

fn build(records: &[SigningKeyRecord]) -> Result<KeySet, KeyError> {
    Ok(KeySet { jwks: Jwks::build(records)?, states: states_of(records) })
}
