//! Signing keys: generation, the states they move through, the published JWKS, and the
//! in-process snapshot every request reads (DESIGN.md, Keys and rotation; RFC 7517/7518).

mod generate;
mod jwks;
mod keystore;
mod rotation;

pub use generate::{RS256, generate_rsa_key};
pub use jwks::Jwks;
pub use keystore::{KeySet, Keystore};
pub use rotation::{KeyPlan, PlanError, plan_ensure, plan_revoke, plan_rotation};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("RSA key operation failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    #[error(transparent)]
    Seal(#[from] crate::security::master_key::SealError),
    #[error("stored public key of {kid} is not a valid JWK: {reason}")]
    InvalidJwk { kid: String, reason: String },
}
