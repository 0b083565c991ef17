//! Enrolling TOTP. The offer (a new secret) travels in the enrollment form, sealed under
//! the master key for this user and ten minutes, so nothing is stored until the person
//! proves with a code that their app holds the secret; only then does the factor become
//! active, with ten recovery codes shown once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::factor::{totp_issuer_label, totp_purpose};
use crate::clock::UnixTime;
use crate::flows::Context;
use crate::flows::error::FlowError;
use crate::flows::session::RequestMeta;
use crate::model::User;
use crate::security::recovery::{generate_recovery_codes, recovery_code_hash};
use crate::security::totp::{TotpSecret, as_totp_code};
use crate::store::AuditEvent;

/// How long an enrollment form stays usable.
const OFFER_SECONDS: i64 = 600;

/// What the enrollment page shows: the QR code, the secret for manual entry, and the
/// sealed offer its form sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentOffer {
    pub token: String,
    pub secret_base32: String,
    pub qr_png_base64: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrollment {
    /// The factor is active; these recovery codes are shown once.
    Enabled { recovery_codes: Vec<String> },
    /// The code did not match the offered secret; the same offer is shown again.
    WrongCode(EnrollmentOffer),
    /// The offer expired, was tampered with, or the user enrolled meanwhile.
    Expired,
}

fn offer_purpose(user_id: Uuid) -> String {
    format!("totp_enrollment:{user_id}")
}

/// A new secret for `user`, not yet stored.
pub fn offer(ctx: &Context<'_>, user: &User) -> Result<EnrollmentOffer, FlowError> {
    let secret = TotpSecret::generate(&totp_issuer_label(&ctx.config.issuer), user.username.as_str())
        .map_err(|e| FlowError::Internal(Box::new(e)))?;
    let mut plaintext = (ctx.clock.now() + OFFER_SECONDS).to_be_bytes().to_vec();
    plaintext.extend_from_slice(secret.as_bytes());
    let token = URL_SAFE_NO_PAD.encode(ctx.master_key.seal(&offer_purpose(user.id), &plaintext)?);
    present(token, &secret)
}

fn present(token: String, secret: &TotpSecret) -> Result<EnrollmentOffer, FlowError> {
    Ok(EnrollmentOffer {
        token,
        secret_base32: secret.base32(),
        qr_png_base64: secret.qr_png_base64().map_err(|e| FlowError::Internal(Box::new(e)))?,
    })
}

/// The secret inside an unexpired offer made to `user`.
fn open_offer(ctx: &Context<'_>, user: &User, token: &str) -> Option<TotpSecret> {
    let sealed = URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
    let plaintext = ctx.master_key.open(&offer_purpose(user.id), &sealed).ok()?;
    let (expires, secret) = plaintext.split_first_chunk::<8>()?;
    if UnixTime::from_be_bytes(*expires) <= ctx.clock.now() {
        return None;
    }
    TotpSecret::from_bytes(secret.to_vec(), &totp_issuer_label(&ctx.config.issuer), user.username.as_str()).ok()
}

/// Activates the offered factor when `typed` is its current code, ending every session of
/// the user but `keep` (the session doing the enrollment, if it goes on).
pub async fn confirm(
    ctx: &Context<'_>,
    user: &User,
    token: &str,
    typed: &str,
    keep: Option<Uuid>,
    meta: &RequestMeta,
) -> Result<Enrollment, FlowError> {
    let Some(secret) = open_offer(ctx, user, token).filter(|_| !user.has_totp()) else {
        return Ok(Enrollment::Expired);
    };
    let now = ctx.clock.now();
    let Some(step) = as_totp_code(typed).and_then(|code| secret.matching_step(&code, now)) else {
        return Ok(Enrollment::WrongCode(present(token.to_owned(), &secret)?));
    };
    let sealed = ctx.master_key.seal(&totp_purpose(user.id), secret.as_bytes())?;
    let (recovery_codes, hashes) = new_recovery_codes()?;
    let Some(ended) = ctx.store.enable_totp(user.id, sealed, Some(step), &hashes, keep, now).await? else {
        return Ok(Enrollment::Expired);
    };
    let event = AuditEvent::new("mfa_enrolled")
        .user(user.id)
        .ip(meta.ip.clone())
        .details(serde_json::json!({ "sessions_ended": ended.sessions, "families_revoked": ended.families }));
    ctx.store.record_audit(event, now).await?;
    Ok(Enrollment::Enabled { recovery_codes })
}

/// Ten recovery codes for display, and their stored hashes.
pub fn new_recovery_codes() -> Result<(Vec<String>, Vec<String>), FlowError> {
    let codes = generate_recovery_codes()?;
    let hashes = codes.iter().filter_map(|c| recovery_code_hash(c)).collect();
    Ok((codes, hashes))
}
