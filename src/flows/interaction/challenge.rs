//! The second step of a login: the page asking for a code or a passkey (or enrolling a
//! factor) after a password, or to step up a weaker session. The half-done login is kept
//! five minutes, bound to the browser that started it, with the level it must reach.

use uuid::Uuid;

use super::{Browser, Continuation, EnrollPage, MfaPage, Step};
use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::flows::totp::enrollment;
use crate::flows::totp::factor::{CodeCheck, explain};
use crate::model::{AssuranceLevel, MfaChallenge, User};
use crate::security::random::{opaque_secret, sha256_hex};
use crate::store::mfa_throttle_key;

/// How long a half-done login waits for its second factor.
const CHALLENGE_SECONDS: i64 = 300;

/// The second factors a person holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondFactors {
    pub totp: bool,
    pub passkey: bool,
    pub recovery_codes: bool,
}

impl SecondFactors {
    pub async fn of(ctx: &Context<'_>, user: &User) -> Result<Self, FlowError> {
        Ok(Self {
            totp: user.has_totp(),
            passkey: !ctx.store.list_passkeys(user.id).await?.is_empty(),
            recovery_codes: ctx.store.unused_recovery_codes(user.id).await? > 0,
        })
    }

    /// A password alone is not the whole login of someone holding one of these.
    pub fn any(&self) -> bool {
        self.totp || self.passkey
    }
}

/// Which answers the second-factor page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeMethods {
    /// A TOTP or recovery code (not when the login must reach the passkey level).
    pub code: bool,
    pub passkey: bool,
}

impl ChallengeMethods {
    pub fn for_level(factors: &SecondFactors, required: AssuranceLevel) -> Self {
        let code_is_enough = required < AssuranceLevel::PhishingResistant;
        Self { code: code_is_enough && (factors.totp || factors.recovery_codes), passkey: factors.passkey }
    }
}

/// Starts the second step of a login for `user`: the page asking for a code or a passkey,
/// or TOTP enrollment when the user has no factor yet. `sid` is the weaker session being
/// stepped up, if any; `required` the level the login must reach. A login that must use
/// a passkey, by someone who has none, cannot go on.
pub async fn start_challenge(
    ctx: &Context<'_>,
    user: &User,
    factors: &SecondFactors,
    browser: &Browser,
    sid: Option<Uuid>,
    continuation: &Continuation,
    required: AssuranceLevel,
) -> Result<Step, FlowError> {
    let required = required.max(AssuranceLevel::TwoFactor);
    if required == AssuranceLevel::PhishingResistant && !factors.passkey {
        return Ok(Step::PasskeyNeeded);
    }
    let id = opaque_secret("")?;
    let now = ctx.clock.now();
    let challenge = MfaChallenge {
        user_id: user.id,
        browser_hash: sha256_hex(&browser.csrf_cookie),
        sid,
        authorization_request_hash: continuation.request_id().map(sha256_hex),
        destination: continuation.destination(),
        required,
        expires_at: now + CHALLENGE_SECONDS,
    };
    ctx.store.insert_mfa_challenge(sha256_hex(&id), &challenge, now).await?;
    let request_id = continuation.request_id().map(str::to_owned);
    if factors.any() {
        let methods = ChallengeMethods::for_level(factors, required);
        let locked = match methods.code {
            true => ctx.store.locked_until(&mfa_throttle_key(user.id), now).await?,
            false => None,
        };
        let error = locked.and_then(|until| explain(CodeCheck::Locked { until }, now));
        return Ok(Step::SecondFactor(MfaPage { challenge: id, request_id, methods, error }));
    }
    let offer = enrollment::offer(ctx, user)?;
    Ok(Step::Enroll(EnrollPage { challenge: id, request_id, offer, error: None }))
}
