//! Passwords: argon2id PHC strings (RFC 9106), hashed and verified on the blocking pool
//! behind a semaphore, so logins never stall the async workers and a burst of logins
//! cannot allocate more than `permits × m_cost` of memory.

use std::sync::Arc;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::PasswordSettings;
use crate::security::random::generated_password;
use crate::security::secret::SecretString;

pub const MIN_PASSWORD_CHARS: usize = 8;
/// Argon2 accepts longer input, but nobody types this much; a bound keeps requests small.
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the password hashing task was cancelled")]
    Cancelled,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordPolicyError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

/// Checks a new password against the policy (NIST SP 800-63B: length, not composition).
pub fn check_policy(password: &str) -> Result<(), PasswordPolicyError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordPolicyError::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordPolicyError::TooLong);
    }
    Ok(())
}

#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Arc<Argon2<'static>>,
    permits: Arc<Semaphore>,
    /// Verified against when the user does not exist, so unknown users cost the same work.
    dummy_hash: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("params", self.argon2.params()).finish()
    }
}

impl PasswordHasher {
    pub fn new(settings: &PasswordSettings) -> Result<Self, PasswordError> {
        let params =
            Params::new(settings.argon2_memory_kib, settings.argon2_iterations, settings.argon2_parallelism, None)
                .map_err(|e| PasswordError::Params(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = generated_password().map_err(|e| PasswordError::Hash(e.to_string()))?;
        let dummy_hash = hash_blocking(&argon2, dummy.as_bytes())?;
        let permits = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Self { argon2: Arc::new(argon2), permits: Arc::new(Semaphore::new(permits)), dummy_hash: dummy_hash.into() })
    }

    pub async fn hash(&self, password: &SecretString) -> Result<String, PasswordError> {
        let argon2 = Arc::clone(&self.argon2);
        let password = password.clone();
        self.run(move || hash_blocking(&argon2, password.expose().as_bytes())).await?
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is no
    /// stored hash, so that the caller's timing does not reveal whether the user exists.
    pub async fn verify(&self, password: &SecretString, stored: Option<&str>) -> Result<bool, PasswordError> {
        let known = stored.is_some();
        let hash = stored.map_or_else(|| Arc::clone(&self.dummy_hash), Arc::from);
        let argon2 = Arc::clone(&self.argon2);
        let password = password.clone();
        let matched = self
            .run(move || match PasswordHash::new(&hash) {
                Ok(parsed) => argon2.verify_password(password.expose().as_bytes(), &parsed).is_ok(),
                Err(_) => false,
            })
            .await?;
        Ok(known && matched)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, PasswordError> {
        let _permit = self.permits.acquire().await.map_err(|_| PasswordError::Cancelled)?;
        tokio::task::spawn_blocking(work).await.map_err(|_| PasswordError::Cancelled)
    }
}

fn hash_blocking(argon2: &Argon2<'_>, password: &[u8]) -> Result<String, PasswordError> {
    argon2
        .hash_password(password)
        .map(|hash: PasswordHash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap_settings() -> PasswordSettings {
        PasswordSettings { argon2_memory_kib: 8_192, argon2_iterations: 1, argon2_parallelism: 1 }
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = PasswordHasher::new(&cheap_settings()).unwrap();
        let hash = hasher.hash(&SecretString::new("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=8192,t=1,p=1$"), "{hash}");
        assert!(hasher.verify(&SecretString::new("correct horse"), Some(&hash)).await.unwrap());
        assert!(!hasher.verify(&SecretString::new("correct horsf"), Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_users_and_corrupt_hashes_never_verify() {
        let hasher = PasswordHasher::new(&cheap_settings()).unwrap();
        assert!(!hasher.verify(&SecretString::new("anything"), None).await.unwrap());
        assert!(!hasher.verify(&SecretString::new("anything"), Some("not a phc string")).await.unwrap());
    }

    #[test]
    fn the_policy_bounds_length() {
        assert_eq!(check_policy("short"), Err(PasswordPolicyError::TooShort));
        assert_eq!(check_policy("long enough"), Ok(()));
        assert_eq!(check_policy(&"x".repeat(MAX_PASSWORD_BYTES + 1)), Err(PasswordPolicyError::TooLong));
    }
}
