//! Attempts under a lockout (DESIGN "Interaction": limits are reserved before the check).
//! A password or code is checked only after its attempt is reserved, and each reserved
//! attempt ends as wrong, right, or given back unchecked. The wrong answers audited as
//! `login_failed` / `mfa_failed` are exactly the ones that were checked; attempts refused
//! by a lock are not checked, and not audited as failures.

use std::time::Duration;

use super::Context;
use super::error::FlowError;
use crate::config::Config;
use crate::security::rate_limit::Throttled;
use crate::store::{Lockout, LockoutPolicy, Reservation};

/// How long an attempt waits, at most, while every allowed attempt at its key is being
/// checked (a password check takes tens of milliseconds), before it is refused for a
/// second: concurrent right answers are served in turn instead of refused.
const BUSY_WAIT: Duration = Duration::from_secs(3);
const BUSY_POLL: Duration = Duration::from_millis(25);

/// Wrong passwords per username (`[login]`).
pub fn login_policy(config: &Config) -> LockoutPolicy {
    LockoutPolicy { max_failures: config.login.lockout_attempts, lock_seconds: config.login.lockout_seconds }
}

/// Wrong codes per second factor (`[mfa]`).
pub fn mfa_policy(config: &Config) -> LockoutPolicy {
    LockoutPolicy { max_failures: config.mfa.lockout_attempts, lock_seconds: config.mfa.lockout_seconds }
}

/// Reserves an attempt at `key`; `Err(Throttled)` while it is locked.
pub async fn reserve(ctx: &Context<'_>, key: &str, policy: LockoutPolicy) -> Result<(), FlowError> {
    let mut waited = Duration::ZERO;
    loop {
        let now = ctx.clock.now();
        match ctx.store.reserve_attempt(key, policy, now).await? {
            Reservation::Reserved => return Ok(()),
            Reservation::Locked { until } => return Err(Throttled::until(until, now).into()),
            Reservation::Busy if waited >= BUSY_WAIT => return Err(Throttled { retry_after_seconds: 1 }.into()),
            Reservation::Busy => {
                tokio::time::sleep(BUSY_POLL).await;
                waited += BUSY_POLL;
            }
        }
    }
}

/// Ends a reserved attempt whose answer was right: the count starts again.
pub async fn succeeded(ctx: &Context<'_>, key: &str) -> Result<(), FlowError> {
    Ok(ctx.store.attempt_succeeded(key).await?)
}

/// Ends a reserved attempt whose answer was wrong.
pub async fn failed(ctx: &Context<'_>, key: &str, policy: LockoutPolicy) -> Result<Lockout, FlowError> {
    Ok(ctx.store.attempt_failed(key, policy, ctx.clock.now()).await?)
}

/// Gives a reserved attempt back unchecked (the check could not run).
pub async fn release(ctx: &Context<'_>, key: &str) -> Result<(), FlowError> {
    Ok(ctx.store.release_attempt(key).await?)
}
