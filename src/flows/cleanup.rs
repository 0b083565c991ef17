//! The periodic clean-up of expired codes, requests, sessions, families, revoked `jti`s
//! and audit events past their retention. Idempotent; every instance may run it.

use super::error::FlowError;
use crate::clock::Clock;
use crate::config::{Config, MAX_REUSE_GRACE_SECONDS};
use crate::store::{CleanupReport, Store};

/// How long ended rows are kept: longer than any access token (at most 24 h) lives, so
/// none outlives the session or family it names.
pub const KEEP_SECONDS: i64 = 86_400 + crate::tokens::LEEWAY_SECONDS;

/// One pass of the clean-up; audit events go after `audit.retention_days` (0 keeps them).
pub async fn clean_up(store: &Store, clock: &dyn Clock, config: &Config) -> Result<CleanupReport, FlowError> {
    let now = clock.now();
    let retention = config.audit.retention_days;
    let audit_before = (retention > 0).then(|| now - retention * 86_400);
    Ok(store.clean_up(now, KEEP_SECONDS, MAX_REUSE_GRACE_SECONDS, audit_before).await?)
}
