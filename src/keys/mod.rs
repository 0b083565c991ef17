//! Signing keys: generation, the states they move through, the published JWKS, and the
//! in-process snapshot every request reads (DESIGN.md, Keys and rotation; RFC 7517/7518).

mod generate;
mod jwks;
mod keystore;
mod rotation;
mod sign;

pub use generate::{RS256, generate_rsa_key};
pub use jwks::Jwks;
pub use keystore::{KeySet, Keystore};
pub use rotation::{
    KeyPlan, PlanError, next_key_unseen_until, plan_ensure, plan_removals, plan_revoke, plan_rotation, rotation_due,
};
pub use sign::{MAX_TOKEN_BYTES, VerifiedJws, VerifyError, signature_matches};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("RSA key operation failed: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    #[error(transparent)]
    Seal(#[from] crate::security::master_key::SealError),
    #[error("stored key {kid} cannot be used: {reason}")]
    InvalidJwk { kid: String, reason: String },
    /// No key is `active`: nothing can be signed until one is (start-up makes one).
    #[error("no active signing key")]
    NoActiveKey,
    #[error("signing failed: {0}")]
    Sign(String),
}
