//! Security primitives: the master key (AES-256-GCM at rest), argon2id passwords, random
//! values and their hashes. Nothing here knows about HTTP or the database.

pub mod master_key;
pub mod password;
pub mod random;
pub mod secret;
