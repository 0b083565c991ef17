//! Checking a typed second-factor code: a TOTP code (each time step once) or a recovery
//! code (each code once), with the account's lockout after repeated wrong codes.

use uuid::Uuid;

use crate::clock::UnixTime;
use crate::flows::Context;
use crate::flows::attempts;
use crate::flows::error::FlowError;
use crate::flows::session::RequestMeta;
use crate::metrics::MfaOutcome;
use crate::model::User;
use crate::security::master_key::MasterKey;
use crate::security::rate_limit::Throttled;
use crate::security::recovery::recovery_code_hash;
use crate::security::totp::{TotpSecret, as_totp_code};
use crate::store::{AuditEvent, Lockout, mfa_throttle_key};

/// What a typed code did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted(SecondFactor),
    /// Wrong, reused, or unknown; `remaining` more lock the factor.
    Wrong {
        remaining: i32,
    },
    /// The factor is locked (perhaps by this very code) until then; nothing was checked.
    Locked {
        until: UnixTime,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
}

impl SecondFactor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
        }
    }
}

/// The purpose a user's TOTP secret is sealed under: it opens for that user only.
pub fn totp_purpose(user_id: Uuid) -> String {
    format!("totp:{user_id}")
}

/// The label authenticator apps show: the issuer's host and the username.
pub fn totp_issuer_label(issuer: &str) -> String {
    url::Url::parse(issuer).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "wristband".into())
}

/// The user's active TOTP secret, if any.
pub fn open_totp(master_key: &MasterKey, issuer: &str, user: &User) -> Result<Option<TotpSecret>, FlowError> {
    let Some(sealed) = &user.totp_secret else { return Ok(None) };
    let bytes = master_key.open(&totp_purpose(user.id), sealed)?;
    let secret = TotpSecret::from_bytes(bytes, &totp_issuer_label(issuer), user.username.as_str())
        .map_err(|e| FlowError::Internal(Box::new(e)))?;
    Ok(Some(secret))
}

/// Checks a code typed by `user`, who has an active factor. A wrong code counts towards
/// the lockout and is audited; while locked, no code is even looked at.
pub async fn check_code(
    ctx: &Context<'_>,
    user: &User,
    typed: &str,
    meta: &RequestMeta,
) -> Result<CodeCheck, FlowError> {
    let check = judge_code(ctx, user, typed, meta).await?;
    ctx.metrics.mfa(match check {
        CodeCheck::Accepted(_) => MfaOutcome::Accepted,
        CodeCheck::Wrong { .. } => MfaOutcome::Wrong,
        CodeCheck::Locked { .. } => MfaOutcome::Locked,
    });
    Ok(check)
}

async fn judge_code(ctx: &Context<'_>, user: &User, typed: &str, meta: &RequestMeta) -> Result<CodeCheck, FlowError> {
    let key = mfa_throttle_key(user.id);
    let policy = attempts::mfa_policy(ctx.config);
    // Counted before the code is looked at: a burst of codes cannot outrun the lock.
    match attempts::reserve(ctx, &key, policy).await {
        Ok(()) => {}
        Err(FlowError::Throttled(throttled)) => {
            return Ok(CodeCheck::Locked { until: ctx.clock.now() + throttled.retry_after_seconds });
        }
        Err(other) => return Err(other),
    }
    let now = ctx.clock.now();
    let accepted = match accept_code(ctx, user, typed, now).await {
        Ok(accepted) => accepted,
        Err(err) => {
            attempts::release(ctx, &key).await?;
            return Err(err);
        }
    };
    if let Some(factor) = accepted {
        attempts::succeeded(ctx, &key).await?;
        if factor == SecondFactor::RecoveryCode {
            let left = ctx.store.unused_recovery_codes(user.id).await?;
            let event = AuditEvent::new("recovery_code_used")
                .user(user.id)
                .ip(meta.ip.clone())
                .details(serde_json::json!({ "left": left }));
            ctx.store.record_audit(event, now).await?;
        }
        return Ok(CodeCheck::Accepted(factor));
    }
    let wrong = attempts::failed(ctx, &key, policy).await?;
    ctx.store.record_audit(AuditEvent::new("mfa_failed").user(user.id).ip(meta.ip.clone()), now).await?;
    Ok(match wrong {
        Lockout::Counted { remaining } => CodeCheck::Wrong { remaining },
        Lockout::Locked { until } => {
            let event = AuditEvent::new("mfa_locked")
                .user(user.id)
                .ip(meta.ip.clone())
                .details(serde_json::json!({ "until": until, "seconds": policy.lock_seconds }));
            ctx.store.record_audit(event, now).await?;
            CodeCheck::Locked { until }
        }
    })
}

/// Spends `typed` if it is a current TOTP code (each time step once) or an unused
/// recovery code; the statements refuse while the factor is locked.
async fn accept_code(
    ctx: &Context<'_>,
    user: &User,
    typed: &str,
    now: UnixTime,
) -> Result<Option<SecondFactor>, FlowError> {
    Ok(match (as_totp_code(typed), recovery_code_hash(typed)) {
        (Some(code), _) => match open_totp(ctx.master_key, &ctx.config.issuer, user)? {
            Some(secret) => match secret.matching_step(&code, now) {
                Some(step) => ctx.store.accept_totp_step(user.id, step, now).await?.then_some(SecondFactor::Totp),
                None => None,
            },
            None => None,
        },
        (None, Some(hash)) => {
            ctx.store.use_recovery_code(user.id, &hash, now).await?.then_some(SecondFactor::RecoveryCode)
        }
        (None, None) => None,
    })
}

/// What the person reads after a wrong code or while locked.
pub fn explain(check: CodeCheck, now: UnixTime) -> Option<String> {
    match check {
        CodeCheck::Accepted(_) => None,
        CodeCheck::Wrong { remaining } => Some(format!(
            "That code did not work. Check the time on your phone and use the newest code. \
             {remaining} more wrong {} will lock your second factor for a while.",
            if remaining == 1 { "code" } else { "codes" }
        )),
        CodeCheck::Locked { until } => Some(format!(
            "Too many wrong codes: your second factor is locked. Try again in {}.",
            Throttled::until(until, now).wait_in_minutes()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lockout_message_says_how_long_to_wait() {
        let text = explain(CodeCheck::Locked { until: 1_000 + 900 }, 1_000).unwrap();
        assert!(text.contains("Try again in 15 minutes"), "{text}");
        let text = explain(CodeCheck::Locked { until: 1_001 }, 1_000).unwrap();
        assert!(text.contains("Try again in 1 minute."), "{text}");
        let text = explain(CodeCheck::Wrong { remaining: 1 }, 0).unwrap();
        assert!(text.contains("1 more wrong code will lock"), "{text}");
    }

    #[test]
    fn the_authenticator_label_is_the_issuer_host() {
        assert_eq!(totp_issuer_label("https://id.example.com/tenant"), "id.example.com");
        assert_eq!(totp_issuer_label("not a url"), "wristband");
    }
}
