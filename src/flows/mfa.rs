//! The second factor of a login, answered: a TOTP or recovery code (or the code that
//! confirms an enrolment) for a half-done login started by `interaction::start_challenge`,
//! and the session it then starts or steps up.

use super::Context;
use super::error::FlowError;
use super::interaction::{
    Browser, Continuation, EnrollPage, LoginStep, MfaPage, RecoveryCodesPage, Step, continue_login,
};
use super::session::{RequestMeta, elevate_session, end_session, start_session};
use super::totp::enrollment::{self, Enrollment};
use super::totp::factor::{CodeCheck, SecondFactor, check_code, explain};
use crate::metrics::LoginOutcome;
use crate::model::{Authentication, RevocationReason};
use crate::security::random::{constant_time_eq, sha256_hex};
use crate::security::rate_limit::Throttled;
use crate::store::AuditEvent;

/// How long a half-done login waits for its second factor.
pub const CHALLENGE_SECONDS: i64 = 300;

pub const ENROLL_WRONG_CODE: &str =
    "That code did not match. Check that your phone's clock is right and type the newest code.";

/// The second-factor form as posted.
#[derive(Debug, Clone)]
pub struct MfaAnswer {
    pub challenge: String,
    pub request_id: Option<String>,
    pub code: String,
    /// The sealed offer of an enrollment form.
    pub enrollment: Option<String>,
}

pub async fn answer_challenge(
    ctx: &Context<'_>,
    answer: MfaAnswer,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<LoginStep, FlowError> {
    let id_hash = sha256_hex(&answer.challenge);
    let now = ctx.clock.now();
    let Some(challenge) = ctx.store.find_mfa_challenge(&id_hash, now).await? else {
        return Ok(Step::Expired.into());
    };
    let continuation = match (&challenge.authorization_request_hash, &answer.request_id, challenge.destination) {
        (Some(hash), Some(request_id), _) if constant_time_eq(hash, &sha256_hex(request_id)) => {
            Continuation::Authorization { request_id: request_id.clone() }
        }
        (None, _, Some(destination)) => Continuation::Page(destination),
        _ => return Ok(Step::Expired.into()),
    };
    let stepping_up = challenge.sid.is_some();
    let session_matches = browser.session.as_ref().map(|s| s.session.sid) == challenge.sid;
    if !constant_time_eq(&challenge.browser_hash, &sha256_hex(&browser.csrf_cookie))
        || (stepping_up && !session_matches)
    {
        return Ok(Step::Expired.into());
    }
    let Some(user) = ctx.store.find_user(challenge.user_id).await?.filter(|u| !u.disabled) else {
        return Ok(Step::Expired.into());
    };
    let request_id = continuation.request_id().map(str::to_owned);
    let (factor, recovery_codes) = if user.has_totp() {
        match check_code(ctx, &user, &answer.code, meta).await? {
            CodeCheck::Accepted(factor) => (factor, None),
            CodeCheck::Locked { until } => return Err(Throttled::until(until, now).into()),
            wrong => {
                let error = explain(wrong, now);
                return Ok(Step::SecondFactor(MfaPage { challenge: answer.challenge, request_id, error }).into());
            }
        }
    } else {
        let token = answer.enrollment.unwrap_or_default();
        match enrollment::confirm(ctx, &user, &token, &answer.code, challenge.sid, meta).await? {
            Enrollment::Enabled { recovery_codes } => (SecondFactor::Totp, Some(recovery_codes)),
            Enrollment::WrongCode(offer) => {
                let page =
                    EnrollPage { challenge: answer.challenge, request_id, offer, error: Some(ENROLL_WRONG_CODE) };
                return Ok(Step::Enroll(page).into());
            }
            Enrollment::Expired => return Ok(Step::Expired.into()),
        }
    };
    if !ctx.store.complete_mfa_challenge(&id_hash).await? {
        return Ok(Step::Expired.into());
    }
    let authentication = Authentication::two_factor(now);
    let started = match (&browser.session, stepping_up) {
        (Some(current), true) => match elevate_session(ctx, current, authentication).await? {
            Some(started) => started,
            None => return Ok(Step::Expired.into()),
        },
        (previous, _) => {
            if let Some(previous) = previous {
                end_session(ctx, previous.session.sid, previous.user.id, RevocationReason::ReplacedByLogin).await?;
            }
            start_session(ctx, user, authentication, meta).await?
        }
    };
    if !stepping_up {
        ctx.metrics.login(LoginOutcome::Success);
    }
    let event = AuditEvent::new(if stepping_up { "step_up_succeeded" } else { "login_succeeded" })
        .user(started.session.user.id)
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "amr": started.session.session.authentication.amr, "factor": factor.as_str() }));
    ctx.store.record_audit(event, now).await?;
    let outcome = match recovery_codes {
        Some(codes) => Step::RecoveryCodes(RecoveryCodesPage { codes, next: continuation }),
        None => continue_login(ctx, &continuation, browser, &started.session).await?,
    };
    Ok(LoginStep { outcome, session: Some(Box::new(started)) })
}
