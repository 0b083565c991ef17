//! The second factor of a login, answered: a TOTP or recovery code, a passkey (or the code
//! that confirms an enrolment) for a half-done login started by
//! `interaction::start_challenge`, and the session it then starts or steps up.

use super::Context;
use super::error::FlowError;
use super::interaction::{
    Browser, ChallengeMethods, Continuation, EnrollPage, LoginStep, MfaPage, RecoveryCodesPage, SecondFactors, Step,
    continue_login,
};
use super::passkeys::{PasskeyAnswer, verify_second_factor};
use super::session::{RequestMeta, elevate_session, establish_session};
use super::totp::enrollment::{self, Enrollment};
use super::totp::factor::{CodeCheck, SecondFactor, check_code, explain};
use crate::metrics::LoginOutcome;
use crate::model::Authentication;
use crate::security::random::{constant_time_eq, sha256_hex};
use crate::security::rate_limit::Throttled;
use crate::store::AuditEvent;

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
    /// A passkey's answer instead of a code.
    pub passkey: Option<PasskeyAnswer>,
}

/// Shown when a code answers a challenge that only a passkey can.
pub const PASSKEY_REQUIRED: &str = "This sign-in needs your passkey: a code is not enough here.";

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
    let factors = SecondFactors::of(ctx, &user).await?;
    let methods = ChallengeMethods::for_level(&factors, challenge.required);
    let again = |challenge: String, error: Option<String>| -> Result<LoginStep, FlowError> {
        Ok(Step::SecondFactor(MfaPage { challenge, request_id: request_id.clone(), methods, error }).into())
    };
    let (authentication, factor, recovery_codes) = if let Some(passkey) = &answer.passkey {
        match verify_second_factor(ctx, &user, &id_hash, passkey, browser, meta).await? {
            Ok(proof) => (Authentication::passkey(now, proof, true), "passkey", None),
            Err(refused) => return again(answer.challenge, Some(refused.to_owned())),
        }
    } else if factors.any() {
        if !methods.code {
            return again(answer.challenge, Some(PASSKEY_REQUIRED.to_owned()));
        }
        match check_code(ctx, &user, &answer.code, meta).await? {
            CodeCheck::Accepted(factor) => (Authentication::two_factor(now), factor.as_str(), None),
            CodeCheck::Locked { until } => return Err(Throttled::until(until, now).into()),
            wrong => return again(answer.challenge, explain(wrong, now)),
        }
    } else {
        let token = answer.enrollment.unwrap_or_default();
        match enrollment::confirm(ctx, &user, &token, &answer.code, challenge.sid, meta).await? {
            Enrollment::Enabled { recovery_codes } => {
                (Authentication::two_factor(now), SecondFactor::Totp.as_str(), Some(recovery_codes))
            }
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
    let started = match (&browser.session, stepping_up) {
        (Some(current), true) => {
            match elevate_session(ctx, current, authentication.after(&current.session.authentication)).await? {
                Some(started) => started,
                None => return Ok(Step::Expired.into()),
            }
        }
        (current, _) => establish_session(ctx, current.as_ref(), user, authentication, meta).await?,
    };
    if !stepping_up {
        ctx.metrics.login(LoginOutcome::Success);
    }
    let event = AuditEvent::new(if stepping_up { "step_up_succeeded" } else { "login_succeeded" })
        .user(started.session.user.id)
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "amr": started.session.session.authentication.amr, "factor": factor }));
    ctx.store.record_audit(event, now).await?;
    let outcome = match recovery_codes {
        Some(codes) => Step::RecoveryCodes(RecoveryCodesPage { codes, next: continuation }),
        None => continue_login(ctx, &continuation, browser, &started.session).await?,
    };
    Ok(LoginStep { outcome, session: Some(Box::new(started)) })
}

#[cfg(test)]
mod tests {
    use futures::future::join_all;

    use super::*;
    use crate::clock::Clock;
    use crate::flows::Actor;
    use crate::flows::admin::provision_totp;
    use crate::flows::interaction::start_challenge;
    use crate::flows::login::{LoginAttempt, login};
    use crate::flows::passkeys::soft_authenticator::{SoftAuthenticator, alice_signed_in, register};
    use crate::flows::passkeys::{PasskeyAnswer, RegistrationOutcome, second_factor_options};
    use crate::flows::testkit::{FlowTest, meta};
    use crate::flows::testkit::{PASSWORD, browser};
    use crate::flows::totp::enrollment::new_recovery_codes;
    use crate::flows::totp::factor::open_totp;
    use crate::model::User;
    use crate::model::{ACR_PHISHING_RESISTANT, AssuranceLevel, Destination};
    use crate::security::secret::SecretString;
    use crate::security::totp::TotpSecret;

    /// `alice` with TOTP on; her authenticator.
    async fn alice_with_totp(t: &FlowTest) -> (User, TotpSecret) {
        let user = t.user("alice").await;
        provision_totp(&t.ctx(), "alice", Actor::Cli).await.unwrap();
        let user = t.store.find_user(user.id).await.unwrap().unwrap();
        let phone = open_totp(&t.master_key, &t.config.issuer, &user).unwrap().unwrap();
        (user, phone)
    }

    async fn audited(t: &FlowTest, event: &str) -> usize {
        t.store.recent_audit_events(1_000).await.unwrap().iter().filter(|e| e.event == event).count()
    }

