//! Ceremonies under way: a WebAuthn challenge and its state, kept until the browser that
//! asked for it answers (once), or five minutes pass.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{CEREMONY_SECONDS, PasskeyOptions, RelyingParty};
use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::flows::interaction::Browser;
use crate::model::{CeremonyPurpose, PasskeyCeremony};
use crate::security::random::{constant_time_eq, opaque_secret, sha256_hex};

/// The relying party, or the reason there is none.
pub(super) fn relying_party<'a>(ctx: &Context<'a>) -> Result<&'a RelyingParty, FlowError> {
    ctx.relying_party.ok_or_else(|| {
        FlowError::mistake(
            "Passkeys are not available here: this server's address is an IP address, and browsers allow \
             passkeys only on a host name. Ask your administrator to set the issuer to a host name.",
        )
    })
}

/// Keeps `state` for the browser's answer and returns what the browser needs.
pub(super) async fn start(
    ctx: &Context<'_>,
    purpose: CeremonyPurpose,
    browser: &Browser,
    state: &impl Serialize,
    public_key: serde_json::Value,
) -> Result<PasskeyOptions, FlowError> {
    let id = opaque_secret("")?;
    let now = ctx.clock.now();
    let ceremony = PasskeyCeremony {
        purpose,
        browser_hash: sha256_hex(&browser.csrf_cookie),
        state: serde_json::to_string(state).map_err(|e| FlowError::Internal(Box::new(e)))?,
        expires_at: now + CEREMONY_SECONDS,
    };
    ctx.store.insert_passkey_ceremony(sha256_hex(&id), &ceremony, now).await?;
    Ok(PasskeyOptions { ceremony: id, public_key })
}

/// Takes the ceremony `id` for this browser: its purpose and state. `None` when it
/// expired, was answered already, or belongs to another browser (which this answer
/// spends, so it is not tried twice).
pub(super) async fn take<S: DeserializeOwned>(
    ctx: &Context<'_>,
    id: &str,
    browser: &Browser,
) -> Result<Option<(CeremonyPurpose, S)>, FlowError> {
    if id.is_empty() || id.len() > 128 {
        return Ok(None);
    }
    let Some(ceremony) = ctx.store.take_passkey_ceremony(&sha256_hex(id), ctx.clock.now()).await? else {
        return Ok(None);
    };
    if !constant_time_eq(&ceremony.browser_hash, &sha256_hex(&browser.csrf_cookie)) {
        return Ok(None);
    }
    let state = serde_json::from_str(&ceremony.state).map_err(|e| FlowError::Internal(Box::new(e)))?;
    Ok(Some((ceremony.purpose, state)))
}

/// WebAuthn options as the browser parses them (`publicKey` of the JSON form).
pub(super) fn options_json(options: &impl Serialize) -> Result<serde_json::Value, FlowError> {
    serde_json::to_value(options).map_err(|e| FlowError::Internal(Box::new(e)))
}
