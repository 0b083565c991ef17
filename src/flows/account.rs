//! The account pages' logic: what a signed-in person sees of their account, and what they
//! may change — sessions, applications holding refresh tokens, password, second factor.
//! Every action is limited to the person's own rows.

use uuid::Uuid;

use super::Context;
use super::email_address::{address_changed, send_verification};
use super::error::FlowError;
use super::password::{recheck_password, replace_password};
use super::session::{RequestMeta, SessionUser, end_session};
use super::totp::enrollment::new_recovery_codes;
use super::totp::factor::{CodeCheck, check_code, explain};
use crate::model::{Email, RevocationReason, User};
use crate::security::secret::SecretString;
use crate::store::{AuditEvent, FamilyRecord, SessionRecord};

#[derive(Debug, Clone)]
pub struct AccountOverview {
    pub user: User,
    pub current_sid: Uuid,
    pub recovery_codes_left: u64,
    pub passkeys: usize,
    pub sessions: Vec<SessionRecord>,
    pub apps: Vec<FamilyRecord>,
}

pub async fn overview(ctx: &Context<'_>, session: &SessionUser) -> Result<AccountOverview, FlowError> {
    let now = ctx.clock.now();
    let user_id = session.user.id;
    Ok(AccountOverview {
        user: session.user.clone(),
        current_sid: session.session.sid,
        recovery_codes_left: ctx.store.unused_recovery_codes(user_id).await?,
        passkeys: ctx.store.list_passkeys(user_id).await?.len(),
        sessions: ctx.store.list_live_sessions(user_id, now).await?,
        apps: ctx.store.list_live_families(user_id, now).await?,
    })
}

/// Ends one of the person's sessions (perhaps this one); `false` when `sid` is not a live
/// session of theirs.
pub async fn end_own_session(ctx: &Context<'_>, session: &SessionUser, sid: &str) -> Result<bool, FlowError> {
    let Ok(sid) = Uuid::parse_str(sid) else { return Ok(false) };
    let own = ctx.store.list_live_sessions(session.user.id, ctx.clock.now()).await?;
    if !own.iter().any(|s| s.sid == sid) {
        return Ok(false);
    }
    end_session(ctx, sid, session.user.id, RevocationReason::RevokedByUser).await?;
    Ok(true)
}

/// Takes access away from an application: revokes one of the person's refresh-token
/// families (and with it the access tokens it issued); `false` when it is not theirs.
pub async fn revoke_app(ctx: &Context<'_>, session: &SessionUser, family_id: &str) -> Result<bool, FlowError> {
    let Ok(family_id) = Uuid::parse_str(family_id) else { return Ok(false) };
    let now = ctx.clock.now();
    let revoked =
        ctx.store.revoke_user_family(session.user.id, family_id, RevocationReason::RevokedByUser, now).await?;
    if revoked {
        let event = AuditEvent::new("refresh_family_revoked")
            .user(session.user.id)
            .details(serde_json::json!({ "family": family_id, "reason": RevocationReason::RevokedByUser.as_str() }));
        ctx.store.record_audit(event, now).await?;
    }
    Ok(revoked)
}

/// A password change as typed on the account page.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    pub current: SecretString,
    pub new: SecretString,
    pub confirm: SecretString,
}

/// Changes the password when the current one is right; every other session and every
/// refresh-token family not bound to this session ends.
pub async fn change_password(
    ctx: &Context<'_>,
    session: &SessionUser,
    change: PasswordChange,
    meta: &RequestMeta,
) -> Result<(), FlowError> {
    let user = &session.user;
    if !recheck_password(ctx, user, &change.current, meta).await? {
        let event = AuditEvent::new("password_change_failed").user(user.id).ip(meta.ip.clone());
        ctx.store.record_audit(event, ctx.clock.now()).await?;
        return Err(FlowError::mistake("Your current password is not right. Nothing was changed."));
    }
    replace_password(ctx, session, &change.new, &change.confirm, meta).await
}

