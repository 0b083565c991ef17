//! The second factor of a login: the TOTP page after a correct password (or when a
//! one-factor session must step up), enrollment when two factors are demanded of someone
//! who has none, and what happens once the factor is proven. The half-done login lives
//! in the database for five minutes, bound to the browser that started it.

pub mod enrollment;
pub mod factor;

use uuid::Uuid;

use self::enrollment::{Enrollment, EnrollmentOffer};
use self::factor::{CodeCheck, SecondFactor, check_code, explain};
use super::Context;
use super::authorize::{self, AuthorizeOutcome, Browser, Continuation};
use super::error::FlowError;
use super::login::{ChangePasswordPage, LoginStep};
use super::session::{RequestMeta, SessionUser, elevate_session, end_session, start_session};
use crate::metrics::LoginOutcome;
use crate::model::{Authentication, MfaChallenge, RevocationReason, User};
use crate::security::random::{constant_time_eq, opaque_secret, sha256_hex};
use crate::security::rate_limit::Throttled;
use crate::store::{AuditEvent, mfa_throttle_key};

/// How long a half-done login waits for its second factor.
pub const CHALLENGE_SECONDS: i64 = 300;

/// The page asking for a TOTP or recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaPage {
    pub challenge: String,
    pub request_id: Option<String>,
    pub error: Option<String>,
}

/// The page enrolling a factor inside a login that demands two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollPage {
    pub challenge: String,
    pub request_id: Option<String>,
    pub offer: EnrollmentOffer,
    pub error: Option<&'static str>,
}

/// Recovery codes, shown once after an enrollment, then on to where the login leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryCodesPage {
    pub codes: Vec<String>,
    pub next: Continuation,
}

pub const ENROLL_WRONG_CODE: &str =
    "That code did not match. Check that your phone's clock is right and type the newest code.";

/// Starts the second step of a login for `user`: the code page, or enrollment when the
/// user has no factor yet. `sid` is the one-factor session being stepped up, if any.
pub async fn start_challenge(
    ctx: &Context<'_>,
    user: &User,
    browser: &Browser,
    sid: Option<Uuid>,
    continuation: &Continuation,
) -> Result<AuthorizeOutcome, FlowError> {
    let id = opaque_secret("")?;
    let now = ctx.clock.now();
    let challenge = MfaChallenge {
        user_id: user.id,
        browser_hash: sha256_hex(&browser.csrf_cookie),
        sid,
        authorization_request_hash: continuation.request_id().map(sha256_hex),
        destination: continuation.destination(),
        expires_at: now + CHALLENGE_SECONDS,
    };
    ctx.store.insert_mfa_challenge(sha256_hex(&id), &challenge, now).await?;
    let request_id = continuation.request_id().map(str::to_owned);
    if user.has_totp() {
        let locked = ctx.store.locked_until(&mfa_throttle_key(user.id), now).await?;
        let locked = locked.map(|until| CodeCheck::Locked { until });
        let error = locked.and_then(|check| explain(check, now));
        return Ok(AuthorizeOutcome::SecondFactor(MfaPage { challenge: id, request_id, error }));
    }
    let offer = enrollment::offer(ctx, user)?;
    Ok(AuthorizeOutcome::Enroll(EnrollPage { challenge: id, request_id, offer, error: None }))
}

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
        return Ok(AuthorizeOutcome::Expired.into());
    };
    let continuation = match (&challenge.authorization_request_hash, &answer.request_id, challenge.destination) {
        (Some(hash), Some(request_id), _) if constant_time_eq(hash, &sha256_hex(request_id)) => {
            Continuation::Authorization { request_id: request_id.clone() }
        }
        (None, _, Some(destination)) => Continuation::Page(destination),
        _ => return Ok(AuthorizeOutcome::Expired.into()),
    };
    let stepping_up = challenge.sid.is_some();
    let session_matches = browser.session.as_ref().map(|s| s.session.sid) == challenge.sid;
    if !constant_time_eq(&challenge.browser_hash, &sha256_hex(&browser.csrf_cookie))
        || (stepping_up && !session_matches)
    {
        return Ok(AuthorizeOutcome::Expired.into());
    }
    let Some(user) = ctx.store.find_user(challenge.user_id).await?.filter(|u| !u.disabled) else {
        return Ok(AuthorizeOutcome::Expired.into());
    };
    let request_id = continuation.request_id().map(str::to_owned);
    let (factor, recovery_codes) = if user.has_totp() {
        match check_code(ctx, &user, &answer.code, meta).await? {
            CodeCheck::Accepted(factor) => (factor, None),
            CodeCheck::Locked { until } => return Err(Throttled::until(until, now).into()),
            wrong => {
                let error = explain(wrong, now);
                return Ok(
                    AuthorizeOutcome::SecondFactor(MfaPage { challenge: answer.challenge, request_id, error }).into()
                );
            }
        }
    } else {
        let token = answer.enrollment.unwrap_or_default();
        match enrollment::confirm(ctx, &user, &token, &answer.code, challenge.sid, meta).await? {
            Enrollment::Enabled { recovery_codes } => (SecondFactor::Totp, Some(recovery_codes)),
            Enrollment::WrongCode(offer) => {
                let page =
                    EnrollPage { challenge: answer.challenge, request_id, offer, error: Some(ENROLL_WRONG_CODE) };
                return Ok(AuthorizeOutcome::Enroll(page).into());
            }
            Enrollment::Expired => return Ok(AuthorizeOutcome::Expired.into()),
        }
    };
    if !ctx.store.complete_mfa_challenge(&id_hash).await? {
        return Ok(AuthorizeOutcome::Expired.into());
    }
    let authentication = Authentication::two_factor(now);
    let started = match (&browser.session, stepping_up) {
        (Some(current), true) => match elevate_session(ctx, current, authentication).await? {
            Some(started) => started,
            None => return Ok(AuthorizeOutcome::Expired.into()),
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
        Some(codes) => AuthorizeOutcome::RecoveryCodes(RecoveryCodesPage { codes, next: continuation }),
        None => continue_login(ctx, &continuation, browser, &started.session).await?,
    };
    Ok(LoginStep { outcome, session: Some(Box::new(started)) })
}

/// Goes on to where a completed login leads: the pending authorization request (through
/// the gate), or a wristband page; a temporary password is replaced first.
pub(super) async fn continue_login(
    ctx: &Context<'_>,
    continuation: &Continuation,
    browser: &Browser,
    session: &SessionUser,
) -> Result<AuthorizeOutcome, FlowError> {
    match continuation {
        Continuation::Authorization { request_id } => {
            authorize::resume_pending(ctx, request_id, browser, Some(session)).await
        }
        Continuation::Page(_) if session.user.password_change_required => {
            let page = ChangePasswordPage { continuation: continuation.clone(), error: None };
            Ok(AuthorizeOutcome::ChangePassword(page))
        }
        Continuation::Page(destination) => Ok(AuthorizeOutcome::Destination(*destination)),
    }
}
