//! A person's passkeys on the account pages: registering one (after a recent sign-in),
//! listing, renaming and removing them. Registration asks for a discoverable credential
//! with user verification, so the passkey alone can sign in; attestation is `none`.

use uuid::Uuid;
use webauthn_rs::prelude::{Credential, PasskeyRegistration, RegisterPublicKeyCredential};

use super::ceremony::{self, options_json, relying_party};
use super::{PasskeyOptions, RelyingParty, credential_hash};
use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::flows::interaction::Browser;
use crate::flows::session::{RequestMeta, SessionUser};
use crate::flows::totp::enrollment::new_recovery_codes;
use crate::model::{CeremonyPurpose, PasskeyName, PasskeyRecord, RevocationReason};
use crate::store::{AuditEvent, NewPasskey};

/// Shown when the session's sign-in is older than [`RECENT_SIGN_IN_SECONDS`](crate::flows::session::RECENT_SIGN_IN_SECONDS).
pub const SIGN_IN_AGAIN: &str =
    "For your safety, adding or removing a passkey needs a sign-in from the last five minutes. Sign in again first.";

/// What the passkeys page shows.
#[derive(Debug, Clone)]
pub struct PasskeyOverview {
    pub passkeys: Vec<PasskeyRecord>,
    /// The session signed in recently enough to add or remove one.
    pub recent_sign_in: bool,
    /// This server can offer passkeys at all (its issuer is a host name).
    pub available: bool,
}

/// What adding a passkey did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationOutcome {
    /// Added; recovery codes to show once when it is the person's first second factor.
    Added { recovery_codes: Option<Vec<String>> },
    /// Not added, and why, in words.
    Refused(String),
}

pub async fn list_passkeys(ctx: &Context<'_>, session: &SessionUser) -> Result<PasskeyOverview, FlowError> {
    Ok(PasskeyOverview {
        passkeys: ctx.store.list_passkeys(session.user.id).await?,
        recent_sign_in: session.signed_in_recently(ctx.clock.now()),
        available: ctx.relying_party.is_some(),
    })
}

/// Options to create a passkey for the signed-in person; their passkeys are excluded so
/// one authenticator is not registered twice.
pub async fn registration_options(
    ctx: &Context<'_>,
    session: &SessionUser,
    browser: &Browser,
) -> Result<PasskeyOptions, FlowError> {
    let rp = relying_party(ctx)?;
    if !session.signed_in_recently(ctx.clock.now()) {
        return Err(FlowError::mistake(SIGN_IN_AGAIN));
    }
    let user = &session.user;
    let existing = ctx.store.list_passkeys(user.id).await?;
    let exclude = existing.iter().map(|p| p.credential.cred_id().clone()).collect();
    let display_name = user.name.as_ref().map_or(user.username.as_str(), |name| name.as_str());
    let (options, state) =
        rp.0.start_passkey_registration(user.id, user.username.as_str(), display_name, Some(exclude))
            .map_err(|e| FlowError::Internal(Box::new(e)))?;
    let mut public_key = options_json(&options.public_key)?;
    // A passkey that signs in on its own must be discoverable: webauthn-rs leaves
    // residency to the authenticator, wristband requires it.
    public_key["authenticatorSelection"]["residentKey"] = "required".into();
    public_key["authenticatorSelection"]["requireResidentKey"] = true.into();
    let purpose = CeremonyPurpose::Register { user_id: user.id, sid: session.session.sid };
    ceremony::start(ctx, purpose, browser, &state, public_key).await
}

