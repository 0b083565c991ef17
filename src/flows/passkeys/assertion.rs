//! Signing in with a passkey: alone (the authenticator names the account: a discoverable
//! credential), or as the second step after a password. Both end in [`check_use`]: the
//! signature, user verification, the counter (a device-bound key whose counter goes
//! backwards has been cloned: refused and audited) and the allow-list of models.

use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, PasskeyAuthentication, PublicKeyCredential, WebauthnError,
};

use super::ceremony::{self, options_json, relying_party};
use super::{PasskeyOptions, credential_hash};
use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::flows::interaction::{Browser, Continuation, LoginStep, Step, continue_login};
use crate::flows::login::login_target;
use crate::flows::session::{RequestMeta, establish_session};
use crate::metrics::LoginOutcome;
use crate::model::{Authentication, CeremonyPurpose, PasskeyProof, PasskeyRecord, User};
use crate::security::random::{constant_time_eq, sha256_hex};
use crate::store::{AuditEvent, PasskeyUse};

/// Shown when a passkey's answer is not accepted; nothing says which check failed.
pub const PASSKEY_FAILED: &str = "That passkey did not work. Try again, or sign in another way.";
/// Shown when the counter says the passkey was copied.
pub const PASSKEY_CLONED: &str = "This passkey was refused and removed from your account: its authenticator \
     may have been copied. Sign in another way, tell your administrator, and add a new passkey.";
/// Shown when the ceremony expired or was answered already.
pub const PASSKEY_EXPIRED: &str = "The passkey request expired. Try again.";
/// Shown when the passkey's authenticator model is no longer allowed.
pub const PASSKEY_MODEL_REFUSED: &str =
    "This passkey's authenticator is not one this service accepts. Sign in another way.";

/// A passkey's answer as posted: the ceremony it answers and the browser's credential
/// (`PublicKeyCredential.toJSON()`).
#[derive(Debug, Clone)]
pub struct PasskeyAnswer {
    pub ceremony: String,
    pub credential: String,
}

/// Options for signing in without a password, for the login page of `continuation`. Each
/// costs a row, so they count against the address's `authorize_per_ip` budget.
pub async fn sign_in_options(
    ctx: &Context<'_>,
    continuation: &Continuation,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<PasskeyOptions, FlowError> {
    let rp = relying_party(ctx)?;
    if !ctx.config.passkeys.passwordless {
        return Err(FlowError::mistake("Passkeys are used here only after a password."));
    }
    ctx.limits.authorize_per_ip.acquire(meta.rate_limit_key(), ctx.clock.now())?;
    let (options, state) = rp.0.start_discoverable_authentication().map_err(internal)?;
    let purpose = CeremonyPurpose::SignIn {
        authorization_request_hash: continuation.request_id().map(sha256_hex),
        destination: continuation.destination(),
    };
    ceremony::start(ctx, purpose, browser, &state, options_json(&options.public_key)?).await
}

/// Signs in with a passkey alone: the credential names the account, the assertion proves
/// it (possession and the person's PIN or biometrics: `urn:wristband:acr:phr`), and the
/// login goes on through the gate like any other.
pub async fn sign_in(
    ctx: &Context<'_>,
    continuation: Continuation,
    answer: &PasskeyAnswer,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<LoginStep, FlowError> {
    let rp = relying_party(ctx)?;
    if !ctx.config.passkeys.passwordless {
        return Err(FlowError::mistake("Passkeys are used here only after a password."));
    }
    let Some(target) = login_target(ctx, &continuation, browser).await? else { return Ok(Step::Expired.into()) };
    let Some((purpose, state)) = ceremony::take::<DiscoverableAuthentication>(ctx, &answer.ceremony, browser).await?
    else {
        return Ok(target.page(continuation, None, PASSKEY_EXPIRED).into());
    };
    let expected = CeremonyPurpose::SignIn {
        authorization_request_hash: continuation.request_id().map(sha256_hex),
        destination: continuation.destination(),
    };
    if purpose != expected {
        return Ok(Step::Expired.into());
    }
    let refused = |message| Ok(target.page(continuation.clone(), None, message).into());
    let Ok(credential) = serde_json::from_str::<PublicKeyCredential>(&answer.credential) else {
        return refused(PASSKEY_FAILED);
    };
    let Ok((user_id, credential_id)) = rp.0.identify_discoverable_authentication(&credential) else {
        return refused(PASSKEY_FAILED);
    };
    let passkey = ctx.store.find_passkey(&credential_hash(credential_id)).await?;
    // WebAuthn §7.2 step 6: the user handle must name the credential's owner.
    let Some(passkey) = passkey.filter(|p| p.user_id == user_id) else {
        failed(ctx, None, meta, "unknown credential").await?;
        return refused(PASSKEY_FAILED);
    };
    let Some(user) = ctx.store.find_user(user_id).await?.filter(|u| !u.disabled) else {
        failed(ctx, Some(&passkey), meta, "user disabled").await?;
        return refused(PASSKEY_FAILED);
    };
    let result = rp.0.finish_discoverable_authentication_v2(&credential, state, &passkey.credential);
    let proof = match check_use(ctx, &passkey, result, meta).await? {
        Ok(proof) => proof,
        Err(message) => return refused(message),
    };
    let now = ctx.clock.now();
    let authentication = Authentication::passkey(now, proof, false);
    let started = establish_session(ctx, browser.session.as_ref(), user, authentication, meta).await?;
    ctx.metrics.login(LoginOutcome::Success);
    let mut event = AuditEvent::new("login_succeeded")
        .user(started.session.user.id)
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "amr": started.session.session.authentication.amr, "factor": "passkey" }));
    if let Some(client_id) = target.client_id {
        event = event.client(client_id);
    }
    ctx.store.record_audit(event, now).await?;
    let outcome = continue_login(ctx, &continuation, browser, &started.session).await?;
    Ok(LoginStep { outcome, session: Some(Box::new(started)) })
}