    #[tokio::test]
    async fn a_totp_code_works_once_and_the_next_step_works_again() {
        let t = FlowTest::new().await;
        let (alice, phone) = alice_with_totp(&t).await;
        let code = phone.code_at(t.clock.now());

        let first = check_code(&t.ctx(), &alice, &code, &meta()).await.unwrap();
        let replay = check_code(&t.ctx(), &alice, &code, &meta()).await.unwrap();
        t.clock.advance(30);
        let next = check_code(&t.ctx(), &alice, &phone.code_at(t.clock.now()), &meta()).await.unwrap();

        assert_eq!(first, CodeCheck::Accepted(SecondFactor::Totp));
        assert!(matches!(replay, CodeCheck::Wrong { .. }), "RFC 6238 §5.2: once");
        assert_eq!(next, CodeCheck::Accepted(SecondFactor::Totp));
    }

    #[tokio::test]
    async fn a_recovery_code_works_once_typed_in_any_case() {
        let t = FlowTest::new().await;
        let (alice, _) = alice_with_totp(&t).await;
        let (codes, hashes) = new_recovery_codes().unwrap();
        t.store.replace_recovery_codes(alice.id, &hashes, t.clock.now()).await.unwrap();

        let first = check_code(&t.ctx(), &alice, &codes[2].to_lowercase(), &meta()).await.unwrap();
        let again = check_code(&t.ctx(), &alice, &codes[2], &meta()).await.unwrap();

        assert_eq!(first, CodeCheck::Accepted(SecondFactor::RecoveryCode));
        assert!(matches!(again, CodeCheck::Wrong { .. }));
        assert_eq!(audited(&t, "recovery_code_used").await, 1);
    }

    #[tokio::test]
    async fn a_burst_of_wrong_codes_checks_at_most_the_limit_then_even_the_right_code_waits() {
        let t = FlowTest::new().await;
        let (alice, phone) = alice_with_totp(&t).await;
        let ctx = t.ctx();

        let (guesses, from) = ((0..40).map(|i| format!("{:06}", 900_000 + i)).collect::<Vec<_>>(), meta());
        let checks = join_all(guesses.iter().map(|guess| check_code(&ctx, &alice, guess, &from))).await;
        let right = check_code(&ctx, &alice, &phone.code_at(t.clock.now()), &meta()).await.unwrap();

        let limit = t.config.mfa.lockout_attempts as usize;
        let locked = checks.iter().filter(|c| matches!(c, Ok(CodeCheck::Locked { .. }))).count();
        assert!(audited(&t, "mfa_failed").await <= limit, "never more wrong codes checked than the limit");
        assert!(locked >= 40 - limit, "{locked} refused");
        assert!(matches!(right, CodeCheck::Locked { .. }), "locked: the right code waits too");
        t.clock.advance(t.config.mfa.lockout_seconds);
        let later = check_code(&ctx, &alice, &phone.code_at(t.clock.now()), &meta()).await.unwrap();
        assert_eq!(later, CodeCheck::Accepted(SecondFactor::Totp), "the lock ends");
    }

    #[tokio::test]
    async fn after_a_password_a_passkey_is_the_second_step_and_a_code_cannot_stand_in_for_it() {
        let t = FlowTest::new().await;
        let alice = alice_signed_in(&t).await;
        let mut key = SoftAuthenticator::synced();
        let RegistrationOutcome::Added { recovery_codes: Some(codes) } = register(&t, &alice, &mut key).await else {
            panic!("added with recovery codes")
        };
        let laptop = browser("laptop");
        let to_account = || Continuation::Page(Destination::Account);
        let attempt = LoginAttempt {
            continuation: to_account(),
            username: "alice".into(),
            password: SecretString::new(PASSWORD),
        };

        let step = login(&t.ctx(), attempt, &laptop, &meta()).await.unwrap();
        let Step::SecondFactor(page) = step.outcome else { panic!("the second step: {:?}", step.outcome) };
        assert!(page.methods.passkey && page.methods.code, "a passkey, or a recovery code");
        let options = second_factor_options(&t.ctx(), &page.challenge, &laptop).await.unwrap();
        let passkey = PasskeyAnswer { ceremony: options.ceremony.clone(), credential: key.assert(&options) };
        let answer = MfaAnswer {
            challenge: page.challenge.clone(),
            request_id: None,
            code: String::new(),
            enrollment: None,
            passkey: Some(passkey),
        };
        let signed_in = answer_challenge(&t.ctx(), answer, &laptop, &meta()).await.unwrap();

        let session = signed_in.session.expect("signed in").session;
        assert_eq!(session.session.authentication.acr, ACR_PHISHING_RESISTANT);
        assert_eq!(session.session.authentication.amr, ["pwd", "swk", "user", "mfa"]);

        // A challenge that must reach the passkey level takes no code, not even a right one.
        let user = session.user.clone();
        let factors = SecondFactors::of(&t.ctx(), &user).await.unwrap();
        let phr = AssuranceLevel::PhishingResistant;
        let step = start_challenge(&t.ctx(), &user, &factors, &laptop, None, &to_account(), phr).await.unwrap();
        let Step::SecondFactor(page) = step else { panic!("{step:?}") };
        assert!(page.methods.passkey && !page.methods.code);
        let answer = MfaAnswer {
            challenge: page.challenge,
            request_id: None,
            code: codes[0].clone(),
            enrollment: None,
            passkey: None,
        };
        let refused = answer_challenge(&t.ctx(), answer, &laptop, &meta()).await.unwrap();
        assert!(refused.session.is_none());
        let Step::SecondFactor(again) = refused.outcome else { panic!("the page again") };
        assert_eq!(again.error.as_deref(), Some(PASSKEY_REQUIRED));
        assert_eq!(t.store.unused_recovery_codes(user.id).await.unwrap(), 10, "the code was not spent");
    }
}
