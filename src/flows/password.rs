//! Checking and replacing a person's password: every check under the username's lockout
//! (attempts reserved before argon2 runs), and a new password typed twice.

use uuid::Uuid;

use super::Context;
use super::attempts;
use super::error::FlowError;
use super::session::{RequestMeta, SessionUser};
use crate::model::User;
use crate::security::password::check_policy;
use crate::security::random::sha256_hex;
use crate::security::rate_limit::Throttled;
use crate::security::secret::SecretString;
use crate::store::{AuditEvent, Lockout};

/// What failed sign-ins are counted under: the username as typed, lower-cased, hashed.
/// The same for a username that exists and one that does not.
pub fn login_throttle_key(typed: &str) -> String {
    sha256_hex(&typed.to_ascii_lowercase())
}

/// What a password check under the lockout found.
pub enum Checked {
    Matched,
    Wrong,
    /// Wrong, and the last attempt allowed: the username is locked (audited as
    /// `login_locked`); the caller refuses with this.
    WrongAndLocked(Throttled),
}

/// Checks `password` against `stored` (a dummy hash when `None`) under the lockout of the
/// username behind `throttle_key`. The attempt is reserved before argon2 runs, so however
/// many arrive at once, at most `login.lockout_attempts` wrong passwords are checked;
/// refused attempts are not checked at all (429, unaudited). An attempt the hashing queue
/// turns away unchecked is given back.
pub async fn check_under_lockout(
    ctx: &Context<'_>,
    throttle_key: &str,
    password: &SecretString,
    stored: Option<&str>,
    user_id: Option<Uuid>,
    meta: &RequestMeta,
) -> Result<Checked, FlowError> {
    let policy = attempts::login_policy(ctx.config);
    attempts::reserve(ctx, throttle_key, policy).await?;
    let matched = match ctx.hasher.verify(password, stored).await {
        Ok(matched) => matched,
        Err(err) => {
            attempts::release(ctx, throttle_key).await?;
            return Err(err.into());
        }
    };
    if matched {
        attempts::succeeded(ctx, throttle_key).await?;
        return Ok(Checked::Matched);
    }
    match attempts::failed(ctx, throttle_key, policy).await? {
        Lockout::Counted { .. } => Ok(Checked::Wrong),
        Lockout::Locked { until } => {
            let now = ctx.clock.now();
            let mut event = AuditEvent::new("login_locked")
                .ip(meta.ip.clone())
                .details(serde_json::json!({ "until": until, "seconds": policy.lock_seconds }));
            if let Some(user_id) = user_id {
                event = event.user(user_id);
            }
            ctx.store.record_audit(event, now).await?;
            Ok(Checked::WrongAndLocked(Throttled::until(until, now)))
        }
    }
}

/// Checks the password a signed-in person types again (to change it, or their second
/// factor). It counts towards the same lockout as the login form, so a stolen session
/// cannot be used to guess the password.
pub async fn recheck_password(
    ctx: &Context<'_>,
    user: &User,
    password: &SecretString,
    meta: &RequestMeta,
) -> Result<bool, FlowError> {
    let throttle_key = login_throttle_key(user.username.as_str());
    match check_under_lockout(ctx, &throttle_key, password, Some(&user.password_hash), Some(user.id), meta).await? {
        Checked::Matched => Ok(true),
        Checked::Wrong => Ok(false),
        Checked::WrongAndLocked(throttled) => Err(throttled.into()),
    }
}

/// Sets the password the person chose (typed twice), ending every other session and every
/// family not bound to this one; a temporary password stops being temporary. A mistake
/// says what to change.
pub async fn replace_password(
    ctx: &Context<'_>,
    session: &SessionUser,
    new: &SecretString,
    confirm: &SecretString,
    meta: &RequestMeta,
) -> Result<(), FlowError> {
    let user = &session.user;
    if new.expose() != confirm.expose() {
        return Err(FlowError::mistake("The new password and its confirmation differ. Nothing was changed."));
    }
    if let Err(policy) = check_policy(new.expose()) {
        return Err(FlowError::Mistake(format!("Nothing was changed: {policy}.")));
    }
    if ctx.hasher.verify(new, Some(&user.password_hash)).await? {
        return Err(FlowError::mistake("The new password must differ from the current one. Nothing was changed."));
    }
    let hash = ctx.hasher.hash(new).await?;
    let now = ctx.clock.now();
    let ended = ctx.store.set_user_password_hash(user.id, hash, false, Some(session.session.sid), now).await?;
    let event = AuditEvent::new("password_changed")
        .user(user.id)
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "sessions_ended": ended.sessions, "families_revoked": ended.families }));
    ctx.store.record_audit(event, now).await?;
    Ok(())
}