/// Options for answering the second-factor challenge `challenge` with one of its person's
/// passkeys; a mistake when the challenge is not this browser's or the person has none.
pub async fn second_factor_options(
    ctx: &Context<'_>,
    challenge: &str,
    browser: &Browser,
) -> Result<PasskeyOptions, FlowError> {
    let rp = relying_party(ctx)?;
    let challenge_hash = sha256_hex(challenge);
    let found = ctx.store.find_mfa_challenge(&challenge_hash, ctx.clock.now()).await?;
    let Some(found) = found.filter(|c| constant_time_eq(&c.browser_hash, &sha256_hex(&browser.csrf_cookie))) else {
        return Err(FlowError::mistake(PASSKEY_EXPIRED));
    };
    let passkeys: Vec<_> = ctx.store.list_passkeys(found.user_id).await?.into_iter().map(|p| p.credential).collect();
    if passkeys.is_empty() {
        return Err(FlowError::mistake("This account has no passkey."));
    }
    let (options, state) = rp.0.start_passkey_authentication(&passkeys).map_err(internal)?;
    let purpose = CeremonyPurpose::SecondFactor { user_id: found.user_id, mfa_challenge_hash: challenge_hash };
    ceremony::start(ctx, purpose, browser, &state, options_json(&options.public_key)?).await
}