/// Adds the passkey the browser created. The first second factor of an account ends its
/// other sessions (one opened with a stolen password must not outlive it) and, when the
/// person has no recovery codes, makes ten to show once.
pub async fn finish_registration(
    ctx: &Context<'_>,
    session: &SessionUser,
    browser: &Browser,
    ceremony_id: &str,
    name: &str,
    credential: &str,
    meta: &RequestMeta,
) -> Result<RegistrationOutcome, FlowError> {
    let rp = relying_party(ctx)?;
    let refused = |message: &str| Ok(RegistrationOutcome::Refused(message.to_owned()));
    let name = match PasskeyName::parse(name) {
        Ok(name) => name,
        Err(invalid) => return refused(&invalid.reason),
    };
    if !session.signed_in_recently(ctx.clock.now()) {
        return refused(SIGN_IN_AGAIN);
    }
    let user = &session.user;
    let Some((purpose, state)) = ceremony::take::<PasskeyRegistration>(ctx, ceremony_id, browser).await? else {
        return refused("The request to add a passkey expired. Try again.");
    };
    if purpose != (CeremonyPurpose::Register { user_id: user.id, sid: session.session.sid }) {
        return refused("The request to add a passkey expired. Try again.");
    }
    let Some((passkey, aaguid)) = verify(rp, credential, &state) else {
        return refused("Your browser's answer was not accepted, so no passkey was added. Try again.");
    };
    let allowed = &ctx.config.passkeys.allowed_aaguids;
    if !allowed.is_empty() && !aaguid.is_some_and(|aaguid| allowed.contains(&aaguid)) {
        return refused("This authenticator is not one this service accepts. Use another one.");
    }
    let first_factor = !user.has_totp() && ctx.store.list_passkeys(user.id).await?.is_empty();
    let internals = Credential::from(passkey.clone());
    let new = NewPasskey {
        user_id: user.id,
        credential_hash: credential_hash(passkey.cred_id()),
        name,
        credential: passkey,
        aaguid,
        backup_eligible: internals.backup_eligible,
        backed_up: internals.backup_state,
        sign_count: internals.counter,
    };
    let now = ctx.clock.now();
    let Some(added) = ctx.store.insert_passkey(new, now).await? else {
        return refused("This passkey is registered already.");
    };
    let event = AuditEvent::new("passkey_registered").user(user.id).ip(meta.ip.clone()).details(serde_json::json!({
        "passkey": added.id, "name": added.name, "backup_eligible": added.backup_eligible, "aaguid": added.aaguid
    }));
    ctx.store.record_audit(event, now).await?;
    let mut recovery_codes = None;
    if first_factor {
        let keep = Some(session.session.sid);
        ctx.store.end_user_sessions(user.id, keep, RevocationReason::SecondFactorEnabled, now).await?;
        if ctx.store.unused_recovery_codes(user.id).await? == 0 {
            let (codes, hashes) = new_recovery_codes()?;
            ctx.store.replace_recovery_codes(user.id, &hashes, now).await?;
            recovery_codes = Some(codes);
        }
    }
    Ok(RegistrationOutcome::Added { recovery_codes })
}

/// The browser's credential checked against the ceremony (origin, challenge, user
/// verification, signature), and the authenticator model it reported.
fn verify(
    rp: &RelyingParty,
    credential: &str,
    state: &PasskeyRegistration,
) -> Option<(webauthn_rs::prelude::Passkey, Option<Uuid>)> {
    let credential: RegisterPublicKeyCredential = serde_json::from_str(credential).ok()?;
    let passkey = rp.0.finish_passkey_registration(&credential, state).ok()?;
    Some((passkey, reported_aaguid(credential.response.attestation_object.as_ref())))
}

/// The AAGUID in a (verified) attestation object: bytes 37..53 of its authenticator data
/// (WebAuthn §6.5.1), which webauthn-rs does not keep for attestation `none`.
fn reported_aaguid(attestation_object: &[u8]) -> Option<Uuid> {
    let value: serde_cbor_2::Value = serde_cbor_2::from_slice(attestation_object).ok()?;
    let serde_cbor_2::Value::Map(map) = value else { return None };
    let serde_cbor_2::Value::Bytes(auth_data) = map.get(&serde_cbor_2::Value::Text("authData".to_owned()))? else {
        return None;
    };
    Uuid::from_slice(auth_data.get(37..53)?).ok()
}

/// Renames one of the person's passkeys; `false` when it is not theirs.
pub async fn rename_passkey(ctx: &Context<'_>, session: &SessionUser, id: &str, name: &str) -> Result<bool, FlowError> {
    let Ok(id) = Uuid::parse_str(id) else { return Ok(false) };
    let name = PasskeyName::parse(name).map_err(|e| FlowError::Mistake(e.reason))?;
    Ok(ctx.store.rename_passkey(session.user.id, id, &name).await?)
}

/// Removes one of the person's passkeys, after a recent sign-in; `false` when it is not
/// theirs.
pub async fn remove_passkey(
    ctx: &Context<'_>,
    session: &SessionUser,
    id: &str,
    meta: &RequestMeta,
) -> Result<bool, FlowError> {
    if !session.signed_in_recently(ctx.clock.now()) {
        return Err(FlowError::mistake(SIGN_IN_AGAIN));
    }
    let Ok(id) = Uuid::parse_str(id) else { return Ok(false) };
    if !ctx.store.delete_passkey(session.user.id, id).await? {
        return Ok(false);
    }
    let event = AuditEvent::new("passkey_removed")
        .user(session.user.id)
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "passkey": id, "via": "account" }));
    ctx.store.record_audit(event, ctx.clock.now()).await?;
    Ok(true)
}
