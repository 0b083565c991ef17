//! The second step of a login: the page asking for a code (or enrolling a factor) after
//! a password, or to step up a one-factor session. The half-done login is kept five
//! minutes, bound to the browser that started it.

use uuid::Uuid;

use super::{Browser, Continuation, EnrollPage, MfaPage, Step};
use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::flows::totp::enrollment;
use crate::flows::totp::factor::{CodeCheck, explain};
use crate::model::{MfaChallenge, User};
use crate::security::random::{opaque_secret, sha256_hex};
use crate::store::mfa_throttle_key;

/// How long a half-done login waits for its second factor.
const CHALLENGE_SECONDS: i64 = 300;

/// Starts the second step of a login for `user`: the code page, or enrollment when the
/// user has no factor yet. `sid` is the one-factor session being stepped up, if any.
pub async fn start_challenge(
    ctx: &Context<'_>,
    user: &User,
    browser: &Browser,
    sid: Option<Uuid>,
    continuation: &Continuation,
) -> Result<Step, FlowError> {
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
        return Ok(Step::SecondFactor(MfaPage { challenge: id, request_id, error }));
    }
    let offer = enrollment::offer(ctx, user)?;
    Ok(Step::Enroll(EnrollPage { challenge: id, request_id, offer, error: None }))
}
