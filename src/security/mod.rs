//! Security primitives: the master key (AES-256-GCM at rest), argon2id passwords, random
//! values and their hashes, TOTP and recovery codes, CSRF tokens, rate limits. Nothing here knows about HTTP or the database.

pub mod csrf;
pub mod master_key;
pub mod password;
pub mod random;
pub mod rate_limit;
pub mod recovery;
pub mod secret;
pub mod totp;
