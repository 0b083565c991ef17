use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use josekit::jwk::Jwk;
use josekit::jws::RS256;
use josekit::jws::alg::rsassa::{RsassaJwsSigner, RsassaJwsVerifier};

use super::generate::seal_purpose;
use super::{Jwks, KeyError};
use crate::model::{KeyState, SigningKeyRecord};
use crate::security::master_key::MasterKey;

/// What one request sees of the keys: a consistent snapshot with the active key ready to
/// sign and every published key ready to verify.
pub struct KeySet {
    pub jwks: Jwks,
    /// (kid, state) of every stored key, oldest first.
    pub states: Vec<(String, KeyState)>,
    pub(super) signer: Option<(String, RsassaJwsSigner)>,
    pub(super) verifiers: HashMap<String, RsassaJwsVerifier>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet").field("states", &self.states).finish_non_exhaustive()
    }
}

impl KeySet {
    pub fn active_kid(&self) -> Option<&str> {
        self.signer.as_ref().map(|(kid, _)| kid.as_str())
    }
}

/// The in-process view of the signing keys, replaced as a whole when the stored keys
/// change (rotation here, or on another instance, picked up by a periodic refresh).
#[derive(Debug)]
pub struct Keystore {
    master_key: MasterKey,
    current: RwLock<Arc<KeySet>>,
}

impl Keystore {
    pub fn new(records: &[SigningKeyRecord], master_key: MasterKey) -> Result<Self, KeyError> {
        let set = build(records, &master_key)?;
        Ok(Self { master_key, current: RwLock::new(Arc::new(set)) })
    }

    pub fn current(&self) -> Arc<KeySet> {
        // The lock only guards an Arc swap, which cannot panic half-way: a poisoned lock
        // still holds a whole snapshot.
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces the snapshot when the stored keys differ from it; returns whether they did.
    pub fn update(&self, records: &[SigningKeyRecord]) -> Result<bool, KeyError> {
        if self.current().states == states_of(records) {
            return Ok(false);
        }
        let next = Arc::new(build(records, &self.master_key)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = next;
        Ok(true)
    }
}

fn states_of(records: &[SigningKeyRecord]) -> Vec<(String, KeyState)> {
    records.iter().map(|r| (r.kid.clone(), r.state)).collect()
}

fn build(records: &[SigningKeyRecord], master_key: &MasterKey) -> Result<KeySet, KeyError> {
    let signer = match records.iter().find(|r| r.state == KeyState::Active) {
        Some(active) => {
            let der = master_key.open(&seal_purpose(&active.kid), &active.sealed_private_key)?;
            let mut signer = RS256.signer_from_der(der).map_err(|e| invalid(&active.kid, e))?;
            signer.set_key_id(active.kid.clone());
            Some((active.kid.clone(), signer))
        }
        None => None,
    };
    let mut verifiers = HashMap::new();
    for record in records.iter().filter(|r| r.state.is_published()) {
        let jwk = Jwk::from_bytes(record.public_jwk.as_bytes()).map_err(|e| invalid(&record.kid, e))?;
        let mut verifier = RS256.verifier_from_jwk(&jwk).map_err(|e| invalid(&record.kid, e))?;
        verifier.set_key_id(record.kid.clone());
        verifiers.insert(record.kid.clone(), verifier);
    }
    Ok(KeySet { jwks: Jwks::build(records)?, states: states_of(records), signer, verifiers })
}

fn invalid(kid: &str, err: impl std::fmt::Display) -> KeyError {
    KeyError::InvalidJwk { kid: kid.to_owned(), reason: err.to_string() }
}