/// Checks a passkey's answer to the second-factor challenge `challenge_hash` of `user`:
/// what it proved, or what to tell the person.
pub async fn verify_second_factor(
    ctx: &Context<'_>,
    user: &User,
    challenge_hash: &str,
    answer: &PasskeyAnswer,
    browser: &Browser,
    meta: &RequestMeta,
) -> Result<Result<PasskeyProof, &'static str>, FlowError> {
    let rp = relying_party(ctx)?;
    let Some((purpose, state)) = ceremony::take::<PasskeyAuthentication>(ctx, &answer.ceremony, browser).await? else {
        return Ok(Err(PASSKEY_EXPIRED));
    };
    let expected = CeremonyPurpose::SecondFactor { user_id: user.id, mfa_challenge_hash: challenge_hash.to_owned() };
    if purpose != expected {
        return Ok(Err(PASSKEY_EXPIRED));
    }
    let Ok(credential) = serde_json::from_str::<PublicKeyCredential>(&answer.credential) else {
        return Ok(Err(PASSKEY_FAILED));
    };
    let passkey = ctx.store.find_passkey(&credential_hash(credential.get_credential_id())).await?;
    let Some(passkey) = passkey.filter(|p| p.user_id == user.id) else {
        failed(ctx, None, meta, "not one of the user's credentials").await?;
        return Ok(Err(PASSKEY_FAILED));
    };
    let result = rp.0.finish_passkey_authentication(&credential, &state);
    check_use(ctx, &passkey, result, meta).await
}

/// The checks every passkey use passes after the signature: a counter that went backwards
/// (a cloned authenticator: the passkey is removed, since a copy that later counts past the
/// original would pass the check again — WebAuthn §6.1.1), a model no longer allowed; then
/// the new counter is recorded, only if no other use recorded one first.
async fn check_use(
    ctx: &Context<'_>,
    passkey: &PasskeyRecord,
    result: Result<AuthenticationResult, WebauthnError>,
    meta: &RequestMeta,
) -> Result<Result<PasskeyProof, &'static str>, FlowError> {
    let now = ctx.clock.now();
    let result = match result {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            let removed = ctx.store.delete_passkey(passkey.user_id, passkey.id).await?;
            let event = AuditEvent::new("passkey_clone_suspected").user(passkey.user_id).ip(meta.ip.clone()).details(
                serde_json::json!({
                    "passkey": passkey.id, "name": passkey.name, "stored_counter": passkey.sign_count, "removed": removed
                }),
            );
            ctx.store.record_audit(event, now).await?;
            return Ok(Err(PASSKEY_CLONED));
        }
        Err(err) => {
            failed(ctx, Some(passkey), meta, &err.to_string()).await?;
            return Ok(Err(PASSKEY_FAILED));
        }
    };
    let allowed = &ctx.config.passkeys.allowed_aaguids;
    if !allowed.is_empty() && !passkey.aaguid.is_some_and(|aaguid| allowed.contains(&aaguid)) {
        failed(ctx, Some(passkey), meta, "authenticator model not allowed").await?;
        return Ok(Err(PASSKEY_MODEL_REFUSED));
    }
    let mut credential = passkey.credential.clone();
    credential.update_credential(&result);
    let used = PasskeyUse {
        id: passkey.id,
        previous_count: passkey.sign_count,
        credential,
        sign_count: result.counter(),
        backup_eligible: passkey.backup_eligible || result.backup_eligible(),
        backed_up: result.backup_state(),
    };
    let backup_eligible = used.backup_eligible;
    if !ctx.store.record_passkey_use(used, now).await? {
        failed(ctx, Some(passkey), meta, "counter changed by a concurrent use").await?;
        return Ok(Err(PASSKEY_FAILED));
    }
    let event = AuditEvent::new("passkey_used")
        .user(passkey.user_id)
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "passkey": passkey.id, "name": passkey.name, "counter": result.counter() }));
    ctx.store.record_audit(event, now).await?;
    Ok(Ok(PasskeyProof { device_bound: !backup_eligible }))
}

async fn failed(
    ctx: &Context<'_>,
    passkey: Option<&PasskeyRecord>,
    meta: &RequestMeta,
    reason: &str,
) -> Result<(), FlowError> {
    let mut event = AuditEvent::new("passkey_failed").ip(meta.ip.clone());
    if let Some(passkey) = passkey {
        event = event.user(passkey.user_id).details(serde_json::json!({ "passkey": passkey.id, "reason": reason }));
    } else {
        event = event.details(serde_json::json!({ "reason": reason }));
    }
    ctx.store.record_audit(event, ctx.clock.now()).await?;
    Ok(())
}

fn internal(err: WebauthnError) -> FlowError {
    FlowError::Internal(Box::new(err))
}
