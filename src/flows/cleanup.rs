//! The periodic clean-up of expired codes, requests, sessions, families and revoked
//! `jti`s (issue: refresh families). Idempotent; every instance may run it.

use super::error::FlowError;
use crate::clock::Clock;
use crate::config::MAX_REUSE_GRACE_SECONDS;
use crate::store::{CleanupReport, Store};

/// How long ended rows are kept: longer than any access token (at most 24 h) lives, so
/// none outlives the session or family it names.
pub const KEEP_SECONDS: i64 = 86_400 + crate::tokens::LEEWAY_SECONDS;

pub async fn clean_up(store: &Store, clock: &dyn Clock) -> Result<CleanupReport, FlowError> {
    Ok(store.clean_up(clock.now(), KEEP_SECONDS, MAX_REUSE_GRACE_SECONDS).await?)
}