/// Changes the person's email address (empty: none) when the current password is right:
/// the new address is unverified and gets a link, the old one (if verified) a notice.
pub async fn change_email(
    ctx: &Context<'_>,
    session: &SessionUser,
    email: &str,
    password: &SecretString,
    meta: &RequestMeta,
) -> Result<(), FlowError> {
    let user = &session.user;
    let email = Some(email.trim()).filter(|e| !e.is_empty()).map(Email::parse).transpose()?;
    if email == user.email {
        return Err(FlowError::mistake("That is your address already. Nothing was changed."));
    }
    if !recheck_password(ctx, user, password, meta).await? {
        return Err(FlowError::mistake("Your password is not right. Nothing was changed."));
    }
    let now = ctx.clock.now();
    ctx.store.set_user_email(user.id, email.as_ref(), now).await?;
    ctx.store.record_audit(AuditEvent::new("email_changed").user(user.id).ip(meta.ip.clone()), now).await?;
    let after = ctx.store.find_user(user.id).await?.ok_or_else(|| FlowError::mistake("Your account is gone."))?;
    address_changed(ctx, user, &after).await
}

/// Mails a new verification link for the person's unverified address.
pub async fn resend_verification(ctx: &Context<'_>, session: &SessionUser) -> Result<(), FlowError> {
    send_verification(ctx, &session.user).await
}

/// Proof that the person at the keyboard holds the account before its factor changes:
/// a current TOTP or recovery code, or else the password; a mistake says what is missing.
async fn prove(
    ctx: &Context<'_>,
    user: &User,
    code: &str,
    password: &SecretString,
    meta: &RequestMeta,
) -> Result<(), FlowError> {
    if !code.trim().is_empty() {
        return match check_code(ctx, user, code, meta).await? {
            CodeCheck::Accepted(_) => Ok(()),
            wrong => Err(FlowError::Mistake(explain(wrong, ctx.clock.now()).unwrap_or_default())),
        };
    }
    if !password.expose().is_empty() && recheck_password(ctx, user, password, meta).await? {
        return Ok(());
    }
    Err(FlowError::mistake("Type a current code from your app, or your password. Nothing was changed."))
}

/// Turns TOTP off (and drops the recovery codes).
pub async fn disable_totp(
    ctx: &Context<'_>,
    session: &SessionUser,
    code: &str,
    password: &SecretString,
    meta: &RequestMeta,
) -> Result<(), FlowError> {
    let user = &session.user;
    prove(ctx, user, code, password, meta).await?;
    let now = ctx.clock.now();
    if ctx.store.remove_totp(user.id, now).await? {
        ctx.store.record_audit(AuditEvent::new("mfa_disabled").user(user.id).ip(meta.ip.clone()), now).await?;
    }
    Ok(())
}

/// Replaces every recovery code with ten new ones, returned to be shown once.
pub async fn regenerate_recovery_codes(
    ctx: &Context<'_>,
    session: &SessionUser,
    code: &str,
    password: &SecretString,
    meta: &RequestMeta,
) -> Result<Vec<String>, FlowError> {
    let user = &session.user;
    if !user.has_totp() && ctx.store.list_passkeys(user.id).await?.is_empty() {
        return Err(FlowError::mistake("Turn on two-step verification or add a passkey first."));
    }
    prove(ctx, user, code, password, meta).await?;
    let (codes, hashes) = new_recovery_codes()?;
    let now = ctx.clock.now();
    ctx.store.replace_recovery_codes(user.id, &hashes, now).await?;
    ctx.store
        .record_audit(AuditEvent::new("recovery_codes_regenerated").user(user.id).ip(meta.ip.clone()), now)
        .await?;
    Ok(codes)
}

/// How many unused recovery codes the person has left.
pub async fn recovery_codes_left(ctx: &Context<'_>, session: &SessionUser) -> Result<u64, FlowError> {
    Ok(ctx.store.unused_recovery_codes(session.user.id).await?)
}
