//! The periodic clean-up of expired codes, requests, sessions, families, revoked `jti`s
//! and audit events past their retention. Idempotent; every instance may run it.

use super::Context;
use super::error::FlowError;
use crate::config::MAX_REUSE_GRACE_SECONDS;
use crate::store::CleanupReport;

/// How long ended rows are kept: longer than any access token (at most 24 h) lives, so
/// none outlives the session or family it names.
pub const KEEP_SECONDS: i64 = 86_400 + crate::tokens::LEEWAY_SECONDS;

/// One pass of the clean-up; audit events go after `audit.retention_days` (0 keeps them).
pub async fn clean_up(ctx: &Context<'_>) -> Result<CleanupReport, FlowError> {
    let now = ctx.clock.now();
    let retention = ctx.config.audit.retention_days;
    let audit_before = (retention > 0).then(|| now - retention * 86_400);
    Ok(ctx.store.clean_up(now, KEEP_SECONDS, MAX_REUSE_GRACE_SECONDS, audit_before).await?)
}
